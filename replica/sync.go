package replica

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// viewChange is a primary-elect's work before it serves: gather every live
// node's log summary, pick the log to keep, fetch what it lacks.
type viewChange struct {
	epoch    wire.Epoch
	deadline int64
	asked    map[wire.NodeID]int64
	replies  map[wire.NodeID]*wire.StateReply
	waitFor  map[wire.NodeID]bool // nil: every live node; else only these (a renewal)
	fetching wire.NodeID
	fetch    *wire.Fetch
	fetchAt  int64 // when the fetch was last sent
	fetchBy  int64
}

// beginViewChange makes this node primary-elect in a new epoch.
func (c *Core) beginViewChange() { c.beginViewChangeFor(nil) }

// renew takes office anew, in a new epoch, after the view lost a backup:
// each epoch then records the view that committed its entries, which is
// what decides between the branches of a partition. Only the backups still
// in the view are waited for; the others rejoin as they catch up.
func (c *Core) renew() {
	wait := map[wire.NodeID]bool{}
	for _, id := range c.InView() {
		wait[id] = true
	}
	c.members, c.pending, c.tickPending = nil, nil, false
	c.beginViewChangeFor(wait)
}

func (c *Core) beginViewChangeFor(wait map[wire.NodeID]bool) {
	c.failReads()
	c.epoch = wire.MakeEpochLife(c.maxTerm()+1, c.cfg.Life, c.id)
	c.leader = c.id
	c.electDeadline = 0
	c.gotOK = false
	c.setRole(wire.RoleSyncing)
	c.out.RoleChanged = true
	c.sync = &viewChange{
		epoch:    c.epoch,
		deadline: c.now + int64(c.cfg.SyncWait),
		asked:    map[wire.NodeID]int64{},
		replies:  map[wire.NodeID]*wire.StateReply{},
		waitFor:  wait,
	}
	if wait != nil {
		c.notice(wire.NoticeDetail, c.id, "n%d renews its office in epoch %d with %s", c.id, c.epoch.Term(), backups(len(wait)))
	} else {
		c.notice(wire.NoticeDetail, c.id, "n%d takes office in epoch %d: gathering state", c.id, c.epoch.Term())
	}
	for _, id := range c.aliveIDs() {
		c.sync.ask(c, id)
	}
	c.sync.maybeFinish(c)
}

func (v *viewChange) ask(c *Core, id wire.NodeID) {
	if _, done := v.replies[id]; done {
		return
	}
	v.asked[id] = c.now
	c.send(id, &wire.Coordinator{From: c.id, Epoch: v.epoch})
}

func (v *viewChange) tick(c *Core) {
	for _, id := range c.aliveIDs() {
		if at, ok := v.asked[id]; !ok || c.now-at >= int64(c.cfg.Heartbeat) {
			v.ask(c, id)
		}
	}
	if v.fetching != 0 {
		if c.now >= v.fetchBy {
			v.abort(c, fmt.Sprintf("n%d did not send its log", v.fetching))
			return
		}
		if c.now-v.fetchAt >= 3*int64(c.cfg.Heartbeat) {
			v.fetchAt = c.now
			c.send(v.fetching, v.fetch)
		}
		return
	}
	if c.now >= v.deadline {
		if c.cfg.Quorum {
			// Any quorum of answers holds every commit: go on with
			// those (finish counts them).
			v.finish(c)
			return
		}
		// A live node did not answer: what it holds is unknown, and taking
		// office without it could commit on a branch that loses. Give up
		// and try again.
		v.abort(c, "not every live node answered")
		return
	}
	v.maybeFinish(c)
}

func (v *viewChange) peerGone(c *Core, id wire.NodeID) {
	// What it said may no longer hold (it may come back empty): ask again
	// if it does come back.
	delete(v.replies, id)
	delete(v.asked, id)
	if v.fetching == id {
		v.abort(c, fmt.Sprintf("n%d, which holds the log to keep, is gone", id))
		return
	}
	v.maybeFinish(c)
}

// abort gives up a view change that cannot get the log it must keep: taking
// office with less would lose committed entries. The election is retried
// shortly, among the nodes alive then.
func (v *viewChange) abort(c *Core, why string) {
	if c.sync != v {
		return
	}
	c.notice(wire.NoticeElection, c.id, "view change abandoned: %s", why)
	c.sync = nil
	c.setRole(wire.RoleBackup)
	c.leader = 0
	c.retryElectionAt = c.now + int64(c.cfg.ElectionAnswer)
}

func (c *Core) onStateReply(m *wire.StateReply) {
	switch {
	case c.role == wire.RoleSyncing && c.sync != nil:
		v := c.sync
		switch {
		case m.Epoch.After(v.epoch):
			c.learnEpoch(m.Epoch)
			return
		case m.Epoch == v.epoch:
			v.replies[m.From] = m
		}
		// An older epoch is a refusal for now (its lease to the old
		// primary runs): the node is asked again each heartbeat.
		v.maybeFinish(c)
	case c.role == wire.RolePrimary && !m.Epoch.After(c.epoch):
		// A node asks to join, or (older epoch) tells us it exists.
		c.onJoin(m)
	case m.Epoch.After(c.epoch):
		c.learnEpoch(m.Epoch)
	}
}

// maybeFinish ends the gathering once every live node answered.
func (v *viewChange) maybeFinish(c *Core) {
	if v.fetching != 0 || c.sync != v {
		return
	}
	for _, id := range c.aliveIDs() {
		if _, ok := v.replies[id]; !ok && (v.waitFor == nil || v.waitFor[id]) {
			return // a refusal too is waited out: its lease ends soon
		}
	}
	v.finish(c)
}

// candidate is one log in the running to be kept.
type candidate struct {
	id     wire.NodeID
	shape  logShape
	commit uint64
	snap   uint64
}

// finish picks the log to keep and fetches it, or takes office.
func (v *viewChange) finish(c *Core) {
	if c.sync != v {
		return
	}
	members := v.members(c)
	if v.empty(c, members) {
		// Nobody here has data: a new cluster, if this node may make one
		// with every bootstrap voter's answer in hand.
		for _, id := range c.cfg.Bootstrap {
			if id != c.id && !slices.Contains(members, id) {
				v.abort(c, fmt.Sprintf("no node here has data, and bootstrap voter n%d did not answer", id))
				return
			}
		}
		if !c.mayBootstrap(true) {
			v.abort(c, "no node here has data: waiting for a cluster to join (or for every bootstrap voter)")
			return
		}
		c.takeOffice(members)
		return
	}
	if got, need, ok := v.quorate(c, members); c.cfg.Quorum && !ok {
		c.sync = nil
		c.notice(wire.NoticeNoQuorum, c.id, "view change got %d of the %d votes needed%s", got, need, v.unvoted(c))
		c.noQuorum()
		return
	}
	v.pick(c, members, false)
}

// pick keeps the best of this node's log and the members', fetching it if
// another holds it. A node that answered only during a fetch (paused or cut
// off at the pick) was not weighed, and its branch may beat the log fetched
// (it held more nodes): after a fetch the pick is made again.
func (v *viewChange) pick(c *Core, members []wire.NodeID, fetched bool) {
	cands := []candidate{{id: c.id, shape: c.shape(), commit: c.commit, snap: c.log.snapIndex}}
	for _, id := range members {
		r := v.replies[id]
		cands = append(cands, candidate{id: id, shape: logShape{history: r.History, last: r.Last}, commit: r.Commit, snap: r.SnapIndex})
	}
	best := pickBest(cands)
	d := common(c.shape(), best.shape)
	if fetched && d == best.shape.last {
		c.takeOffice(members)
		return
	}
	c.notice(wire.NoticeDetail, best.id, "view change: state from %s; keeping n%d's log (last %d, commit %d)", describeCands(cands), best.id, best.shape.last, best.commit)
	if best.id == c.id {
		c.takeOffice(members)
		return
	}
	v.fetching = best.id
	v.sendFetch(c, &wire.Fetch{From: c.id, Epoch: v.epoch, After: d, Snapshot: c.applied > d || best.snap > d})
}

// sendFetch asks the node that holds the log to keep for what is missing.
func (v *viewChange) sendFetch(c *Core, f *wire.Fetch) {
	v.fetch = f
	v.fetchAt = c.now
	v.fetchBy = c.now + int64(c.cfg.SyncWait)
	c.send(v.fetching, f)
}

// empty reports whether neither this node nor any that answered holds a
// log: the cluster does not exist yet (or nobody here has its data).
func (v *viewChange) empty(c *Core, members []wire.NodeID) bool {
	if c.log.last() > 0 {
		return false
	}
	for _, id := range members {
		if v.replies[id].Last > 0 {
			return false
		}
	}
	for _, id := range c.aliveIDs() {
		if c.peers[id].last > 0 {
			return false
		}
	}
	return true
}

// quorate checks the votes in quorum mode: the answers of voters that
// hold their data must make a majority of this node's configuration and of
// every configuration an answer reports (any two configurations in play
// differ by one voter at most, but a lagging node's may be older than the
// newest). A recovering node's answer never counts: it may have forgotten
// what it acknowledged.
func (v *viewChange) quorate(c *Core, members []wire.NodeID) (got, need int, ok bool) {
	genesis := c.genesisEpoch(v.replies)
	counts := func(id wire.NodeID) bool {
		if id == c.id {
			return !c.recovering && c.log.last() > 0 || mutant("emptyvote")
		}
		r := v.replies[id]
		return r != nil && (!r.Recovering && r.Last > 0 || founder(r, genesis) || mutant("emptyvote"))
	}
	check := func(conf []wire.NodeID) bool {
		n := 0
		for _, id := range conf {
			if counts(id) && (id == c.id || slices.Contains(members, id)) {
				n++
			}
		}
		if n < majority(len(conf)) || len(conf) == 0 {
			got, need = n, majority(len(conf))
			return false
		}
		return true
	}
	if mutant("anyquorum") {
		return len(members) + 1, len(members) + 1, true
	}
	if !check(c.voters()) {
		return got, need, false
	}
	for _, id := range members {
		conf := v.replies[id].Voters
		if v.replies[id].Last < c.commit {
			// Its whole log is older than what this node knows
			// committed: the configuration it reports is at best the
			// committed one (a learner that lags may still name a voter
			// that has left, or miss one that joined).
			conf = c.committedVoters()
		}
		if len(conf) > 0 && !check(conf) {
			return got, need, false
		}
	}
	n, _ := c.reachableVoters()
	return n, majority(len(c.voters())), true
}

// members are the nodes that answered and are still alive, sorted.
func (v *viewChange) members(c *Core) []wire.NodeID {
	var out []wire.NodeID
	for _, id := range c.aliveIDs() {
		if r, ok := v.replies[id]; ok && !c.foreign(r) {
			out = append(out, id)
		}
	}
	return out
}

// onFetch answers a primary-elect that lacks part of our log.
func (c *Core) onFetch(m *wire.Fetch) {
	if m.Epoch.Before(c.epoch) {
		return
	}
	if m.Epoch.After(c.epoch) {
		c.learnEpoch(m.Epoch)
	}
	if m.Snapshot || m.After < c.log.snapIndex || m.After > c.log.last() {
		c.send(m.From, c.snapshotMsg())
		return
	}
	e, _ := c.log.epochAt(m.After)
	c.send(m.From, &wire.Snapshot{
		From:       c.id,
		Epoch:      c.epoch,
		Index:      m.After,
		IndexEpoch: e,
		Commit:     c.commit,
		History:    c.log.historyCopy(),
		Tail:       c.log.slice(m.After, c.log.last()),
	})
}

// snapshotMsg is the whole state: the state machine as applied, and the log
// after it.
func (c *Core) snapshotMsg() *wire.Snapshot {
	e, _ := c.log.epochAt(c.applied)
	from := c.keptFrom()
	return &wire.Snapshot{
		From:       c.id,
		Epoch:      c.epoch,
		Index:      c.applied,
		IndexEpoch: e,
		Commit:     c.commit,
		History:    c.log.historyCopy(),
		Data:       c.state.Snapshot(),
		Before:     c.applied - from,
		Tail:       c.log.slice(from, c.log.last()),
	}
}

// install takes the log (and state) a Snapshot message carries. It returns
// false if a tail-only message does not fit this log. Player commands this
// node held past the point where the logs part, and that the new state has
// not applied, are reported as rolled back.
func (c *Core) install(m *wire.Snapshot) bool {
	var incoming raftLog
	start := m.Index - min(m.Before, m.Index)
	incoming.reset(start, historyEpoch(m.History, start), m.History, m.Tail)
	if start == m.Index {
		incoming.snapEpoch = m.IndexEpoch
	}
	if e := incoming.lastEpoch(); e == m.Epoch && c.log.matches(incoming.last(), e) && m.Index <= c.applied {
		return true // a late message of this office: this log holds all it brings
	}
	d := common(c.shape(), logShape{history: incoming.history, last: incoming.last()})
	if m.Data == nil && (!c.log.matches(m.Index, m.IndexEpoch) || c.applied > m.Index) {
		return false
	}
	// What this node drops and may have been acknowledged: what it knows
	// committed, and (without a quorum) what a primary that can no longer
	// tell may have committed after it last said so. With a quorum, what
	// a new primary drops was never committed.
	var gone []dropped
	if d < c.log.snapIndex && c.commit > d {
		// Folded into the state already: they can no longer be listed.
		c.notice(wire.NoticeRollback, c.id, "%d committed entries of a losing branch are too old to list", c.log.snapIndex-d)
	}
	for i := max(d, c.log.snapIndex) + 1; i <= c.log.last(); i++ {
		e, _ := c.log.epochAt(i)
		if i <= c.commit || (!c.cfg.Quorum && e.Node() != c.id && !c.holdsItsOffice(e)) {
			gone = append(gone, c.describe(i, i)...)
		}
	}
	if m.Data != nil {
		st, err := game.Restore(m.Data)
		if err != nil {
			c.notice(wire.NoticeSnapshot, m.From, "snapshot from n%d refused: %v", m.From, err)
			return false
		}
		c.state = st
		c.closed = nil // its session ids name other sessions now
		c.log = incoming
		c.applied = m.Index
		c.commit = m.Index
		c.out.Reset = true
		c.snapToSave = true
		c.appended(m.Index + 1)
		c.notice(wire.NoticeSnapshot, m.From, "installed a snapshot from n%d at %d", m.From, m.Index)
	} else {
		c.log.truncate(m.Index)
		c.log.append(m.Tail...)
		c.log.mergeHistory(m.History)
		c.truncated(m.Index)
		if c.commit > c.log.last() {
			c.commit = c.log.last()
		}
	}
	c.leaderCommit = m.Commit
	if m.Commit > c.commit {
		c.commit = min(m.Commit, c.log.last())
	}
	c.logChanged()
	c.applyCommitted()
	c.report(c.notApplied(gone))
	c.recovered()
	return true
}

// onSnapshot installs a state: fetched by a primary-elect, or sent by the
// primary to catch this backup up.
func (c *Core) onSnapshot(m *wire.Snapshot) {
	if v := c.sync; v != nil && c.role == wire.RoleSyncing && m.Epoch == v.epoch && m.From == v.fetching {
		if r := v.replies[m.From]; r == nil || m.Index+uint64(len(m.Tail))-min(m.Before, uint64(len(m.Tail))) < r.Last {
			// Not the log it said it had (it restarted?): start over.
			v.abort(c, fmt.Sprintf("n%d sent less than it reported", m.From))
			return
		}
		if !c.install(m) {
			// The tail did not fit after all: ask for the whole state.
			v.sendFetch(c, &wire.Fetch{From: c.id, Epoch: v.epoch, Snapshot: true})
			return
		}
		v.fetching = 0
		v.pick(c, v.members(c), true)
		return
	}
	if m.Epoch.Before(c.epoch) || m.Epoch.Node() != m.From {
		return
	}
	if !c.follow(m.From, m.Epoch) {
		return
	}
	if !c.install(m) {
		c.send(m.From, &wire.AppendAck{From: c.id, Epoch: c.epoch, NeedSnap: true, Match: c.commit})
		return
	}
	c.send(m.From, &wire.AppendAck{From: c.id, Epoch: c.epoch, OK: true, Match: c.log.last()})
}

// takeOffice makes the primary-elect the primary of its epoch with the log it
// now holds and the given backups in its view.
func (c *Core) takeOffice(members []wire.NodeID) {
	v := c.sync
	c.sync = nil
	c.setRole(wire.RolePrimary)
	c.leader = c.id
	c.lastFromLeader = c.now
	c.members = map[wire.NodeID]*member{}
	c.pending = map[dedupeKey]uint64{}
	c.tickPending = false
	for i := c.commit + 1; i <= c.log.last(); i++ {
		e := c.log.entry(i).Entry
		if e.Session != 0 {
			c.pending[dedupeKey{e.Session, e.Seq}] = i
		}
		if _, ok := e.Cmd.(game.Tick); ok {
			c.tickPending = true
		}
	}
	for _, id := range members {
		r := v.replies[id]
		m := &member{id: id, inView: true}
		shape := logShape{history: r.History, last: r.Last}
		d := common(shape, c.shape())
		m.match, m.next = d, d+1
		if r.Last > d || d < c.log.snapIndex || !known(shape, c.shape(), d) {
			// It holds entries this log does not: a snapshot replaces
			// them, and it reports what it drops.
			m.needSnap = true
		}
		m.lastAck = c.now
		c.members[id] = m
		// A node that answered as recovering recovers with this office
		// (it was not counted): no renewal is due for it.
		c.peer(id).recovering = false
	}
	prev := c.log.lastEpoch().Node()
	c.officeSupport = uint8(min(1+len(members), 255))
	c.shrunk = false
	c.round = 0
	if c.log.last() == 0 {
		voters := c.bootstrapVoters(members)
		c.appendEntry(game.Entry{Cmd: game.Genesis{Seed: c.cfg.Seed, Rules: c.cfg.Rules, ClusterID: c.cfg.ClusterID, Voters: voters}})
		c.recovering = false // it made the cluster: there was nothing to forget
		c.notice(wire.NoticeElected, c.id, "n%d creates a new cluster (voters %v)", c.id, voters)
	}
	c.officeIndex = c.appendEntry(game.Entry{Cmd: game.ViewChange{Epoch: c.epoch.Term(), Primary: uint16(c.id), PrevPrimary: uint16(prev)}})
	// What an earlier office queued may not have survived: queue afresh
	// (the game reports each command once, however often it is logged).
	c.reported = nil
	c.queueRollback(c.unreportedItems())
	c.flushRollback()
	c.lastHB = 0
	c.notice(wire.NoticeElected, c.id, "n%d is primary (epoch %d) with %s", c.id, c.epoch.Term(), backups(len(members)))
	c.out.RoleChanged = true
	c.advanceCommit()
}

func describeCands(cs []candidate) string {
	var b strings.Builder
	for i, x := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "n%d(last %d e%d, commit %d)", x.id, x.shape.last, x.shape.epochAt(x.shape.last).Term(), x.commit)
	}
	return b.String()
}

// backups counts a primary's backups in words: "1 backup", "2 backups".
func backups(n int) string {
	if n == 1 {
		return "1 backup"
	}
	return fmt.Sprintf("%d backups", n)
}
