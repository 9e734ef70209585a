package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

func TestFreshStore(t *testing.T) {
	dir := t.TempDir()
	want := Meta{Cluster: "c", ClusterID: 0x3f2a, Node: 7}
	s, ld := mustOpen(t, dir, want)
	if s.Path() != dbPath(dir) {
		t.Errorf("path %q", s.Path())
	}
	empty := &Loaded{Meta: want, FirstIndex: 1}
	if err := sameState(ld, empty); err != nil || ld.Recovered != "" || ld.HardState != nil {
		t.Fatalf("fresh store: %v %q", err, ld.Recovered)
	}
	s.Close()
	s.Close() // twice is fine
	if err := s.Save(Update{HardState: []byte("x")}); err == nil {
		t.Error("Save after Close succeeded")
	}
	// A restart that does not know the cluster id yet learns it.
	s, ld = mustOpen(t, dir, Meta{Cluster: "c", Node: 7})
	defer s.Close()
	if err := sameState(ld, empty); err != nil {
		t.Fatal(err)
	}
	if got := dirFiles(t, dir); len(got) != 1 || got[0] != FileName {
		t.Errorf("directory holds %v", got)
	}
}

// TestRoundTrips saves sequences of Updates, each field and their
// combinations, and checks after every Save that a restart reads back
// exactly what the model holds.
func TestRoundTrips(t *testing.T) {
	big := bytes.Repeat([]byte("snapshot "), 100_000) // overflow pages
	for name, us := range map[string][]Update{
		"entries":    {{FirstIndex: 1, Entries: entries(1, 14)}, {FirstIndex: 15, Entries: entries(15, 1)}},
		"hard state": {{HardState: []byte("epoch 1")}, {HardState: []byte("epoch 2")}, {HardState: []byte{}}, {FirstIndex: 1, Entries: entries(1, 1)}},
		"snapshot": {
			{FirstIndex: 1, Entries: entries(1, 10)},
			{Snapshot: &Snapshot{Index: 4, Data: []byte("state at 4")}},
			{Snapshot: &Snapshot{Index: 4, Data: big}},               // replaced
			{Snapshot: &Snapshot{Index: 20, Data: []byte("beyond")}}, // past the log: the log is empty
			{FirstIndex: 21, Entries: entries(21, 3)},
			{Snapshot: &Snapshot{Index: 23, Data: nil}},
		},
		"snapshot then compaction": {
			{FirstIndex: 1, Entries: entries(1, 30)},
			{Snapshot: &Snapshot{Index: 12, Data: []byte("s12")}, Compact: 12},
			{Compact: 10},
			{Snapshot: &Snapshot{Index: 30, Data: []byte("s30")}, Compact: 29, FirstIndex: 31, Entries: entries(31, 2)},
		},
		"truncate then append": {
			{FirstIndex: 1, Entries: entries(1, 10)},
			{HasTruncate: true, TruncateAfter: 6, FirstIndex: 7, Entries: entries(1007, 5)},
			{HasTruncate: true, TruncateAfter: 0, FirstIndex: 1, Entries: entries(2001, 2)},
			{HasTruncate: true, TruncateAfter: 50}, // past the end: nothing
			{HasTruncate: true, TruncateAfter: 0},
		},
		"everything at once": {
			{FirstIndex: 1, Entries: entries(1, 8), HardState: []byte("h1"), ClusterID: 9},
			{Snapshot: &Snapshot{Index: 3, Data: []byte("s3")}, Compact: 3, HasTruncate: true, TruncateAfter: 5,
				FirstIndex: 6, Entries: entries(506, 4), HardState: []byte("h2"), ClusterID: 9},
		},
		"cluster id": {{ClusterID: 0xfeed}, {ClusterID: 0xfeed, HardState: []byte("x")}},
		"an older branch's state": { // a healed partition without a quorum
			{FirstIndex: 1, Entries: entries(1, 20)},
			{Snapshot: &Snapshot{Index: 15, Data: []byte("s15")}, Compact: 15},
			{Snapshot: &Snapshot{Index: 9, Data: []byte("other s9")}, FirstIndex: 10, Entries: entries(3010, 2), HardState: []byte("h")},
			{FirstIndex: 12, Entries: entries(3012, 1)},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			m := newModel(testMeta)
			for i, u := range us {
				s, _ := mustOpen(t, dir, testMeta)
				if err := m.apply(u); err != nil {
					t.Fatalf("update %d: the model refuses it: %v", i, err)
				}
				if err := s.Save(u); err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
				s.Close()
				if err := sameState(reopen(t, dir), m.loaded()); err != nil {
					t.Fatalf("after update %d: %v", i, err)
				}
			}
		})
	}
}

func TestBadUpdatesChangeNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, testMeta)
	defer s.Close()
	m := newModel(testMeta)
	base := []Update{
		{FirstIndex: 1, Entries: entries(1, 10), ClusterID: 5},
		{Snapshot: &Snapshot{Index: 4, Data: []byte("s4")}, HardState: []byte("h")},
	}
	for _, u := range base {
		if err := m.apply(u); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(u); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		u    Update
		want string
	}{
		"gap":                 {Update{FirstIndex: 12, Entries: entries(12, 1), HardState: []byte("lost")}, "log ends at 10"},
		"overlap":             {Update{FirstIndex: 10, Entries: entries(10, 1)}, "log ends at 10"},
		"no first index":      {Update{Entries: entries(1, 1)}, "entries at index 0"},
		"compact past snap":   {Update{Compact: 5, HardState: []byte("lost")}, "passes the snapshot"},
		"truncate into snap":  {Update{HasTruncate: true, TruncateAfter: 3, HardState: []byte("lost")}, "cuts into the snapshot"},
		"other cluster id":    {Update{ClusterID: 6, HardState: []byte("lost")}, "cluster id"},
		"nil command":         {Update{FirstIndex: 11, Entries: []wire.LogEntry{{Epoch: wire.MakeEpoch(1, 1)}}}, "entry 11"},
		"pointer command":     {Update{FirstIndex: 11, Entries: []wire.LogEntry{entry(11), {Entry: game.Entry{Cmd: &game.Tick{}}}}}, "entry 12"},
		"past a new snapshot": {Update{Snapshot: &Snapshot{Index: 12}, FirstIndex: 11, Entries: entries(11, 1)}, "log ends at 12"},
	} {
		err := s.Save(tc.u)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), s.Path()) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", name, err, tc.want)
		}
		if name == "other cluster id" && !errors.Is(err, ErrOtherCluster) {
			t.Errorf("%s: %v is not ErrOtherCluster", name, err)
		}
	}
	// The store still works, and holds nothing of the refused Updates.
	u := Update{FirstIndex: 11, Entries: entries(11, 2)}
	if err := s.Save(u); err != nil {
		t.Fatal(err)
	}
	m.apply(u)
	s.Close()
	if err := sameState(reopen(t, dir), m.loaded()); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyUpdate(t *testing.T) {
	if !(Update{}).Empty() || (Update{HardState: []byte{}}).Empty() || (Update{HasTruncate: true}).Empty() {
		t.Fatal("Empty is wrong")
	}
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, testMeta)
	before := readFile(t, s.Path())
	if err := s.Save(Update{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !bytes.Equal(before, readFile(t, dbPath(dir))) {
		t.Error("an empty Update wrote to the file")
	}
}

// TestRandomHistories applies random Updates and compares a restart with
// the model along the way.
func TestRandomHistories(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		dir := t.TempDir()
		r := rand.New(rand.NewPCG(seed, 0))
		states := history(t, dir, r, 150, Options{Fsync: seed%2 == 0})
		if err := sameState(reopen(t, dir), states[len(states)-1].loaded()); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// And on from the restart.
		s, _ := mustOpen(t, dir, testMeta)
		m := states[len(states)-1]
		for i := 0; i < 50; i++ {
			u := randomUpdate(r, m)
			merr := m.apply(u)
			if err := s.Save(u); (err == nil) != (merr == nil) {
				t.Fatalf("seed %d: save %v, model %v", seed, err, merr)
			}
		}
		s.Close()
		if err := sameState(reopen(t, dir), m.loaded()); err != nil {
			t.Fatalf("seed %d after restart: %v", seed, err)
		}
	}
}

func TestFsyncOption(t *testing.T) {
	for _, fsync := range []bool{true, false} {
		s, _, err := Open(t.TempDir(), testMeta, Options{Fsync: fsync})
		if err != nil {
			t.Fatal(err)
		}
		if s.db.NoSync == fsync {
			t.Errorf("Fsync %v: bbolt's NoSync is %v", fsync, s.db.NoSync)
		}
		s.Close()
	}
}

// TestFailedWriteStopsTheStore: after a write fails, no later Save is
// taken (it could report success for data that is not there), and a
// restart finds what was saved before.
func TestFailedWriteStopsTheStore(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, testMeta)
	m := newModel(testMeta)
	u := Update{FirstIndex: 1, Entries: entries(1, 5), HardState: []byte("h")}
	if err := s.Save(u); err != nil {
		t.Fatal(err)
	}
	m.apply(u)
	s.db.MaxSize = 64 << 10 // the next Save needs more: bbolt refuses to grow the file
	big := Update{Snapshot: &Snapshot{Index: 5, Data: bytes.Repeat([]byte("x"), 1<<20)}}
	err := s.Save(big)
	if err == nil || !strings.Contains(err.Error(), "restart the node") {
		t.Fatalf("save past the size limit: %v", err)
	}
	if err2 := s.Save(Update{HardState: []byte("later")}); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("a Save after the failure: %v", err2)
	}
	s.Close()
	if err := sameState(reopen(t, dir), m.loaded()); err != nil {
		t.Fatal(err)
	}
}
