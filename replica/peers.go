package replica

import (
	"slices"

	"github.com/gridlock-game/gridlock/wire"
)

// Peers and failure detection: what a node knows of the others, and when it
// suspects one.

func (c *Core) peer(id wire.NodeID) *peer {
	p, ok := c.peers[id]
	if !ok {
		p = &peer{id: id}
		c.peers[id] = p
		i, _ := slices.BinarySearch(c.ids, id)
		c.ids = slices.Insert(c.ids, i, id)
	}
	return p
}

// heard records that a message from id arrived now.
func (c *Core) heard(id wire.NodeID, beacon bool) *peer {
	p := c.peer(id)
	// A beacon that was under way when the link broke does not revive the
	// peer; only one sent well after does. (Peer-link messages come on a
	// live link: they are news.)
	if beacon && p.downAt != 0 && c.now-p.downAt < int64(c.cfg.Heartbeat)/2 {
		return p
	}
	if !p.known || p.suspected {
		c.notice(wire.NoticeJoined, id, "n%d is up", id)
		c.out.RoleChanged = true
		p.left = false
	}
	p.known = true
	p.suspected = false
	p.downAt = 0
	p.lastHeard = c.now
	return p
}

func (c *Core) alive(p *peer) bool {
	return p.known && p.downAt == 0 && c.now-p.lastHeard <= int64(c.cfg.Suspicion)
}

// Alive reports whether the node believes peer id alive.
func (c *Core) Alive(id wire.NodeID) bool {
	if id == c.id {
		return true
	}
	p, ok := c.peers[id]
	return ok && c.alive(p)
}

// aliveIDs returns the live peers' ids, sorted.
func (c *Core) aliveIDs() []wire.NodeID {
	var out []wire.NodeID
	for _, id := range c.ids {
		if c.alive(c.peers[id]) {
			out = append(out, id)
		}
	}
	return out
}

// reachable counts this node and its live peers.
func (c *Core) reachable() int { return 1 + len(c.aliveIDs()) }

// LinkDown tells the core that the link to peer id broke: it is suspected at
// once (a crashed process is noticed in milliseconds).
func (c *Core) LinkDown(id wire.NodeID) {
	p, ok := c.peers[id]
	if !ok || p.suspected {
		return
	}
	p.downAt = c.now
	c.onSuspect(p, "link down")
}

func (c *Core) onSuspect(p *peer, why string) {
	p.suspected = true
	c.notice(wire.NoticeSuspected, p.id, "n%d suspected (%s)", p.id, why)
	c.out.RoleChanged = true
	if c.role == wire.RolePrimary || c.role == wire.RoleSyncing {
		if m := c.members[p.id]; m != nil {
			delete(c.members, p.id)
			if m.inView {
				c.notice(wire.NoticeViewDrop, p.id, "n%d left the view", p.id)
				c.shrunk = true
			}
		}
	}
	if c.sync != nil {
		c.sync.peerGone(c, p.id)
	}
	if c.role == wire.RoleElecting && !c.gotOK && p.id > c.id {
		// The higher node we asked is gone: if it was the last one, do
		// not wait for its answer.
		higher := false
		for _, id := range c.aliveIDs() {
			higher = higher || id > c.id
		}
		if !higher {
			c.beginViewChange()
			return
		}
	}
	if p.id == c.leader && (c.role == wire.RoleBackup || c.role == wire.RoleStarting) {
		c.startElection("primary n%d lost (%s)", p.id, why)
	}
}
