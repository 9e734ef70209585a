package game

import (
	"bytes"
	"fmt"
	"runtime"
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
