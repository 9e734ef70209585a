package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// TestStatusShowsTheRealClientAddress: a node that binds every address
// (--listen=0.0.0.0, as in the compose cluster) shows in `status` the
// address it was asked at, not 0.0.0.0:PORT, for its client and peer ports.
func TestStatusShowsTheRealClientAddress(t *testing.T) {
	c := newCluster(t, withFlags("--listen=0.0.0.0"))
	p := c.start(1)
	c.waitPrimary(1, 10*time.Second)
	out, errOut, code := runGridlock(t, 10*time.Second, "status", "--connect", p.addr(), "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d\n%s%s", code, out, errOut)
	}
	var s statusJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Nodes) != 1 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if got := s.Nodes[0].ClientAddr; got != p.addr() {
		t.Errorf("status shows n1's client address as %s, want %s", got, p.addr())
	}
	if got := s.Nodes[0].PeerAddr; got != p.peerAddr() {
		t.Errorf("status shows n1's peer address as %s, want %s", got, p.peerAddr())
	}
	out, _, _ = runGridlock(t, 10*time.Second, "status", "--connect", p.addr())
	if line := nodeLine(out, "n1"); !strings.Contains(line, p.addr()) || strings.Contains(line, "0.0.0.0") {
		t.Errorf("status: n1's line %q, want %s in it", line, p.addr())
	}
}

// TestStatusSaysWhyItFoundNoPrimary: asked at an address where nothing
// listens, status says so, not that its own time ran out.
func TestStatusSaysWhyItFoundNoPrimary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, errOut, code := runGridlock(t, 10*time.Second, "status", "--connect", addr, "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "connection refused") {
		t.Errorf("status --connect %s: exit %d, want 1 and the refusal in:\n%s", addr, code, errOut)
	}
}

// TestStatusSaysWhatTheNodeRefused: a node that refuses the connection
// (too many clients, say) is quoted, not reported as "answered with
// error"; `serve --health` says the same.
func TestStatusSaysWhatTheNodeRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = wire.NewReader(conn, 4096).ReadFrame()
				_ = wire.WriteFrame(conn, &wire.Error{Code: wire.ErrOverloaded, Text: "too many connections"})
			}()
		}
	}()
	addr := ln.Addr().String()
	for _, args := range [][]string{
		{"status", "--connect", addr, "--timeout", "1s"},
		{"serve", "--health", addr},
	} {
		_, errOut, code := runGridlock(t, 10*time.Second, args...)
		if code != 1 || !strings.Contains(errOut, "too many connections") {
			t.Errorf("gridlock %s: exit %d, want 1 and the node's refusal in:\n%s", strings.Join(args, " "), code, errOut)
		}
	}
}
