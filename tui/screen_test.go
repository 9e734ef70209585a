package tui

import (
	"bytes"
	"strings"
	"testing"
)

func TestScreenSendsOnlyChangedLines(t *testing.T) {
	var out bytes.Buffer
	s := &screen{out: &out}
	s.resize(10, 3)
	s.draw("one\ntwo\nthree")
	if got := out.String(); !strings.HasPrefix(got, seqClear) || !strings.Contains(got, "\x1b[3;1Hthree"+seqEraseLine) {
		t.Fatalf("first frame: %q", got)
	}
	out.Reset()
	s.draw("one\nTWO\nthree")
	if got, want := out.String(), "\x1b[2;1HTWO"+seqEraseLine; got != want {
		t.Fatalf("second frame wrote %q, want %q", got, want)
	}
	out.Reset()
	s.draw("one\nTWO\nthree")
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame wrote %q", out.String())
	}
	// A shorter frame erases what was below it.
	s.draw("one")
	if got, want := out.String(), "\x1b[2;1H"+seqEraseBelow; got != want {
		t.Fatalf("shorter frame wrote %q, want %q", got, want)
	}
	// After a resize everything is drawn again; lines are cut to the width
	// and the frame to the height.
	out.Reset()
	s.resize(4, 2)
	s.draw("\x1b[1mbold text\x1b[0m\nb\nc")
	got := out.String()
	if !strings.HasPrefix(got, seqClear) || !strings.Contains(got, "\x1b[2;1Hb") || strings.Contains(got, "c") || strings.Contains(got, "text") {
		t.Fatalf("after resize: %q", got)
	}
}
