package replica

import (
	"slices"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// When the core wants the time. A runtime may tick on a fixed step of half
// a heartbeat, or sleep until Due. An idle cluster is steady: a primary with
// nothing in flight, and backups that hear it. Its only timers are the
// periodic sends (beacons, the primary's heartbeats) and the suspicion of
// silent peers, so a node wakes once a period, and the nodes' sends fall
// into one burst: a backup sends its beacon when its primary's heartbeat
// comes, instead of waking again for it a moment later. The period
// stretches while steady: a crash still breaks links at once, and a hung
// node is still suspected after the same silence. Anything else (an
// election, entries in flight, a member catching up) keeps the fixed
// step's timing and the heartbeat's period.

// Due returns the time by which the core wants its next Tick, and
// remembers it: a Tick later than that by more than the fixed step
// tolerates means the process was not running.
func (c *Core) Due() int64 {
	due := c.now + int64(c.cfg.Heartbeat)/2
	if c.steady() {
		every := c.steadyEvery()
		due = c.now + every
		at := func(t int64) { due = min(due, t) }
		at(c.beaconAt())
		for _, id := range c.ids {
			if p := c.peers[id]; c.alive(p) {
				at(p.lastHeard + int64(c.cfg.Suspicion) + 1)
			}
		}
		if c.role == wire.RoleBackup {
			at(c.lastFromLeader + c.leaderQuiet() + 1)
		} else {
			at(c.lastHB + every)
			if d := c.state.NextDeadline(); d != 0 {
				at(c.now + d - c.gameNow())
			}
		}
	}
	if mutant("latedue") {
		due += 100 * int64(c.cfg.Suspicion)
	}
	c.due = max(due, c.now)
	return c.due
}

// missed is how long the core went without a Tick it should have had:
// the gap since the last one for a runtime on the fixed step, the lateness
// past Due (plus the step it replaces) for one that slept until then.
func (c *Core) missed(now, gap int64) int64 {
	if c.due == 0 {
		return gap
	}
	m := now - c.due + int64(c.cfg.Heartbeat)/2
	c.due = 0
	return m
}

// beaconAt is when this node's own timer sends its next beacon. A steady
// primary sends it with its heartbeat; a steady backup sends it when its
// primary's heartbeat comes (beaconWithPrimary), with a timer of its own
// only in case that is late; anyone else every heartbeat.
func (c *Core) beaconAt() int64 {
	hb := int64(c.cfg.Heartbeat)
	if !c.steady() {
		return c.lastBeacon + hb
	}
	every := c.steadyEvery()
	if c.role == wire.RoleBackup {
		return c.lastBeacon + every + hb/2
	}
	return min(c.lastBeacon, c.lastHB) + every
}

// beaconWithPrimary sends a steady backup's beacon as its primary's
// heartbeat (or entries) arrive, so that the cluster's sends go in one
// burst, if half a period has passed since its last.
func (c *Core) beaconWithPrimary() {
	if c.now-c.lastBeacon >= c.steadyEvery()/2 && c.steady() {
		c.lastBeacon = c.now
		c.send(0, c.beacon())
	}
}

func (c *Core) beacon() *wire.Beacon {
	c.said = said{c.role, c.epoch}
	return &wire.Beacon{
		Instance:   c.cfg.Life,
		Quorum:     c.cfg.Quorum,
		Recovering: c.recovering,
		From:       c.id,
		Epoch:      c.epoch,
		Role:       c.role,
		Leader:     c.leader,
		Commit:     c.commit,
		Last:       c.log.last(),
		ClusterID:  c.ClusterID(),
	}
}

// ClusterID is the id of the history this node holds: its state's, or its
// log's genesis if that is not applied yet (0: none).
func (c *Core) ClusterID() uint64 {
	if id := c.state.ClusterID(); id != 0 {
		return id
	}
	if e := c.log.entry(1); e != nil {
		if g, ok := e.Entry.Cmd.(game.Genesis); ok {
			return g.ClusterID
		}
	}
	return 0
}

type said struct {
	role  wire.Role
	epoch wire.Epoch
}

// announce sends a beacon at once when this node settles in a new role or
// office (primary or backup), instead of at its next period: every app's
// sidebar shows a new primary and its backups as they happen.
func (c *Core) announce() {
	if (c.role == wire.RolePrimary || c.role == wire.RoleBackup) && (said{c.role, c.epoch}) != c.said {
		c.lastBeacon = c.now
		c.send(0, c.beacon())
	}
}

// greet answers a starting node's beacon with this node's own at once
// (at most one every quarter heartbeat): a node that starts learns of the
// cluster in one round trip, however long the steady period, and a lost
// answer is made good by the next beacon it sends while it listens.
func (c *Core) greet(b *wire.Beacon) {
	if b.Role == wire.RoleStarting && c.role != wire.RoleStarting && c.now-c.lastBeacon >= int64(c.cfg.Heartbeat)/4 {
		c.lastBeacon = c.now
		c.send(0, c.beacon())
	}
}

// steady reports whether only the heartbeat's timers run (see above).
func (c *Core) steady() bool {
	switch c.role {
	case wire.RoleBackup:
		return c.leader != 0 && c.leader != c.id && c.Alive(c.leader) &&
			c.now-c.lastFromLeader <= c.leaderQuiet() && len(c.unreported) == 0
	case wire.RolePrimary:
	default:
		return false
	}
	last := c.log.last()
	if !c.quorumReachable() || c.commit != last || c.applied != last || c.commitNews || c.shrunk ||
		c.tickPending || len(c.reads) > 0 || len(c.rollback) > 0 || c.confIndex > c.commit {
		return false
	}
	v := c.voters()
	for id, m := range c.members {
		p := c.peers[id]
		if p == nil || !m.inView || m.needSnap || m.waitSince != 0 || m.match != last || m.next != last+1 || m.caughtUp != 0 || p.recovering {
			return false
		}
		if !p.left && !slices.Contains(v, id) && len(v) < game.MaxVoters {
			return false // reconfigure would add it
		}
	}
	return true
}

// every is the period of the heartbeat's sends: stretched while steady.
func (c *Core) every() int64 {
	if c.steady() {
		return c.steadyEvery()
	}
	return int64(c.cfg.Heartbeat)
}

// steadyEvery is the steady period: up to two heartbeats, so long as a
// suspicion timeout still spans three.
func (c *Core) steadyEvery() int64 {
	hb := int64(c.cfg.Heartbeat)
	return max(hb, min(2*hb, int64(c.cfg.Suspicion)/3))
}

// leaderQuiet is how long a backup hears nothing from its primary before
// it asks to join again: a heartbeat past the longest period.
func (c *Core) leaderQuiet() int64 {
	return c.steadyEvery() + int64(c.cfg.Heartbeat)
}
