package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// testGroup returns a multicast group on loopback that no other test run
// shares.
func testGroup() string {
	return fmt.Sprintf("224.1.1.1:%d", 20000+rand.IntN(20000))
}

func startNodes(t *testing.T, ids []wire.NodeID, group string, cfg func(*Options)) []*Node {
	t.Helper()
	var nodes []*Node
	for _, id := range ids {
		o := Options{ID: id, Cluster: "test", Group: group, Iface: "lo"}
		o.Config = replica.DefaultConfig(id)
		if os.Getenv("GRIDLOCK_TEST_LOG") != "" {
			o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
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

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
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

func TestRuntimeElectsAndServes(t *testing.T) {
	nodes := startNodes(t, []wire.NodeID{1, 2, 3}, testGroup(), nil)
	waitFor(t, 3*time.Second, "n3 primary with two backups", func() bool {
		v := nodes[2].View()
		inView := 0
		for _, n := range v.Nodes {
			if n.InView {
				inView++
			}
		}
		return primaryOf(nodes) == 3 && inView == 3
	})
	rep, err := bot.Run(context.Background(), bot.Options{Players: 3, Rate: 50, Duration: time.Second, ErrorRate: 0.1, ClaimRate: 0.1, ChatRate: 0.1, Addrs: []string{nodes[0].ClientAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	if rep.Lost != 0 || rep.Acked == 0 || rep.Errors != 0 {
		t.Fatalf("bots: %s", rep)
	}
}

// An app's client follows its embedded node's view: when a higher id joins
// and takes over, it is told that the old primary handed over, not that it
// was lost.
func TestEmbeddedClientSeesHandover(t *testing.T) {
	group := testGroup()
	nodes := startNodes(t, []wire.NodeID{1, 2}, group, nil)
	waitFor(t, 3*time.Second, "n2 primary", func() bool { return primaryOf(nodes) == 2 })
	cl := client.Dial(context.Background(), client.ClientOptions{Name: "alice", Local: nodes[0], Addrs: []string{nodes[0].ClientAddr()}})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Drain()
	nodes = append(nodes, startNodes(t, []wire.NodeID{3}, group, nil)...)
	var events []client.ClientEvent
	waitFor(t, 5*time.Second, "the client on n3", func() bool {
		events = append(events, cl.Drain()...)
		s := cl.Status()
		return s.State == client.Connected && s.Node == 3
	})
	handedOver := false
	for _, ev := range events {
		if ev.Kind != client.KindStatus || ev.Status.State != client.Failover {
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
	group := testGroup()
	nodes := startNodes(t, []wire.NodeID{1}, group, nil)
	waitFor(t, 3*time.Second, "n1 primary", func() bool { return primaryOf(nodes) == 1 })

	// The stale link: n2's first connection, authenticated as n2 would.
	stale, err := net.Dial("tcp", nodes[0].PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	r := wire.NewReader(stale, wire.PeerLimits.MaxFrame)
	if err := wire.WriteFrame(stale, &wire.PeerHello{Version: wire.Version, Cluster: "test", From: 2, Instance: 1, Nonce: [32]byte{1}}); err != nil {
		t.Fatal(err)
	}
	m, err := r.ReadMessage(wire.PeerLimits)
	if err != nil {
		t.Fatal(err)
	}
	hello := m.(*wire.PeerHello)
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
	nodes = append(nodes, startNodes(t, []wire.NodeID{2}, group, nil)...)
	waitFor(t, 5*time.Second, "n2 primary with n1 in its view", func() bool {
		v := nodes[1].View()
		for _, ni := range v.Nodes {
			if ni.ID == 1 && ni.InView {
				return primaryOf(nodes) == 2
			}
		}
		return false
	})
	// n2's own link replaced the stale one, which n1 closed.
	_ = stale.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadFrame(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the stale link is still open on n1: %v", err)
	}
	epoch := nodes[0].View().Epoch
	stale.Close()

	// n2 keeps sending heartbeats; a few of them show n1 still follows it.
	time.Sleep(5 * nodes[0].opts.Config.Heartbeat)
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
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{ID: 1, Cluster: "test", Iface: "lo", Peers: []string{"127.0.0.1:9"}}
	o.Config = replica.DefaultConfig(1)
	n, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// A peer connection open at the time: its reader must end too.
	conn, err := net.Dial("tcp", n.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, 3*time.Second, "n1 primary", func() bool { return primaryOf([]*Node{n}) == 1 })
	cancel()
	select {
	case <-n.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the node did not stop within 5 s of its context ending")
	}
}

// Connections that never finish their handshake hold at most
// maxHandshakes slots; the next ones are closed at once, and once the
// slots are free a connection is answered again.
func TestPeerHandshakesAreBounded(t *testing.T) {
	nodes := startNodes(t, []wire.NodeID{1}, testGroup(), nil)
	addr := nodes[0].PeerAddr()
	hello := func(conn net.Conn) error {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
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
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := hello(conn); err != nil {
			t.Fatalf("connection %d: %v", k+1, err)
		}
		held = append(held, conn)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if err := hello(extra); err == nil {
		t.Fatalf("connection %d, over the limit, was answered", maxHandshakes+1)
	}
	for _, c := range held {
		c.Close()
	}
	waitFor(t, 5*time.Second, "a connection answered again", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		return hello(conn) == nil
	})
}

// The group socket hears the group only on the interface it joined.
func TestGroupSocketHearsOnlyItsInterface(t *testing.T) {
	pc, _, _, err := joinGroup(context.Background(), testGroup(), "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	raw, err := pc.PacketConn.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var all int
	var gerr error
	if err := raw.Control(func(fd uintptr) { all, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if all != 0 {
		t.Errorf("IP_MULTICAST_ALL is %d: the socket hears the group from every interface any socket joined", all)
	}
}
