package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// moves are n small entries, as a busy game makes them.
func moves(n int) []wire.LogEntry {
	es := make([]wire.LogEntry, n)
	for i := range es {
		es[i] = wire.LogEntry{Epoch: wire.MakeEpoch(3, 2), Entry: game.Entry{Time: 1_700_000_000_000_000_000 + int64(i),
			Session: game.SessionID(1 + i%10), Seq: uint64(i), Cmd: game.Place{Row: uint8(i % 9), Col: 4, Digit: 7}}}
	}
	return es
}

// BenchmarkSave is one turn of the node's loop: n entries and the hard
// state in one Save. With Fsync, entries=64 is group commit: one sync for
// the batch.
func BenchmarkSave(b *testing.B) {
	for _, n := range []int{1, 64} {
		for _, fsync := range []bool{true, false} {
			b.Run(fmt.Sprintf("entries=%d/fsync=%v", n, fsync), func(b *testing.B) {
				s, _, err := Open(b.TempDir(), testMeta, Options{Fsync: fsync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				es, hard := moves(n), bytes.Repeat([]byte{1}, 48)
				next := uint64(1)
				for b.Loop() {
					if err := s.Save(Update{FirstIndex: next, Entries: es, HardState: hard}); err != nil {
						b.Fatal(err)
					}
					next += uint64(n)
				}
				b.ReportMetric(float64(next-1)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}

// BenchmarkOpen is a restart: a store of a 1 MB snapshot and 100,000
// entries after it, verified and read whole.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	s, _, err := Open(dir, testMeta, Options{})
	if err != nil {
		b.Fatal(err)
	}
	snap := &Snapshot{Index: 5000, Data: bytes.Repeat([]byte("game state "), 1<<20/11)}
	if err := s.Save(Update{Snapshot: snap, HardState: []byte("hard")}); err != nil {
		b.Fatal(err)
	}
	const total, batch = 100_000, 1000
	es := moves(batch)
	for i := uint64(0); i < total; i += batch {
		if err := s.Save(Update{FirstIndex: snap.Index + 1 + i, Entries: es}); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	for b.Loop() {
		s, ld, err := Open(dir, testMeta, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(ld.Entries) != total || len(ld.Snapshot.Data) < 1<<20-11 {
			b.Fatalf("read %d entries, %d bytes of snapshot", len(ld.Entries), len(ld.Snapshot.Data))
		}
		s.Close()
	}
}
