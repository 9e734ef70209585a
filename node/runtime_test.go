package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// The runtime's tests run their clusters on a MemNetwork: one host per
// node, the same multicast group for all (every test has a network of its
// own). Real sockets are tested where they are the point (realnet_test.go).

const memGroup = "224.1.1.1:5007"

func testOptions(id wire.NodeID) Options {
	o := Options{ID: id, Cluster: "test", Config: replica.DefaultConfig(id)}
	o.Config.BootstrapAny = true
	if os.Getenv("GRIDLOCK_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return o
}

// startMem starts a node on each of hosts, with the ids given.
func startMem(t *testing.T, hosts []*MemHost, ids []wire.NodeID, cfg func(*Options)) []*Node {
	t.Helper()
	var nodes []*Node
	for i, id := range ids {
		h := hosts[i]
		o := testOptions(id)
		o.Group, o.Network, o.Listen = memGroup, h, h.IP()
		if cfg != nil {
			cfg(&o)
		}
		n, err := Start(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
		t.Cleanup(n.Close)
	}
	return nodes
}

// memCluster starts nodes with the ids given, each on a host of its own.
func memCluster(t *testing.T, m *MemNetwork, ids []wire.NodeID, cfg func(*Options)) ([]*Node, []*MemHost) {
	t.Helper()
	var hosts []*MemHost
	for range ids {
		hosts = append(hosts, m.NewHost())
	}
	return startMem(t, hosts, ids, cfg), hosts
}

// waitFor waits until cond holds, checking it whenever one of wake
// receives and every few milliseconds; it fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, wake ...<-chan struct{}) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var w1, w2 <-chan struct{}
	if len(wake) > 0 {
		w1 = wake[0]
	}
	if len(wake) > 1 {
		w2 = wake[1]
	}
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		case <-tick.C:
		case <-w1:
		case <-w2:
		}
	}
}

// onLoop runs f on the node's loop, where it may read what the loop owns.
func onLoop[T any](t *testing.T, n *Node, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	select {
	case n.inbox <- input{kind: inCall, call: func() { ch <- f() }}:
	case <-n.Done():
		t.Fatal("the node stopped")
	}
	select {
	case v := <-ch:
		return v
	case <-n.Done():
		t.Fatal("the node stopped")
	case <-time.After(10 * time.Second):
		t.Fatal("the node's loop did not run a call within 10 s")
	}
	panic("unreachable")
}

func primaryOf(nodes []*Node) wire.NodeID {
	for _, n := range nodes {
		select {
		case <-n.Done():
			continue
		default:
		}
		v := n.View()
		if v.Primary == n.ID() {
			for _, ni := range v.Nodes {
				if ni.ID == n.ID() && ni.Role == wire.RolePrimary {
					return n.ID()
				}
			}
		}
	}
	return 0
}

// inView counts the nodes the view says the primary waits for.
func inView(v wire.ClusterView) int {
	k := 0
	for _, ni := range v.Nodes {
		if ni.InView {
			k++
		}
	}
	return k
}

// memClient starts a player on a host of its own, given addrs to start.
func memClient(t *testing.T, h *MemHost, name string, addrs ...string) *client.Client {
	t.Helper()
	cl := client.Dial(context.Background(), client.ClientOptions{Name: name, Addrs: addrs, Dial: h.Dial})
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cl
}

// say sends a chat line and waits for its acknowledgement.
func say(t *testing.T, cl *client.Client, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := cl.Do(ctx, game.Chat{Text: text})
	if err != nil {
		t.Fatalf("chat %q: %v", text, err)
	}
	if a.Result.Err != nil {
		t.Fatalf("chat %q refused: %v", text, a.Result.Err)
	}
}

// chatOf is the chat of the client's room, as it last saw it.
func chatOf(cl *client.Client) []string {
	var lines []string
	cl.WithRoom(func(room *game.RoomView, ok bool) {
		if ok {
			for _, l := range room.Chat {
				lines = append(lines, l.From+": "+l.Text)
			}
		}
	})
	return lines
}

func TestRuntimeElectsAndServes(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())

	// Players start at a backup and are sent to the primary; each line is
	// acknowledged, and every player sees every line.
	players := m.NewHost()
	var cls []*client.Client
	for _, name := range []string{"ann", "bob", "cy"} {
		cls = append(cls, memClient(t, players, name, nodes[0].ClientAddr()))
	}
	var want []string
	for round := range 3 {
		for i, cl := range cls {
			text := fmt.Sprintf("line %d", round)
			say(t, cl, text)
			want = append(want, []string{"ann", "bob", "cy"}[i]+": "+text)
		}
	}
	for i, cl := range cls {
		if s := cl.Status(); s.Node != 3 {
			t.Errorf("player %d is served by n%d, want n3", i, s.Node)
		}
		waitFor(t, 10*time.Second, "every line in every room", func() bool {
			return containsAll(chatOf(cl), want)
		}, cl.Notify())
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// A crashed primary's links reset: the next node takes over, and the
// players follow it without losing a line the old one acknowledged.
func TestRuntimeFailsOverWhenThePrimaryCrashes(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	players := m.NewHost()
	cl := memClient(t, players, "ann", nodes[0].ClientAddr())
	say(t, cl, "before")

	hosts[2].Crash()
	nodes[2].Close()
	waitFor(t, 10*time.Second, "n2 primary", func() bool { return primaryOf(nodes[:2]) == 2 }, nodes[1].Watch())
	say(t, cl, "after")
	if s := cl.Status(); s.Node != 2 {
		t.Errorf("the player is served by n%d, want n2", s.Node)
	}
	waitFor(t, 10*time.Second, "both lines in the room", func() bool {
		return containsAll(chatOf(cl), []string{"ann: before", "ann: after"})
	}, cl.Notify())
}

// A primary cut off from the others loses its quorum and the others elect;
// when the cut heals it rejoins and, the highest id, takes over again.
func TestRuntimePartitionHeals(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, func(o *Options) { o.Config.Quorum, o.Config.Bootstrap = true, []wire.NodeID{1, 2, 3} })
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	epoch := nodes[2].View().Epoch

	hosts[2].Isolate()
	waitFor(t, 15*time.Second, "n2 primary of n1 and n2, n3 without a quorum", func() bool {
		v := nodes[2].View()
		return primaryOf(nodes[:2]) == 2 && nodes[0].View().Primary == 2 && !v.HasQuorum
	}, nodes[1].Watch(), nodes[2].Watch())

	hosts[2].Rejoin()
	waitFor(t, 15*time.Second, "n3 primary of all three again", func() bool {
		v := nodes[2].View()
		return primaryOf(nodes) == 3 && inView(v) == 3 && v.Epoch.After(epoch) &&
			nodes[0].View().Primary == 3 && nodes[1].View().Primary == 3
	}, nodes[2].Watch())
}

// An app's client follows its embedded node's view: when a higher id joins
// and takes over, it is told that the old primary handed over, not that it
// was lost.
func TestEmbeddedClientSeesHandover(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1, 2}, nil)
	waitFor(t, 10*time.Second, "n2 primary", func() bool { return primaryOf(nodes) == 2 }, nodes[1].Watch())
	cl := client.Dial(context.Background(), client.ClientOptions{Name: "alice", Local: nodes[0], Dial: nodes[0].Dial})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Drain()
	more, _ := memCluster(t, m, []wire.NodeID{3}, nil)
	nodes = append(nodes, more...)
	var events []client.Event
	waitFor(t, 10*time.Second, "the client on n3", func() bool {
		events = append(events, cl.Drain()...)
		s := cl.Status()
		return s.State == client.Connected && s.Node == 3
	}, cl.Notify())
	handedOver := false
	for _, e := range events {
		ev, ok := e.(client.StatusChanged)
		if !ok || ev.Status.State != client.Failover {
			continue
		}
		if ev.Status.Lost != 0 {
			t.Errorf("the client says n%d was lost; it handed over", ev.Status.Lost)
		}
		handedOver = handedOver || ev.Status.Handover == 2
	}
	if !handedOver {
		t.Errorf("no status said n2 handed over")
	}
}

// A link a peer dialed before a partition can stay open on this side long
// after the peer gave it up and dialed again; when it finally breaks (a
// keepalive finds it dead), the peer's live link is not down.
func TestStaleInboundLinkIsNotASuspicion(t *testing.T) {
	m := NewMemNetwork()
	h1, h2 := m.NewHost(), m.NewHost()
	nodes := startMem(t, []*MemHost{h1}, []wire.NodeID{1}, nil)
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return primaryOf(nodes) == 1 }, nodes[0].Watch())

	// The stale link: n2's first connection, authenticated as n2 would.
	stale, err := h2.Dial(context.Background(), nodes[0].PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	_ = stale.SetDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(stale, wire.PeerLimits.MaxFrame)
	if err := wire.WriteFrame(stale, &wire.PeerHello{Version: wire.Version, Cluster: "test", From: 2, Instance: 1, Nonce: [32]byte{1}}); err != nil {
		t.Fatal(err)
	}
	m1, err := r.ReadMessage(wire.PeerLimits)
	if err != nil {
		t.Fatal(err)
	}
	hello := m1.(*wire.PeerHello)
	if err := wire.WriteFrame(stale, &wire.PeerAuth{From: 2, MAC: wire.PeerMAC(nil, hello.Nonce, "test", 2)}); err != nil {
		t.Fatal(err)
	}
	if m, err := r.ReadMessage(wire.PeerLimits); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*wire.PeerAuth); !ok {
		t.Fatalf("handshake answered with %T", m)
	}

	// From here on, n1 has no reason to suspect n2: not when n2's link
	// replaces the stale one, and not when the stale one breaks.
	_, seen := nodes[0].NoticesSince(0)
	nodes = append(nodes, startMem(t, []*MemHost{h2}, []wire.NodeID{2}, nil)...)
	waitFor(t, 10*time.Second, "n2 primary with n1 in its view", func() bool {
		for _, ni := range nodes[1].View().Nodes {
			if ni.ID == 1 && ni.InView {
				return primaryOf(nodes) == 2
			}
		}
		return false
	}, nodes[1].Watch())
	// n2's own link replaced the stale one, which n1 closed.
	if _, err := r.ReadFrame(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the stale link is still open on n1: %v", err)
	}
	epoch := nodes[0].View().Epoch
	stale.Close()

	// n2 keeps sending beacons: once n1 has taken in some that left well
	// after the stale link closed, it has taken in what that link's end
	// could have told it.
	hb := nodes[0].opts.Config.Heartbeat
	after := time.Now().Add(3 * hb)
	waitFor(t, 10*time.Second, "n1 to hear n2 three heartbeats on", func() bool {
		return onLoop(t, nodes[0], func() bool {
			ps := nodes[0].peers[2]
			return ps != nil && ps.lastSeen.After(after)
		})
	})
	notes, _ := nodes[0].NoticesSince(seen)
	for _, nt := range notes {
		if (nt.Kind == wire.NoticeSuspected && nt.Node == 2) || (nt.Kind == wire.NoticeElection && strings.Contains(nt.Text, "lost")) {
			t.Errorf("n1: %s", nt.Text)
		}
	}
	if v := nodes[0].View(); v.Epoch != epoch || v.Primary != 2 {
		t.Errorf("n1 follows n%d in epoch %d, want n2 in epoch %d", v.Primary, v.Epoch.Term(), epoch.Term())
	}
}

// A node whose context ends stops: every goroutine ends, whatever its peers.
func TestNodeStopsWhenItsContextEnds(t *testing.T) {
	m := NewMemNetwork()
	h, other := m.NewHost(), m.NewHost()
	ctx, cancel := context.WithCancel(context.Background())
	o := testOptions(1)
	o.Network, o.Listen, o.Peers = h, h.IP(), []string{"10.77.9.9:9"}
	n, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// A peer connection open at the time: its reader must end too.
	conn, err := other.Dial(context.Background(), n.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return primaryOf([]*Node{n}) == 1 }, n.Watch())
	cancel()
	select {
	case <-n.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not stop within 10 s of its context ending")
	}
	// And it let go of the connection (after its hello).
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(conn, wire.PeerLimits.MaxFrame)
	for {
		_, err := r.ReadFrame()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the peer connection is still open")
		}
		if err != nil {
			break
		}
	}
}

// Connections that never finish their handshake hold at most
// maxHandshakes slots; the next one is answered and the oldest closed.
func TestPeerHandshakesAreBounded(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1}, nil)
	stranger := m.NewHost()
	addr := nodes[0].PeerAddr()
	dial := func() net.Conn {
		conn, err := stranger.Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	hello := func(conn net.Conn) error {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		m, err := wire.NewReader(conn, wire.PeerLimits.MaxFrame).ReadMessage(wire.PeerLimits)
		if err == nil {
			if _, ok := m.(*wire.PeerHello); !ok {
				return fmt.Errorf("got %T", m)
			}
		}
		return err
	}
	var held []net.Conn
	for k := 0; k < maxHandshakes; k++ {
		conn := dial()
		defer conn.Close()
		if err := hello(conn); err != nil {
			t.Fatalf("connection %d: %v", k+1, err)
		}
		held = append(held, conn)
	}
	extra := dial()
	defer extra.Close()
	if err := hello(extra); err != nil {
		t.Fatalf("connection %d, over the limit: %v; want it answered", maxHandshakes+1, err)
	}
	_ = held[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := held[0].Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the oldest connection: %v; want it closed", err)
	}
	_ = held[1].SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := held[1].Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the second oldest connection: %v; want it still open", err)
	}
}

// ready3 reports whether n3 leads n1 and n2, and both hold the cluster's
// first entries (before that, cutting n3 off leaves nobody with the game).
func ready3(nodes []*Node) bool {
	return primaryOf(nodes) == 3 && inView(nodes[2].View()) == 3 && nodes[0].View().Commit >= 2 && nodes[1].View().Commit >= 2
}
