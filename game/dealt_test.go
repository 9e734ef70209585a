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
	size, d, seed, ok := h.s.RoomPuzzle(c, 0)
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
	if _, _, _, ok := h.s.RoomPuzzle(CreateRoom{Name: "side", Size: 6}, 0); ok {
		t.Fatalf("RoomPuzzle for a room that exists")
	}
	if _, _, _, ok := h.s.RoomPuzzle(CreateRoom{Name: "den", Size: 5}, 0); ok {
		t.Fatalf("RoomPuzzle for an unsupported size")
	}

	// Dealt before another room's creation was applied, or counting one
	// that was refused: the serial guessed is off by one, and the puzzle
	// is kept all the same (the seed stays the one it was dealt for).
	early := CreateRoom{Name: "den", Size: 6, Difficulty: Hard}
	_, _, earlySeed, _ := h.s.RoomPuzzle(early, 0)
	late := CreateRoom{Name: "loft", Size: 6, Difficulty: Hard}
	_, _, lateSeed, _ := h.s.RoomPuzzle(late, 2)
	wantErr(t, h.do(a, CreateRoom{Name: "other", Size: 4}), OK, "")
	_, _, nowEarly, _ := h.s.RoomPuzzle(early, 0)
	_, _, nowLate, _ := h.s.RoomPuzzle(late, 0)
	if nowEarly == earlySeed || nowLate == lateSeed {
		t.Fatalf("the guesses are not off")
	}
	early.Dealt, _ = GenerateSeed(6, Hard, earlySeed)
	late.Dealt, _ = GenerateSeed(6, Hard, lateSeed)
	for _, c := range []CreateRoom{early, late} {
		asked = 0
		wantErr(t, h.do(a, c), OK, "")
		if asked != 0 || h.puzzle(c.Name).Seed != c.Dealt.Seed {
			t.Fatalf("%s dealt near its serial: source asked %d times", c.Name, asked)
		}
	}

	// Not this room's, or not near its serial: generated as if not dealt.
	other, _ := GenerateSeed(6, Hard, PuzzleSeed(42, "elsewhere", 7, 1))
	far, _ := GenerateSeed(6, Hard, PuzzleSeed(42, "far", 7+dealtSpread+1, 1))
	small, _ := GenerateSeed(4, Hard, PuzzleSeed(42, "small", 7, 1))
	for _, c := range []CreateRoom{
		{Name: "mine", Size: 6, Difficulty: Hard, Dealt: other},
		{Name: "far", Size: 6, Difficulty: Hard, Dealt: far},
		{Name: "small", Size: 6, Difficulty: Hard, Dealt: small},
	} {
		asked = 0
		wantErr(t, h.do(a, c), OK, "")
		serial := h.s.serial
		want, _ := GenerateSeed(6, Hard, PuzzleSeed(42, c.Name, serial, 1))
		if got := h.puzzle(c.Name); asked != 1 || got.Seed != want.Seed || !slices.Equal(got.Givens, want.Givens) {
			t.Fatalf("%s: source asked %d times, seed %x, want %x", c.Name, asked, got.Seed, want.Seed)
		}
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
					size, d, seed, _ := h.s.RoomPuzzle(c, 0)
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
