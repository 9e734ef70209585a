package replica

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Core is the replica as a pure state machine, after the model of etcd's raft
// package: the runtime feeds it messages (Step), the passing of time (Tick),
// broken links (LinkDown) and client commands (Propose), and collects what it
// must send and what was committed (Ready). It starts no goroutine, reads no
// clock and touches no socket; one goroutine owns it.
type Core struct {
	cfg     Config
	id      wire.NodeID
	now     int64 // the clock as of the last Tick (monotonic)
	started int64 // since when it has listened unbroken (a start, or a wake from a pause)
	wall    int64 // wall time as of the last SetWall: stamps entries, for the game's clocks

	epoch  wire.Epoch // the highest epoch this node has accepted
	role   wire.Role
	leader wire.NodeID // primary of epoch (0 while none is known)

	peers map[wire.NodeID]*peer
	ids   []wire.NodeID // peers' ids, sorted, for deterministic iteration

	log     raftLog
	commit  uint64
	applied uint64
	state   *game.State
	// officeSupport is how many nodes the primary's view held when it took
	// office in its current epoch (itself included).
	officeSupport uint8
	shrunk        bool // the view lost a backup: take office anew

	// Bully election in progress (role Electing).
	electDeadline int64
	gotOK         bool

	// A node that learns of a primary by hearsay tells it its state; this
	// limits how often.
	lastJoinAsk int64
	// lastIntroduced: a node with a primary tells another primary it
	// hears of that it exists; this limits how often.
	lastIntroduced int64
	// lastFromLeader is when the primary last spoke to this backup.
	lastFromLeader int64
	// retryElectionAt: a failed or refused election is retried then.
	retryElectionAt int64
	// quietUntil: a node that was not running (a pause) listens until then
	// before it acts on what it believes of its peers.
	quietUntil int64

	sync *viewChange // role Syncing

	// The configuration as the log has it (see membership.go).
	conf      []wire.NodeID
	confIndex uint64 // index of the entry that set it (0: the state's)
	confDirty bool
	// recovering: this node lost its data (it started with none) and has
	// not caught up since; it neither votes nor leads. recoverEpochs are the
	// view changes it answered as recovering.
	recovering    bool
	recoverEpochs []wire.Epoch
	leaderCommit  uint64 // the commit index the primary last sent
	hardChanged   bool   // what must be kept on disk changed
	due           int64  // the last Due handed out (0: none since the last Tick)
	// What the disk holds, as far as the Readies handed out say.
	synced     uint64 // the log is on disk up to here (Durable)
	handedUpTo uint64 // the last Persist's UpTo: what the runtime writes
	dirtyFrom  uint64 // the log changed from this index on (0: it did not)
	snapToSave bool
	savedSnap  uint64
	savedHard  HardState

	// Primary only.
	officeIndex uint64 // index of the ViewChange entry of its epoch
	lastRenew   int64  // when it last renewed its office for a recovered member
	round       uint64 // rounds of messages sent to the backups this office
	reads       []readReq
	members     map[wire.NodeID]*member
	pending     map[dedupeKey]uint64 // commands in the log, not yet applied
	tickPending bool
	commitNews  bool  // the commit index moved: tell the backups
	lastNews    int64 // when they were last told on its own
	lastHB      int64
	rollback    []game.RolledBack // rolled-back commands to log next
	reported    map[rollbackKey]bool

	// unreported are commands this node dropped to follow a winning branch;
	// it tells its primary until it applies a Rollback entry naming them.
	unreported []dropped
	lastReport int64
	// closed names the sessions closed in the log this node holds, so
	// their dropped commands can still be described (see describe).
	closed map[game.SessionID]closedSession

	lastBeacon int64
	said       said // what the last beacon told of role and office
	out        Ready
}

type dedupeKey struct {
	session game.SessionID
	seq     uint64
}

// peer is what a node knows of another node.
type peer struct {
	id         wire.NodeID
	lastHeard  int64
	downAt     int64 // a broken link or a LEAVE; 0 when none since last heard
	epoch      wire.Epoch
	role       wire.Role
	commit     uint64
	last       uint64
	lastAt     uint64 // this node's last index when that last was heard
	known      bool   // heard from at least once
	suspected  bool   // onSuspect ran since it was last heard
	recovering bool   // it says it lost its data and has not caught up
	left       bool   // it said it was leaving (a primary removes it)
	life       uint64 // its process life, from its beacons (0: unknown)
	foreign    uint64 // the other cluster id it answered with (see foreign)
}

// member is a primary's record of a backup.
type member struct {
	id       wire.NodeID
	inView   bool   // the primary waits for its acknowledgements
	match    uint64 // highest index known to be in its log
	next     uint64 // next index to send
	needSnap bool
	// waitSince is when the oldest unacknowledged entry was first sent
	// (0: nothing unacknowledged).
	waitSince  int64
	lastAck    int64  // when the last acknowledgement arrived
	ackRound   uint64 // the newest round it acknowledged (checked reads)
	caughtUp   int64  // since when a recovering member holds the whole log
	catchUpTo  uint64 // the commit a recovering member must reach first
	snapSent   int64  // when the last snapshot was sent
	sentAt     int64  // when entries were last sent
	sentCommit uint64 // the commit index it was last told
}

// Ready is what the core asks the runtime to do and tells it, gathered since
// the last call to Ready.
type Ready struct {
	// Messages to send. To is 0 for a beacon (to everyone).
	Messages []Envelope
	// Committed entries, applied to the state in this order.
	Committed []Applied
	// Reset means the state was replaced wholesale (a snapshot was
	// installed); anything derived from it must be rebuilt.
	Reset bool
	// Notices for the event log: suspicions, elections, view changes.
	Notices []wire.Notice
	// RoleChanged is set when role, epoch or primary changed.
	RoleChanged bool
	// Reads are the checked reads that may be answered now (OK), or that
	// must go elsewhere.
	Reads []ReadResult
	// Persist is what must be on disk before anything else here is acted
	// on: messages sent, players answered.
	Persist Persist
}

// Envelope is a message and its destination.
type Envelope struct {
	To  wire.NodeID
	Msg wire.PeerMessage
}

// Applied is a committed entry, its result and its events.
type Applied struct {
	Index  uint64
	Epoch  wire.Epoch // the epoch the entry was made in
	Entry  game.Entry
	Result game.Result
	Events []game.Event
}

// ErrNotPrimary is returned by Propose on a node that does not serve. Leader
// is the primary this node knows of (0: none yet).
type ErrNotPrimary struct{ Leader wire.NodeID }

func (e *ErrNotPrimary) Error() string {
	if e.Leader == 0 {
		return "no primary yet"
	}
	return fmt.Sprintf("not the primary; n%d is", e.Leader)
}

// ErrNoQuorum is returned by Propose when a primary cannot reach its quorum.
var ErrNoQuorum = errors.New("fewer nodes reachable than the quorum")

// NewCore returns a core that starts at time now with an empty log.
func NewCore(cfg Config, now int64) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Core{
		cfg:     cfg,
		id:      cfg.ID,
		now:     now,
		started: now,
		role:    wire.RoleStarting,
		peers:   map[wire.NodeID]*peer{},
		state:   game.New(cfg.Rules),
		// A new node listens before it elects, whatever it hears first.
		quietUntil: now + int64(cfg.StartupWait),
		// With no data, it cannot tell a new node from one that lost its
		// data: it catches up before it votes or leads.
		recovering: true,
		confDirty:  true,
	}
	return c, nil
}

// ID returns the node's id.
func (c *Core) ID() wire.NodeID { return c.id }

// Role, Epoch and Leader describe where the node stands.
func (c *Core) Role() wire.Role     { return c.role }
func (c *Core) Epoch() wire.Epoch   { return c.epoch }
func (c *Core) Leader() wire.NodeID { return c.leader }
func (c *Core) Commit() uint64      { return c.commit }
func (c *Core) Applied() uint64     { return c.applied }
func (c *Core) LastIndex() uint64   { return c.log.last() }
func (c *Core) State() *game.State  { return c.state }

// Serving reports whether this node is primary and, in quorum mode, can
// reach a majority of the voters.
func (c *Core) Serving() bool { return c.role == wire.RolePrimary && c.quorumReachable() }

// SetWall tells the core the wall time, which it uses only to stamp the
// entries it makes (claims, rounds and sessions expire by it). Its timers
// run on the monotonic clock that Tick gives.
func (c *Core) SetWall(wall int64) { c.wall = wall }

// notPrimary is the error for a node that does not serve.
func (c *Core) notPrimary() error {
	l := c.leader
	if l == c.id {
		l = 0
	}
	return &ErrNotPrimary{Leader: l}
}

// Ready returns and clears what accumulated since the last call.
func (c *Core) Ready() Ready {
	c.flush()
	c.collectPersist()
	r := c.out
	c.out = Ready{}
	return r
}

func (c *Core) send(to wire.NodeID, m wire.PeerMessage) {
	c.out.Messages = append(c.out.Messages, Envelope{To: to, Msg: m})
}

func (c *Core) notice(k wire.NoticeKind, n wire.NodeID, format string, args ...any) {
	c.out.Notices = append(c.out.Notices, wire.Notice{Time: c.gameNow(), Kind: k, Node: n, Epoch: c.epoch, Text: fmt.Sprintf(format, args...)})
}

func (c *Core) setRole(r wire.Role) {
	if c.role != r {
		c.role = r
		c.out.RoleChanged = true
	}
}

// ---- time ----

// Tick advances the core's clock to now and runs every timer that is due.
func (c *Core) Tick(now int64) {
	if now < c.now {
		now = c.now
	}
	gap := c.missed(now, now-c.now)
	c.now = now
	if gap > min(3*int64(c.cfg.Heartbeat), int64(c.cfg.AckTimeout)/2) && c.lastBeacon != 0 {
		// This process was not running (a pause, a stopped process).
		// Nobody can be judged by a silence we did not watch: restart
		// every timer from now, and let the messages that queued up
		// speak first.
		c.slept(gap)
	}

	for _, id := range c.ids {
		p := c.peers[id]
		if p.known && !p.suspected && !c.alive(p) {
			c.onSuspect(p, "silent")
		}
	}

	switch c.role {
	case wire.RoleStarting:
		if now-c.started >= int64(c.cfg.StartupWait) && !c.leaderLeads() {
			c.startElection("no primary found")
		}
	case wire.RoleBackup:
		c.backupTick()
	case wire.RoleElecting:
		c.electionTick()
	case wire.RoleSyncing:
		c.sync.tick(c)
	case wire.RolePrimary:
		c.primaryTick()
	case wire.RoleNoQuorum:
		if now >= c.retryElectionAt && c.quorumReachable() {
			c.startElection("quorum reachable again")
		}
	}

	if now >= c.beaconAt() {
		c.lastBeacon = now
		c.send(0, c.beacon())
	}
}

func (c *Core) slept(gap int64) {
	// Asleep long enough for others to have suspected it: what it knew
	// may be stale (broken links of peers that have since come back, an
	// office others have since taken). A primary steps down; everyone
	// listens before electing.
	if gap >= int64(c.cfg.Suspicion-c.cfg.Heartbeat) {
		if c.role == wire.RolePrimary || c.role == wire.RoleSyncing || c.role == wire.RoleElecting {
			if c.role != wire.RoleElecting {
				c.stepDown("this node was not running")
			}
			c.setRole(wire.RoleBackup)
			c.leader = 0
		}
		c.quietUntil = c.now + int64(c.cfg.StartupWait)
		c.started = c.now
	}
	for _, p := range c.peers {
		if p.known && !p.suspected {
			p.lastHeard = c.now
		}
	}
	for _, m := range c.members {
		if m.waitSince != 0 {
			m.waitSince = c.now
		}
		m.lastAck = c.now
	}
	c.lastFromLeader = c.now
	if c.electDeadline != 0 {
		c.electDeadline = c.now + int64(c.cfg.ElectionAnswer)
	}
	if c.sync != nil {
		c.sync.deadline = c.now + int64(c.cfg.SyncWait)
	}
}

// ---- messages ----

// Step handles one message from a peer. The runtime has already checked
// that it comes from the node it names.
func (c *Core) Step(m wire.PeerMessage) {
	from, _ := m.Header()
	if from == c.id || from == 0 {
		return
	}
	_, beacon := m.(*wire.Beacon)
	p := c.heard(from, beacon)

	switch m := m.(type) {
	case *wire.Beacon:
		p.epoch, p.role, p.commit, p.last, p.lastAt = m.Epoch, m.Role, m.Commit, m.Last, c.log.last()
		p.recovering = m.Recovering
		if m.Instance != 0 {
			if p.life != m.Instance {
				p.foreign = 0 // a new process: its data may be another's
			}
			p.life = m.Instance
		}
		c.onBeacon(m)
	case *wire.Election:
		c.onElection(m)
	case *wire.ElectionOK:
		c.onElectionOK(m)
	case *wire.Coordinator:
		c.onCoordinator(m)
	case *wire.StateReply:
		c.onStateReply(m)
	case *wire.Fetch:
		c.onFetch(m)
	case *wire.Append:
		c.onAppend(m)
	case *wire.AppendAck:
		c.onAppendAck(m)
	case *wire.Snapshot:
		c.onSnapshot(m)
	case *wire.Leave:
		p.downAt = c.now
		p.left = true
		c.notice(wire.NoticeLeft, from, "n%d is leaving", from)
		c.onSuspect(p, "left")
	case *wire.RolledBack:
		c.onRolledBack(m)
	}
}

// learnEpoch is called for every leadership message: a higher epoch deposes
// this node and makes it follow that epoch's primary.
func (c *Core) learnEpoch(e wire.Epoch) bool {
	if !e.After(c.epoch) {
		return false
	}
	wasLeading := c.role == wire.RolePrimary || c.role == wire.RoleSyncing
	c.epoch = e
	c.leader = e.Node()
	if c.leader == c.id {
		// An epoch this node led in an earlier life: there is no primary
		// to follow, only a term to remember.
		c.leader = 0
		c.retryElectionAt = c.now
	}
	c.electDeadline = 0
	c.gotOK = false
	c.lastFromLeader = c.now
	if wasLeading {
		c.stepDown(fmt.Sprintf("n%d leads epoch %d", e.Node(), e.Term()))
	}
	if c.role != wire.RoleStarting || c.leader != 0 {
		c.setRole(wire.RoleBackup)
	}
	c.out.RoleChanged = true
	if c.leader != 0 {
		c.notice(wire.NoticeFollowing, e.Node(), "following n%d (epoch %d)", e.Node(), e.Term())
	}
	return true
}

// stepDown leaves the primary's duties (the caller sets the new role).
func (c *Core) stepDown(why string) {
	c.notice(wire.NoticeStepDown, c.id, "stepped down: %s", why)
	c.failReads()
	c.sync = nil
	c.members = nil
	c.pending = nil
	c.tickPending = false
	c.rollback = nil
	c.reported = nil
}

// Leave says goodbye to every live peer (a graceful shutdown): a primary's
// backups elect at once instead of waiting for suspicion.
func (c *Core) Leave() {
	if c.role == wire.RolePrimary || c.role == wire.RoleSyncing {
		c.stepDown("leaving")
	}
	c.setRole(wire.RoleLeaving)
	for _, id := range c.aliveIDs() {
		c.send(id, &wire.Leave{From: c.id, Epoch: c.epoch})
	}
}

func (c *Core) onBeacon(b *wire.Beacon) {
	c.greet(b)
	// A primary of a newer epoch. A node with a primary of its own (or that
	// leads) only tells it that it exists: that primary will contact it, and
	// merge their branches if they parted (after a partition, the side that
	// held more nodes must keep serving until then). Others follow it.
	if b.Role == wire.RolePrimary && b.Epoch.Node() == b.From && b.Epoch.After(c.epoch) {
		if c.hasOwnPrimary() {
			c.introduce(b.From)
			return
		}
		c.learnEpoch(b.Epoch)
		c.askToJoin()
		return
	}
	if b.Role == wire.RolePrimary && b.Epoch.Node() == b.From {
		// An electing node follows the primary of its epoch too, if Bully
		// would choose it: one whose configuration is newer than this
		// node's may never get this node's ELECTION to remind it.
		if b.Epoch == c.epoch && (c.role == wire.RoleBackup || c.role == wire.RoleStarting || c.role == wire.RoleElecting && b.From > c.id) {
			c.leader = b.From
			if c.role != wire.RoleBackup {
				c.electDeadline, c.gotOK = 0, false
				c.lastFromLeader = c.now
				c.setRole(wire.RoleBackup)
				c.askToJoin()
			} else if c.now-c.lastFromLeader > c.leaderQuiet() {
				// Our primary is alive but not talking to us: it has
				// dropped us. Ask again.
				c.askToJoin()
			}
		}
	}
	// Bully: a live primary with a lower id than ours must yield to us.
	if b.Role == wire.RolePrimary && b.From < c.id && !b.Epoch.Before(c.epoch) &&
		(c.role == wire.RoleBackup || c.role == wire.RoleStarting) && c.now >= c.retryElectionAt {
		c.startElection("n%d leads but n%d is higher", b.From, c.id)
	}
}

// leaderLeads reports whether the primary this node knows of is alive and
// says it leads (one remembered from disk may not, any more).
func (c *Core) leaderLeads() bool {
	if c.leader == 0 || !c.Alive(c.leader) {
		return false
	}
	p := c.peers[c.leader]
	return p == nil || p.role == wire.RolePrimary || p.role == wire.RoleSyncing
}

// hasOwnPrimary reports whether this node leads, or follows a primary that
// is alive and speaking to it.
func (c *Core) hasOwnPrimary() bool {
	switch c.role {
	case wire.RolePrimary, wire.RoleSyncing:
		return true
	case wire.RoleBackup:
		return c.leader != 0 && c.leader != c.id && c.Alive(c.leader) && c.now-c.lastFromLeader <= int64(c.cfg.Suspicion)
	}
	return false
}

// askToJoin sends the node's state to its primary, which takes it into the
// view (after catching it up).
func (c *Core) askToJoin() {
	if c.leader == 0 || c.leader == c.id || c.now-c.lastJoinAsk < int64(c.cfg.Heartbeat) {
		return
	}
	c.lastJoinAsk = c.now
	c.send(c.leader, c.stateReply())
}

func (c *Core) stateReply() *wire.StateReply {
	return &wire.StateReply{
		From:       c.id,
		Epoch:      c.epoch,
		Last:       c.log.last(),
		Commit:     c.commit,
		SnapIndex:  c.log.snapIndex,
		History:    c.log.historyCopy(),
		Recovering: c.recovering,
		Voters:     slices.Clone(c.voters()),
		Since:      c.recoveringSince(),
		Cluster:    c.ClusterID(),
	}
}

func (c *Core) shape() logShape { return logShape{history: c.log.history, last: c.log.last()} }

// ---- applying ----

// applyCommitted applies committed entries to the state machine.
func (c *Core) applyCommitted() {
	for c.applied < c.commit {
		i := c.applied + 1
		le := c.log.entry(i)
		if le == nil {
			// Cannot happen: committed entries above the snapshot are
			// in memory. Stop rather than skip one.
			panic(fmt.Sprintf("node %d: committed entry %d missing (log %d..%d)", c.id, i, c.log.snapIndex, c.log.last()))
		}
		res, evs := c.state.Apply(le.Entry, nil)
		c.applied = i
		c.noteClosed(i, evs)
		c.out.Committed = append(c.out.Committed, Applied{Index: i, Epoch: le.Epoch, Entry: le.Entry, Result: res, Events: evs})
		if c.pending != nil && le.Entry.Session != 0 {
			delete(c.pending, dedupeKey{le.Entry.Session, le.Entry.Seq})
		}
		switch le.Entry.Cmd.(type) {
		case game.Tick:
			c.tickPending = false
		case game.Rollback:
			c.forgetReported()
		case game.Membership, game.Genesis:
			c.logChanged() // the configuration now comes from the state
		}
	}
	if keep := uint64(c.cfg.LogKeep); c.applied > c.log.snapIndex+2*keep {
		c.log.compact(c.applied - keep)
		c.forgetClosed(c.log.snapIndex)
	}
	if c.applied >= c.savedSnap+uint64(c.cfg.LogKeep) {
		c.snapToSave = true // the disk's log is cut behind a snapshot too
	}
}
