package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/gridlock-game/gridlock/wire"
)

// Meta says whose data a directory holds. The store writes it on first use
// and refuses a directory whose Meta does not match (other cluster, other
// node) or whose format is newer than this binary's.
type Meta struct {
	Cluster   string // cluster name (--cluster)
	ClusterID uint64 // 0 until the cluster is bootstrapped or joined; then fixed
	Node      uint16 // node id (a play app keeps its id across restarts)
}

// Snapshot is the replica's state up to a log index.
type Snapshot struct {
	Index uint64 // last log index the snapshot covers
	Data  []byte // opaque (the replica's encoding: game state, epoch history, config)
}

// Update is what one turn of the node's loop must make durable, applied in
// this order, in ONE bbolt transaction: Snapshot (entries <= Snapshot.Index
// are dropped), Compact (drop entries <= Compact), Truncate (drop entries >
// TruncateAfter when HasTruncate), append Entries (first one at FirstIndex,
// which must be last+1 after the truncation, or Snapshot.Index+1), HardState.
//
// The log always runs on from the snapshot without a gap, so Save refuses a
// Snapshot older than the stored one, a Compact past the snapshot (the
// entries would be lost to a restart; since a Snapshot drops the entries it
// covers, a valid Compact changes nothing), a truncation into the snapshot,
// and entries that do not start at last+1.
type Update struct {
	HardState     []byte // nil: unchanged (opaque: epoch promise, commit, history…)
	HasTruncate   bool
	TruncateAfter uint64
	FirstIndex    uint64
	Entries       []wire.LogEntry
	Snapshot      *Snapshot
	Compact       uint64
	ClusterID     uint64 // non-zero: record it in Meta (once; a different one is an error)
}

// Empty reports whether u changes nothing; Save does nothing for it.
func (u Update) Empty() bool {
	return u.HardState == nil && !u.HasTruncate && len(u.Entries) == 0 &&
		u.Snapshot == nil && u.Compact == 0 && u.ClusterID == 0
}

// Loaded is what a restart finds.
type Loaded struct {
	Meta       Meta
	HardState  []byte          // nil on a new directory
	Snapshot   *Snapshot       // nil if none
	FirstIndex uint64          // index of Entries[0]: the snapshot's index + 1 (1 without one)
	Entries    []wire.LogEntry // the log after the snapshot, in order, no gaps
	Recovered  string          // "" or a sentence for the log: what was cut back and why
	Dropped    bool            // Recovered cut back a transaction: a Save's effects are gone
}

// Options tune a Store.
type Options struct {
	Fsync  bool         // true: every Save is synced before it returns (--fsync=always)
	Logger *slog.Logger // nil: no logging
}

// Store is a node's durable log, hard state and snapshot in one bbolt file.
// Its methods may be called from any goroutine; Saves are serialised.
type Store struct {
	mu     sync.Mutex
	db     *bolt.DB
	path   string
	unlock func()
	log    *slog.Logger
	st     state
	failed error // a Save's write failed: nothing more is written
}

// state is what Save needs to check an Update without reading the file.
type state struct {
	meta    Meta
	hard    bool   // a hard state is stored
	hasSnap bool   // a snapshot is stored
	snap    uint64 // the snapshot's index (0 without one)
	last    uint64 // the log holds (snap, last]
}

// Path is the store's file, for messages.
func (s *Store) Path() string { return s.path }

// Close releases the file. A Store is unusable after it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	s.unlock()
	return err
}

var errClosed = errors.New("store: closed")

// Save makes u durable in one transaction: all of it or, on an error,
// none of it. With Options.Fsync it is on disk when Save returns. An Update
// that breaks the log's rules is refused and the Store stays usable; a
// failed write leaves the Store refusing every later Save (after a failed
// sync the kernel may have dropped the pages it could not write, so a retry
// could report success for data that is not there): restart, and Open
// verifies what the file holds.
func (s *Store) Save(u Update) error {
	if u.Empty() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return errClosed
	}
	if s.failed != nil {
		return s.failed
	}
	p, err := s.plan(u)
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	if err := s.apply(p); err != nil {
		s.failed = fmt.Errorf("store: %s: a write failed, so this store writes no more: restart the node: %w", s.path, err)
		s.log.Error("store write failed", "file", s.path, "err", err)
		return s.failed
	}
	s.st = p.next
	return nil
}

// plan checks u against the stored state and encodes its records.
type plan struct {
	meta, snap, hard []byte
	contents         []byte
	dels             [][2]uint64 // log index ranges to delete, inclusive
	first            uint64
	entries          [][]byte
	next             state
}

func (s *Store) plan(u Update) (*plan, error) {
	p := &plan{next: s.st}
	n := &p.next
	if u.ClusterID != 0 && u.ClusterID != n.meta.ClusterID {
		if n.meta.ClusterID != 0 {
			return nil, &Error{Path: s.path, Err: ErrOtherCluster,
				What: fmt.Sprintf("update records cluster id %x, but the store holds %x", u.ClusterID, n.meta.ClusterID),
				Do:   "a cluster id is fixed once recorded"}
		}
		n.meta.ClusterID = u.ClusterID
		p.meta = encodeMeta(formatVersion, n.meta)
	}
	if sn := u.Snapshot; sn != nil {
		switch {
		case sn.Index < n.snap:
			// A node that follows another branch (a healed partition
			// without a quorum) takes its state whole, older or not:
			// nothing stored stays.
			if n.last > n.snap {
				p.dels = append(p.dels, [2]uint64{n.snap + 1, n.last})
			}
			n.last = sn.Index
		case sn.Index > n.snap && n.last > n.snap:
			p.dels = append(p.dels, [2]uint64{n.snap + 1, min(sn.Index, n.last)})
		}
		p.snap = encodeSnap(sn)
		n.hasSnap, n.snap, n.last = true, sn.Index, max(n.last, sn.Index)
	}
	if u.Compact > n.snap {
		return nil, fmt.Errorf("compaction to index %d passes the snapshot at %d: a restart would lose the entries between", u.Compact, n.snap)
	}
	if u.HasTruncate {
		if u.TruncateAfter < n.snap {
			return nil, fmt.Errorf("truncation after index %d cuts into the snapshot at %d", u.TruncateAfter, n.snap)
		}
		if u.TruncateAfter < n.last {
			p.dels = append(p.dels, [2]uint64{u.TruncateAfter + 1, n.last})
			n.last = u.TruncateAfter
		}
	}
	if len(u.Entries) > 0 {
		if u.FirstIndex != n.last+1 {
			return nil, fmt.Errorf("entries at index %d, but the log ends at %d", u.FirstIndex, n.last)
		}
		p.first = u.FirstIndex
		p.entries = make([][]byte, len(u.Entries))
		for i := range u.Entries {
			b, err := wire.AppendLogEntry(nil, &u.Entries[i])
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", u.FirstIndex+uint64(i), err)
			}
			p.entries[i] = seal(logKey(u.FirstIndex+uint64(i)), b)
		}
		n.last += uint64(len(u.Entries))
	}
	if u.HardState != nil {
		p.hard = seal(keyHard, append([]byte{}, u.HardState...))
		n.hard = true
	}
	if p.snap != nil || p.hard != nil || len(p.dels) > 0 || p.entries != nil {
		p.contents = encodeContents(n)
	}
	return p, nil
}

// apply writes a plan in one transaction. bbolt reads pages through its
// memory map here too: a fault (a disk error under the map) is an error.
func (s *Store) apply(p *plan) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	open := true
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bbolt failed: %v", r)
		}
		if open {
			func() {
				defer func() { _ = recover() }()
				_ = tx.Rollback()
			}()
		}
	}()
	if p.meta != nil {
		if err := tx.Bucket(bucketMeta).Put(keyMeta, p.meta); err != nil {
			return err
		}
	}
	st := tx.Bucket(bucketState)
	if p.snap != nil {
		if err := st.Put(keySnap, p.snap); err != nil {
			return err
		}
	}
	lb := tx.Bucket(bucketLog)
	lb.FillPercent = 0.95 // the log is appended to in order
	for _, r := range p.dels {
		for i := r[0]; i <= r[1]; i++ {
			if err := lb.Delete(logKey(i)); err != nil {
				return err
			}
		}
	}
	for i, v := range p.entries {
		if err := lb.Put(logKey(p.first+uint64(i)), v); err != nil {
			return err
		}
	}
	if p.hard != nil {
		if err := st.Put(keyHard, p.hard); err != nil {
			return err
		}
	}
	if p.contents != nil {
		if err := st.Put(keyContents, p.contents); err != nil {
			return err
		}
	}
	open = false
	return tx.Commit()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
