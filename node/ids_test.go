package node

import (
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Two apps started at the same moment choose the same id. Cut off from
// each other (not from the cluster), both join under it and copy the
// cluster's data before they hear each other; then one chooses again,
// dropping the copy it made in this life, and the cluster settles with
// three nodes instead of fighting over the id.
func TestTwinsWithTheSameIDSettle(t *testing.T) {
	m := NewMemNetwork()
	first, _ := memCluster(t, m, []wire.NodeID{1}, nil)
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return primaryOf(first) == 1 && first[0].View().Commit > 0 })
	a, b := m.NewHost(), m.NewHost()
	m.Cut(a, b)
	twins := startMem(t, []*MemHost{a, b}, []wire.NodeID{0, 0}, func(o *Options) { o.DataDir = t.TempDir() })
	waitFor(t, 10*time.Second, "both twins to be n2 with data", func() bool {
		return twins[0].ID() == 2 && twins[1].ID() == 2 && twins[0].View().Commit > 0 && twins[1].View().Commit > 0
	})
	m.Heal(a, b)
	all := append(first, twins...)
	waitFor(t, 10*time.Second, "three nodes with ids of their own, one primary with both backups", func() bool {
		ids := map[wire.NodeID]bool{}
		for _, n := range all {
			ids[n.ID()] = true
		}
		p := primaryOf(all)
		for _, n := range all {
			if n.ID() == p && inView(n.View()) != 3 {
				return false
			}
		}
		return len(ids) == 3 && p != 0
	})
}

// An id given with --id or kept in a node's data is never the one given
// up: the node with the id chosen in this process chooses again.
func TestFixedIDIsKept(t *testing.T) {
	if (&Node{idFixed: true}).yieldsID(&wire.Beacon{From: 2, Instance: ^uint64(0)}) {
		t.Error("a node with a fixed id gave it up")
	}
	if !(&Node{instance: ^uint64(0)}).yieldsID(&wire.Beacon{From: 2, FixedID: true}) {
		t.Error("a node that chose its id kept it against a node whose id is fixed")
	}
}

// A node started with --id of a node that runs stops at once and says
// why (before, both ran and the cluster elected again and again). Its
// first beacons disturb the cluster once (the peers take it for n3
// restarted); then the n3 that ran leads both backups again.
func TestANewcomerWithATakenIDStops(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	twin := startMem(t, []*MemHost{m.NewHost()}, []wire.NodeID{3}, nil)[0]
	select {
	case <-twin.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the second n3 did not stop")
	}
	if err := twin.Err(); err == nil || !strings.Contains(err.Error(), "n3 is already running") {
		t.Fatalf("the second n3 stopped with %v", err)
	}
	waitFor(t, 10*time.Second, "n3 primary with two backups again", func() bool { return ready3(nodes) }, nodes[2].Watch())
}
