package replica

import (
	"slices"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Membership. The configuration (who votes) is replicated state: the
// genesis entry names the first voters, and each Membership entry names
// the next ones. As in Raft's single-server changes, a node takes the
// newest configuration in its log as its own as soon as the entry is there,
// committed or not; a primary proposes one change at a time (the next only
// once the last has committed) and only once an entry of its own epoch has
// committed, so that any two configurations in play differ by one voter
// and their majorities meet.
//
// A node that joins is a learner: it catches up, and the primary then adds
// it. A node that leaves gracefully is removed. A node that lost its data
// (a restart without a disk, or an empty data directory) is recovering: it
// neither votes nor leads until a view change it took part in as
// recovering (so one that did not count it) has given it the state.

// voters returns the configuration as this node's log has it.
func (c *Core) voters() []wire.NodeID {
	if c.confDirty {
		c.loadConf()
	}
	return c.conf
}

// loadConf finds the newest configuration: in the log's unapplied tail,
// else the state's.
func (c *Core) loadConf() {
	c.confDirty = false
	for i := c.log.last(); i > c.applied && i > c.log.snapIndex; i-- {
		if v, ok := confOf(c.log.entry(i).Entry.Cmd); ok {
			c.conf, c.confIndex = v, i
			return
		}
	}
	c.conf, c.confIndex = toNodeIDs(c.state.Voters()), 0
}

// committedVoters is the configuration as of this node's commit index:
// the newest one that no view change can lose.
func (c *Core) committedVoters() []wire.NodeID {
	if c.voters(); c.confIndex <= c.commit {
		return c.conf
	}
	for i := c.commit; i > c.applied && i > c.log.snapIndex; i-- {
		if v, ok := confOf(c.log.entry(i).Entry.Cmd); ok {
			return v
		}
	}
	return toNodeIDs(c.state.Voters())
}

// confOf returns the configuration an entry sets, if it sets one.
func confOf(cmd game.Command) ([]wire.NodeID, bool) {
	switch cmd := cmd.(type) {
	case game.Membership:
		return toNodeIDs(cmd.Voters), true
	case game.Genesis:
		if cmd.Voters != nil {
			return toNodeIDs(cmd.Voters), true
		}
	}
	return nil, false
}

func toNodeIDs(v []uint16) []wire.NodeID {
	out := make([]wire.NodeID, len(v))
	for i, id := range v {
		out[i] = wire.NodeID(id)
	}
	return out
}

func toUint16s(v []wire.NodeID) []uint16 {
	out := make([]uint16, len(v))
	for i, id := range v {
		out[i] = uint16(id)
	}
	return out
}

// logChanged is called after every change to the log's tail.
func (c *Core) logChanged() { c.confDirty = true }

func (c *Core) isVoter(id wire.NodeID) bool {
	_, ok := slices.BinarySearch(c.voters(), id)
	return ok
}

func majority(n int) int { return n/2 + 1 }

// Voters returns the configuration as this node's log has it.
func (c *Core) Voters() []wire.NodeID { return slices.Clone(c.voters()) }

// Recovering reports whether this node lost its data and has not caught
// up since: it neither votes nor leads.
func (c *Core) Recovering() bool { return c.recovering }

// voterUp reports whether a voter is reachable: itself, or a live peer. A
// recovering voter counts here (it acknowledges entries, and a primary
// keeps its office while it catches up), though not in a view change.
func (c *Core) voterUp(id wire.NodeID) bool {
	if id == c.id {
		return true
	}
	p := c.peers[id]
	return p != nil && c.alive(p) && p.foreign == 0
}

// quorumReachable reports whether, in quorum mode, a majority of the
// voters is reachable (always true in availability mode).
func (c *Core) quorumReachable() bool {
	if !c.cfg.Quorum {
		return true
	}
	n, need := c.reachableVoters()
	return n >= need
}

// ShortOfVoters reports, in quorum mode with fewer voters reachable than a
// majority, how many are and how many it takes (else 0, 0): no election
// can end until more are back.
func (c *Core) ShortOfVoters() (up, need int) {
	if !c.cfg.Quorum {
		return 0, 0
	}
	if up, need = c.reachableVoters(); up >= need {
		return 0, 0
	}
	return up, need
}

// reachableVoters counts the voters that are reachable, and how many a
// majority takes.
func (c *Core) reachableVoters() (n, need int) {
	if mutant("anyquorum") {
		return c.reachable(), majority(c.reachable())
	}
	v := c.voters()
	for _, id := range v {
		if c.voterUp(id) {
			n++
		}
	}
	return n, majority(len(v))
}

// canLead reports whether this node may take office: a voter that is not
// recovering, or, with no data at all, a node allowed to create the
// cluster.
func (c *Core) canLead() bool { return c.leadable(true) }

// leadable is canLead, or with now false whether this node may take office
// once it has listened long enough (what its OK to an election promises:
// the caller waits for it rather than take office beside it).
func (c *Core) leadable(now bool) bool {
	if c.log.last() == 0 {
		return c.mayBootstrap(now)
	}
	if now && c.reachable() == 1 && c.hasty() {
		return false // alone, it could lead a branch beside a node it has not heard
	}
	return (!c.recovering || mutant("emptyvote")) && c.isVoter(c.id)
}

// hasty reports whether this node has listened for less than the silence
// that has a known node suspected by default (five heartbeats, or the
// suspicion timeout if that is shorter; a longer one, set for nodes that
// hang, holds nothing up). Until then a node it has not heard yet may be
// there: it neither makes a new cluster nor takes office alone, which
// would leave that node with a game beside its own.
func (c *Core) hasty() bool {
	d := min(int64(c.cfg.Suspicion), 5*int64(c.cfg.Heartbeat))
	return c.now-c.started < d && !mutant("hastyoffice")
}

// mayLead reports whether, as far as this node knows, peer p could take
// office: Bully waits only for higher nodes that can.
func (c *Core) mayLead(p *peer) bool {
	if p.last == 0 && c.log.last() == 0 {
		return c.cfg.BootstrapAny || slices.Contains(c.cfg.Bootstrap, p.id)
	}
	if p.recovering {
		return false
	}
	return c.log.last() == 0 || c.isVoter(p.id)
}

// mayBootstrap reports whether this node, which has no data, may create a
// new cluster now: no node in sight has data, and every bootstrap voter is
// up (an empty one could be a node that lost its data; only when all of
// them are here and empty is there no game to lose).
func (c *Core) mayBootstrap(now bool) bool {
	if !c.cfg.BootstrapAny && !slices.Contains(c.cfg.Bootstrap, c.id) {
		return false
	}
	if now && c.hasty() {
		return false
	}
	for _, p := range c.peers {
		if c.alive(p) && p.last > 0 {
			return false
		}
	}
	for _, id := range c.cfg.Bootstrap {
		if id != c.id && !c.Alive(id) {
			return false
		}
	}
	return true
}

// bootstrapVoters is the configuration of a cluster this node creates: the
// bootstrap voters, or (BootstrapAny) every node here, all of them empty.
func (c *Core) bootstrapVoters(members []wire.NodeID) []uint16 {
	v := slices.Clone(c.cfg.Bootstrap)
	if c.cfg.BootstrapAny {
		v = append(v, members...)
	}
	v = append(v, c.id)
	slices.Sort(v)
	v = slices.Compact(v)
	if len(v) > game.MaxVoters {
		v = v[len(v)-game.MaxVoters:]
	}
	if !slices.Contains(v, c.id) {
		v = append(v[1:], c.id)
	}
	slices.Sort(v)
	return toUint16s(v)
}

// reconfigure, on a primary, proposes the next configuration change, if
// one is due: first the removal of a voter that left, then the promotion of
// a learner that has caught up.
func (c *Core) reconfigure() {
	if c.role != wire.RolePrimary || c.commit < c.officeIndex {
		return // an entry of this epoch must commit first
	}
	v := c.voters()
	if c.confIndex > c.commit {
		return // one change at a time
	}
	for _, id := range v {
		if p := c.peers[id]; p != nil && p.left && !c.alive(p) && len(v) > 1 {
			c.propose(slices.DeleteFunc(slices.Clone(v), func(x wire.NodeID) bool { return x == id }), "n%d left: removed from the configuration", id)
			return
		}
	}
	for _, id := range c.memberIDs() {
		m := c.members[id]
		p := c.peers[id]
		if slices.Contains(v, id) || !m.inView || p == nil || p.recovering || p.left || m.match < c.commit || len(v) >= game.MaxVoters {
			continue
		}
		next := append(slices.Clone(v), id)
		slices.Sort(next)
		c.propose(next, "n%d has caught up: it votes from now on", id)
		return
	}
}

func (c *Core) propose(v []wire.NodeID, format string, args ...any) {
	c.notice(wire.NoticeViewJoin, c.id, format, args...)
	c.appendEntry(game.Entry{Cmd: game.Membership{Voters: toUint16s(v)}})
	c.out.RoleChanged = true
}

// recovered clears the recovering mark once this node holds an entry of
// an epoch whose view change it answered as recovering: that primary took
// office without counting it, with every commit, and this node now holds
// the log as it was then.
func (c *Core) recovered() {
	if !c.recovering {
		return
	}
	if !c.cfg.Quorum && c.leader != 0 && c.leader != c.id && c.commit > 0 && c.commit >= c.leaderCommit {
		// Without a quorum nothing is counted: holding everything its
		// primary says is committed is being caught up.
		c.clearRecovering()
		return
	}
	for _, e := range c.recoverEpochs {
		for _, h := range c.log.history {
			if h.Epoch == e && h.Index <= c.log.last() {
				c.clearRecovering()
				return
			}
		}
	}
}

// recoveredMember reports whether a member that is recovering has caught
// up with this primary's log: it has held the commit index of when it
// joined, for two heartbeats. Under steady play its match trails the
// commit by a command or two at every turn, so the target is fixed when
// it joins rather than chased.
func (c *Core) recoveredMember() bool {
	for _, id := range c.memberIDs() {
		m := c.members[id]
		if p := c.peers[id]; p == nil || !p.recovering || !m.inView {
			m.caughtUp, m.catchUpTo = 0, 0
			continue
		}
		if m.catchUpTo == 0 {
			m.catchUpTo = max(c.commit, 1)
		}
		if m.caughtUp == 0 && m.match >= m.catchUpTo {
			m.caughtUp = c.now
		}
		// A beacon sent before it recovered may still arrive: let a
		// newer one speak first.
		if m.caughtUp != 0 && c.now-m.caughtUp >= 2*int64(c.cfg.Heartbeat) {
			return true
		}
	}
	return false
}

// recoveringSince is a view change this node answered as recovering in
// this life (0: none, or it is not recovering): the oldest that its
// epoch's primary ran in the same process, else the first. A primary that
// made the cluster, and was not the first to ask, learns that the node
// answered it (see founder).
func (c *Core) recoveringSince() wire.Epoch {
	if !c.recovering || len(c.recoverEpochs) == 0 {
		return wire.Epoch{}
	}
	for _, e := range c.recoverEpochs {
		if sameProcess(e, c.epoch) {
			return e
		}
	}
	return c.recoverEpochs[0]
}

// sameProcess reports whether two epochs were made by one process (a known
// life: epochs of one process only grow).
func sameProcess(e, f wire.Epoch) bool {
	return e.Node() == f.Node() && e.Life() == f.Life() && e.Life() != 0
}

// founder reports whether a recovering node that answered a view change is
// one that has never held an entry: it is empty, and in this life it
// answered the view change that made the cluster (the epoch of the genesis
// entry) or an earlier one of the same process, sent before any entry
// existed. It has nothing to forget, so its vote counts.
func founder(r *wire.StateReply, genesis wire.Epoch) bool {
	s := r.Since
	return r.Recovering && r.Last == 0 && !genesis.IsZero() && (s == genesis || sameProcess(s, genesis) && !s.After(genesis))
}

// trimAnswered drops one of the view changes a recovering node answered:
// the oldest (never the newest) whose process has an older one listed,
// else the second. The first and each process's oldest tell whether the
// node saw the cluster made (see founder).
func trimAnswered(es []wire.Epoch) []wire.Epoch {
	for i := 1; i < len(es)-1; i++ {
		if slices.ContainsFunc(es[:i], func(e wire.Epoch) bool { return sameProcess(e, es[i]) }) {
			return slices.Delete(es, i, i+1)
		}
	}
	return slices.Delete(es, 1, 2)
}

// genesisEpoch is the epoch the cluster was made in, as this node's log or
// the answers it has say (0: unknown).
func (c *Core) genesisEpoch(replies map[wire.NodeID]*wire.StateReply) wire.Epoch {
	if c.log.last() > 0 && len(c.log.history) > 0 && c.log.history[0].Index == 1 {
		return c.log.history[0].Epoch
	}
	for _, r := range replies {
		if r.Last > 0 && len(r.History) > 0 && r.History[0].Index == 1 {
			return r.History[0].Epoch
		}
	}
	return wire.Epoch{}
}

func (c *Core) clearRecovering() {
	c.recovering = false
	c.recoverEpochs = nil
	c.hardChanged = true
	c.notice(wire.NoticeViewJoin, c.id, "n%d started with no data and has caught up", c.id)
	c.out.RoleChanged = true
}

// foreign reports whether, in quorum mode, an answer comes from a node that
// holds another cluster's history: one made afresh under the same name,
// beside an old data directory, say. Its log is neither weighed nor
// counted, and it is not taken in: whichever history won would overwrite
// the other's committed entries, which quorum mode never rolls back.
// (Availability mode merges them as it merges branches, and announces
// what it drops.)
func (c *Core) foreign(r *wire.StateReply) bool {
	mine := c.ClusterID()
	if !c.cfg.Quorum || mine == 0 || r.Cluster == 0 || r.Cluster == mine {
		if p := c.peers[r.From]; p != nil {
			p.foreign = 0
		}
		return false
	}
	if p := c.peer(r.From); p.foreign != r.Cluster {
		p.foreign = r.Cluster
		c.notice(wire.NoticeViewDrop, r.From, "n%d holds the data of another cluster of this name (its id %x, this node's %x): the two are kept apart (a node that should join the other cluster needs an empty data directory)", r.From, r.Cluster, mine)
	}
	return true
}
