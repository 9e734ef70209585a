package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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
	addr := fakeNode(t, replyWith(&wire.Error{Code: wire.ErrOverloaded, Text: "too many connections"}))
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

// TestStatusSaysANodeDoesNotAnswer: a node that takes the connection and
// says nothing (paused with SIGSTOP, or hung), or a port that is not a
// node's client port, is named for what it is, not with the socket's
// words ("raw-read …: i/o timeout").
func TestStatusSaysANodeDoesNotAnswer(t *testing.T) {
	silent := fakeNode(t, func(conn net.Conn) {
		defer conn.Close()
		_, _ = io.Copy(io.Discard, conn) // reads, answers nothing
	})
	peer := fakeNode(t, func(conn net.Conn) {
		defer conn.Close()
		_ = wire.WriteFrame(conn, &wire.PeerHello{Version: wire.Version, Cluster: "gridlock", From: 1})
		_, _ = io.Copy(io.Discard, conn)
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--connect", silent, "--timeout", "1s"}, silent + " took the connection but did not answer: the node is paused, hung or overloaded"},
		{[]string{"serve", "--health", silent}, silent + " took the connection but did not answer"},
		{[]string{"status", "--connect", peer, "--timeout", "1s"}, peer + " answered with a peer hello: give a node's client port"},
	} {
		_, errOut, code := runGridlock(t, 10*time.Second, c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "raw-read") {
			t.Errorf("gridlock %s: exit %d, want 1 and %q in:\n%s", strings.Join(c.args, " "), code, c.want, errOut)
		}
	}
}

// TestStatusWantsAPrimaryThatActs: a node that follows a primary-elect
// names it primary while it gathers its votes, and for good where it never
// gets them (in quorum mode, when a majority of the voters lost their
// data). Asked there, status must not report a primary found (exit 0)
// while the table it prints says that node is not acting as one.
func TestStatusWantsAPrimaryThatActs(t *testing.T) {
	ln := listenLoopback(t)
	e := wire.MakeEpoch(45, 3)
	view := &wire.ClusterView{Self: 1, Primary: 3, Epoch: e, Quorum: 2, Nodes: []wire.NodeInfo{
		{ID: 3, Role: wire.RoleNoQuorum, Epoch: e, Alive: true, ClientAddr: "127.0.0.1:1"},
		{ID: 1, Role: wire.RoleBackup, Epoch: e, Alive: true, ClientAddr: ln.Addr().String()},
	}}
	go serveConns(ln, replyWith(view))
	out, errOut, code := runGridlock(t, 10*time.Second, "status", "--connect", ln.Addr().String(), "--timeout", "1s")
	if want := "n1 follows n3, which is not acting as primary (no quorum)"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("status of a node whose primary does not act: exit %d, want 1 and %q in:\n%s%s", code, want, out, errOut)
	}
	if !strings.Contains(nodeLine(out, "n3"), "no quorum") {
		t.Errorf("status: the view it got is not printed:\n%s", out)
	}
}

// listenLoopback listens on a loopback port for the test's life.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveConns hands each connection ln takes to answer, until ln closes.
func serveConns(ln net.Listener, answer func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go answer(conn)
	}
}

// fakeNode is a loopback port that answers each connection with answer.
func fakeNode(t *testing.T, answer func(net.Conn)) string {
	ln := listenLoopback(t)
	go serveConns(ln, answer)
	return ln.Addr().String()
}

// replyWith answers a connection's first frame with m, and closes it.
func replyWith(m wire.Message) func(net.Conn) {
	return func(conn net.Conn) {
		defer conn.Close()
		_, _ = wire.NewReader(conn, 4096).ReadFrame()
		_ = wire.WriteFrame(conn, m)
	}
}

// TestStatusWithoutAPrimaryAsksANode: with no primary heard on the group
// (a majority of the voters down, in quorum mode), status asks the node
// heard that is furthest along for its view, instead of printing the
// beacons' (epoch 0, commit 0, "as seen by n0", no quorum, and none of the
// voters that are down).
func TestStatusWithoutAPrimaryAsksANode(t *testing.T) {
	e, older := wire.MakeEpoch(62, 1), wire.MakeEpoch(61, 3)
	heard := &wire.ClusterView{Nodes: []wire.NodeInfo{ // as beacons tell it
		{ID: 2, Role: wire.RoleNoQuorum, Epoch: older, Commit: 90, Alive: true, ClientAddr: "127.0.0.1:2"},
		{ID: 1, Role: wire.RoleNoQuorum, Epoch: e, Commit: 100, Alive: true, ClientAddr: "127.0.0.1:1"},
	}}
	own := &wire.ClusterView{Self: 1, Epoch: e, Commit: 100, Quorum: 2, Nodes: []wire.NodeInfo{
		{ID: 1, Role: wire.RoleNoQuorum, Epoch: e, Commit: 100, Alive: true, ClientAddr: "127.0.0.1:1"},
		{ID: 2, Role: wire.RoleNoQuorum, Epoch: older, Commit: 90, Alive: true, ClientAddr: "127.0.0.1:2"},
		{ID: 3, Role: wire.RoleDown, Epoch: older, Commit: 100, ClientAddr: "127.0.0.1:3"},
	}}
	var asked []string
	fetch := func(_ context.Context, addr string) (*wire.ClusterView, error) {
		asked = append(asked, addr)
		if addr == "127.0.0.1:1" {
			return own, nil
		}
		return nil, errors.New("connection refused")
	}
	v := closerLook(context.Background(), heard, fetch)
	var b strings.Builder
	printStatus(&b, v, false)
	out := b.String()
	if len(asked) != 1 || asked[0] != "127.0.0.1:1" {
		t.Errorf("status asked %v, want n1 (the newest epoch) alone", asked)
	}
	for _, want := range []string{"epoch 62 · commit 100 · quorum 2 (NOT reachable) · as seen by n1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status without a primary: %q missing in:\n%s", want, out)
		}
	}
	if !strings.Contains(nodeLine(out, "n3"), "down") {
		t.Errorf("status without a primary: n3, down, not listed:\n%s", out)
	}
	// A node that does not answer leaves the beacons' view.
	if v := closerLook(context.Background(), &wire.ClusterView{Nodes: heard.Nodes[:1]}, fetch); v.Self != 0 || len(v.Nodes) != 1 {
		t.Errorf("status: a node that did not answer gave %+v, want the beacons' view", v)
	}
}
