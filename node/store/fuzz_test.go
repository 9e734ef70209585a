package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
)

// fuzzBases are two stores to damage: a short random history, and a log
// long enough for branch pages and overflow pages.
func fuzzBases(t testing.TB) [2]*damageBase {
	small := newDamageBase(t, 11, 40)
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, testMeta)
	m := newModel(testMeta)
	states := []*model{m.clone()}
	for _, u := range []Update{
		{FirstIndex: 1, Entries: entries(1, 700), HardState: []byte("h1")},
		{FirstIndex: 701, Entries: entries(701, 700)},
		{Snapshot: &Snapshot{Index: 300, Data: bytes.Repeat([]byte("snap"), 5000)}},
		{HasTruncate: true, TruncateAfter: 1300, FirstIndex: 1301, Entries: entries(5301, 60), HardState: []byte("h2")},
	} {
		if err := m.apply(u); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(u); err != nil {
			t.Fatal(err)
		}
		states = append(states, m.clone())
	}
	s.Close()
	big := &damageBase{file: readFile(t, dbPath(dir)), states: states}
	return [2]*damageBase{small, big}
}

// FuzzOpen damages a store's file (a cut and up to 16 changed bytes) and
// opens it: never a panic or a fault, and either a prefix of whole Saves
// or a refusal (see openDamaged).
//
// Input: a byte choosing the base store, a 4-byte cut (0: none), then
// 5-byte changes: a 4-byte offset and a byte to xor there.
func FuzzOpen(f *testing.F) {
	bases := fuzzBases(f)
	add := func(base byte, cut uint32, changes ...uint32) {
		b := []byte{base}
		b = binary.BigEndian.AppendUint32(b, cut)
		for i := 0; i+1 < len(changes); i += 2 {
			b = binary.BigEndian.AppendUint32(b, changes[i])
			b = append(b, byte(changes[i+1]))
		}
		f.Add(b)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for base := range bases {
		n := uint32(len(bases[base].file))
		add(byte(base), 0)
		add(byte(base), n/2)
		add(byte(base), 0, checksumAt, 0xff)
		add(byte(base), 0, 4096+checksumAt, 0xff)
		add(byte(base), 0, 2*4096+10, 0x40, 3*4096+20, 0x01)
		for i := 0; i < 6; i++ {
			add(byte(base), 0, uint32(r.IntN(int(n))), uint32(1+r.IntN(255)))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 5 {
			return
		}
		b := bases[in[0]%2]
		d := bytes.Clone(b.file)
		for c, i := in[5:], 0; len(c) >= 5 && i < 16; c, i = c[5:], i+1 {
			d[binary.BigEndian.Uint32(c)%uint32(len(d))] ^= c[4]
		}
		if cut := binary.BigEndian.Uint32(in[1:]); cut != 0 {
			d = d[:cut%uint32(len(d)+1)]
		}
		dir := t.TempDir()
		if err := os.WriteFile(dbPath(dir), d, 0o600); err != nil {
			t.Fatal(err)
		}
		s, ld, err := Open(dir, testMeta, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refused with %v, want ErrCorrupt", err)
			}
			if !bytes.Equal(readFile(t, dbPath(dir)), d) {
				t.Fatal("refused, but the file changed")
			}
			return
		}
		s.Close()
		n := len(b.states) - 1
		if sameState(ld, b.states[n].loaded()) != nil &&
			(!ld.Dropped || sameState(ld, b.states[n-1].loaded()) != nil) {
			t.Fatalf("opened with what no Save left (Recovered %q): %v", ld.Recovered, sameState(ld, b.states[n].loaded()))
		}
	})
}
