package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "GRIDLOCK_STORE_CRASH_DIR"

// crashUpdate is Save number k of the crash test, for the state m that the
// Saves before it left: entries, now and then a truncation or a snapshot,
// and the hard state "save k", which tells a restart how far it got.
func crashUpdate(k uint64, m *model) Update {
	u := Update{HardState: fmt.Appendf(nil, "save %d", k)}
	last := m.last
	switch {
	case k%23 == 0 && last > m.snapIndex()+20:
		u.Snapshot = &Snapshot{Index: last - 10, Data: bytes.Repeat([]byte{byte(k)}, 20_000+int(k%7)*1000)}
	case k%7 == 0 && last > m.snapIndex()+3:
		u.HasTruncate, u.TruncateAfter = true, last-2
		last -= 2
	}
	u.FirstIndex = last + 1
	u.Entries = entries(k*1000, 1+k%8)
	return u
}

func modelOf(ld *Loaded) *model {
	m := newModel(ld.Meta)
	m.hard, m.snap = ld.HardState, ld.Snapshot
	for i, e := range ld.Entries {
		m.entries[ld.FirstIndex+uint64(i)] = e
	}
	m.last = ld.FirstIndex + uint64(len(ld.Entries)) - 1
	return m
}

func savesIn(ld *Loaded) uint64 {
	k, _ := strconv.ParseUint(strings.TrimPrefix(string(ld.HardState), "save "), 10, 64)
	return k
}

// crashHelper saves crashUpdates with Fsync until it is killed, printing
// the number of every Save that returned.
func crashHelper(dir string) {
	s, ld, err := Open(dir, testMeta, Options{Fsync: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	m, k := modelOf(ld), savesIn(ld)
	fmt.Println("ready", k)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		k++
		u := crashUpdate(k, m)
		if err := m.apply(u); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		if err := s.Save(u); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println(k) // os.Stdout is not buffered: the line is out before the next Save
	}
	os.Exit(3)
}

// TestKillMidSave runs a process that saves in a loop with Fsync, kills it
// with SIGKILL at random moments, and opens the store after each kill:
// every Save that returned is there, nothing needed repair, and the store
// holds exactly what the Saves made.
func TestKillMidSave(t *testing.T) {
	if dir := os.Getenv(helperEnv); dir != "" {
		crashHelper(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	m, k := newModel(testMeta), uint64(0)
	unacked := 0
	const rounds = 20
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(exe, "-test.run=^TestKillMidSave$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		acked, target := k, k+1+uint64(r.IntN(30))
		deadline := time.After(30 * time.Second)
	wait:
		for acked < target {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the helper exited: %v", round, cmd.Wait())
				}
				if strings.HasPrefix(l, "ready ") {
					if got, _ := strconv.ParseUint(l[6:], 10, 64); got != k {
						t.Fatalf("round %d: the helper restarted from save %d, not %d", round, got, k)
					}
					continue
				}
				n, err := strconv.ParseUint(l, 10, 64)
				if err != nil {
					t.Fatalf("round %d: helper says %q", round, l)
				}
				acked = n
			case <-deadline:
				break wait
			}
		}
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond) // a random moment, most likely mid-Save
		if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		for l := range lines { // what it printed before it died
			if n, err := strconv.ParseUint(l, 10, 64); err == nil {
				acked = n
			}
		}
		s, ld, err := Open(dir, testMeta, Options{Fsync: true})
		if err != nil {
			t.Fatalf("round %d: after the kill: %v", round, err)
		}
		s.Close()
		got := savesIn(ld)
		if got < acked || got > acked+1 {
			t.Fatalf("round %d: the store holds %d Saves; %d had returned", round, got, acked)
		}
		if ld.Recovered != "" {
			t.Fatalf("round %d: a killed process left a file that needed repair: %s", round, ld.Recovered)
		}
		if got > acked {
			unacked++
		}
		for ; k < got; k++ {
			if err := m.apply(crashUpdate(k+1, m)); err != nil {
				t.Fatal(err)
			}
		}
		if err := sameState(ld, m.loaded()); err != nil {
			t.Fatalf("round %d, save %d: %v", round, got, err)
		}
	}
	t.Logf("%d rounds, %d Saves; %d kills came after a Save was durable and before it returned", rounds, k, unacked)
}
