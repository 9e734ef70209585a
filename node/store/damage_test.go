package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// damageBase is a store after a random history: the file's bytes, the
// model after every Save, and where the last transaction's pages end.
type damageBase struct {
	file   []byte
	states []*model
	hwm    int64 // bytes the newest transaction needs
	meta   [2]boltMeta
	used   []int64 // offsets of the bytes that mean something in the pages the newest transaction reaches
}

func newDamageBase(t testing.TB, seed uint64, saves int) *damageBase {
	t.Helper()
	dir := t.TempDir()
	states := history(t, dir, rand.New(rand.NewPCG(seed, 7)), saves, Options{})
	b := &damageBase{file: readFile(t, dbPath(dir)), states: states}
	f, err := os.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bf, err := readBoltFile(f)
	if err != nil {
		t.Fatal(err)
	}
	cur := bf.current()
	b.hwm = int64(cur.hwm * bf.pageSize)
	b.meta = bf.meta
	w := walker{bf: bf, hwm: cur.hwm, seen: map[uint64]bool{}}
	if err := w.freelist(cur.freelist); err != nil {
		t.Fatal(err)
	}
	if err := w.tree(cur.root, 0, true); err != nil {
		t.Fatal(err)
	}
	for id := range w.seen {
		p := b.file[id*bf.pageSize:]
		end := pageHeaderSize
		switch n := int(ne.Uint16(p[10:])); ne.Uint16(p[8:]) {
		case flagFreelist:
			end += 8 * n
		case flagBranch, flagLeaf:
			if n == 0 {
				break
			}
			end += n * elementSize
			for i := 0; i < n; i++ {
				e := pageHeaderSize + i*elementSize
				if ne.Uint16(p[8:]) == flagBranch {
					end = max(end, e+int(ne.Uint32(p[e:]))+int(ne.Uint32(p[e+4:])))
				} else {
					end = max(end, e+int(ne.Uint32(p[e+4:]))+int(ne.Uint32(p[e+8:]))+int(ne.Uint32(p[e+12:])))
				}
			}
		}
		for i := 0; i < end; i++ {
			b.used = append(b.used, int64(id*bf.pageSize)+int64(i))
		}
	}
	return b
}

type outcome int

const (
	whole    outcome = iota // everything that was saved
	cutBack                 // the last Save dropped, and said so
	repaired                // everything, after a repair that said so
	refused
)

var outcomeNames = []string{"whole", "cut back one Save", "repaired, nothing lost", "refused"}

// openDamaged opens damaged (the file's new bytes) and checks the rules:
// a refusal is ErrCorrupt, names the file and leaves it as it was; a
// success holds a prefix of whole Saves (the last one, or the one before
// with Recovered saying so), keeps the damaged file aside, and the store
// works on.
func (b *damageBase) openDamaged(t *testing.T, damaged []byte, what string) outcome {
	t.Helper()
	dir := t.TempDir()
	path := dbPath(dir)
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	s, ld, err := Open(dir, testMeta, Options{})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: refused with %v, want ErrCorrupt naming the file", what, err)
		}
		if !bytes.Equal(readFile(t, path), damaged) {
			t.Fatalf("%s: refused, but the file changed", what)
		}
		if got := dirFiles(t, dir); len(got) != 1 {
			t.Fatalf("%s: refused, and left %v", what, got)
		}
		return refused
	}
	defer s.Close()
	n := len(b.states) - 1
	var got outcome
	switch {
	case sameState(ld, b.states[n].loaded()) == nil && ld.Recovered == "":
		got = whole
	case sameState(ld, b.states[n].loaded()) == nil:
		got = repaired // Dropped may say a newer Save could have been lost
	case sameState(ld, b.states[n-1].loaded()) == nil && ld.Dropped:
		got = cutBack
	default:
		t.Fatalf("%s: opened with what no Save left: %v (Recovered %q, Dropped %v)", what,
			sameState(ld, b.states[n].loaded()), ld.Recovered, ld.Dropped)
	}
	if ld.Recovered != "" {
		if !strings.Contains(ld.Recovered, path) {
			t.Fatalf("%s: Recovered %q does not name the file", what, ld.Recovered)
		}
		asides, _ := filepath.Glob(path + ".damaged-*")
		if len(asides) != 1 || !bytes.Equal(readFile(t, asides[0]), damaged) {
			t.Fatalf("%s: recovered, but the damaged file is not kept aside (%v)", what, asides)
		}
	} else if !bytes.Equal(readFile(t, path), damaged) {
		t.Fatalf("%s: opened as it was, but the file changed before any Save", what)
	}
	// The store works on, and a restart finds it whole.
	m := b.states[n]
	if got == cutBack {
		m = b.states[n-1]
	}
	m = m.clone()
	u := Update{FirstIndex: m.last + 1, Entries: entries(m.last+1, 3), HardState: []byte("after")}
	if err := m.apply(u); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(u); err != nil {
		t.Fatalf("%s: Save after open: %v", what, err)
	}
	s.Close()
	s2, ld2, err := Open(dir, testMeta, Options{})
	if err != nil {
		t.Fatalf("%s: reopen: %v", what, err)
	}
	s2.Close()
	if err := sameState(ld2, m.loaded()); err != nil || ld2.Recovered != "" {
		t.Fatalf("%s: reopen: %v %q", what, err, ld2.Recovered)
	}
	return got
}

// TestTornTail cuts the file at hundreds of random offsets: each one opens
// to a prefix of whole Saves, or is refused.
func TestTornTail(t *testing.T) {
	b := newDamageBase(t, 1, 60)
	r := rand.New(rand.NewPCG(2, 2))
	counts := make([]int, len(outcomeNames))
	cuts := []int64{0, 1, 4095, 4096, 8191, b.hwm - 1, b.hwm, b.hwm + 1, int64(len(b.file)) - 1}
	for len(cuts) < 400 {
		if len(cuts)%4 == 0 {
			cuts = append(cuts, r.Int64N(int64(len(b.file))))
		} else {
			cuts = append(cuts, r.Int64N(b.hwm)) // where the data is
		}
	}
	for _, cut := range cuts {
		if cut > int64(len(b.file)) {
			continue
		}
		counts[b.openDamaged(t, b.file[:cut], "cut at "+itoa(cut))]++
	}
	report(t, "cuts", counts)
	if counts[cutBack] == 0 || counts[refused] == 0 || counts[whole] == 0 {
		t.Errorf("the cuts did not reach every outcome: %v", counts)
	}
}

// TestFlippedByte flips a byte at hundreds of random offsets in the pages
// in use: each one opens to a prefix of whole Saves, or is refused; never
// to data no Save left.
func TestFlippedByte(t *testing.T) {
	b := newDamageBase(t, 3, 60)
	r := rand.New(rand.NewPCG(4, 4))
	counts := make([]int, len(outcomeNames))
	for i := 0; i < 400; i++ {
		ps := int64(b.meta[0].pageSize)
		var off int64
		switch {
		case i < 40: // the meta pages
			off = int64(r.IntN(2))*ps + int64(r.IntN(metaEnd))
		case i%2 == 0: // the data in use
			off = b.used[r.IntN(len(b.used))]
		default:
			off = r.Int64N(b.hwm)
		}
		d := bytes.Clone(b.file)
		d[off] ^= byte(1 + r.IntN(255))
		counts[b.openDamaged(t, d, "byte flipped at "+itoa(off))]++
	}
	report(t, "flips", counts)
	if counts[refused] == 0 {
		t.Errorf("no flip was refused: %v", counts)
	}
}

// TestMetaPages: a damaged meta page of the newest transaction is what a
// crash while it was written leaves; bbolt then opens the one before
// without a word. Open says so, and keeps the file.
func TestMetaPages(t *testing.T) {
	b := newDamageBase(t, 5, 20)
	cur := b.meta[0]
	if b.meta[1].txid > cur.txid {
		cur = b.meta[1]
	}
	ps := int(cur.pageSize)
	for name, tc := range map[string]struct {
		slot int
		want outcome
	}{
		"newest":    {cur.slot, cutBack},
		"the other": {1 - cur.slot, repaired},
	} {
		d := bytes.Clone(b.file)
		d[tc.slot*ps+checksumAt] ^= 0xff // the checksum: the txid stays readable
		if got := b.openDamaged(t, d, name); got != tc.want {
			t.Errorf("%s: %s, want %s", name, outcomeNames[got], outcomeNames[tc.want])
		}
	}
	d := bytes.Clone(b.file)
	d[checksumAt] ^= 1
	d[ps+checksumAt] ^= 1
	if got := b.openDamaged(t, d, "both"); got != refused {
		t.Errorf("both meta pages damaged: %s", outcomeNames[got])
	}
}

func report(t *testing.T, what string, counts []int) {
	var parts []string
	for i, n := range counts {
		parts = append(parts, itoa(int64(n))+" "+outcomeNames[i])
	}
	t.Logf("%s: %s", what, strings.Join(parts, ", "))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
