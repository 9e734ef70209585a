package replica

import (
	"fmt"
	"slices"

	"github.com/gridlock-game/gridlock/wire"
)

// startElection runs Bully from this node: ELECTION to every live higher
// id; with none, the node takes office at once.
func (c *Core) startElection(format string, args ...any) {
	if c.role == wire.RoleLeaving {
		return
	}
	if c.now < c.quietUntil {
		c.retryElectionAt = c.quietUntil
		return
	}
	led := c.role == wire.RolePrimary || c.role == wire.RoleSyncing
	if led {
		c.stepDown("new election")
	}
	if !c.canLead() {
		// It catches up (or waits for a cluster to join) and lets the
		// others elect; it tries again later.
		if c.role != wire.RoleBackup && c.role != wire.RoleStarting {
			c.setRole(wire.RoleBackup)
		}
		if c.leader == c.id {
			c.leader = 0 // it led: now it looks for a primary, and retries
		}
		// Its epoch may be newer than a live primary's (it led, or
		// followed a primary now gone), which would then never take it
		// in: that primary learns it and elects anew, in an epoch this
		// node follows.
		for _, id := range c.aliveIDs() {
			if p := c.peers[id]; p.role == wire.RolePrimary && (led || p.epoch.Before(c.epoch)) {
				c.send(id, c.stateReply())
			}
		}
		c.retryElectionAt = c.now + int64(c.cfg.Heartbeat)
		return
	}
	if c.log.last() > 0 && !c.quorumReachable() {
		if c.role != wire.RoleNoQuorum {
			n, need := c.reachableVoters()
			c.notice(wire.NoticeNoQuorum, c.id, "%s", wire.NoQuorumText(n, need))
		}
		c.noQuorum()
		return
	}
	var higher []wire.NodeID
	for _, id := range c.aliveIDs() {
		// A higher primary is asked too, whatever this node's (perhaps
		// stale) configuration says of it: its answer tells it of this
		// node and this node of its epoch.
		if p := c.peers[id]; id > c.id && (c.mayLead(p) || p.role == wire.RolePrimary) {
			higher = append(higher, id)
		}
	}
	kind := wire.NoticeElection
	if format == electAgain {
		kind = wire.NoticeDetail // a retry as a cluster forms: for the log only
	}
	c.notice(kind, c.id, "election: "+format, args...)
	if len(higher) == 0 {
		c.beginViewChange()
		return
	}
	c.setRole(wire.RoleElecting)
	c.gotOK = false
	c.electDeadline = c.now + int64(c.cfg.ElectionAnswer)
	for _, id := range higher {
		c.send(id, &wire.Election{From: c.id, Epoch: c.epoch})
	}
}

func (c *Core) electionTick() {
	if c.now < c.electDeadline {
		return
	}
	if !c.gotOK {
		c.beginViewChange()
		return
	}
	c.startElection(electAgain)
}

const electAgain = "a higher node answered but did not lead"

// maxTerm is the highest term this node has seen anywhere.
func (c *Core) maxTerm() uint64 {
	t := max(c.epoch.Term(), c.log.lastEpoch().Term())
	for _, p := range c.peers {
		t = max(t, p.epoch.Term())
	}
	return t
}

func (c *Core) onElection(m *wire.Election) {
	if m.From > c.id {
		return // ELECTION goes to higher ids only
	}
	if p := c.peers[m.From]; p != nil && p.foreign != 0 && !c.quorumReachable() {
		// The caller holds another cluster's history, and this node
		// has no majority of its own: its OK would keep the caller's
		// cluster waiting for a primary that never comes.
		return
	}
	if c.role != wire.RolePrimary && !c.leadable(false) {
		// OK means "I take over": a node that may not lead (a learner
		// the caller's newer configuration counts as a voter) stays
		// silent, and the caller takes office.
		return
	}
	c.send(m.From, &wire.ElectionOK{From: c.id, Epoch: c.epoch})
	switch c.role {
	case wire.RolePrimary:
		// Still here: remind the caller.
		c.send(m.From, &wire.Coordinator{From: c.id, Epoch: c.epoch, Reminder: true})
	case wire.RoleSyncing:
		c.sync.ask(c, m.From)
	case wire.RoleElecting, wire.RoleLeaving:
	case wire.RoleStarting:
		// Still learning the cluster: it elects when its startup wait
		// ends (the OK keeps the caller waiting for it).
	default:
		c.startElection("n%d called one", m.From)
	}
}

func (c *Core) onElectionOK(m *wire.ElectionOK) {
	if c.role != wire.RoleElecting || m.From < c.id {
		return
	}
	if !c.gotOK {
		c.gotOK = true
		c.electDeadline = c.now + int64(c.cfg.CoordinatorWait)
	}
}

func (c *Core) onCoordinator(m *wire.Coordinator) {
	switch {
	case m.Epoch.Before(c.epoch):
		// A stale primary-elect: tell it of the newer epoch.
		c.send(m.From, &wire.AppendAck{From: c.id, Epoch: c.epoch})
		return
	case m.Epoch == c.epoch:
		if m.Epoch.Node() != m.From || c.role == wire.RolePrimary || c.role == wire.RoleSyncing {
			return
		}
		// A repeat, or our primary reminding us: answer with our state.
		c.leader = m.From
		c.lastFromLeader = c.now
		c.setRole(wire.RoleBackup)
		c.answerCoordinator(m)
		return
	}
	if m.Epoch.Node() != m.From {
		return
	}
	c.learnEpoch(m.Epoch)
	c.answerCoordinator(m)
	if c.id > m.From {
		// Bully: a higher node that is alive takes over, with the
		// state it gathers in its own view change.
		c.startElection("n%d took office but n%d is higher", m.From, c.id)
	}
}

// backupTick watches the primary.
func (c *Core) backupTick() {
	if c.leader == 0 {
		if c.now >= c.retryElectionAt {
			c.startElection("no primary")
		}
		return
	}
	if c.leader == c.id {
		return
	}
	p := c.peers[c.leader]
	if p == nil || !c.alive(p) {
		if (p == nil || !p.known) && c.now-c.lastFromLeader < int64(c.cfg.Suspicion) {
			// Heard of it from others, not yet from it: give it time.
			c.askToJoin()
			return
		}
		if c.now >= c.retryElectionAt {
			c.startElection("primary n%d lost", c.leader)
		}
		return
	}
	if c.now-c.lastFromLeader > int64(c.cfg.Suspicion) && c.now >= c.retryElectionAt {
		// Alive, but not leading us: it does not answer our requests
		// to join. Elect.
		c.startElection("n%d does not lead", c.leader)
		return
	}
	if c.now-c.lastFromLeader > c.leaderQuiet() {
		c.askToJoin()
	}
	c.forgetReported() // a snapshot may have brought the news
	if c.now-c.lastReport >= int64(c.cfg.Heartbeat) {
		c.sendReport()
	}
}

// String describes where the node stands, for logs and test failures.
func (c *Core) String() string {
	return fmt.Sprintf("n%d %s epoch %d leader n%d commit %d last %d", c.id, c.role, c.epoch.Term(), c.leader, c.commit, c.log.last())
}

// noQuorum stops this node acting as primary until a quorum is reachable
// again; it tries again after a suspicion timeout.
func (c *Core) noQuorum() {
	c.setRole(wire.RoleNoQuorum)
	c.leader = 0
	c.retryElectionAt = c.now + int64(c.cfg.Suspicion)
}

// answerCoordinator sends this node's state to a primary-elect. A
// recovering node remembers the view changes it answered as such: they
// take office without counting it (see recovered).
func (c *Core) answerCoordinator(m *wire.Coordinator) {
	if c.recovering && !m.Reminder && !slices.Contains(c.recoverEpochs, m.Epoch) {
		c.recoverEpochs = append(c.recoverEpochs, m.Epoch)
		if len(c.recoverEpochs) > 16 {
			c.recoverEpochs = trimAnswered(c.recoverEpochs)
		}
	}
	c.send(m.From, c.stateReply())
}
