package store

import (
	"errors"
	"fmt"
)

// Sentinel errors: Open's refusals wrap one of them (test with errors.Is).
// The error's text names the file and says what to do; a CLI prints it as
// it is.
var (
	ErrOtherCluster = errors.New("data of another cluster")
	ErrOtherNode    = errors.New("data of another node")
	ErrEmpty        = errors.New("no data yet")
	ErrNewerFormat  = errors.New("written by a newer format")
	ErrCorrupt      = errors.New("damaged data")
	ErrLocked       = errors.New("in use by another process")
)

// Error is a refusal about one file.
type Error struct {
	Path string // the file
	Err  error  // one of the sentinels
	What string // what was found
	Do   string // what the operator can do
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %s", e.Path, e.What, e.Do) }
func (e *Error) Unwrap() error { return e.Err }

// Advice for each refusal.
const (
	doElsewhere = "point --data-dir elsewhere, or remove the directory to start afresh"
	doCorrupt   = "nothing was changed; move the file aside (keep it to look into it) or remove the directory, and the node starts afresh and catches up from the cluster"
	doNewer     = "run the newer gridlock that wrote it, or point --data-dir elsewhere"
	doLocked    = "stop the other process, or give this one a --data-dir of its own"
)

func corrupt(path, format string, args ...any) *Error {
	return &Error{Path: path, Err: ErrCorrupt, What: "damaged: " + fmt.Sprintf(format, args...), Do: doCorrupt}
}
