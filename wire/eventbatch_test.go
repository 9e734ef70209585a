package wire

import (
	"bytes"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// An EventBatch frames the same bytes as the Events message it stands for,
// whole and from any event on.
func TestEventBatchFramesAsEvents(t *testing.T) {
	evs := sampleEvents()
	var b EventBatch
	for i := range evs {
		if err := b.Add(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for k := 0; k <= len(evs)+1; k++ {
		want, err := AppendFrame([]byte("x"), &Events{Index: 77, Events: evs[min(k, len(evs)):]})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.AppendFrame([]byte("x"), 77, k, -1, ""); !bytes.Equal(got, want) {
			t.Fatalf("from event %d: frame %x, want %x", k, got, want)
		}
	}
	b.Reset()
	if b.Len() != 0 || b.Bytes() != 0 {
		t.Fatal("a reset batch is not empty")
	}
	bad := game.Event{Kind: game.EvRoundStarted, Room: "main", Puzzle: &game.PuzzleView{Size: 9, Givens: []uint8{1}}}
	if err := b.Add(&bad); err == nil || b.Len() != 0 {
		t.Fatalf("a malformed puzzle was added: %v", err)
	}
}

// With a limit of chat lines, a frame (and a copy into another batch)
// leaves out the oldest players' lines but keep's, and keeps system lines
// and every other event, in order.
func TestEventBatchLeavesOutOldChat(t *testing.T) {
	var evs []game.Event
	for i := range 14 {
		switch {
		case i%4 == 0:
			evs = append(evs, game.Event{Kind: game.EvPlaced, Room: "main", Name: "bob", Row: uint8(i)})
		case i%4 == 1:
			evs = append(evs, game.Event{Kind: game.EvChat, Room: "main", Line: &game.ChatLine{N: uint64(i), Text: "round over"}})
		case i%4 == 2:
			evs = append(evs, game.Event{Kind: game.EvChat, Room: "main", Line: &game.ChatLine{N: uint64(i), From: "bob", Text: "mine"}})
		default:
			evs = append(evs, game.Event{Kind: game.EvChat, Room: "main", Line: &game.ChatLine{N: uint64(i), From: "ann", Text: "hi"}})
		}
	}
	var b EventBatch
	for i := range evs {
		if err := b.Add(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	thinned := func(k, maxChat int, keep string) []game.Event {
		chat := 0
		dropped := func(e game.Event) bool {
			return e.Kind == game.EvChat && e.Line.From != "" && e.Line.From != keep
		}
		for _, e := range evs[k:] {
			if dropped(e) {
				chat++
			}
		}
		skip := max(0, chat-maxChat)
		if maxChat < 0 {
			skip = 0
		}
		var out []game.Event
		for _, e := range evs[k:] {
			if dropped(e) && skip > 0 {
				skip--
				continue
			}
			out = append(out, e)
		}
		return out
	}
	for _, tc := range []struct {
		k, maxChat int
		keep       string
	}{{0, 0, ""}, {0, 2, ""}, {2, 1, ""}, {0, 6, ""}, {0, 100, ""}, {5, 0, ""}, {0, 0, "bob"}, {3, 1, "ann"}, {0, -1, ""}} {
		want, err := AppendFrame(nil, &Events{Index: 3, Events: thinned(tc.k, tc.maxChat, tc.keep)})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.AppendFrame(nil, 3, tc.k, tc.maxChat, tc.keep); !bytes.Equal(got, want) {
			t.Errorf("from %d, at most %d lines but %q's: frame %x, want %x", tc.k, tc.maxChat, tc.keep, got, want)
		}
		if tc.keep == "" {
			left := 0
			b.LeftOut(tc.k, tc.maxChat, func(from string) {
				if from == "" {
					t.Error("a system line was left out")
				}
				left++
			})
			if kept := len(thinned(tc.k, tc.maxChat, "")); left != len(evs)-tc.k-kept {
				t.Errorf("from %d, at most %d lines: %d left out, want %d", tc.k, tc.maxChat, left, len(evs)-tc.k-kept)
			}
		}
		var c EventBatch
		if err := c.Add(&evs[0]); err != nil {
			t.Fatal(err)
		}
		c.AddFrom(&b, tc.k, tc.maxChat, tc.keep)
		want, _ = AppendFrame(nil, &Events{Index: 4, Events: append([]game.Event{evs[0]}, thinned(tc.k, tc.maxChat, tc.keep)...)})
		if got := c.AppendFrame(nil, 4, 0, -1, ""); !bytes.Equal(got, want) {
			t.Errorf("copied from %d, at most %d lines but %q's: frame %x, want %x", tc.k, tc.maxChat, tc.keep, got, want)
		}
	}
}
