package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// This file reads bbolt's file format (version 2) with plain, bounds-checked
// reads, before bbolt maps the file. bbolt trusts every page id, offset and
// count it finds: on a damaged file it reads past its mapping (a fault), past
// the end of the file (SIGBUS), loops on a cycle of pages until the stack
// overflows, or faults inside tx.Check's own goroutine, where no recover or
// SetPanicOnFault of ours can reach. None of that can happen to a tree this
// walk accepted: every page bbolt will touch lies inside the file, says it
// is the page it was reached as, is reached once, and holds its elements.

const (
	pageHeaderSize = 16
	elementSize    = 16 // branch and leaf elements alike
	metaEnd        = pageHeaderSize + 64
	checksumAt     = pageHeaderSize + 56

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	maxDepth    = 64
)

var ne = binary.NativeEndian // bbolt writes its structures in the host's byte order

// boltMeta is one of the file's two meta pages. bbolt writes transaction t's
// meta to page t%2 and opens the valid one with the higher txid.
type boltMeta struct {
	slot     int
	err      error // why it is not valid
	pageSize uint64
	root     uint64
	freelist uint64
	hwm      uint64 // pages in use: the file must hold hwm*pageSize bytes
	txid     uint64
}

// boltFile is a bbolt file as found on disk.
type boltFile struct {
	f        *os.File
	size     int64
	pageSize uint64
	meta     [2]boltMeta
}

func parseMeta(b []byte, slot int) boltMeta {
	m := boltMeta{slot: slot}
	if len(b) < metaEnd {
		m.err = errors.New("cut short")
		return m
	}
	h := fnv.New64a()
	h.Write(b[pageHeaderSize:checksumAt])
	m.pageSize = uint64(ne.Uint32(b[24:]))
	m.root = ne.Uint64(b[32:])
	m.freelist = ne.Uint64(b[48:])
	m.hwm = ne.Uint64(b[56:])
	m.txid = ne.Uint64(b[64:])
	switch {
	case ne.Uint32(b[16:]) != boltMagic:
		m.err = errors.New("no bbolt magic number")
	case ne.Uint32(b[20:]) != boltVersion:
		m.err = fmt.Errorf("bbolt format version %d, not %d", ne.Uint32(b[20:]), boltVersion)
	case ne.Uint64(b[checksumAt:]) != h.Sum64():
		m.err = errors.New("checksum mismatch")
	case m.pageSize < 1024 || m.pageSize > 1<<24 || m.pageSize&(m.pageSize-1) != 0:
		m.err = fmt.Errorf("page size %d", m.pageSize)
	}
	return m
}

// readBoltFile reads the meta pages. It fails only when neither is valid.
func readBoltFile(f *os.File) (*boltFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bf := &boltFile{f: f, size: st.Size()}
	buf := make([]byte, metaEnd)
	read := func(off int64) []byte {
		n, _ := f.ReadAt(buf, off)
		return buf[:n]
	}
	m0 := parseMeta(read(0), 0)
	bf.pageSize = m0.pageSize
	if m0.err != nil {
		// Like bbolt: look for the second meta page at each page size.
		bf.pageSize = 0
		for ps := uint64(1024); ps <= 1<<24 && int64(ps) < bf.size; ps <<= 1 {
			if m := parseMeta(read(int64(ps)), 1); m.err == nil && m.pageSize == ps {
				bf.pageSize = ps
				break
			}
		}
		if bf.pageSize == 0 {
			return nil, fmt.Errorf("neither of bbolt's meta pages is valid (page 0: %v)", m0.err)
		}
	}
	bf.meta[0] = parseMeta(read(0), 0)
	bf.meta[1] = parseMeta(read(int64(bf.pageSize)), 1)
	for i := range bf.meta {
		m := &bf.meta[i]
		if m.err == nil && m.pageSize != bf.pageSize {
			m.err = fmt.Errorf("page size %d, not %d", m.pageSize, bf.pageSize)
		}
	}
	if bf.meta[0].err != nil && bf.meta[1].err != nil {
		return nil, fmt.Errorf("neither of bbolt's meta pages is valid (page 0: %v; page 1: %v)", bf.meta[0].err, bf.meta[1].err)
	}
	return bf, nil
}

// current is the meta bbolt opens: the valid one with the higher txid.
func (bf *boltFile) current() *boltMeta {
	a, b := &bf.meta[0], &bf.meta[1]
	if b.txid > a.txid {
		a, b = b, a
	}
	if a.err == nil {
		return a
	}
	return b
}

// other is the meta that bbolt does not open.
func (bf *boltFile) other() *boltMeta { return &bf.meta[1-bf.current().slot] }

// errShort says that the file ends before a transaction's pages do.
type errShort struct{ need int64 }

func (e errShort) Error() string { return fmt.Sprintf("the file ends before byte %d", e.need) }

// check walks everything bbolt would read when opening the file at meta m
// and checking it: both meta page headers, the freelist, and the tree of
// buckets.
func (bf *boltFile) check(m *boltMeta) error {
	ps := bf.pageSize
	if m.hwm < 4 || m.hwm > uint64(1<<62)/ps {
		return fmt.Errorf("transaction %d: high-water mark of %d pages", m.txid, m.hwm)
	}
	if need := int64(m.hwm * ps); need > bf.size {
		return errShort{need}
	}
	for slot := uint64(0); slot < 2; slot++ {
		var h [pageHeaderSize]byte
		if _, err := bf.f.ReadAt(h[:], int64(slot*ps)); err != nil {
			return err
		}
		if ne.Uint64(h[0:]) != slot || ne.Uint16(h[8:]) != flagMeta {
			return fmt.Errorf("meta page %d: damaged page header", slot)
		}
	}
	w := walker{bf: bf, hwm: m.hwm, seen: make(map[uint64]bool)}
	if m.freelist == ^uint64(0) {
		return errors.New("no freelist stored (this store always stores it)")
	}
	if err := w.freelist(m.freelist); err != nil {
		return err
	}
	return w.tree(m.root, 0, true)
}

type walker struct {
	bf   *boltFile
	hwm  uint64
	seen map[uint64]bool
}

// page reads page id and its overflow pages, checking that they are inside
// the high-water mark and reached once.
func (w *walker) page(id uint64, flags uint16) ([]byte, error) {
	ps := w.bf.pageSize
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("page %d is outside the %d pages in use", id, w.hwm)
	}
	var h [pageHeaderSize]byte
	if _, err := w.bf.f.ReadAt(h[:], int64(id*ps)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := ne.Uint64(h[0:]); got != id {
		return nil, fmt.Errorf("page %d says it is page %d", id, got)
	}
	if got := ne.Uint16(h[8:]); got != flags && !(flags == 0 && (got == flagBranch || got == flagLeaf)) {
		return nil, fmt.Errorf("page %d: unexpected type %#x", id, got)
	}
	over := uint64(ne.Uint32(h[12:]))
	if id+over >= w.hwm {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the %d pages in use", id, over, w.hwm)
	}
	for i := id; i <= id+over; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d is reached twice", i)
		}
		w.seen[i] = true
	}
	b := make([]byte, (over+1)*ps)
	if _, err := w.bf.f.ReadAt(b, int64(id*ps)); err != nil && err != io.EOF {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return b, nil
}

func (w *walker) freelist(id uint64) error {
	b, err := w.page(id, flagFreelist)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	start, count := uint64(pageHeaderSize), uint64(ne.Uint16(b[10:]))
	if count == 0xFFFF {
		count, start = ne.Uint64(b[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > (uint64(len(b))-start)/8 {
		return fmt.Errorf("freelist page %d: %d ids do not fit", id, count)
	}
	for i := uint64(0); i < count; i++ {
		if f := ne.Uint64(b[start+8*i:]); f < 2 || f >= w.hwm {
			return fmt.Errorf("freelist page %d: free page %d is outside the %d pages in use", id, f, w.hwm)
		}
	}
	return nil
}

// tree walks the B+tree rooted at page id. In the root tree (of buckets)
// every value is a bucket; below it, none is.
func (w *walker) tree(id uint64, depth int, buckets bool) error {
	if depth > maxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxDepth)
	}
	b, err := w.page(id, 0)
	if err != nil {
		return err
	}
	if ne.Uint16(b[8:]) == flagLeaf {
		return w.leaf(b, fmt.Sprintf("page %d", id), depth, buckets)
	}
	n := int(ne.Uint16(b[10:]))
	if n == 0 || pageHeaderSize+n*elementSize > len(b) {
		return fmt.Errorf("branch page %d: %d elements", id, n)
	}
	for i := 0; i < n; i++ {
		e := pageHeaderSize + i*elementSize
		pos, ksize := int(ne.Uint32(b[e:])), int(ne.Uint32(b[e+4:]))
		if e+pos+ksize > len(b) {
			return fmt.Errorf("branch page %d: key %d lies outside the page", id, i)
		}
		if err := w.tree(ne.Uint64(b[e+8:]), depth+1, buckets); err != nil {
			return err
		}
	}
	return nil
}

// leaf checks a leaf page's elements (b is the page, or an inline bucket's
// page: the bytes its elements may point into).
func (w *walker) leaf(b []byte, name string, depth int, buckets bool) error {
	n := int(ne.Uint16(b[10:]))
	if pageHeaderSize+n*elementSize > len(b) {
		return fmt.Errorf("leaf %s: %d elements do not fit", name, n)
	}
	for i := 0; i < n; i++ {
		e := pageHeaderSize + i*elementSize
		flags := ne.Uint32(b[e:])
		pos, ksize, vsize := int(ne.Uint32(b[e+4:])), int(ne.Uint32(b[e+8:])), int(ne.Uint32(b[e+12:]))
		if e+pos+ksize+vsize > len(b) {
			return fmt.Errorf("leaf %s: element %d lies outside the page", name, i)
		}
		if isBucket := flags == 1; flags > 1 || isBucket != buckets {
			return fmt.Errorf("leaf %s: element %d has flags %#x", name, i, flags)
		}
		if !buckets {
			continue
		}
		v := b[e+pos+ksize : e+pos+ksize+vsize]
		if len(v) < 16 {
			return fmt.Errorf("leaf %s: bucket %d has a %d-byte header", name, i, len(v))
		}
		if root := ne.Uint64(v); root != 0 {
			if err := w.tree(root, depth+1, false); err != nil {
				return err
			}
			continue
		}
		// An inline bucket: its page follows the header, inside the value.
		in := v[16:]
		if len(in) < pageHeaderSize || ne.Uint16(in[8:]) != flagLeaf {
			return fmt.Errorf("leaf %s: inline bucket %d is damaged", name, i)
		}
		if err := w.leaf(in, fmt.Sprintf("inline bucket %d of %s", i, name), depth+1, false); err != nil {
			return err
		}
	}
	return nil
}

// lastLogIndex finds, as best it can, the last log index that meta m's tree
// holds: for a message when that transaction is torn. Any damage on the way
// makes it give up.
func (bf *boltFile) lastLogIndex(m *boltMeta) (uint64, bool) {
	leaf, ok := bf.descend(m, m.root, func(keys [][]byte) int {
		i := len(keys) - 1
		for i > 0 && bytes.Compare(keys[i], bucketLog) > 0 {
			i--
		}
		return i
	})
	if !ok {
		return 0, false
	}
	v, ok := leafValue(leaf, bucketLog)
	if !ok || len(v) < 16 {
		return 0, false
	}
	if root := ne.Uint64(v); root != 0 {
		last := func(keys [][]byte) int { return len(keys) - 1 }
		if leaf, ok = bf.descend(m, root, last); !ok {
			return 0, false
		}
	} else {
		leaf = v[16:]
	}
	keys, _, ok := elements(leaf)
	if !ok || len(keys) == 0 || len(keys[len(keys)-1]) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(keys[len(keys)-1]), true
}

// descend follows branch pages from page id, choosing a child with pick,
// to a leaf page.
func (bf *boltFile) descend(m *boltMeta, id uint64, pick func([][]byte) int) ([]byte, bool) {
	for depth := 0; depth < maxDepth; depth++ {
		if id < 2 || id >= m.hwm || int64((id+1)*bf.pageSize) > bf.size {
			return nil, false
		}
		b := make([]byte, bf.pageSize)
		if _, err := bf.f.ReadAt(b, int64(id*bf.pageSize)); err != nil || ne.Uint64(b) != id {
			return nil, false
		}
		if over := uint64(ne.Uint32(b[12:])); over > 0 {
			if id+over >= m.hwm || int64((id+over+1)*bf.pageSize) > bf.size {
				return nil, false
			}
			b = make([]byte, (over+1)*bf.pageSize)
			if _, err := bf.f.ReadAt(b, int64(id*bf.pageSize)); err != nil {
				return nil, false
			}
		}
		if ne.Uint16(b[8:]) == flagLeaf {
			return b, true
		}
		keys, kids, ok := elements(b)
		if !ok || len(keys) == 0 {
			return nil, false
		}
		id = kids[pick(keys)]
	}
	return nil, false
}

// elements reads a branch or leaf page's keys, and a branch page's
// children, within the page's bounds.
func elements(b []byte) (keys [][]byte, kids []uint64, ok bool) {
	if len(b) < pageHeaderSize {
		return nil, nil, false
	}
	branch, n := ne.Uint16(b[8:]) == flagBranch, int(ne.Uint16(b[10:]))
	if pageHeaderSize+n*elementSize > len(b) {
		return nil, nil, false
	}
	for i := 0; i < n; i++ {
		e := pageHeaderSize + i*elementSize
		pos, ksize := int(ne.Uint32(b[e:])), int(ne.Uint32(b[e+4:]))
		if !branch {
			pos, ksize = int(ne.Uint32(b[e+4:])), int(ne.Uint32(b[e+8:]))
		}
		if e+pos+ksize > len(b) {
			return nil, nil, false
		}
		keys = append(keys, b[e+pos:e+pos+ksize])
		if branch {
			kids = append(kids, ne.Uint64(b[e+8:]))
		}
	}
	return keys, kids, true
}

// leafValue finds key's value in a leaf page.
func leafValue(b []byte, key []byte) ([]byte, bool) {
	keys, _, ok := elements(b)
	if !ok {
		return nil, false
	}
	for i, k := range keys {
		if bytes.Equal(k, key) {
			e := pageHeaderSize + i*elementSize
			start := e + int(ne.Uint32(b[e+4:])) + len(k)
			end := start + int(ne.Uint32(b[e+12:]))
			if end > len(b) {
				return nil, false
			}
			return b[start:end], true
		}
	}
	return nil, false
}
