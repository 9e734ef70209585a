package node

import (
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

// A primary that takes office again because a backup left keeps its
// players: they are not sent away to reconnect, and play goes on.
func TestRenewalKeepsThePlayers(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	players := m.NewHost()
	cl := memClient(t, players, "ann", nodes[2].ClientAddr())
	say(t, cl, "before")
	before := cl.Status()
	epoch := nodes[2].View().Epoch

	hosts[0].Crash()
	nodes[0].Close()
	waitFor(t, 10*time.Second, "n3 primary again in a new epoch", func() bool {
		v := nodes[2].View()
		return v.Primary == 3 && v.Epoch.After(epoch) && onLoop(t, nodes[2], func() wire.Role { return nodes[2].core.Role() }) == wire.RolePrimary
	}, nodes[2].Watch())
	say(t, cl, "after")
	after := cl.Status()
	if after.State != client.Connected || !after.Since.Equal(before.Since) || after.Node != 3 {
		t.Errorf("the player's connection changed: before %+v, after %+v", before, after)
	}
	waitFor(t, 10*time.Second, "both lines in the room", func() bool {
		return containsAll(chatOf(cl), []string{"ann: before", "ann: after"})
	}, cl.Notify())
}
