package demo

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// K pressed again before the killed primary is reaped does not kill it
// again, and times one failover, not one per key.
func TestKillTwiceBeforeReaped(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	d := &Demo{log: slog.New(slog.DiscardHandler), story: newStory(true), changed: make(chan struct{}, 1)}
	d.procs = []*proc{{id: 1}, {id: 2}, {id: 3, cmd: cmd, alive: true}}
	d.procs[0].alive, d.procs[1].alive = true, true
	d.story.view(view(3, 3, 4), time.Now())
	if note := d.Kill(); !strings.Contains(note, "kill -9 n3") {
		t.Fatalf("Kill: %q", note)
	}
	// The process is not reaped yet (nobody waits for it here): n3 is
	// still alive as the demo sees it.
	if note := d.Kill(); !strings.Contains(note, "no primary") {
		t.Errorf("Kill again before n3 is reaped: %q, want no primary to kill", note)
	}
	if n := len(d.story.failovers); n != 1 {
		t.Errorf("%d failovers after one kill, want 1", n)
	}
	if id, _ := d.story.primary(d.counted); id != 0 {
		t.Errorf("the killed primary still counts")
	}
}

// X on a lone node: cut off from nobody, it still leads, so the panel
// still has a primary and no failover is timed.
func TestCutLoneNode(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" USR1 USR2; exec sleep 30`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	d := &Demo{log: slog.New(slog.DiscardHandler), story: newStory(true), changed: make(chan struct{}, 1), dir: &workDir{}}
	d.procs = []*proc{{id: 1, cmd: cmd, alive: true}}
	v := wire.ClusterView{Self: 1, Primary: 1, Epoch: wire.MakeEpoch(1, 1), Quorum: 1, HasQuorum: true,
		Nodes: []wire.NodeInfo{{ID: 1, Role: wire.RolePrimary, Alive: true, Voter: true}}}
	d.story.view(v, time.Now())
	if note := d.Cut(); !strings.Contains(note, "n1 cut off") || !strings.Contains(note, "still leads") {
		t.Errorf("Cut: %q", note)
	}
	s := d.State()
	if s.Primary != 1 || !s.Nodes[0].Cut {
		t.Errorf("after X on a lone node: primary n%d, node %+v; want n1 leading, cut off", s.Primary, s.Nodes[0])
	}
	if len(s.Failovers) != 0 {
		t.Errorf("a failover timed for a lone node cut off from nobody: %+v", s.Failovers)
	}
	if note := d.Cut(); !strings.Contains(note, "n1 healed") {
		t.Errorf("Cut again: %q", note)
	}
	if s := d.State(); s.Primary != 1 || s.Nodes[0].Cut || len(s.Failovers) != 0 {
		t.Errorf("after healing: %+v", s)
	}
}

// q right after K: the killed primary, not reaped yet, is waited for and
// started again for the bots' final check, as any dead node is.
func TestCloseRestartsAKilledNodeNotReapedYet(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, _, err := makeWorkDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &Demo{o: Options{Exe: exe, Bots: 1}, log: slog.New(slog.DiscardHandler), dir: dir, spawn: newSpawner(),
		changed: make(chan struct{}, 1), ports: map[int]bool{}, story: newStory(true),
		botsStop: make(chan struct{}), botsDone: make(chan struct{})}
	close(d.botsDone)
	d.mu.Lock()
	p, err := d.addLocked("1")
	if err != nil {
		d.mu.Unlock()
		t.Fatal(err)
	}
	// As K leaves it: SIGKILL sent, the process not reaped yet.
	p.killed = true
	proc := p.cmd.Process
	d.mu.Unlock()
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = proc.Kill()
	}()
	sum := d.Close()
	if sum.Err != nil {
		t.Errorf("Close: %v", sum.Err)
	}
	if p.starts != 2 {
		t.Errorf("the killed node started %d times, want 2: again for the bots' check", p.starts)
	}
}
