package replica

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// The simulated network runs 3 to 7 cores in one goroutine on a simulated
// clock, each with a client service (simservice_test.go), and players that
// run the real client's Core over it (simclient_test.go, simconn_test.go).
// Faults: crash (with or without the broken-link signal), restart
// with or without memory, pause (no ticks, messages held), partitions of any
// shape, one-way cuts, message drop, duplication, reordering and delay.
//
// Durable schedules add a disk to each node (simdisk_test.go): a crash
// loses what was not synced, and a restart from disk rebuilds the core from
// what was. Nodes have clocks of their own (simclock_test.go), and nodes
// join with new ids and leave through the log (simfaults_test.go).
//
// The fault model: what a node keeps is its disk (durable schedules) or,
// without one, its memory as long as it is not restarted empty. A schedule
// never takes down a node for good (a crash it restarts empty from, or a
// pause in availability mode) when no other live node would still hold
// every acknowledged command, judged as the primary judges it: the primary
// and the backups in its view (or, with no primary, the logs themselves).
// Crashes that keep the data (a disk, a restart with memory) and, in
// quorum mode, pauses may take the cluster past its failure threshold:
// it must then stall, never lose or fork what it acknowledged. Without a
// quorum, a partition (a cut, losses heavy enough that two live nodes do
// not hear each other for a suspicion timeout, or the only holders of the
// newest commits down while others play on) may roll back the commands of
// the losing branch, and every such rollback must be reported; nothing else
// may be lost.

const simBase = int64(1_800_000_000) * int64(time.Second) // the simulated clock starts here

type simOpts struct {
	nodes       int
	noPartition bool // crashes, restarts, pauses, light losses, duplicates, reordering; no cuts
	quorum      bool
	quorumN     int // the --quorum K of a scenario (any K: quorum mode)
	async       bool
	clients     int
	duration    time.Duration // fault phase
	heal        time.Duration // then everything heals; clients finish
	cfg         func(id wire.NodeID) Config
	// skipLines makes nodes forget to push one chat line in this many
	// (only for the test that shows the chat checks bite).
	skipLines int

	durable bool // nodes keep a disk (Config.Durable): disk faults
	syncMax int  // a sync takes 50 µs to this many µs more (durable)
	clocks  bool // per-node clocks: drift, offsets, steps of the wall clock
	members bool // nodes join with new ids and leave; mixed settings
	reads   bool // a reader checks reads at whoever believes it leads
	batch   int  // the most entries an APPEND carries (0: the test preset's)
	// sleepy nodes run as node's loop does: a turn (Tick first) with each
	// message, and else a timer at the core's Due.
	// Without, every node ticks each millisecond.
	sleepy bool
}

type msgEvent struct {
	at   int64
	seq  uint64
	from wire.NodeID
	to   wire.NodeID
	msg  wire.PeerMessage
	down wire.NodeID // a LinkDown(down) for node to
	cl   *connEvent  // client traffic (to is 0 for the client's side)
	disk int         // a write of start disk of node to completes
}

type eventQueue []*msgEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*msgEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type simNode struct {
	id         wire.NodeID
	core       *Core
	up         bool
	paused     bool
	held       []*msgEvent // delivered while paused
	upSince    int64
	resumed    int64
	nextTick   int64
	phase      int64
	svc        *service // its client service
	boot       int      // counts its starts: a connection is to one of them
	silent     bool     // down without a trace: dials to it time out
	lastEpoch  wire.Epoch
	lastCommit uint64 // its commit index after its last step
	lives      uint64 // starts so far: each start is a new life
	mixed      bool   // runs with the other quorum setting

	disk    *simDisk   // durable schedules
	saving  bool       // a Ready waits for its write (durable)
	spoke   wire.Epoch // the newest epoch its messages carried
	keepMem bool       // it crashed keeping its memory: it restarts with it
	wipe    bool       // it crashed losing its disk: it restarts empty
	gone    bool       // it left the cluster for good
	clock   simClock
	// The life before this one, for answers still on their way.
	lastCore *Core
	lastDisk *simDisk
	lastEnd  int64
	applied  []wire.Epoch // the epoch of each entry it applied, by index
}

type sim struct {
	opts  simOpts
	seed  uint64
	rng   *rand.Rand
	now   int64
	seq   uint64
	q     eventQueue
	nodes []*simNode // by id-1

	// network faults
	group    []int // partition group of each node; equal groups talk
	oneWay   map[[2]wire.NodeID]bool
	drop     float64
	dup      float64
	reorder  bool
	lastLink map[[2]wire.NodeID]int64 // FIFO per link unless reordering
	// linkBack: after a cut heals, a peer link (TCP) takes a while to be
	// dialled again; until then only beacons (UDP) get through.
	linkBack map[[2]wire.NodeID]int64
	heard    map[[2]wire.NodeID]int64 // last delivery from a to b

	clients []*simPlayer
	// clientLogs counts the players' clients' log lines, by message: how
	// often they lost a primary, watched, moved, gave up on silence.
	clientLogs map[string]int
	check      *checker
	counts     map[string]int // faults of the grown simulation, by kind
	readSeq    uint64
	readsOut   map[uint64]*simRead
	nextRead   int64
	onApplied  func(n *simNode, a Applied)
	trace      []string
	faultLog   []string
}

func newSim(seed uint64, o simOpts) *sim {
	s := &sim{
		opts:     o,
		seed:     seed,
		rng:      rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		now:      simBase,
		oneWay:   map[[2]wire.NodeID]bool{},
		lastLink: map[[2]wire.NodeID]int64{},
		linkBack: map[[2]wire.NodeID]int64{},
		heard:    map[[2]wire.NodeID]int64{},

		clientLogs: map[string]int{},
		counts:     map[string]int{},
		readsOut:   map[uint64]*simRead{},
	}
	s.check = newChecker(s)
	s.group = make([]int, o.nodes)
	for i := 0; i < o.nodes; i++ {
		n := &simNode{id: wire.NodeID(i + 1), phase: int64(s.rng.IntN(1000)) * int64(time.Microsecond)}
		s.nodes = append(s.nodes, n)
		s.start(n, nil)
	}
	for i := 0; i < o.clients; i++ {
		s.clients = append(s.clients, newSimPlayer(s, i))
	}
	return s
}

func (s *sim) config(id wire.NodeID) Config {
	var c Config
	if s.opts.cfg != nil {
		c = s.opts.cfg(id)
	} else {
		c = TestConfig(id)
	}
	c.Quorum = s.opts.quorum
	if s.opts.quorum {
		// The nodes the schedule starts with make the cluster.
		for i := 1; i <= s.opts.nodes; i++ {
			c.Bootstrap = append(c.Bootstrap, wire.NodeID(i))
		}
	} else {
		c.BootstrapAny = true
	}
	c.ClusterID = s.seed
	c.UnsafeAsync = s.opts.async
	c.Durable = s.opts.durable
	c.Seed = s.seed
	c.Rules.RoundCountdown = time.Hour // a full board ends the schedule's game
	c.Rules.ClaimLease = 40 * c.Heartbeat
	// Rollback reports list what the dropping node still holds; keep a
	// schedule's worth (compaction still runs in long schedules).
	c.LogKeep = 1024
	if s.opts.batch > 0 {
		c.MaxBatch = s.opts.batch
	}
	return c
}

// start boots a node: a fresh core, the one it had (restart with memory),
// or one rebuilt from its disk (durable).
func (s *sim) start(n *simNode, keep *Core) {
	n.up, n.paused, n.held = true, false, nil
	n.upSince = s.now
	n.boot++
	n.silent = false
	n.saving = false
	n.keepMem, n.wipe = false, false
	n.svc = newService(s, n)
	if keep != nil {
		n.core = keep
		s.tick(n)
		n.nextTick = s.now + n.phase
		return
	}
	cfg := s.config(n.id)
	if n.mixed {
		cfg.Quorum = !cfg.Quorum
		cfg.Bootstrap, cfg.BootstrapAny = nil, false
	}
	n.lives++
	cfg.Life = n.lives
	if n.core != nil && (n.core.LastIndex() > 0 || s.now-n.lastEnd >= int64(10*time.Millisecond)) {
		n.lastCore, n.lastEnd = n.core, s.now // (an empty life in between answered nothing)
	}
	n.applied = nil // a new process: what it applies is news to it
	s.newClock(n)
	var r Restored
	if s.opts.durable {
		if n.disk == nil {
			n.disk = &simDisk{}
		}
		r = n.disk.restored()
	}
	c, err := RestartCore(cfg, s.mono(n), r)
	if err != nil {
		s.check.fail("n%d cannot restart from its disk: %v", n.id, err)
		n.disk = &simDisk{}
		c, err = NewCore(cfg, s.mono(n))
		if err != nil {
			panic(err)
		}
	}
	if s.opts.durable && n.disk.hard != nil {
		// Its promise survives: no epoch it spoke in is forgotten.
		if e := c.Epoch(); e.Before(n.spoke) {
			s.check.fail("n%d restarted from disk in epoch %d, older than epoch %d its messages carried", n.id, e.Term(), n.spoke.Term())
		}
	} else {
		n.spoke = wire.Epoch{}
	}
	n.core = c
	n.lastEpoch = c.Epoch()
	n.lastCommit = c.Commit()
	if s.opts.clocks {
		c.SetWall(s.wall(n))
	}
	n.nextTick = s.now + n.phase
}

func (s *sim) node(id wire.NodeID) *simNode { return s.nodes[id-1] }

func (s *sim) randomNode() wire.NodeID { return wire.NodeID(1 + s.rng.IntN(len(s.nodes))) }

func (n *simNode) resumedAt() int64 { return n.resumed }

func (s *sim) logf(format string, args ...any) {
	line := fmt.Sprintf("%8.3fms ", float64(s.now-simBase)/1e6) + fmt.Sprintf(format, args...)
	s.trace = append(s.trace, line)
	if len(s.trace) > 400 {
		s.trace = s.trace[len(s.trace)-300:]
	}
}

func (s *sim) push(e *msgEvent) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.q, e)
}

// latency of one hop: 50–500 µs, more with reordering.
func (s *sim) latency() int64 {
	d := int64(50+s.rng.IntN(450)) * int64(time.Microsecond)
	if s.reorder {
		d += int64(s.rng.IntN(4000)) * int64(time.Microsecond)
	}
	return d
}

func (s *sim) cut(from, to wire.NodeID) bool {
	return s.group[from-1] != s.group[to-1] || s.oneWay[[2]wire.NodeID{from, to}] ||
		s.node(from).mixed != s.node(to).mixed
}

// setMixed restarts n with the other quorum setting (and no leave to make
// a cluster): its peers refuse it, as their handshakes and beacon filters
// do, so it stays out of the cluster; players do not reach it.
func (s *sim) setMixed(n *simNode) {
	s.fault("n%d runs with the other quorum setting", n.id)
	s.linksBreak(n) // the old process's links break, before the new one is cut off
	n.mixed = true
	s.connsDie(n)
	if n.disk != nil {
		n.setDisk(s, &simDisk{}) // another process, with its own data
	}
	s.start(n, nil)
	s.linksBreak(n)
}

// sendPeer puts a peer message on the network.
func (s *sim) sendPeer(from, to wire.NodeID, m wire.PeerMessage) {
	if s.cut(from, to) || (s.drop > 0 && s.rng.Float64() < s.drop) {
		return
	}
	if _, beacon := m.(*wire.Beacon); !beacon && s.now < s.linkBack[[2]wire.NodeID{from, to}] {
		return
	}
	at := s.now + s.latency()
	link := [2]wire.NodeID{from, to}
	if _, beacon := m.(*wire.Beacon); !beacon && !s.reorder {
		// peer links are TCP: in order
		at = max(at, s.lastLink[link])
		s.lastLink[link] = at
	}
	s.push(&msgEvent{at: at, from: from, to: to, msg: m})
	if s.dup > 0 && s.rng.Float64() < s.dup {
		s.push(&msgEvent{at: at + s.latency(), from: from, to: to, msg: m})
	}
}

// drain takes a node's Ready and acts on it, or, durable, hands it to
// the disk first (see simdisk_test.go).
func (s *sim) drain(n *simNode) {
	if n.up && !n.paused {
		s.check.stepped(n)
	}
	if !n.up || n.paused || n.saving {
		return
	}
	rd := n.core.Ready()
	if s.opts.durable && !rd.Persist.Empty() {
		// As node.turnReady: a primary's Ready that only appends (Ahead)
		// is acted on while it is written.
		w := simWrite{rd: rd, wait: rd.Persist.MustSync, acted: rd.Persist.MustSync && rd.Persist.Ahead}
		if w.acted {
			s.process(n, rd)
		}
		s.write(n, w)
		if w.wait {
			n.saving = true
			return
		}
	}
	s.process(n, rd)
}

// process acts on a Ready: sends, answers, shows.
func (s *sim) process(n *simNode, rd Ready) {
	for _, env := range rd.Messages {
		if _, e := env.Msg.Header(); e.After(n.spoke) {
			n.spoke = e
		}
		if env.To == 0 {
			for _, o := range s.nodes {
				if o.id != n.id {
					s.sendPeer(n.id, o.id, env.Msg)
				}
			}
		} else if int(env.To) <= len(s.nodes) {
			s.sendPeer(n.id, env.To, env.Msg)
		}
	}
	for _, nt := range rd.Notices {
		s.logf("n%d: %s", n.id, nt.Text)
	}
	for _, a := range rd.Committed {
		s.check.applied(n, a)
		if s.onApplied != nil {
			s.onApplied(n, a)
		}
	}
	s.readsDone(n, rd.Reads)
	n.svc.committed(rd)
	n.svc.publish(rd)
	s.check.afterStep(n)
}

// deliver hands one event to its destination.
func (s *sim) deliver(e *msgEvent) {
	if e.to == 0 {
		s.toPlayer(e.cl)
		return
	}
	n := s.node(e.to)
	if !n.up {
		return
	}
	if n.paused {
		n.held = append(n.held, e)
		return
	}
	if e.from != 0 {
		s.heard[[2]wire.NodeID{e.from, e.to}] = s.now
	}
	if s.opts.sleepy {
		s.tick(n)
	}
	switch {
	case e.disk != 0:
		if e.disk == n.boot {
			s.synced(n)
		}
	case e.down != 0:
		n.core.LinkDown(e.down)
	case e.cl != nil:
		s.toService(n, e.cl)
	default:
		n.core.Step(e.msg)
	}
	s.drain(n)
	if s.opts.sleepy {
		s.rearm(n)
	}
}

// rearm sets a node's next tick after a turn: a millisecond on, or, for a
// sleepy node, the core's Due.
func (s *sim) rearm(n *simNode) {
	if !s.opts.sleepy {
		n.nextTick = s.now + int64(time.Millisecond)
		return
	}
	d := n.core.Due() - s.mono(n)
	if r := n.clock.rate; r != 1 {
		d = int64(float64(d) / r)
	}
	n.nextTick = s.now + max(d, int64(time.Millisecond))
}

// run advances the simulation to time end.
func (s *sim) run(end int64) {
	for s.now < end {
		next := end
		if len(s.q) > 0 && s.q[0].at < next {
			next = s.q[0].at
		}
		for _, n := range s.nodes {
			if n.up && !n.paused && n.nextTick < next {
				next = n.nextTick
			}
		}
		for _, p := range s.clients {
			next = min(next, p.wake())
		}
		if s.opts.reads {
			next = min(next, max(s.nextRead, s.now))
		}
		if next > s.now {
			s.now = next
		}
		for len(s.q) > 0 && s.q[0].at <= s.now {
			e := heap.Pop(&s.q).(*msgEvent)
			s.deliver(e)
		}
		for _, n := range s.nodes {
			if n.up && !n.paused && n.nextTick <= s.now {
				s.tick(n)
				s.drain(n)
				s.rearm(n)
			}
		}
		for _, p := range s.clients {
			if p.wake() <= s.now {
				p.step()
			}
		}
		s.readTick()
		s.check.tick()
	}
}

// settled reports whether one primary serves, every node follows it with
// the whole log applied, and no client waits.
func (s *sim) settled() bool { return s.unsettled() == "" }

// unsettled says why the cluster has not settled ("" if it has).
func (s *sim) unsettled() string {
	var prim *simNode
	for _, n := range s.nodes {
		if n.up && !n.paused && n.core.Role() == wire.RolePrimary {
			if prim != nil {
				return "two primaries"
			}
			prim = n
		}
	}
	if prim == nil || !prim.core.Serving() {
		return "no primary serving"
	}
	for _, n := range s.nodes {
		if !n.up || n.paused {
			continue
		}
		e, _ := n.core.log.epochAt(n.core.Applied())
		pe, _ := prim.core.log.epochAt(prim.core.LastIndex())
		if n.core.Epoch() != prim.core.Epoch() || n.core.Applied() != prim.core.LastIndex() || e != pe {
			return fmt.Sprintf("n%d is not at the primary's last entry", n.id)
		}
		// Every rollback a node holds has been logged.
		for _, d := range n.core.unreported {
			if !n.core.settled(d) {
				return fmt.Sprintf("n%d holds an unlogged rollback of %s/%d", n.id, d.item.Name, d.item.Seq)
			}
		}
	}
	for _, p := range s.clients {
		if p.op != nil {
			return fmt.Sprintf("client %s waits for seq %d", p.name, p.op.seq)
		}
		if st := p.core.Status(); st.Pending > 0 {
			return fmt.Sprintf("client %s has %d commands unanswered", p.name, st.Pending)
		}
	}
	return ""
}

func (s *sim) primary() *simNode {
	for _, n := range s.nodes {
		if n.up && !n.paused && n.core.Role() == wire.RolePrimary {
			return n
		}
	}
	return nil
}

func (s *sim) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, %d nodes, quorum %v, async %v\n", s.seed, s.opts.nodes, s.opts.quorum, s.opts.async)
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "  %s up=%v paused=%v applied=%d\n", n.core, n.up, n.paused, n.core.Applied())
	}
	b.WriteString("faults:\n  " + strings.Join(s.faultLog, "\n  ") + "\n")
	b.WriteString("trace (last lines):\n")
	from := max(0, len(s.trace)-120)
	b.WriteString(strings.Join(s.trace[from:], "\n"))
	return b.String()
}

// sortedKeys is a helper for deterministic iteration in checks.
func sortedKeys[K interface{ ~uint64 | ~int }, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
