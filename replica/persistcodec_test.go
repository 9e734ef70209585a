package replica

import (
	"reflect"
	"testing"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

func codecSnapshot() *SnapshotRecord {
	e := wire.MakeEpoch(3, 2)
	s := &SnapshotRecord{Index: 12, Epoch: e, History: []wire.EpochStart{{Epoch: e, Index: 1, Support: 2, Committed: 12}}, Data: []byte("state")}
	for i := range 4 {
		s.Before = append(s.Before, wire.LogEntry{Epoch: e, Entry: game.Entry{Time: int64(i), Session: 7, Seq: uint64(i + 1), Cmd: game.Place{Row: 1, Col: uint8(i), Digit: 5}}})
	}
	return s
}

// A snapshot on disk keeps the entries behind it; one written before it
// did (version 1: no entries) is still read.
func TestSnapshotRecordCodec(t *testing.T) {
	s := codecSnapshot()
	got, err := UnmarshalSnapshot(MarshalSnapshot(s))
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, s)
	}
	v1 := *s
	v1.Before = nil
	b := MarshalSnapshot(&v1)
	b = b[:len(b)-1] // no count of entries
	b[0] = 1
	if got, err := UnmarshalSnapshot(b); err != nil || !reflect.DeepEqual(got, &v1) {
		t.Fatalf("version 1: %+v, %v; want %+v", got, err, &v1)
	}
	full := MarshalSnapshot(s)
	for n := range len(full) {
		if _, err := UnmarshalSnapshot(full[:n]); err == nil {
			t.Fatalf("a record cut to %d of %d bytes was read", n, len(full))
		}
	}
}

// FuzzUnmarshalSnapshot: damaged records are refused or read, never a
// panic, and what is read encodes back to a record that reads the same.
func FuzzUnmarshalSnapshot(f *testing.F) {
	f.Add(MarshalSnapshot(codecSnapshot()))
	f.Add(MarshalSnapshot(&SnapshotRecord{Index: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSnapshot(b)
		if err != nil {
			return
		}
		again, err := UnmarshalSnapshot(MarshalSnapshot(s))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("read %+v, which reads back as %+v (%v)", s, again, err)
		}
	})
}
