package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// dirPrefix names a demo's temporary directory under the parent given.
const dirPrefix = "gridlock-demo-"

// lockName is the file a running demo holds locked in its directory: a
// directory whose lock can be taken belongs to a demo that is gone.
const lockName = "demo.lock"

// workDir is the demo's temporary directory, locked while the demo runs.
type workDir struct {
	path string
	lock *os.File
}

// makeWorkDir removes what demos that are gone left under parent (one
// killed with kill -9 could not), then makes a directory for this one and
// locks it.
func makeWorkDir(parent string) (*workDir, []string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	removed := sweep(parent)
	path, err := os.MkdirTemp(parent, dirPrefix)
	if err != nil {
		return nil, removed, err
	}
	f, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.RemoveAll(path)
		return nil, removed, fmt.Errorf("locking %s: %w", path, err)
	}
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return &workDir{path: path, lock: f}, removed, nil
}

// remove deletes the directory and everything in it.
func (w *workDir) remove() error {
	err := os.RemoveAll(w.path)
	w.lock.Close()
	return err
}

// sweep removes the directories of demos that are gone: their lock is
// free. One without a lock file is being made, or was left half made; it
// goes once it is a minute old.
func sweep(parent string) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute && os.RemoveAll(dir) == nil {
				removed = append(removed, dir)
			}
			continue
		}
		if err != nil {
			continue // not ours to judge
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil && os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
		f.Close()
	}
	return removed
}

// freePort returns a port on 127.0.0.1 that is free now for TCP (udp:
// for UDP), below the kernel's ephemeral range so that no outgoing
// connection takes it before the node binds it. taken are ports handed
// out already.
func freePort(udp bool, taken map[int]bool) (int, error) {
	for range 1000 {
		p := 10000 + rand.IntN(22000)
		if taken[p] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		if udp {
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				continue
			}
			c.Close()
		} else {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				continue
			}
			l.Close()
		}
		taken[p] = true
		return p, nil
	}
	return 0, errors.New("no free port on 127.0.0.1")
}
