package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the store's file inside its directory.
const FileName = "gridlock.db"

// lockWait is how long Open waits for another process to let go of the
// directory (a node restarting while its old process exits).
var lockWait = 2 * time.Second

// Open opens the store in dir (creating both on first use, with want as
// its Meta), verifies the whole file and returns what it holds. With
// want.Node 0 it takes whichever node's data the directory holds (an app
// keeps its id), and creates nothing: a new directory is ErrEmpty.
//
// A directory of another cluster or node, a newer format, or a damaged
// file is refused with an *Error that names the file and what to do; the
// file is left as it was. A file whose last transaction was torn (cut
// short) is cut back to the transaction before it when that one is whole:
// the original is first copied aside, next to it, and Loaded.Recovered says
// what was dropped.
func Open(dir string, want Meta, o Options) (*Store, *Loaded, error) {
	log := o.Logger
	if log == nil {
		log = discardLogger()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("cannot make the data directory (point --data-dir elsewhere): %w", err)
	}
	path := filepath.Join(dir, FileName)
	unlock, err := lockDir(dir, path)
	if err != nil {
		return nil, nil, err
	}
	s, ld, err := open(dir, path, want, o)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	s.unlock, s.log = unlock, log
	if ld.Recovered != "" {
		log.Warn("store recovered", "file", path, "what", ld.Recovered)
	}
	return s, ld, nil
}

func open(dir, path string, want Meta, o Options) (*Store, *Loaded, error) {
	start := time.Now()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if want.Node == 0 {
			return nil, nil, &Error{Path: path, Err: ErrEmpty, What: "holds no data yet", Do: "start the node with an id"}
		}
		if err := writeFresh(dir, path, &Loaded{Meta: want}); err != nil {
			return nil, nil, fmt.Errorf("%s: cannot create the store: %w", path, err)
		}
	} else if err != nil {
		return nil, nil, err
	}
	ld, err := load(dir, path, want)
	if err != nil {
		return nil, nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		// NoSync: bbolt writes pages and meta page with pwrite and never
		// syncs. A killed process loses nothing (the kernel holds the
		// writes), but a power failure or kernel crash can lose Saves
		// that returned, and as the pages and the meta page then reach
		// the disk in any order, can leave a meta page that points at
		// pages never written: Open refuses that file as damaged.
		NoSync:  !o.Fsync,
		Timeout: lockWait,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Store{db: db, path: path, st: ld.state()}
	if o.Logger != nil {
		o.Logger.Info("store opened", "file", path, "snapshot", s.st.snap, "entries", len(ld.Entries),
			"took", time.Since(start).Round(time.Microsecond))
	}
	return s, ld, nil
}

// lockDir holds the directory against other processes for the Store's life:
// Open reads the file before bbolt locks it, and may replace it.
func lockDir(dir, path string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &Error{Path: path, Err: ErrLocked, What: "in use by another process", Do: doLocked}
			}
			return nil, fmt.Errorf("%s: cannot lock: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkMeta compares the stored Meta with the one the node runs with.
func checkMeta(path string, got, want Meta) error {
	if got.Cluster != want.Cluster {
		name := fmt.Sprintf("%q", got.Cluster)
		if got.ClusterID != 0 {
			name += fmt.Sprintf(" (id %x)", got.ClusterID)
		}
		return &Error{Path: path, Err: ErrOtherCluster,
			What: fmt.Sprintf("belongs to cluster %s, not %q", name, want.Cluster), Do: doElsewhere}
	}
	if want.ClusterID != 0 && got.ClusterID != 0 && got.ClusterID != want.ClusterID {
		return &Error{Path: path, Err: ErrOtherCluster,
			What: fmt.Sprintf("belongs to cluster %q with id %x, not id %x: another cluster of the same name", got.Cluster, got.ClusterID, want.ClusterID), Do: doElsewhere}
	}
	if want.Node != 0 && got.Node != want.Node {
		return &Error{Path: path, Err: ErrOtherNode,
			What: fmt.Sprintf("holds the data of node %d, not node %d", got.Node, want.Node),
			Do:   fmt.Sprintf("start this node with --id %d, or %s", got.Node, doElsewhere)}
	}
	return nil
}

// writeFresh writes ld into a new file and puts it in place of path, so
// that path always holds a whole store: a crash meanwhile leaves the old
// file (or none) there.
func writeFresh(dir, path string, ld *Loaded) error {
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockWait})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := mb.Put(keyMeta, encodeMeta(formatVersion, ld.Meta)); err != nil {
			return err
		}
		sb, err := tx.CreateBucket(bucketState)
		if err != nil {
			return err
		}
		if ld.HardState != nil {
			if err := sb.Put(keyHard, seal(keyHard, append([]byte{}, ld.HardState...))); err != nil {
				return err
			}
		}
		if ld.Snapshot != nil {
			if err := sb.Put(keySnap, encodeSnap(ld.Snapshot)); err != nil {
				return err
			}
		}
		st := ld.state()
		if err := sb.Put(keyContents, encodeContents(&st)); err != nil {
			return err
		}
		lb, err := tx.CreateBucket(bucketLog)
		if err != nil {
			return err
		}
		lb.FillPercent = 1 // written once, in order
		for i := range ld.Entries {
			k := logKey(ld.FirstIndex + uint64(i))
			b, err := appendEntry(ld.Entries[i])
			if err != nil {
				return err
			}
			if err := lb.Put(k, seal(k, b)); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// state is what ld holds, as Save tracks it.
func (ld *Loaded) state() state {
	st := state{meta: ld.Meta, hard: ld.HardState != nil, hasSnap: ld.Snapshot != nil}
	if ld.Snapshot != nil {
		st.snap = ld.Snapshot.Index
	}
	st.last = st.snap + uint64(len(ld.Entries))
	return st
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
