package replica

import (
	"slices"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Proposed is what Propose did with a command.
type Proposed struct {
	// Index is the log index the command will commit at (0 when Done).
	Index uint64
	// Done means the command was applied before (a retry): Result is its
	// first result and nothing was logged.
	Done   bool
	Result game.Result
}

// Propose orders a client command into the log. The answer comes later, in
// Ready().Committed, once every backup in the view holds it. A command with
// a (session, seq) already in the log is not logged twice.
func (c *Core) Propose(session game.SessionID, seq uint64, cmd game.Command) (Proposed, error) {
	if c.role != wire.RolePrimary {
		return Proposed{}, c.notPrimary()
	}
	if !c.quorumReachable() {
		return Proposed{}, ErrNoQuorum
	}
	if session != 0 {
		if res, ok := c.state.Result(session, seq); ok {
			return Proposed{Done: true, Result: res}, nil
		}
		if i, ok := c.pending[dedupeKey{session, seq}]; ok {
			return Proposed{Index: i}, nil
		}
	}
	i := c.appendEntry(game.Entry{Session: session, Seq: seq, Cmd: cmd})
	return Proposed{Index: i}, nil
}

// appendEntry adds an entry of this primary's epoch to its log.
func (c *Core) appendEntry(e game.Entry) uint64 {
	e.Time = c.gameNow()
	if le := c.log.entry(c.log.last()); le != nil && le.Entry.Time > e.Time {
		e.Time = le.Entry.Time // time never goes back, whoever's clock
	}
	c.log.append(wire.LogEntry{Epoch: c.epoch, Entry: e})
	c.logChanged()
	c.appended(c.log.last())
	c.log.setSupport(c.epoch, c.officeSupport)
	i := c.log.last()
	if e.Session != 0 {
		c.pending[dedupeKey{e.Session, e.Seq}] = i
	}
	return i
}

// gameNow is the time the game's clocks run on: wall time, never going
// back from the last entry's.
func (c *Core) gameNow() int64 {
	if c.wall != 0 {
		return c.wall
	}
	return c.now
}

func (c *Core) primaryTick() {
	if !c.quorumReachable() {
		n, need := c.reachableVoters()
		c.stepDown("quorum lost")
		c.notice(wire.NoticeNoQuorum, c.id, "%s", wire.NoQuorumText(n, need))
		c.noQuorum()
		return
	}
	for _, id := range c.memberIDs() {
		m := c.members[id]
		if m.inView && m.waitSince != 0 && c.now-m.waitSince > int64(c.cfg.AckTimeout) {
			m.inView = false
			c.shrunk = true
			c.notice(wire.NoticeViewDrop, id, "n%d left the view (no acknowledgement in %v)", id, c.cfg.AckTimeout)
			c.out.RoleChanged = true
		}
		// Go back and resend what may have been lost.
		if !m.needSnap && m.next > m.match+1 && c.now-m.sentAt >= int64(c.cfg.Heartbeat) && c.now-m.lastAck >= int64(c.cfg.Heartbeat) {
			m.next = m.match + 1
		}
	}
	if c.shrunk {
		c.shrunk = false
		if !mutant("norenew") {
			c.renew()
			return
		}
	}
	if c.cfg.Quorum && c.recoveredMember() && (c.lastRenew == 0 || c.now-c.lastRenew >= int64(c.cfg.Suspicion)) {
		// A member that lost its data has caught up: a view change that
		// does not count it makes sure it holds every commit, after which
		// it may vote again.
		c.lastRenew = c.now
		c.renew()
		return
	}
	c.advanceCommit()
	c.reconfigure()
	if !c.tickPending {
		if d := c.state.NextDeadline(); d != 0 && c.gameNow() >= d {
			c.tickPending = true
			c.appendEntry(game.Entry{Cmd: game.Tick{}})
		}
	}
}

func (c *Core) memberIDs() []wire.NodeID {
	ids := make([]wire.NodeID, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// flush sends the primary's new entries (and heartbeats) to its backups.
func (c *Core) flush() {
	c.announce()
	if c.role != wire.RolePrimary {
		return
	}
	c.flushRollback()
	hb := c.now-c.lastHB >= c.every()
	if hb {
		c.lastHB = c.now
	}
	c.advanceCommit()
	// News of a commit goes out on its own a little later, so that under
	// load it rides on the next entries instead of doubling the messages.
	news := c.commitNews && c.now-c.lastNews >= int64(c.cfg.Heartbeat)/20
	if news {
		c.lastNews = c.now
		c.commitNews = false
	}
	if c.readsWaiting() {
		hb = true // a read waits for a round sent after it
	}
	c.round++
	for _, id := range c.memberIDs() {
		c.sendTo(c.members[id], hb, news)
	}
	c.answerReads()
}

func (c *Core) sendTo(m *member, hb, news bool) {
	last := c.log.last()
	if !m.needSnap && m.next <= c.log.snapIndex {
		m.needSnap = true
	}
	if m.needSnap {
		if m.snapSent == 0 || c.now-m.snapSent >= int64(c.cfg.AckTimeout) {
			m.snapSent = c.now
			if m.waitSince == 0 {
				m.waitSince = c.now
			}
			s := c.snapshotMsg()
			c.send(m.id, s)
			m.next = s.Index + uint64(len(s.Tail)) - s.Before + 1
		}
		return
	}
	if m.next <= last && (hb || !c.cfg.UnsafeAsync) {
		upto := min(last, m.next-1+uint64(c.cfg.MaxBatch))
		m.sentCommit = c.commit
		c.send(m.id, c.appendMsg(m.next-1, c.log.slice(m.next-1, upto)))
		m.next = upto + 1
		m.sentAt = c.now
		if m.waitSince == 0 {
			m.waitSince = c.now
		}
		return
	}
	if hb || news && m.sentCommit < c.commit {
		// A heartbeat, or news of a commit: backups learn soon what was
		// committed (a backup that must report a rollback knows).
		m.sentCommit = c.commit
		c.send(m.id, c.appendMsg(min(m.match, last), nil))
	}
}

// appendMsg carries entries after index prev (none: a heartbeat).
func (c *Core) appendMsg(prev uint64, entries []wire.LogEntry) *wire.Append {
	pe, _ := c.log.epochAt(prev)
	a := &wire.Append{
		From: c.id, Epoch: c.epoch,
		PrevIndex: prev, PrevEpoch: pe,
		Commit: c.commit, Support: c.officeSupport, Sent: int64(c.round),
		Entries: entries,
	}
	if len(entries) > 0 && entries[0].Epoch != c.epoch && !mutant("nohistory") {
		a.History = c.log.recordsOf(prev, prev+uint64(len(entries)), c.epoch)
	}
	return a
}

// advanceCommit moves the commit index as far as the rule allows: every
// backup in the view holds the entry (or, with a quorum, Quorum nodes do),
// and it belongs to this epoch.
func (c *Core) advanceCommit() {
	if c.role != wire.RolePrimary {
		return
	}
	last := c.selfMatch() // what of its own log is on disk
	to := last
	switch {
	case c.cfg.UnsafeAsync:
		to = c.log.last()
	case c.cfg.Quorum:
		// The highest index a majority of the voters holds.
		v := c.voters()
		if mutant("anyquorum") {
			v = append(c.InView(), c.id)
		}
		matches := make([]uint64, 0, len(v))
		for _, id := range v {
			switch m := c.members[id]; {
			case id == c.id:
				matches = append(matches, last)
			case m != nil:
				matches = append(matches, m.match)
			default:
				matches = append(matches, 0)
			}
		}
		slices.Sort(matches)
		to = matches[len(matches)-majority(len(matches))]
	default:
		if c.shrunk && !mutant("norenew") {
			return // the view lost a backup: commit again once the office is renewed
		}
		for _, m := range c.members {
			if m.inView {
				to = min(to, m.match)
			}
		}
	}
	if to <= c.commit {
		return
	}
	if e, _ := c.log.epochAt(to); e != c.epoch && !mutant("fig8") {
		return
	}
	if !c.cfg.Quorum {
		// The view may have grown since the office began: the epoch's
		// support is the most nodes that held one of its commits.
		c.officeSupport = max(c.officeSupport, uint8(min(1+len(c.InView()), 255)))
		c.log.setSupport(c.epoch, c.officeSupport)
	}
	c.commit = to
	c.log.setCommitted(c.epoch, to)
	c.applyCommitted()
	c.commitNews = true
}

func (c *Core) onAppendAck(m *wire.AppendAck) {
	if m.Epoch.After(c.epoch) {
		c.learnEpoch(m.Epoch)
		return
	}
	if c.role != wire.RolePrimary || m.Epoch != c.epoch {
		return
	}
	mem := c.members[m.From]
	if mem == nil {
		return
	}
	if m.Sent != 0 && uint64(m.Sent) < mem.ackRound {
		return // answers an older message than one already answered
	}
	mem.lastAck = c.now
	mem.ackRound = max(mem.ackRound, uint64(m.Sent))
	if !m.OK {
		// The log did not match: go back to what it says it has. (A
		// backup that lost its log altogether, by a restart, asks to
		// join again and is caught up from there.)
		if m.NeedSnap {
			mem.needSnap = true
			mem.snapSent = 0
		}
		if m.Match < mem.match {
			// It holds less than was taken for matched: a report from
			// before it lost its log (a restart without its data) came
			// late. Sending from the old match would be refused forever.
			mem.match = m.Match
		}
		mem.next = min(mem.next, m.Match+1)
		if mem.next <= mem.match {
			mem.next = mem.match + 1
		}
		return
	}
	if m.Match > c.log.last() {
		return // acknowledges entries this log does not hold: ignore
	}
	if m.Match > mem.match {
		mem.match = m.Match
		mem.waitSince = 0
		if mem.match < c.log.last() {
			mem.waitSince = c.now
		}
	}
	mem.needSnap = false
	if mem.next <= mem.match {
		mem.next = mem.match + 1
	}
	if !mem.inView && mem.match >= c.log.last() {
		mem.inView = true
		mem.waitSince = 0
		c.notice(wire.NoticeViewJoin, m.From, "n%d joined the view", m.From)
		c.out.RoleChanged = true
	}
	c.advanceCommit()
}

// onJoin takes a node that reports its state to this primary: it catches up
// and joins the view, or, if it holds committed entries of another branch,
// a new view change decides between the branches.
func (c *Core) onJoin(r *wire.StateReply) {
	if c.foreign(r) {
		return
	}
	shape := logShape{history: r.History, last: r.Last}
	d := common(shape, c.shape())
	if r.Commit > d {
		c.startElection("n%d holds committed entries of another branch", r.From)
		return
	}
	if r.Epoch.Before(c.epoch) && r.Epoch.Node() != r.From && (r.Recovering || r.Last == 0) && c.canLead() {
		// A backup of another live primary, catching up there after it
		// lost its data, says it exists: taken in here, it would drop
		// what it was given for this branch before the primaries weigh
		// theirs. They meet in a view change first. (A primary that may
		// not lead takes it in: stepping down, it would be left with an
		// epoch that the other primary never hears of.)
		c.startElection("n%d follows another primary, n%d", r.From, r.Epoch.Node())
		return
	}
	mem := c.members[r.From]
	if mem != nil && mem.inView {
		// Already in the view (this is an old or repeated request): the
		// APPEND stream sorts out where it stands.
		mem.next = min(mem.next, d+1)
		return
	}
	if mem == nil {
		mem = &member{id: r.From}
		c.members[r.From] = mem
		c.notice(wire.NoticeViewJoin, r.From, "n%d is catching up", r.From)
	}
	c.peer(r.From).recovering = r.Recovering
	mem.match, mem.next = d, d+1
	// Where the histories cannot tell where the logs part, only a snapshot
	// is sure to fit (appends from d+1 could be refused forever).
	mem.needSnap = d < c.log.snapIndex || r.Last > d || !known(shape, c.shape(), d)
	mem.snapSent = 0
	mem.lastAck = c.now
	mem.waitSince = 0
}

// follow takes from, the primary of epoch e (not older than this node's),
// as this node's primary. It reports false on a node that leads or is
// taking office: a newer epoch has made it step down, and it waits. A
// backup whose own primary still speaks to it only introduces itself to
// from, as to a newer primary's beacon: taking from's entries could drop
// committed ones of a branch that held more nodes, unweighed.
func (c *Core) follow(from wire.NodeID, e wire.Epoch) bool {
	if e.After(c.epoch) && from != c.leader && c.role == wire.RoleBackup && c.hasOwnPrimary() {
		c.introduce(from)
		return false
	}
	if e.After(c.epoch) {
		c.learnEpoch(e)
	}
	if c.role == wire.RolePrimary || c.role == wire.RoleSyncing {
		return false
	}
	c.leader = from
	c.lastFromLeader = c.now
	c.electDeadline = 0
	c.setRole(wire.RoleBackup)
	c.beaconWithPrimary()
	return true
}

// introduce sends this node's state to the primary of a newer epoch, at
// most once a heartbeat: it takes the node in, or merges their branches.
func (c *Core) introduce(to wire.NodeID) {
	if c.now-c.lastIntroduced >= int64(c.cfg.Heartbeat) {
		c.lastIntroduced = c.now
		c.send(to, c.stateReply())
	}
}

// onAppend is a backup taking entries from its primary.
func (c *Core) onAppend(m *wire.Append) {
	stale := m.Epoch.Before(c.epoch)
	if stale && !mutant("staleack") {
		c.send(m.From, &wire.AppendAck{From: c.id, Epoch: c.epoch})
		return
	}
	if m.Epoch.Node() != m.From {
		return
	}
	if !stale && !c.follow(m.From, m.Epoch) {
		return
	}
	ep := c.epoch
	if stale {
		ep = m.Epoch // the mutant answers the stale primary as its own
	}
	nack := func(needSnap bool, hint uint64) {
		c.send(m.From, &wire.AppendAck{From: c.id, Epoch: ep, Match: hint, Sent: m.Sent, NeedSnap: needSnap})
	}
	prev := m.PrevIndex
	entries := m.Entries
	if prev < c.log.snapIndex {
		// What we folded into the state is committed; skip it.
		skip := c.log.snapIndex - prev
		if skip >= uint64(len(entries)) {
			c.send(m.From, &wire.AppendAck{From: c.id, Epoch: ep, OK: true, Match: c.log.snapIndex, Sent: m.Sent})
			return
		}
		entries = entries[skip:]
		prev = c.log.snapIndex
	} else if !c.log.matches(prev, m.PrevEpoch) {
		switch {
		case prev > c.log.last():
			nack(false, c.log.last())
		case prev <= c.commit:
			nack(true, c.commit)
		default:
			nack(false, c.commit)
		}
		return
	}
	for k, e := range entries {
		i := prev + 1 + uint64(k)
		if i <= c.log.last() {
			if got, _ := c.log.epochAt(i); got == e.Epoch {
				continue
			}
			if i <= c.commit {
				nack(true, c.commit)
				return
			}
			c.log.truncate(i - 1)
			c.truncated(i - 1)
		}
		c.log.append(e)
		c.appended(i)
	}
	c.logChanged()
	c.log.setSupport(m.Epoch, m.Support)
	c.log.mergeHistory(m.History)
	match := prev + uint64(len(entries))
	c.leaderCommit = m.Commit
	if to := min(m.Commit, match); to > c.commit {
		c.commit = to
		// A primary's commit index may be one it carried over from an
		// earlier epoch; credit its epoch only with its own entries.
		if e, _ := c.log.epochAt(to); e == m.Epoch {
			c.log.setCommitted(m.Epoch, to)
		}
	}
	c.applyCommitted()
	c.recovered()
	c.send(m.From, &wire.AppendAck{From: c.id, Epoch: ep, OK: true, Match: match, Sent: m.Sent})
}
