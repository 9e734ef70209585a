package game

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// Restore must not let a snapshot ask for memory out of proportion to its
// size: a peer sends it.
func TestRestoreMemoryFollowsInput(t *testing.T) {
	r := testRules()
	r.DedupeWindow = 1024
	h := newHarness(t, r)
	for i := range 300 {
		h.do(h.open(fmt.Sprint("p", i)), Release{})
	}
	snap := h.s.Snapshot()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Restore(snap)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Snapshot(), snap) {
		t.Fatal("restored state snapshots to other bytes")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64*uint64(len(snap)) {
		t.Fatalf("restoring %d bytes allocated %d", len(snap), n)
	}
}

// An int32 field must not take a varint beyond its range, which would
// truncate to a value that has another encoding.
func TestRestoreRejectsWideInt32(t *testing.T) {
	const mark = -1234567
	for _, field := range []string{"round score", "total score", "points"} {
		h := newHarness(t, testRules())
		a := h.open("alice")
		h.do(a, h.wrong(MainRoom, h.empties(MainRoom)[0]))
		ss := h.s.sessions[a]
		switch field {
		case "round score":
			ss.score.round = mark
		case "total score":
			ss.score.total = mark
		case "points":
			ss.done[0].points = mark
		}
		snap := h.s.Snapshot()
		old := binary.AppendVarint(nil, mark)
		wide := binary.AppendVarint(nil, mark+1<<32)
		if bytes.Count(snap, old) != 1 {
			t.Fatalf("%s: the mark is not unique in the snapshot", field)
		}
		if _, err := Restore(snap); err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		if _, err := Restore(bytes.Replace(snap, old, wide, 1)); err == nil {
			t.Errorf("%s: a value beyond int32 restored", field)
		}
	}
}

// A room name must be stored as NormalizeRoomName gives it: another case
// would restore to a state whose snapshot differs.
func TestRestoreRejectsRoomNameCase(t *testing.T) {
	h := newHarness(t, testRules())
	h.do(h.open("alice"), CreateRoom{Name: "side", Size: 4})
	snap := h.s.Snapshot()
	if _, err := Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"\x04main", "\x04mAin"}, {"\x04main", "\x04MAIN"}, {"\x04side", "\x04Side"}} {
		if bytes.Count(snap, []byte(c[0])) != 1 {
			t.Fatalf("%q is not unique in the snapshot", c[0])
		}
		b := bytes.Replace(snap, []byte(c[0]), []byte(c[1]), 1)
		if _, err := Restore(b); err == nil || !strings.Contains(err.Error(), "bad room name") {
			t.Errorf("room %q: got %v", c[1][1:], err)
		}
	}
}
