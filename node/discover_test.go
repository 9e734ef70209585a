package node

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Discovery that hears the cluster's nodes but cannot verify their beacons
// says so, and which secret to check, rather than that nobody was heard.
func TestDiscoverSaysTheSecretDiffers(t *testing.T) {
	m := NewMemNetwork()
	memCluster(t, m, []wire.NodeID{1}, func(o *Options) { o.Secret = []byte("s3cret") })
	h := m.NewHost()
	for _, tc := range []struct {
		secret string
		want   string
	}{
		{"", "give --secret"},
		{"other", "check --secret"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Discover(ctx, DiscoverOptions{Cluster: testOptions(1).Cluster, Group: memGroup, Secret: []byte(tc.secret), Listen: time.Second, Network: h})
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("secret %q: error %v, want one that says %q", tc.secret, err, tc.want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := Discover(ctx, DiscoverOptions{Cluster: testOptions(1).Cluster, Group: memGroup, Secret: []byte("s3cret"), Listen: time.Second, Network: h}); err != nil || len(v.Nodes) != 1 {
		t.Errorf("with the secret: %v, %v; want n1", v, err)
	}
}

// A beacon of another protocol version on the group is told to the app
// (its events), not only to the log: neither side can see the other's game.
func TestAnotherReleaseOnTheGroupIsTold(t *testing.T) {
	n, m := loneNode(t)
	h := m.NewHost()
	pc, err := h.JoinGroup(context.Background(), memGroup, "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	g, _ := parseGroup(memGroup)
	if _, err := pc.WriteTo([]byte{byte(wire.TBeacon), 0, byte(wire.Version - 1), 0}, g); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a notice of the other release", func() bool {
		notices, _ := n.NoticesSince(0)
		for _, nt := range notices {
			if nt.Kind == wire.NoticeStranger && strings.Contains(nt.Text, "another gridlock release") {
				return true
			}
		}
		return false
	}, n.Watch())
}

// Beacons of a peer's earlier process, replayed on the group (a MAC does
// not date them) or late, are not taken for a restart of the one that runs
// now: the cluster keeps its primary and epoch.
func TestReplayedBeaconsOfAnEarlierProcess(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	pc, old := recordBeacon(t, m, 3) // a beacon of n3's first process
	hosts[2].Crash()
	nodes[2].Close()
	hosts[2].Restart()
	nodes[2] = startMem(t, hosts[2:3], []wire.NodeID{3}, nil)[0]
	waitFor(t, 10*time.Second, "n3 back as primary", func() bool { return ready3(nodes) }, nodes[2].Watch())
	time.Sleep(idCheckWindow) // (a newcomer's own id in an old beacon stops it: ids.go)
	epoch := nodes[0].View().Epoch
	g, _ := parseGroup(memGroup)
	for range 20 {
		if _, err := pc.WriteTo(old, g); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if v := nodes[0].View(); v.Epoch != epoch || v.Primary != 3 {
		t.Fatalf("after the replay n1 sees n%d primary in epoch %d, want n3 still in epoch %d", v.Primary, v.Epoch.Term(), epoch.Term())
	}
}

// A node that restarts empty on its own ports and hears, in its first
// second, a beacon of its earlier process (more data, its own id) does not
// take it for another node holding its id: that node's port is its own.
func TestOwnEarlierBeaconDoesNotStopARestart(t *testing.T) {
	m := NewMemNetwork()
	fixed := func(o *Options) {
		if o.ID == 3 {
			o.TCPPort, o.ReplicationPort = 7003, 7103
		}
	}
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, fixed)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	pc, old := recordBeacon(t, m, 3)
	hosts[2].Crash()
	nodes[2].Close()
	hosts[2].Restart()
	nodes[2] = startMem(t, hosts[2:3], []wire.NodeID{3}, fixed)[0]
	g, _ := parseGroup(memGroup)
	for range 10 {
		if _, err := pc.WriteTo(old, g); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "n3 back as primary", func() bool { return ready3(nodes) }, nodes[2].Watch())
	select {
	case <-nodes[2].Done():
		t.Fatalf("n3 stopped: %v", nodes[2].Err())
	default:
	}
}

// In quorum mode a node that comes back with the data of another cluster
// of the same name (made afresh beside its old directory) and the highest
// id is refused on both sides: the cluster keeps its primary and epoch,
// and each lists the other as refused.
func TestAnotherClustersNodeIsRefused(t *testing.T) {
	dir := t.TempDir()
	quorum := func(boot ...wire.NodeID) func(*Options) {
		return func(o *Options) {
			o.Config.Quorum, o.Config.BootstrapAny, o.Config.Bootstrap = true, false, boot
			if o.ID == 3 {
				o.DataDir = dir
			}
		}
	}
	old := NewMemNetwork()
	n3 := startMem(t, []*MemHost{old.NewHost()}, []wire.NodeID{3}, quorum(3))[0]
	waitFor(t, 10*time.Second, "the old cluster made", func() bool { v := n3.View(); return v.Primary == 3 && v.Commit > 0 }, n3.Watch())
	n3.Close()

	m := NewMemNetwork()
	hosts := []*MemHost{m.NewHost(), m.NewHost(), m.NewHost()}
	nodes := startMem(t, hosts[:2], []wire.NodeID{1, 2}, quorum(1, 2))
	waitFor(t, 10*time.Second, "n2 primary with n1", func() bool {
		v := nodes[1].View()
		return v.Primary == 2 && inView(v) == 2 && v.Commit > 0
	}, nodes[1].Watch())
	epoch := nodes[1].View().Epoch
	stale := startMem(t, hosts[2:], []wire.NodeID{3}, quorum())[0]
	refused := func(n *Node, id wire.NodeID) bool {
		for _, ni := range n.View().Nodes {
			if ni.ID == id && ni.Role == wire.RoleRefused {
				return true
			}
		}
		return false
	}
	waitFor(t, 10*time.Second, "n2 and the stale n3 refuse each other", func() bool {
		return refused(nodes[1], 3) && refused(stale, 2)
	}, nodes[1].Watch(), stale.Watch())
	time.Sleep(time.Second)
	if v := nodes[1].View(); v.Primary != 2 || v.Epoch != epoch {
		t.Fatalf("n2 sees n%d primary in epoch %d, want itself still in epoch %d", v.Primary, v.Epoch.Term(), epoch.Term())
	}
}

// recordBeacon joins the group from a host of its own and returns, with
// that connection, a beacon of node id that holds data.
func recordBeacon(t *testing.T, m *MemNetwork, id wire.NodeID) (net.PacketConn, []byte) {
	t.Helper()
	pc, err := m.NewHost().JoinGroup(context.Background(), memGroup, "lo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	buf := make([]byte, 2048)
	for {
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := wire.DecodeBeacon(buf[:k]); err == nil && b.From == id && b.Last > 0 {
			_ = pc.SetReadDeadline(time.Time{})
			return pc, append([]byte(nil), buf[:k]...)
		}
	}
}

// A node of another quorum mode under the cluster's name is told to the
// players on both sides (the app's events), not only to the log: its
// player would else find a game of their own, and no word why. A node
// that chooses its id takes one above the refused node's, which keeps the
// two apart in the view.
func TestAnotherQuorumModeIsTold(t *testing.T) {
	m := NewMemNetwork()
	server := startMem(t, []*MemHost{m.NewHost()}, []wire.NodeID{1}, func(o *Options) {
		o.Config.Quorum, o.Config.BootstrapAny, o.Config.Bootstrap = true, false, []wire.NodeID{1}
	})[0]
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return server.View().Primary == 1 }, server.Watch())
	app := startMem(t, []*MemHost{m.NewHost()}, []wire.NodeID{0}, nil)[0]
	waitFor(t, 10*time.Second, "the app's id", func() bool { return app.ID() != 0 }, app.Watch())
	if app.ID() == 1 {
		t.Fatalf("the app chose n1, the refused node's id")
	}
	told := func(n *Node, id wire.NodeID) bool {
		notices, _ := n.NoticesSince(0)
		for _, nt := range notices {
			if nt.Kind == wire.NoticeRefused && nt.Node == id && strings.Contains(nt.Text, "quorum mode") {
				return true
			}
		}
		return false
	}
	waitFor(t, 10*time.Second, "both told of the other", func() bool {
		return told(server, app.ID()) && told(app, 1)
	}, server.Watch(), app.Watch())
}
