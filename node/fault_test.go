package node

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

// recording is a Network that notes what is asked of it.
type recording struct {
	Network
	mu    sync.Mutex
	calls []string
}

func (r *recording) note(what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.calls, what) {
		r.calls = append(r.calls, what)
	}
}

func (r *recording) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.calls))
}

func (r *recording) Listen(ctx context.Context, addr string) (net.Listener, error) {
	r.note("listen")
	return r.Network.Listen(ctx, addr)
}

func (r *recording) Dial(ctx context.Context, addr string) (net.Conn, error) {
	r.note("dial")
	return r.Network.Dial(ctx, addr)
}

func (r *recording) ListenPacket(ctx context.Context, addr string) (net.PacketConn, error) {
	r.note("packet")
	return r.Network.ListenPacket(ctx, addr)
}

func (r *recording) JoinGroup(ctx context.Context, group, iface string) (net.PacketConn, error) {
	r.note("group")
	return r.Network.JoinGroup(ctx, group, iface)
}

// PeerNetwork carries all of a node's peer traffic and Network only its
// client listener, so that a fault on one leaves the other be.
func TestPeerNetworkCarriesAllPeerTraffic(t *testing.T) {
	m := NewMemNetwork()
	h1, h2 := m.NewHost(), m.NewHost()
	clients, peers := &recording{Network: h2}, &recording{Network: h2}
	nodes := startMem(t, []*MemHost{h1}, []wire.NodeID{1}, nil)
	nodes = append(nodes, startMem(t, []*MemHost{h2}, []wire.NodeID{2}, func(o *Options) {
		o.Network, o.PeerNetwork, o.Peers = clients, peers, []string{h1.IP() + ":9"}
	})...)
	waitFor(t, 10*time.Second, "n2 primary with a backup", func() bool {
		return primaryOf(nodes) == 2 && inView(nodes[1].View()) == 2
	}, nodes[1].Watch())
	if got, want := clients.seen(), []string{"listen"}; !slices.Equal(got, want) {
		t.Errorf("Network was asked for %v, want %v", got, want)
	}
	if got, want := peers.seen(), []string{"dial", "group", "listen", "packet"}; !slices.Equal(got, want) {
		t.Errorf("PeerNetwork was asked for %v, want %v", got, want)
	}
}

// A node behind a FaultSwitch that is turned on is cut off its peers: they
// elect without it, and it loses its quorum; its clients still reach it.
// Turned off, it rejoins and takes over again.
func TestFaultSwitchCutsPeersNotClients(t *testing.T) {
	m := NewMemNetwork()
	var sw FaultSwitch
	hosts := []*MemHost{m.NewHost(), m.NewHost(), m.NewHost()}
	nodes := startMem(t, hosts, []wire.NodeID{1, 2, 3}, func(o *Options) {
		o.Config.Quorum, o.Config.Bootstrap = true, []wire.NodeID{1, 2, 3}
		if o.ID == 3 {
			o.PeerNetwork = sw.Wrap(o.Network)
		}
	})
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())

	sw.Set(true)
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("%+v", n.View())
			}
		}
	})
	waitFor(t, 15*time.Second, "n2 primary of n1 and n2, n3 without a quorum", func() bool {
		return primaryOf(nodes[:2]) == 2 && nodes[0].View().Primary == 2 && !nodes[2].View().HasQuorum
	}, nodes[1].Watch(), nodes[2].Watch())
	// A client still reaches n3 and hears its view.
	conn, err := m.NewHost().Dial(context.Background(), nodes[2].ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteFrame(conn, &wire.Status{}); err != nil {
		t.Fatal(err)
	}
	reply, err := wire.NewReader(conn, wire.ClientLimits.MaxFrame).ReadMessage(wire.ClientLimits)
	if err != nil {
		t.Fatalf("n3's client port, with its peers cut off: %v", err)
	}
	if v, ok := reply.(*wire.ClusterView); !ok || v.Self != 3 {
		t.Fatalf("n3 answered a status with %#v", reply)
	}
	// A player's hello there is told why no primary answers: one voter of
	// the two a primary takes is up.
	hc, err := m.NewHost().Dial(context.Background(), nodes[2].ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	_ = hc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteFrame(hc, &wire.Hello{Version: wire.Version, Name: "alice", Token: "token-alice-0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	reply, err = wire.NewReader(hc, wire.ClientLimits.MaxFrame).ReadMessage(wire.ClientLimits)
	if r, ok := reply.(*wire.Redirect); err != nil || !ok || r.Leader != 0 || r.Up != 1 || r.Need != 2 {
		t.Fatalf("n3 answered a hello with %#v, %v; want a redirect with 1 voter up of 2 needed", reply, err)
	}
	// A client that gives up waiting there says why, not only that its
	// time ran out.
	cl := client.Dial(context.Background(), client.ClientOptions{Name: "bob", Addrs: []string{nodes[2].ClientAddr()}, Dial: m.NewHost().Dial})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err = cl.WaitConnected(ctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "no primary: 1 up, 2 needed") {
		t.Fatalf("a client of n3 gave up with %v; want it to say no primary: 1 up, 2 needed", err)
	}

	sw.Set(false)
	waitFor(t, 15*time.Second, "n3 primary of all three again", func() bool {
		return primaryOf(nodes) == 3 && inView(nodes[2].View()) == 3 &&
			nodes[0].View().Primary == 3 && nodes[1].View().Primary == 3
	}, nodes[2].Watch())
}
