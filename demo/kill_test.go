package demo

import (
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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
