package node

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// countingGen is GenerateSeed that counts its calls and, if gate is set,
// waits for it before generating.
type countingGen struct {
	calls atomic.Int32
	gate  chan struct{}
}

func (g *countingGen) gen(size uint8, d game.Difficulty, seed uint64) (*game.Puzzle, error) {
	g.calls.Add(1)
	if g.gate != nil {
		<-g.gate
	}
	return game.GenerateSeed(size, d, seed)
}

func TestPuzzleCacheMakesEachPuzzleOnce(t *testing.T) {
	g := &countingGen{gate: make(chan struct{})}
	pc := newPuzzleCache(8, g.gen)
	pc.ahead(9, game.Hard, 7)
	pc.ahead(9, game.Hard, 7) // under way: not started again
	got := make(chan *game.Puzzle)
	go func() {
		p, err := pc.get(9, game.Hard, 7) // waits for the generation under way
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	close(g.gate)
	p := <-got
	want, _ := game.GenerateSeed(9, game.Hard, 7)
	if !slices.Equal(p.Givens, want.Givens) || !slices.Equal(p.Solution, want.Solution) || p.Seed != 7 {
		t.Fatalf("the cache's puzzle is not GenerateSeed's")
	}
	p.Givens[0], p.Solution[0] = 99, 99 // the caller's own copy
	again, _ := pc.get(9, game.Hard, 7)
	if !slices.Equal(again.Givens, want.Givens) || !slices.Equal(again.Solution, want.Solution) {
		t.Fatalf("a caller's change reached the cache")
	}
	if n := g.calls.Load(); n != 1 {
		t.Fatalf("generated %d times, want once", n)
	}
	if _, err := pc.get(5, game.Easy, 1); err == nil {
		t.Fatalf("an unsupported size gave no error")
	}
}

func TestPuzzleCacheIsBounded(t *testing.T) {
	g := &countingGen{}
	pc := newPuzzleCache(2, g.gen)
	for seed := range uint64(3) {
		if _, err := pc.get(4, game.Easy, seed); err != nil {
			t.Fatal(err)
		}
	}
	if len(pc.m) != 2 || len(pc.order) != 2 {
		t.Fatalf("holds %d puzzles (%d in order), limit 2", len(pc.m), len(pc.order))
	}
	pc.get(4, game.Easy, 2) // kept
	pc.get(4, game.Easy, 0) // evicted: made again
	if n := g.calls.Load(); n != 4 {
		t.Fatalf("generated %d times, want 4", n)
	}
}

// A round that ends starts its next puzzle's generation, and the round
// after the countdown deals that puzzle.
func TestRoundOverGeneratesTheNextPuzzle(t *testing.T) {
	rules := game.DefaultRules()
	rules.RoundCountdown = time.Second
	st := game.New(rules)
	now := int64(time.Hour)
	apply := func(e game.Entry) (game.Result, []game.Event) {
		now += int64(time.Millisecond)
		e.Time = now
		return st.Apply(e, nil)
	}
	apply(game.Entry{Cmd: game.Genesis{Seed: 42, Rules: rules, ClusterID: 1}})
	res, _ := apply(game.Entry{Cmd: game.OpenSession{Name: "ann", Token: "t"}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	sess, seq := res.Session, uint64(0)
	do := func(c game.Command) []game.Event {
		seq++
		r, evs := apply(game.Entry{Session: sess, Seq: seq, Cmd: c})
		if r.Err != nil {
			t.Fatalf("%T: %v", c, r.Err)
		}
		return evs
	}
	do(game.CreateRoom{Name: "quick", Size: 4, Difficulty: game.Easy})
	v, _ := st.RoomView("quick")
	sol, ok := game.Solve(4, v.Puzzle.Givens)
	if !ok {
		t.Fatal("no solution")
	}
	g := &countingGen{}
	pc := newPuzzleCache(8, g.gen)
	for c, d := range v.Puzzle.Givens {
		if d != 0 {
			continue
		}
		evs := do(game.Place{Row: uint8(c / 4), Col: uint8(c % 4), Digit: sol[c]})
		pc.aheadOf(st, []replica.Applied{{Events: evs}})
	}
	size, d, seed, ok := st.NextPuzzle("quick")
	if !ok || size != 4 || d != game.Easy {
		t.Fatalf("NextPuzzle after the round = %d %v %d %v", size, d, seed, ok)
	}
	pending := pc.m[puzzleKey{size, d, seed}]
	if pending == nil {
		t.Fatalf("the round's end did not start the next puzzle's generation")
	}
	<-pending.done
	if n := g.calls.Load(); n != 1 {
		t.Fatalf("%d generations, want the next puzzle's only", n)
	}
	now += int64(rules.RoundCountdown)
	_, evs := apply(game.Entry{Cmd: game.Tick{}})
	i := slices.IndexFunc(evs, func(e game.Event) bool { return e.Kind == game.EvRoundStarted })
	if i < 0 || evs[i].Puzzle.Seed != seed || !slices.Equal(evs[i].Puzzle.Givens, pending.p.Givens) {
		t.Fatalf("the next round did not deal the puzzle made ahead: %+v", evs)
	}
	if _, _, _, ok := st.NextPuzzle("quick"); ok {
		t.Fatalf("NextPuzzle during play")
	}
}

// BenchmarkRoundStart: how long the entry that starts a 9×9 hard round
// waits for its puzzle (the cache's get), made during the countdown
// ("ahead") or by the entry itself ("cold").
func BenchmarkRoundStart(b *testing.B) {
	for _, ahead := range []bool{false, true} {
		name := map[bool]string{false: "cold", true: "ahead"}[ahead]
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				pc := newPuzzleCache(8, game.GenerateSeed)
				seed := uint64(i)
				if ahead {
					pc.ahead(9, game.Hard, seed)
					e, _ := pc.entry(puzzleKey{9, game.Hard, seed})
					<-e.done
				}
				start := time.Now()
				if _, err := pc.get(9, game.Hard, seed); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/start")
		})
	}
}

// A node that applies the end of a round starts making the next puzzle
// during the countdown (an hour here: only the node's look ahead can make
// it); TestRoundOverGeneratesTheNextPuzzle shows that round deals it.
func TestNodeMakesTheNextPuzzleDuringTheCountdown(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1}, func(o *Options) {
		o.Config.Rules.RoundCountdown = time.Hour
	})
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return primaryOf(nodes) == 1 }, nodes[0].Watch())
	cl := memClient(t, m.NewHost(), "ann", nodes[0].ClientAddr())
	do := func(c game.Command) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if a, err := cl.Do(ctx, c); err != nil || a.Result.Err != nil {
			t.Fatalf("%T: %v %v", c, err, a.Result.Err)
		}
	}
	// 6×6 medium: no other test of this package deals one.
	do(game.CreateRoom{Name: "ahead", Size: 6, Difficulty: game.Medium})
	v, _, _ := cl.Room()
	had := map[puzzleKey]bool{} // the cache is the process's
	puzzles.mu.Lock()
	for k := range puzzles.m {
		had[k] = true
	}
	puzzles.mu.Unlock()
	sol, _ := game.Solve(6, v.Puzzle.Givens)
	for c, d := range v.Puzzle.Givens {
		if d == 0 {
			do(game.Place{Row: uint8(c / 6), Col: uint8(c % 6), Digit: sol[c]})
		}
	}
	var next uint64
	waitFor(t, 10*time.Second, "the next puzzle in the cache", func() bool {
		puzzles.mu.Lock()
		defer puzzles.mu.Unlock()
		for k := range puzzles.m {
			if k.size == 6 && k.d == game.Medium && !had[k] {
				next = k.seed
			}
		}
		return next != 0
	}, cl.Notify())
}
