package replica

import "github.com/gridlock-game/gridlock/wire"

// Checked reads, after Raft's ReadIndex. A primary that answered a read
// from its own state alone could be one that has been deposed without
// knowing it yet, and would answer with a stale state. So a read waits for
// proof that this node still leads after the read arrived: a round of
// messages sent after it, acknowledged by a majority of the voters (in
// availability mode, by every backup in the view). It is answered once the
// state has applied everything that was committed when it arrived, and an
// entry of the primary's own epoch has committed (before that, the primary
// may not know all that is committed).

// ReadResult says whether a read can be answered from the state now (OK),
// or must be sent elsewhere (this node no longer leads).
type ReadResult struct {
	ID uint64
	OK bool
}

type readReq struct {
	id    uint64
	index uint64 // the commit index when it arrived
	after uint64 // the last round sent before it arrived
}

// Read asks to answer read id from this node's state. The answer comes in
// Ready().Reads.
func (c *Core) Read(id uint64) error {
	if c.role != wire.RolePrimary {
		return c.notPrimary()
	}
	if !c.quorumReachable() {
		return ErrNoQuorum
	}
	c.reads = append(c.reads, readReq{id: id, index: c.commit, after: c.round})
	return nil
}

// confirmed reports whether a round after r was acknowledged by enough
// nodes.
func (c *Core) confirmed(round uint64) bool {
	acked := func(id wire.NodeID) bool {
		if id == c.id {
			return true
		}
		m := c.members[id]
		return m != nil && m.ackRound > round
	}
	if c.cfg.Quorum {
		v := c.voters()
		n := 0
		for _, id := range v {
			if acked(id) {
				n++
			}
		}
		return n >= majority(len(v))
	}
	for _, id := range c.memberIDs() {
		if c.members[id].inView && !acked(id) {
			return false
		}
	}
	return true
}

// answerReads moves the reads that may be answered now into Ready.
func (c *Core) answerReads() {
	if len(c.reads) == 0 || c.commit < c.officeIndex {
		return
	}
	keep := c.reads[:0]
	for _, r := range c.reads {
		if c.applied >= max(r.index, c.officeIndex) && (c.confirmed(r.after) || mutant("uncheckedread")) {
			c.out.Reads = append(c.out.Reads, ReadResult{ID: r.id, OK: true})
			continue
		}
		keep = append(keep, r)
	}
	c.reads = keep
}

// failReads answers every waiting read with "not here" (the node stopped
// leading).
func (c *Core) failReads() {
	for _, r := range c.reads {
		c.out.Reads = append(c.out.Reads, ReadResult{ID: r.id})
	}
	c.reads = nil
}

// readsWaiting reports whether a read waits for a round not yet sent.
func (c *Core) readsWaiting() bool {
	for _, r := range c.reads {
		if r.after == c.round {
			return true
		}
	}
	return false
}
