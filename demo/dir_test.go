package demo

import (
	"os"
	"path/filepath"
	"testing"
)

// A demo's directory is removed by the next demo once its lock is free
// (the demo is gone); a locked one, or a fresh one without a lock yet,
// stays.
func TestWorkDirSweep(t *testing.T) {
	parent := t.TempDir()
	running, _, err := makeWorkDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer running.remove()
	gone, _, err := makeWorkDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gone.path, "n1.log"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	gone.lock.Close() // as when its demo was killed
	fresh := filepath.Join(parent, dirPrefix+"fresh")
	if err := os.Mkdir(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(parent, "something-else")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}

	next, removed, err := makeWorkDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer next.remove()
	if len(removed) != 1 || removed[0] != gone.path {
		t.Errorf("removed %v, want only %s", removed, gone.path)
	}
	for _, d := range []string{running.path, fresh, other, next.path} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	if _, err := os.Stat(gone.path); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", gone.path, err)
	}
	if err := next.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(next.path); !os.IsNotExist(err) {
		t.Errorf("remove left %s", next.path)
	}
}

func TestFreePort(t *testing.T) {
	taken := map[int]bool{}
	for range 20 {
		for _, udp := range []bool{false, true} {
			p, err := freePort(udp, taken)
			if err != nil {
				t.Fatal(err)
			}
			if p < 10000 || p >= 32000 {
				t.Fatalf("port %d outside 10000..31999", p)
			}
		}
	}
	if len(taken) != 40 {
		t.Errorf("%d ports handed out, want 40 different ones", len(taken))
	}
}
