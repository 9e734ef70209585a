package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// testMeta is the Meta most tests run with.
var testMeta = Meta{Cluster: "gridlock-test", Node: 3}

// entry is a deterministic log entry for index i, of every command kind in
// turn.
func entry(i uint64) wire.LogEntry {
	var c game.Command
	switch i % 14 {
	case 0:
		c = game.Genesis{Seed: i, Rules: game.DefaultRules()}
	case 1:
		c = game.OpenSession{Name: fmt.Sprintf("p%d", i%97), Token: "0123456789abcdef"}
	case 2:
		c = game.CloseSession{}
	case 3:
		c = game.Disconnect{Session: game.SessionID(i % 50)}
	case 4:
		c = game.Place{Row: uint8(i % 9), Col: uint8(i / 9 % 9), Digit: uint8(1 + i%9)}
	case 5:
		c = game.Claim{Row: 1, Col: 2}
	case 6:
		c = game.Release{}
	case 7:
		c = game.Chat{Text: fmt.Sprintf("line %d — ✓", i)}
	case 8:
		c = game.CreateRoom{Name: fmt.Sprintf("r%d", i%13), Size: 6, Difficulty: game.Hard}
	case 9:
		c = game.JoinRoom{Name: "main"}
	case 10:
		c = game.LeaveRoom{}
	case 11:
		c = game.Tick{}
	case 12:
		c = game.ViewChange{Epoch: i, Primary: 3, PrevPrimary: 2}
	case 13:
		c = game.Rollback{Items: []game.RolledBack{{Room: "main", Name: "bob", Seq: i, Kind: game.CmdPlace, Row: 1, Col: 2, Digit: 3}}}
	}
	return wire.LogEntry{Epoch: wire.MakeEpoch(1+i/100, 3),
		Entry: game.Entry{Time: 1_700_000_000_000_000_000 + int64(i), Session: game.SessionID(1 + i%40), Seq: i, Cmd: c}}
}

func entries(first, n uint64) []wire.LogEntry {
	es := make([]wire.LogEntry, n)
	for i := range es {
		es[i] = entry(first + uint64(i))
	}
	return es
}

// model is what a store should hold, kept the simple way.
type model struct {
	meta    Meta
	hard    []byte
	snap    *Snapshot
	entries map[uint64]wire.LogEntry
	last    uint64
}

func newModel(m Meta) *model { return &model{meta: m, entries: map[uint64]wire.LogEntry{}} }

func (m *model) snapIndex() uint64 {
	if m.snap == nil {
		return 0
	}
	return m.snap.Index
}

func (m *model) clone() *model {
	c := *m
	c.entries = make(map[uint64]wire.LogEntry, len(m.entries))
	for k, v := range m.entries {
		c.entries[k] = v
	}
	return &c
}

// apply applies u, or returns an error and changes nothing.
func (m *model) apply(u Update) error {
	n := m.clone()
	if u.ClusterID != 0 {
		if n.meta.ClusterID != 0 && n.meta.ClusterID != u.ClusterID {
			return errors.New("cluster id")
		}
		n.meta.ClusterID = u.ClusterID
	}
	if u.Snapshot != nil {
		older := u.Snapshot.Index < n.snapIndex()
		n.snap = &Snapshot{Index: u.Snapshot.Index, Data: append([]byte{}, u.Snapshot.Data...)}
		for k := range n.entries {
			if k <= n.snap.Index || older {
				delete(n.entries, k)
			}
		}
		n.last = max(n.last, n.snap.Index)
		if older {
			n.last = n.snap.Index
		}
	}
	if u.Compact > n.snapIndex() {
		return errors.New("compact")
	}
	if u.HasTruncate {
		if u.TruncateAfter < n.snapIndex() {
			return errors.New("truncate")
		}
		for k := range n.entries {
			if k > u.TruncateAfter {
				delete(n.entries, k)
			}
		}
		n.last = min(n.last, u.TruncateAfter)
	}
	if len(u.Entries) > 0 {
		if u.FirstIndex != n.last+1 {
			return errors.New("gap")
		}
		for i, e := range u.Entries {
			n.entries[u.FirstIndex+uint64(i)] = e
		}
		n.last += uint64(len(u.Entries))
	}
	if u.HardState != nil {
		n.hard = append([]byte{}, u.HardState...)
	}
	*m = *n
	return nil
}

// loaded is what Open should return for the model.
func (m *model) loaded() *Loaded {
	ld := &Loaded{Meta: m.meta, HardState: m.hard, FirstIndex: m.snapIndex() + 1}
	if m.snap != nil {
		ld.Snapshot = &Snapshot{Index: m.snap.Index, Data: m.snap.Data}
	}
	for i := ld.FirstIndex; i <= m.last; i++ {
		ld.Entries = append(ld.Entries, m.entries[i])
	}
	return ld
}

// sameState compares what two Loadeds hold (not Recovered).
func sameState(a, b *Loaded) error {
	switch {
	case a.Meta != b.Meta:
		return fmt.Errorf("meta %+v, want %+v", a.Meta, b.Meta)
	case (a.HardState == nil) != (b.HardState == nil) || !bytes.Equal(a.HardState, b.HardState):
		return fmt.Errorf("hard state %q, want %q", a.HardState, b.HardState)
	case (a.Snapshot == nil) != (b.Snapshot == nil):
		return fmt.Errorf("snapshot %v, want %v", a.Snapshot != nil, b.Snapshot != nil)
	case a.Snapshot != nil && (a.Snapshot.Index != b.Snapshot.Index || !bytes.Equal(a.Snapshot.Data, b.Snapshot.Data)):
		return fmt.Errorf("snapshot at %d (%d bytes), want %d (%d bytes)", a.Snapshot.Index, len(a.Snapshot.Data), b.Snapshot.Index, len(b.Snapshot.Data))
	case a.FirstIndex != b.FirstIndex || len(a.Entries) != len(b.Entries):
		return fmt.Errorf("log [%d, +%d), want [%d, +%d)", a.FirstIndex, len(a.Entries), b.FirstIndex, len(b.Entries))
	}
	for i := range a.Entries {
		if !reflect.DeepEqual(a.Entries[i], b.Entries[i]) {
			return fmt.Errorf("entry %d: %+v, want %+v", a.FirstIndex+uint64(i), a.Entries[i], b.Entries[i])
		}
	}
	return nil
}

// randomUpdate makes an Update that is valid for m most of the time.
func randomUpdate(r *rand.Rand, m *model) Update {
	var u Update
	last := m.last
	if r.IntN(4) == 0 {
		u.HardState = fmt.Appendf(nil, "hard %d", r.Uint32())
	}
	if r.IntN(8) == 0 {
		idx := m.snapIndex() + uint64(r.IntN(int(last-m.snapIndex())+3))
		u.Snapshot = &Snapshot{Index: idx, Data: bytes.Repeat([]byte{byte(idx)}, r.IntN(3000))}
		last = max(last, idx)
		if r.IntN(2) == 0 {
			u.Compact = idx - uint64(r.IntN(2))
		}
	}
	if r.IntN(6) == 0 && last > 0 {
		u.HasTruncate = true
		lo := m.snapIndex()
		if u.Snapshot != nil {
			lo = u.Snapshot.Index
		}
		u.TruncateAfter = lo + uint64(r.IntN(int(last-lo)+1))
		last = min(last, u.TruncateAfter)
	}
	if r.IntN(5) != 0 {
		n := uint64(1 + r.IntN(20))
		u.FirstIndex = last + 1
		if r.IntN(30) == 0 {
			u.FirstIndex++ // a gap: refused
		}
		u.Entries = entries(u.FirstIndex, n)
	}
	if r.IntN(40) == 0 {
		u.ClusterID = uint64(1 + r.IntN(2))
	}
	return u
}

// history saves n random Updates to a fresh store in dir and returns the
// model after each successful Save (states[0] is the fresh store).
func history(t testing.TB, dir string, r *rand.Rand, n int, o Options) []*model {
	t.Helper()
	s, _, err := Open(dir, testMeta, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := newModel(testMeta)
	states := []*model{m.clone()}
	for len(states) <= n {
		u := randomUpdate(r, m)
		merr := m.apply(u)
		if err := s.Save(u); (err == nil) != (merr == nil) {
			t.Fatalf("save: %v, model: %v", err, merr)
		}
		if merr == nil && !u.Empty() {
			states = append(states, m.clone())
		}
	}
	return states
}

func mustOpen(t testing.TB, dir string, want Meta) (*Store, *Loaded) {
	t.Helper()
	s, ld, err := Open(dir, want, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, ld
}

func reopen(t testing.TB, dir string) *Loaded {
	t.Helper()
	s, ld := mustOpen(t, dir, testMeta)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return ld
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirFiles lists a directory's file names.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func dbPath(dir string) string { return filepath.Join(dir, FileName) }
