package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// tamper changes a closed store's file with bbolt itself: bbolt's
// structures stay whole, the records do not.
func tamper(t *testing.T, dir string, f func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(dbPath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestRefusals: each refusal wraps its sentinel, names the file, says what
// to do, and leaves the directory as it was.
func TestRefusals(t *testing.T) {
	stored := Meta{Cluster: "gridlock-test", Node: 3}
	for name, tc := range map[string]struct {
		want    Meta
		damage  func(t *testing.T, dir string)
		err     error
		message []string
	}{
		"other cluster": {want: Meta{Cluster: "other", Node: 3}, err: ErrOtherCluster,
			message: []string{`belongs to cluster "gridlock-test" (id 5), not "other"`, "point --data-dir elsewhere, or remove the directory"}},
		"other cluster id": {want: Meta{Cluster: "gridlock-test", ClusterID: 6, Node: 3}, err: ErrOtherCluster,
			message: []string{"with id 5, not id 6", "--data-dir"}},
		"other node": {want: Meta{Cluster: "gridlock-test", Node: 4}, err: ErrOtherNode,
			message: []string{"holds the data of node 3, not node 4", "--id 3"}},
		"other node, damaged newest meta": {want: Meta{Cluster: "gridlock-test", Node: 4}, err: ErrOtherNode,
			damage: func(t *testing.T, dir string) { flipNewestMeta(t, dir) }},
		"newer format": {err: ErrNewerFormat, message: []string{"storage format 2 by a newer gridlock", "reads format 1", "run the newer gridlock"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(keyMeta, encodeMeta(formatVersion+1, stored))
				})
			}},
		"record checksum": {err: ErrCorrupt, message: []string{"log entry 2: checksum mismatch", "nothing was changed", "move the file aside"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error {
					b := tx.Bucket(bucketLog)
					v := bytes.Clone(b.Get(logKey(2)))
					v[0] ^= 1
					return b.Put(logKey(2), v)
				})
			}},
		"record that does not decode": {err: ErrCorrupt, message: []string{"log entry 3: wire:"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketLog).Put(logKey(3), seal(logKey(3), []byte{1, 2, 3}))
				})
			}},
		"gap": {err: ErrCorrupt, message: []string{"log: entry 3 follows 1 (a gap)"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(logKey(2)) })
			}},
		"entry under the snapshot": {err: ErrCorrupt, message: []string{"log: entry 1, which the snapshot at 1 covers"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketState).Put(keySnap, encodeSnap(&Snapshot{Index: 1}))
				})
			}},
		"last entries missing": {err: ErrCorrupt, message: []string{"log: the last entry is 4, the contents record says 5"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(logKey(5)) })
			}},
		"hard state missing": {err: ErrCorrupt, message: []string{"the hard state is missing"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketState).Delete(keyHard) })
			}},
		"hard state": {err: ErrCorrupt, message: []string{"hard state: checksum mismatch"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketState).Put(keyHard, []byte("h and no sum")) })
			}},
		"unexpected bucket": {err: ErrCorrupt, message: []string{`unexpected bucket "extra"`},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("extra")); return err })
			}},
		"no meta": {err: ErrCorrupt, message: []string{"no meta record"},
			damage: func(t *testing.T, dir string) {
				tamper(t, dir, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyMeta) })
			}},
		"not a bbolt file": {err: ErrCorrupt, message: []string{"neither of bbolt's meta pages is valid"},
			damage: func(t *testing.T, dir string) {
				os.WriteFile(dbPath(dir), bytes.Repeat([]byte("not a database "), 2000), 0o600)
			}},
		"empty file": {err: ErrCorrupt, message: []string{"damaged"},
			damage: func(t *testing.T, dir string) { os.WriteFile(dbPath(dir), nil, 0o600) }},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := mustOpen(t, dir, stored)
			if err := s.Save(Update{FirstIndex: 1, Entries: entries(1, 5), HardState: []byte("h"), ClusterID: 5}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if tc.damage != nil {
				tc.damage(t, dir)
			}
			if tc.want == (Meta{}) {
				tc.want = stored
			}
			before := readFile(t, dbPath(dir))
			_, ld, err := Open(dir, tc.want, Options{})
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v (%v), want %v", err, ld, tc.err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, dbPath(dir)+": ") {
				t.Errorf("%q does not start with the file", msg)
			}
			for _, m := range tc.message {
				if !strings.Contains(msg, m) {
					t.Errorf("%q does not say %q", msg, m)
				}
			}
			if !bytes.Equal(before, readFile(t, dbPath(dir))) {
				t.Error("the file changed")
			}
			if got := dirFiles(t, dir); len(got) != 1 {
				t.Errorf("the directory holds %v", got)
			}
			t.Log(msg)
		})
	}
}

func flipNewestMeta(t *testing.T, dir string) {
	b := readFile(t, dbPath(dir))
	f, _ := os.Open(dbPath(dir))
	bf, err := readBoltFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b[uint64(bf.current().slot)*bf.pageSize+checksumAt] ^= 1
	os.WriteFile(dbPath(dir), b, 0o600)
}

func TestLocked(t *testing.T) {
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 100 * time.Millisecond
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, testMeta)
	_, _, err := Open(dir, testMeta, Options{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dbPath(dir)) {
		t.Fatalf("second Open: %v, want ErrLocked naming the file", err)
	}
	s.Close()
	s, _ = mustOpen(t, dir, testMeta) // free again
	s.Close()
}

// TestRecordsClusterID: a cluster id given to Open on first use, or by a
// Save, is kept; Open without one learns it.
func TestRecordsClusterID(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustOpen(t, dir, Meta{Cluster: "c", Node: 1})
	if err := s.Save(Update{ClusterID: 0xabc}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(Update{ClusterID: 0xabd}); !errors.Is(err, ErrOtherCluster) {
		t.Fatalf("a second cluster id: %v", err)
	}
	s.Close()
	for _, want := range []Meta{{Cluster: "c", Node: 1}, {Cluster: "c", ClusterID: 0xabc, Node: 1}} {
		s, ld := mustOpen(t, dir, want)
		s.Close()
		if ld.Meta != (Meta{Cluster: "c", ClusterID: 0xabc, Node: 1}) {
			t.Fatalf("opened with %+v: %+v", want, ld.Meta)
		}
	}
	dir = t.TempDir()
	s, _ = mustOpen(t, dir, Meta{Cluster: "c", ClusterID: 7, Node: 1})
	s.Close()
	if _, _, err := Open(dir, Meta{Cluster: "c", ClusterID: 8, Node: 1}, Options{}); !errors.Is(err, ErrOtherCluster) {
		t.Fatalf("cluster id from the first Open not kept: %v", err)
	}
}

// An app that does not know its id yet opens its directory with node 0: it
// takes the id the data belongs to, and a new directory is left untouched.
func TestOpenAnyNode(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(dir, Meta{Cluster: "gridlock-test"}, Options{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("a new directory opened with node 0: %v, want ErrEmpty", err)
	}
	if _, err := os.Stat(dbPath(dir)); !os.IsNotExist(err) {
		t.Fatalf("opening with node 0 created the file: %v", err)
	}
	s, _ := mustOpen(t, dir, Meta{Cluster: "gridlock-test", Node: 7})
	s.Close()
	s, ld, err := Open(dir, Meta{Cluster: "gridlock-test"}, Options{})
	if err != nil || ld.Meta.Node != 7 {
		t.Fatalf("reopened with node 0: %v, node %d, want 7", err, ld.Meta.Node)
	}
	s.Close()
}

// A data directory that cannot be made names the flag to change.
func TestUnmakeableDirNamesTheFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(filepath.Join(file, "data"), Meta{Cluster: "c", Node: 1}, Options{})
	if err == nil || !strings.Contains(err.Error(), "--data-dir") || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Open under a file: %v", err)
	}
}
