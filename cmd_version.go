package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gridlock-game/gridlock/wire"
)

func cmdVersion(args []string) error {
	fs := newFlags("version", "gridlock version", "gridlock version")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	printVersion(os.Stdout)
	return nil
}

// printVersion says which build this is: its version (from the commit it
// was built from, when the build recorded one: "+dirty" marks uncommitted
// changes), the protocol its nodes speak (nodes and clients of another
// protocol refuse each other), and the Go release and platform.
func printVersion(w io.Writer) {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if rev := s.Value[:min(12, len(s.Value))]; s.Key == "vcs.revision" && !strings.Contains(v, rev) {
				v += " (commit " + rev + ")"
			}
		}
	}
	fmt.Fprintf(w, "gridlock %s; protocol %d; %s %s/%s\n", v, wire.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
