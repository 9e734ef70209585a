package node

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/replica"
)

// A round's puzzle is known as soon as the round before it ends: the node
// generates it during the countdown, off its loop, so that the entry that
// starts the round finds it made instead of stalling every room of the
// node for the generation (2–25 ms for a hard 9×9). The same seed gives the
// same puzzle, so what the cache holds never changes what a replica
// applies.

func init() { game.UsePuzzleSource(puzzles.get) }

// puzzles is the process's cache: in-process clusters (tests, the demo's
// presenter) share it, and a puzzle is made once for all their replicas.
var puzzles = newPuzzleCache(64, game.GenerateSeed)

type puzzleKey struct {
	size uint8
	d    game.Difficulty
	seed uint64
}

type puzzleEntry struct {
	done chan struct{} // closed once p and err are set
	p    *game.Puzzle
	err  error
}

type puzzleCache struct {
	gen   game.PuzzleSource
	limit int

	gets atomic.Int64 // puzzles asked for by replicas' Apply

	mu    sync.Mutex
	m     map[puzzleKey]*puzzleEntry
	order []puzzleKey // oldest first
}

func newPuzzleCache(limit int, gen game.PuzzleSource) *puzzleCache {
	return &puzzleCache{gen: gen, limit: limit, m: map[puzzleKey]*puzzleEntry{}}
}

// entry returns k's entry, and whether the caller made it and must fill it.
func (pc *puzzleCache) entry(k puzzleKey) (*puzzleEntry, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if e := pc.m[k]; e != nil {
		return e, false
	}
	e := &puzzleEntry{done: make(chan struct{})}
	pc.m[k] = e
	pc.order = append(pc.order, k)
	if len(pc.order) > pc.limit {
		// Whoever waits on an evicted entry still holds it.
		delete(pc.m, pc.order[0])
		pc.order = slices.Delete(pc.order, 0, 1)
	}
	return e, true
}

func (pc *puzzleCache) fill(k puzzleKey, e *puzzleEntry) {
	e.p, e.err = pc.gen(k.size, k.d, k.seed)
	close(e.done)
}

// get returns the puzzle, waiting for a generation under way (it has a head
// start) or making it on the caller's goroutine.
func (pc *puzzleCache) get(size uint8, d game.Difficulty, seed uint64) (*game.Puzzle, error) {
	pc.gets.Add(1)
	k := puzzleKey{size, d, seed}
	e, mine := pc.entry(k)
	if mine {
		pc.fill(k, e)
	}
	<-e.done
	if e.err != nil {
		return nil, e.err
	}
	return e.made(), nil
}

// ahead starts the puzzle's generation on a goroutine of its own, unless
// it is made or under way.
func (pc *puzzleCache) ahead(size uint8, d game.Difficulty, seed uint64) { pc.start(size, d, seed) }

// start is ahead, and returns the puzzle's entry.
func (pc *puzzleCache) start(size uint8, d game.Difficulty, seed uint64) *puzzleEntry {
	k := puzzleKey{size, d, seed}
	e, mine := pc.entry(k)
	if mine {
		go pc.fill(k, e)
	}
	return e
}

// made returns a copy of the made puzzle, or nil if it failed.
func (e *puzzleEntry) made() *game.Puzzle {
	if e.err != nil {
		return nil
	}
	p := *e.p
	p.Givens, p.Solution = slices.Clone(p.Givens), slices.Clone(p.Solution)
	return &p
}

// aheadOf generates the next puzzle of every room whose round the entries
// ended.
func (pc *puzzleCache) aheadOf(st *game.State, committed []replica.Applied) {
	for i := range committed {
		for j := range committed[i].Events {
			ev := &committed[i].Events[j]
			if ev.Kind != game.EvRoundOver {
				continue
			}
			if size, d, seed, ok := st.NextPuzzle(ev.Room); ok {
				pc.ahead(size, d, seed)
			}
		}
	}
}
