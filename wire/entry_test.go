package wire

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

func TestLogEntryRoundTrip(t *testing.T) {
	for _, e := range sampleLogEntries() {
		b, err := AppendLogEntry([]byte("x"), &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeLogEntry(b[1:], PeerLimits)
		if err != nil {
			t.Fatalf("%T: %v", e.Entry.Cmd, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip changed\n%#v\ninto\n%#v", e, got)
		}
		// The same bytes as inside an Append of that one entry.
		app, _ := appendLogEntries(nil, []LogEntry{e})
		if string(app[1:]) != string(b[1:]) {
			t.Fatalf("%T: encoding differs from an Append's", e.Entry.Cmd)
		}
	}
}

func TestLogEntryErrors(t *testing.T) {
	for _, e := range []LogEntry{{}, {Entry: game.Entry{Cmd: &game.Place{}}}} {
		got, err := AppendLogEntry([]byte("keep"), &e)
		if err == nil || string(got) != "keep" {
			t.Errorf("%#v: got %q, %v", e, got, err)
		}
	}
	ok, _ := AppendLogEntry(nil, &LogEntry{Epoch: MakeEpoch(7, 1), Entry: game.Entry{Cmd: game.Chat{Text: "hi"}}})
	small := PeerLimits
	small.MaxFrame = len(ok) - 1
	for name, tc := range map[string]struct {
		b   []byte
		lim Limits
	}{
		"empty":     {nil, PeerLimits},
		"truncated": {ok[:len(ok)-1], PeerLimits},
		"trailing":  {append(ok[:len(ok):len(ok)], 0), PeerLimits},
		"too large": {ok, small},
		"unknown":   {[]byte{1, 0, 0, 0, 200}, PeerLimits},
	} {
		_, err := DecodeLogEntry(tc.b, tc.lim)
		var de *DecodeError
		if !errors.As(err, &de) || de.Code == 0 {
			t.Errorf("%s: %v, want a *DecodeError", name, err)
		}
	}
}
