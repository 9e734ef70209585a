package game

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func levelName(size uint8, d Difficulty) string { return fmt.Sprintf("%dx%d-%v", size, size, d) }

// BenchmarkGenerate times one puzzle per iteration, seed = iteration.
func BenchmarkGenerate(b *testing.B) {
	for _, size := range sizes {
		for d := Easy; d <= Expert; d++ {
			b.Run(levelName(size, d), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := GenerateSeed(size, d, uint64(i)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGenerateSeeds reports the distribution of generation times over
// the seeds 0..N-1; run it with -benchtime 1000x for 1,000 seeds.
func BenchmarkGenerateSeeds(b *testing.B) {
	for _, size := range sizes {
		for d := Easy; d <= Expert; d++ {
			b.Run(levelName(size, d), func(b *testing.B) {
				times := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					start := time.Now()
					if _, err := GenerateSeed(size, d, uint64(i)); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(start))
				}
				slices.Sort(times)
				q := func(p float64) float64 {
					return float64(times[min(len(times)-1, int(p*float64(len(times))))]) / 1e6
				}
				b.ReportMetric(q(0.50), "p50-ms")
				b.ReportMetric(q(0.90), "p90-ms")
				b.ReportMetric(q(0.99), "p99-ms")
				b.ReportMetric(float64(times[len(times)-1])/1e6, "max-ms")
			})
		}
	}
}

// BenchmarkApplyPlace times right placements on a 9×9 board by a few players,
// with a reused event buffer; a filled board (round over included) is
// swapped for a fresh copy outside the timer.
func BenchmarkApplyPlace(b *testing.B) {
	h := newHarness(b, DefaultRules())
	ids := []SessionID{h.open("alice"), h.open("bob"), h.open("carol")}
	snap := h.s.Snapshot()
	var places []Entry
	for k, i := range h.empties(MainRoom) {
		places = append(places, Entry{Session: ids[k%len(ids)], Cmd: h.right(MainRoom, i)})
	}
	s, _ := Restore(snap)
	evs := make([]Event, 0, 16)
	seq := uint64(0)
	now := h.now
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if next == len(places) {
			b.StopTimer()
			s, _ = Restore(snap)
			next = 0
			b.StartTimer()
		}
		e := places[next]
		next++
		seq++
		now += 1000
		e.Seq, e.Time = seq, now
		var res Result
		res, evs = s.Apply(e, evs[:0])
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "places/s")
}

// BenchmarkApplyMiss times wrong placements (which allocate their error).
func BenchmarkApplyMiss(b *testing.B) {
	h := newHarness(b, DefaultRules())
	a := h.open("alice")
	e := Entry{Session: a, Cmd: h.wrong(MainRoom, h.empties(MainRoom)[0])}
	evs := make([]Event, 0, 16)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Seq, e.Time = uint64(i+1), h.now
		_, evs = h.s.Apply(e, evs[:0])
	}
}

// busyState is a state with 200 sessions in 8 rooms, chat and moves.
func busyState(b testing.TB) *State {
	h := newHarness(b, DefaultRules())
	for i := 0; i < 200; i++ {
		id := h.open(fmt.Sprintf("player%03d", i))
		if i%25 == 0 && i > 0 {
			h.do(id, CreateRoom{Name: fmt.Sprintf("room%d", i/25), Size: 9, Difficulty: Easy})
		} else if i > 25 {
			h.do(id, JoinRoom{Name: fmt.Sprintf("room%d", i/25)})
		}
		sv, _ := h.s.Session(id)
		if e := h.empties(sv.Room); len(e) > 0 {
			h.do(id, h.right(sv.Room, e[0]))
		}
		h.do(id, Chat{Text: "a line of chat to fill the history"})
	}
	return h.s
}

func BenchmarkSnapshot(b *testing.B) {
	s := busyState(b)
	buf := s.Snapshot()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = s.AppendSnapshot(buf[:0])
	}
}

func BenchmarkRestore(b *testing.B) {
	snap := busyState(b).Snapshot()
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Restore(snap); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCountSolutions9Expert(b *testing.B) {
	var ps []*Puzzle
	for seed := uint64(0); seed < 20; seed++ {
		p, _ := GenerateSeed(9, Expert, seed)
		ps = append(ps, p)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if CountSolutions(9, ps[i%len(ps)].Givens, 2) != 1 {
			b.Fatal("not unique")
		}
	}
}
