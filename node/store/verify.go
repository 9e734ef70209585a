package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gridlock-game/gridlock/wire"
)

// load verifies the file and returns what it holds. It refuses a damaged
// file, except that it cuts back a torn last transaction, or one whose meta
// page is damaged, to the whole transaction before it, after copying the
// file aside.
func load(dir, path string, want Meta) (*Loaded, error) {
	ld, bf, err := inspect(path)
	var nf newerFormat
	switch {
	case errors.As(err, &nf):
		return nil, &Error{Path: path, Err: ErrNewerFormat,
			What: fmt.Sprintf("written in storage format %d by a newer gridlock; this one reads format %d", nf, formatVersion),
			Do:   doNewer}
	case bf == nil && err != nil:
		return nil, corrupt(path, "%v", err)
	}
	cur, oth := bf.current(), bf.other()
	var notes []string
	dropped := false
	if oth.err != nil {
		// bbolt opens the other meta page and says nothing; the next
		// Save would overwrite the damaged one.
		note, d := metaDamage(cur, oth)
		notes, dropped = append(notes, note), d
	}
	if err == nil {
		if err := checkMeta(path, ld.Meta, want); err != nil {
			return nil, err
		}
		if len(notes) == 0 {
			return ld, nil
		}
		return repair(dir, path, ld, notes, dropped)
	}
	var short errShort
	if !errors.As(err, &short) {
		return nil, corrupt(path, "%v", err)
	}
	// The file ends before the last transaction's pages do: a torn tail.
	// bbolt would map it and fault on the first page past the end.
	tail := fmt.Sprintf("the file ends at byte %d, but its last transaction (%d) reaches byte %d: the end was torn (a crash mid-write, a full disk, or a copy made while it was written)",
		bf.size, cur.txid, short.need)
	ld, err = inspectView(dir, path, bf, cur)
	if err == nil {
		if err := checkMeta(path, ld.Meta, want); err != nil {
			return nil, err
		}
		return repair(dir, path, ld, append(notes, tail+"; what was cut off held none of that transaction's data"), dropped)
	}
	if oth.err != nil || oth.txid >= cur.txid {
		return nil, corrupt(path, "%s, and no earlier transaction is recorded to cut back to (%v)", tail, oth.err)
	}
	newestLast, known := bf.lastLogIndex(cur)
	ld, err2 := inspectView(dir, path, bf, oth)
	if err2 != nil {
		return nil, corrupt(path, "%s, and the transaction before it (%d) is not whole either (%v)", tail, oth.txid, err2)
	}
	if err := checkMeta(path, ld.Meta, want); err != nil {
		return nil, err
	}
	last := ld.FirstIndex + uint64(len(ld.Entries)) - 1
	note := fmt.Sprintf("%s: cut back to the transaction before it (%d), the last Save that is whole; the log now ends at index %d", tail, oth.txid, last)
	if known && newestLast > last {
		note += fmt.Sprintf(" (the torn one had taken it to %d: entries %d to %d are dropped)", newestLast, last+1, newestLast)
	} else if known {
		note += fmt.Sprintf(" (the torn one had it end at %d)", newestLast)
	}
	return repair(dir, path, ld, append(notes, note), true)
}

// metaDamage says what a damaged meta page (oth) may have cost, cur being
// the one bbolt opens.
func metaDamage(cur, oth *boltMeta) (note string, dropped bool) {
	switch {
	case oth.txid == cur.txid+1:
		return fmt.Sprintf("meta page %d, which records the newest transaction (%d), is damaged (%v), as a crash while it was written leaves it: cut back to the transaction before it, %d",
			oth.slot, oth.txid, oth.err, cur.txid), true
	case oth.txid+1 == cur.txid:
		return fmt.Sprintf("meta page %d, which records the transaction before the newest, is damaged (%v); the newest (%d) is whole: nothing is lost by that",
			oth.slot, oth.err, cur.txid), false
	}
	return fmt.Sprintf("meta page %d is damaged (%v) beyond telling whether it recorded a transaction newer than %d: opened from %d, and a newer one, if any, is lost",
		oth.slot, oth.err, cur.txid, cur.txid), true
}

type newerFormat uint32

func (n newerFormat) Error() string { return fmt.Sprintf("storage format %d", uint32(n)) }

// inspect verifies the file at path as bbolt would open it: bbolt's
// structures first (see boltfile.go), then bbolt's own tx.Check, then every
// record, and returns what it holds. bf is nil when the file has no valid
// meta page.
func inspect(path string) (*Loaded, *boltFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	bf, err := readBoltFile(f)
	if err != nil {
		return nil, nil, err
	}
	if err := bf.check(bf.current()); err != nil {
		return nil, bf, err
	}
	ld, err := read(path)
	return ld, bf, err
}

// read opens the file with bbolt, read-only, and reads it all. bbolt reads
// through its memory map: a fault there (a damaged file that the walk let
// through, a disk error) is an error here, not a crash.
func read(path string) (ld *Loaded, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			ld, err = nil, fmt.Errorf("bbolt failed reading it: %v", r)
		}
	}()
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: lockWait})
	if err != nil {
		return nil, fmt.Errorf("bbolt cannot open it: %w", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var problems []string
		for e := range tx.Check() {
			if len(problems) < 3 {
				problems = append(problems, e.Error())
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("bbolt's check: %s", strings.Join(problems, "; "))
		}
		ld, err = readTx(tx)
		return err
	})
	return ld, err
}

// readTx reads and checks every record.
func readTx(tx *bolt.Tx) (*Loaded, error) {
	mb := tx.Bucket(bucketMeta)
	if mb == nil {
		return nil, errors.New("no meta bucket")
	}
	v := mb.Get(keyMeta)
	if v == nil {
		return nil, errors.New("no meta record")
	}
	p, err := openRecord(keyMeta, v)
	if err != nil {
		return nil, fmt.Errorf("meta record: %w", err)
	}
	format, meta, err := decodeMeta(p)
	switch {
	case err != nil:
		return nil, err
	case format > formatVersion:
		return nil, newerFormat(format)
	case format < formatVersion:
		return nil, fmt.Errorf("storage format %d", format)
	}
	ld := &Loaded{Meta: meta, FirstIndex: 1}
	if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !bytes.Equal(name, bucketMeta) && !bytes.Equal(name, bucketState) && !bytes.Equal(name, bucketLog) {
			return fmt.Errorf("unexpected bucket %q", name)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := mb.ForEach(func(k, _ []byte) error {
		if !bytes.Equal(k, keyMeta) {
			return fmt.Errorf("unexpected key %q in the meta bucket", k)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	sb := tx.Bucket(bucketState)
	if sb == nil {
		return nil, errors.New("no state bucket")
	}
	var contents []byte
	if err := sb.ForEach(func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("unexpected bucket %q in the state bucket", k)
		}
		p, err := openRecord(k, v)
		switch {
		case bytes.Equal(k, keyHard):
			if err != nil {
				return fmt.Errorf("hard state: %w", err)
			}
			ld.HardState = append([]byte{}, p...)
		case bytes.Equal(k, keySnap):
			if err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			if ld.Snapshot, err = decodeSnap(p); err != nil {
				return err
			}
			ld.FirstIndex = ld.Snapshot.Index + 1
		case bytes.Equal(k, keyContents):
			if err != nil {
				return fmt.Errorf("contents record: %w", err)
			}
			contents = p
		default:
			return fmt.Errorf("unexpected key %q in the state bucket", k)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	lb := tx.Bucket(bucketLog)
	if lb == nil {
		return nil, errors.New("no log bucket")
	}
	next := ld.FirstIndex
	c := lb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 || v == nil {
			return nil, fmt.Errorf("log: unexpected key %x", k)
		}
		i := binary.BigEndian.Uint64(k)
		if i != next {
			if i < next {
				return nil, fmt.Errorf("log: entry %d, which the snapshot at %d covers", i, ld.FirstIndex-1)
			}
			return nil, fmt.Errorf("log: entry %d follows %d (a gap)", i, next-1)
		}
		p, err := openRecord(k, v)
		if err != nil {
			return nil, fmt.Errorf("log entry %d: %w", i, err)
		}
		e, err := wire.DecodeLogEntry(p, wire.PeerLimits)
		if err != nil {
			return nil, fmt.Errorf("log entry %d: %w", i, err)
		}
		ld.Entries = append(ld.Entries, e)
		next++
	}
	if contents == nil {
		return nil, errors.New("no contents record")
	}
	flags, last, err := decodeContents(contents)
	switch {
	case err != nil:
		return nil, err
	case (flags&hasHard != 0) != (ld.HardState != nil):
		return nil, fmt.Errorf("the hard state is %s, the contents record says otherwise", presence(ld.HardState != nil))
	case (flags&hasSnap != 0) != (ld.Snapshot != nil):
		return nil, fmt.Errorf("the snapshot is %s, the contents record says otherwise", presence(ld.Snapshot != nil))
	case last != next-1:
		return nil, fmt.Errorf("log: the last entry is %d, the contents record says %d", next-1, last)
	}
	return ld, nil
}

func presence(there bool) string {
	if there {
		return "there"
	}
	return "missing"
}

// inspectView verifies the file as it would be at meta m: on a copy, grown
// to the transaction's length (a torn file ends early), with the newer meta
// page made invalid when m is the older one. The copy is removed after.
func inspectView(dir, path string, bf *boltFile, m *boltMeta) (*Loaded, error) {
	view := filepath.Join(dir, FileName+".view")
	defer os.Remove(view)
	if err := copyFile(path, view); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(view, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if need := int64(m.hwm * bf.pageSize); need > bf.size {
		err = f.Truncate(need)
	}
	if other := bf.meta[1-m.slot]; err == nil && other.err == nil && other.txid > m.txid {
		zero := make([]byte, metaEnd-pageHeaderSize)
		_, err = f.WriteAt(zero, int64(uint64(other.slot)*bf.pageSize)+pageHeaderSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	ld, vf, err := inspect(view)
	if err == nil && vf.current().txid != m.txid {
		err = fmt.Errorf("the copy opened at transaction %d, not %d", vf.current().txid, m.txid)
	}
	return ld, err
}

// repair keeps the damaged file aside and puts a whole store with ld's
// contents in its place.
func repair(dir, path string, ld *Loaded, notes []string, dropped bool) (*Loaded, error) {
	note := strings.Join(notes, "; ")
	if !dropped && !strings.HasSuffix(note, "nothing is lost by that") {
		note += ": nothing is lost"
	}
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := copyFile(path, aside); err != nil {
		return nil, fmt.Errorf("%s: %s; but the file could not be copied aside to repair it: %w", path, note, err)
	}
	if err := writeFresh(dir, path, ld); err != nil {
		return nil, fmt.Errorf("%s: %s; but the repaired store could not be written: %w (the original is still in place)", path, note, err)
	}
	again, _, err := inspect(path)
	if err != nil {
		return nil, corrupt(path, "the repaired store does not verify: %v (the original is kept as %s)", err, aside)
	}
	again.Recovered = fmt.Sprintf("%s: %s. The damaged file is kept as %s.", path, note, filepath.Base(aside))
	again.Dropped = dropped
	return again, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}
