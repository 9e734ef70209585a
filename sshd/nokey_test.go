package sshd

import (
	"strings"
	"testing"
	"time"
)

// A player without a key (keyboard-interactive) cannot resume a session:
// when theirs ends without q (idle, a dropped connection), the name is
// free at once for them to connect again, and the idle message does not
// promise a resume.
func TestNoKeySessionFreesItsName(t *testing.T) {
	const idle = 600 * time.Millisecond
	c := newTestCluster(t, func(o *Options) { o.Addr = "127.0.0.1:2361"; o.IdleTimeout = idle })
	obs := c.observer()
	p := c.play("frank", nil, 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	if code := p.waitExit(idle + 5*time.Second); code != 1 || !strings.Contains(p.out.text(), "without a key") || strings.Contains(p.out.text(), "resume") {
		t.Fatalf("idle without a key: exit %d, output %q", code, p.out.text())
	}
	waitUntil(t, 5*time.Second, "frank's session closed", func() bool { _, ok := member(obs, "frank"); return !ok }, nil)

	p = c.play("frank", nil, 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	if strings.Contains(p.out.text(), "is taken") {
		t.Fatalf("frank, back after the idle timeout, was told his name is taken:\n%s", p.out.text())
	}
	p.conn.Close()
	waitUntil(t, 5*time.Second, "frank's session closed after the connection dropped", func() bool { _, ok := member(obs, "frank"); return !ok }, nil)
}
