package node

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

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
		o.Config = DefaultConfig(id)
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
	rep, err := RunBots(context.Background(), BotOptions{Players: 3, Rate: 50, Duration: time.Second, ErrorRate: 0.1, ClaimRate: 0.1, ChatRate: 0.1, Addrs: []string{nodes[0].ClientAddr()}})
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
	cl := Dial(context.Background(), ClientOptions{Name: "alice", Local: nodes[0], Addrs: []string{nodes[0].ClientAddr()}})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Drain()
	nodes = append(nodes, startNodes(t, []wire.NodeID{3}, group, nil)...)
	var events []ClientEvent
	waitFor(t, 5*time.Second, "the client on n3", func() bool {
		events = append(events, cl.Drain()...)
		s := cl.Status()
		return s.State == Connected && s.Node == 3
	})
	handedOver := false
	for _, ev := range events {
		if ev.Kind != KindStatus || ev.Status.State != Failover {
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
