package main

import (
	"strings"
	"testing"
	"time"
)

// TestHelpSaysWhatRuns: a command's --help shows an example that works as
// given, and what differs between play's flags and serve's: the defaults,
// and where --data-dir auto keeps the data.
func TestHelpSaysWhatRuns(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		want     []string
		wantNone []string
	}{
		// serve makes no cluster without --bootstrap: its example has one.
		{[]string{"serve", "--help"}, []string{"Example:\n  gridlock serve --id 1 --bootstrap 1 ", `(default "none")`, "(default on)", "one per cluster and node id (--id))"}, nil},
		// play's --quorum is off, the flag's zero value, which the flag
		// package would leave out.
		{[]string{"play", "--help"}, []string{"(default off)", `(default "any")`, "one per cluster and player name)"}, []string{"(default on)"}},
		{[]string{"version", "--help"}, []string{"Example:\n  gridlock version\n"}, []string{"Flags:"}},
	} {
		stdout, stderr, code := runGridlock(t, 10*time.Second, tc.args...)
		out := stdout + stderr
		if code != 0 {
			t.Errorf("gridlock %s: exit %d:\n%s", strings.Join(tc.args, " "), code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("gridlock %s: no %q in:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
		for _, w := range tc.wantNone {
			if strings.Contains(out, w) {
				t.Errorf("gridlock %s: %q in:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
}
