package game

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// A CreateRoom that carries the puzzle its seed gives deals it without
// asking the puzzle source; one whose puzzle is not the seed's (another
// room's creation came first) gets the seed's puzzle all the same.
func TestCreateRoomDealsItsPuzzle(t *testing.T) {
	asked := 0
	defer func(old PuzzleSource) { source = old }(source)
	source = func(size uint8, d Difficulty, seed uint64) (*Puzzle, error) {
		asked++
		return GenerateSeed(size, d, seed)
	}
	h := newHarness(t, testRules())
	a := h.open("ann")
	c := CreateRoom{Name: "Side", Size: 6, Difficulty: Hard}
	size, d, seed, ok := h.s.RoomPuzzle(c)
	if !ok || size != 6 || d != Hard {
		t.Fatalf("RoomPuzzle: %d %v %v", size, d, ok)
	}
	p, err := GenerateSeed(size, d, seed)
	if err != nil {
		t.Fatal(err)
	}
	c.Dealt = p
	asked = 0
	wantErr(t, h.do(a, c), OK, "")
	got := h.puzzle("side")
	if asked != 0 || !slices.Equal(got.Givens, p.Givens) || !slices.Equal(got.Solution, p.Solution) {
		t.Fatalf("dealt: source asked %d times; the room's puzzle is not the one dealt", asked)
	}
	orig := got.Givens[0]
	p.Givens[0] = orig%6 + 1 // the entry's; the room keeps its own copy
	if h.puzzle("side").Givens[0] != orig {
		t.Fatalf("the room shares the entry's puzzle")
	}
	if _, _, _, ok := h.s.RoomPuzzle(CreateRoom{Name: "side", Size: 6}); ok {
		t.Fatalf("RoomPuzzle for a room that exists")
	}
	if _, _, _, ok := h.s.RoomPuzzle(CreateRoom{Name: "den", Size: 5}); ok {
		t.Fatalf("RoomPuzzle for an unsupported size")
	}

	// Dealt for the serial before: not the seed's puzzle.
	stale := CreateRoom{Name: "den", Size: 6, Difficulty: Hard}
	_, _, staleSeed, _ := h.s.RoomPuzzle(stale)
	wantErr(t, h.do(a, CreateRoom{Name: "other", Size: 4}), OK, "")
	stale.Dealt, _ = GenerateSeed(6, Hard, staleSeed)
	asked = 0
	wantErr(t, h.do(a, stale), OK, "")
	want, _ := GenerateSeed(6, Hard, PuzzleSeed(42, "den", 3, 1)) // the third room
	if got := h.puzzle("den"); asked != 1 || got.Seed == staleSeed || !slices.Equal(got.Givens, want.Givens) {
		t.Fatalf("a stale dealt puzzle: source asked %d times, seed %x (stale %x)", asked, got.Seed, staleSeed)
	}
}

// BenchmarkCreateRoom: how long the entry creating a 9×9 hard room takes in
// every replica's Apply, its puzzle dealt by the primary or generated there
// (a new room each time, so a new seed).
func BenchmarkCreateRoom(b *testing.B) {
	for _, dealt := range []bool{false, true} {
		b.Run(map[bool]string{false: "generated", true: "dealt"}[dealt], func(b *testing.B) {
			r := DefaultRules()
			r.MaxRooms = MaxRoomsCap
			var h *harness
			var a SessionID
			var total time.Duration
			for i := range b.N {
				if i%(MaxRoomsCap-1) == 0 {
					h = newHarness(b, r)
					a = h.open("ann")
				}
				c := CreateRoom{Name: fmt.Sprintf("r%d", i), Size: 9, Difficulty: Hard}
				if dealt {
					size, d, seed, _ := h.s.RoomPuzzle(c)
					c.Dealt, _ = GenerateSeed(size, d, seed)
				}
				start := time.Now()
				res := h.do(a, c)
				total += time.Since(start)
				if res.Err != nil {
					b.Fatal(res.Err)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/create")
		})
	}
}
