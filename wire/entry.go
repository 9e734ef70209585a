package wire

import (
	"fmt"
)

// AppendLogEntry appends one log entry on its own, encoded as inside an
// Append (epoch, then the entry), for a caller that stores entries one by
// one. For a nil command, or one that is not game's value type, it returns
// b unchanged and an error.
func AppendLogEntry(b []byte, e *LogEntry) ([]byte, error) {
	out, err := appendEntry(appendEpoch(b, e.Epoch), &e.Entry)
	if err != nil {
		return b, err
	}
	return out, nil
}

// DecodeLogEntry decodes what AppendLogEntry wrote: exactly one entry, no
// trailing bytes, with the checks and limits of DecodeMessage (b counts as
// the frame). Every error is a *DecodeError. The result shares no memory
// with b.
func DecodeLogEntry(b []byte, lim Limits) (LogEntry, error) {
	if len(b) > lim.MaxFrame {
		return LogEntry{}, &DecodeError{Code: ErrTooLarge,
			Msg: fmt.Sprintf("log entry of %d bytes exceeds the %d-byte limit", len(b), lim.MaxFrame)}
	}
	d := decoder{b: b, lim: lim}
	var e LogEntry
	e.Epoch = d.epoch("entry.epoch")
	d.entry(&e.Entry)
	if d.err == nil && len(d.b) > 0 {
		d.fail(ErrMalformed, "", fmt.Sprintf("%d trailing bytes after a log entry", len(d.b)))
	}
	if d.err != nil {
		return LogEntry{}, d.err
	}
	return e, nil
}
