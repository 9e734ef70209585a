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
// The fault model: the cluster keeps nothing on disk, so a schedule never
// takes down (crashes or pauses) a node when no other live node would still
// hold every acknowledged command, judged as the primary judges it: the
// primary and the backups in its view (or, with no primary, the logs
// themselves). Without a quorum, a partition (a cut, or losses heavy enough
// that two live nodes do not hear each other for a suspicion timeout) may
// roll back the commands of the losing branch, and every such rollback must
// be reported; nothing else may be lost.

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
}

type msgEvent struct {
	at   int64
	seq  uint64
	from wire.NodeID
	to   wire.NodeID
	msg  wire.PeerMessage
	down wire.NodeID // a LinkDown(down) for node to
	cl   *connEvent  // client traffic (to is 0 for the client's side)
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
	id        wire.NodeID
	core      *Core
	up        bool
	paused    bool
	held      []*msgEvent // delivered while paused
	upSince   int64
	resumed   int64
	nextTick  int64
	phase     int64
	svc       *service // its client service
	boot      int      // counts its starts: a connection is to one of them
	silent    bool     // down without a trace: dials to it time out
	lastEpoch wire.Epoch
	lives     uint64 // starts so far: each start is a new life
	mixed     bool   // runs with the other quorum setting (scenarios)
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
	c.Seed = s.seed
	c.Rules.RoundCountdown = time.Hour // a full board ends the schedule's game
	c.Rules.ClaimLease = 40 * c.Heartbeat
	// Rollback reports list what the dropping node still holds; keep a
	// schedule's worth (compaction still runs in long schedules).
	c.LogKeep = 1024
	return c
}

// start boots a node: a fresh core, or the one it had (restart with memory).
func (s *sim) start(n *simNode, keep *Core) {
	n.up, n.paused, n.held = true, false, nil
	n.upSince = s.now
	n.boot++
	n.silent = false
	n.svc = newService(s, n)
	if keep != nil {
		n.core = keep
		n.core.Tick(s.now)
	} else {
		cfg := s.config(n.id)
		if n.mixed {
			cfg.Quorum = !cfg.Quorum
			cfg.Bootstrap, cfg.BootstrapAny = nil, false
		}
		n.lives++
		cfg.Life = n.lives
		c, err := NewCore(cfg, s.now)
		if err != nil {
			panic(err)
		}
		n.core = c
		n.lastEpoch = wire.Epoch{}
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
	n.mixed = true
	s.fault("n%d runs with the other quorum setting", n.id)
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

// drain takes a node's Ready and acts on it.
func (s *sim) drain(n *simNode) {
	if !n.up || n.paused {
		return
	}
	rd := n.core.Ready()
	for _, env := range rd.Messages {
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
	switch {
	case e.down != 0:
		n.core.LinkDown(e.down)
	case e.cl != nil:
		s.toService(n, e.cl)
	default:
		n.core.Step(e.msg)
	}
	s.drain(n)
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
		if next > s.now {
			s.now = next
		}
		for len(s.q) > 0 && s.q[0].at <= s.now {
			e := heap.Pop(&s.q).(*msgEvent)
			s.deliver(e)
		}
		for _, n := range s.nodes {
			if n.up && !n.paused && n.nextTick <= s.now {
				n.core.Tick(s.now)
				n.nextTick = s.now + int64(time.Millisecond)
				s.drain(n)
			}
		}
		for _, p := range s.clients {
			if p.wake() <= s.now {
				p.step()
			}
		}
		s.check.tick()
	}
}

// ---- faults ----

// linkDownAt is when a peer learns that from's link broke: after whatever
// from had sent on it (a killed process's socket is flushed, then closed).
func (s *sim) linkDownAt(from, to wire.NodeID) int64 {
	return max(s.now+s.latency(), s.lastLink[[2]wire.NodeID{from, to}]+1)
}

// linksBreak tells n's live peers whose links to it are not cut that
// those links broke.
func (s *sim) linksBreak(n *simNode) {
	for _, o := range s.nodes {
		if o.id != n.id && o.up && !s.cut(n.id, o.id) {
			s.push(&msgEvent{at: s.linkDownAt(n.id, o.id), to: o.id, down: n.id})
		}
	}
}

// fault records a fault in the trace and in the list of faults.
func (s *sim) fault(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.logf("FAULT %s", msg)
	s.faultLog = append(s.faultLog, fmt.Sprintf("%.1fms %s", float64(s.now-simBase)/1e6, msg))
}

func (s *sim) crash(n *simNode, linkDown bool) {
	n.up = false
	n.held = nil
	n.silent = !linkDown
	s.fault("crash n%d (link down signal: %v)", n.id, linkDown)
	if linkDown {
		s.linksBreak(n)
	}
	s.connsDie(n)
}

func (s *sim) restart(n *simNode, memory bool) {
	var keep *Core
	if memory {
		keep = n.core
	}
	s.fault("restart n%d (memory: %v)", n.id, memory)
	s.start(n, keep)
	s.linksBreak(n) // peers' old links to it break when it comes back
	s.drain(n)
}

func (s *sim) pause(n *simNode) {
	n.paused = true
	s.fault("pause n%d", n.id)
}

func (s *sim) resume(n *simNode) {
	if !n.up || !n.paused {
		return
	}
	n.paused = false
	n.resumed = s.now
	s.logf("FAULT resume n%d", n.id)
	n.core.Tick(s.now)
	n.nextTick = s.now + int64(time.Millisecond)
	s.drain(n)
	held := n.held
	n.held = nil
	for _, e := range held {
		s.deliver(e)
	}
}

// partition cuts the network into groups. With reset, the links it severs
// break at once (as behind a firewall that rejects): the nodes on both
// sides get LinkDown for the peers they lose.
func (s *sim) partition(groups []int, reset bool) {
	s.relink()
	was := slices.Clone(s.group)
	copy(s.group, groups)
	s.fault("partition %v (links reset: %v)", groups, reset)
	s.check.partitioned = true
	if !reset {
		return
	}
	for _, a := range s.nodes {
		for _, b := range s.nodes {
			if a != b && was[a.id-1] == was[b.id-1] && groups[a.id-1] != groups[b.id-1] {
				s.push(&msgEvent{at: s.linkDownAt(b.id, a.id), to: a.id, down: b.id})
			}
		}
	}
}

// relink gives every peer link that a cut broke a redial delay (up to
// 300 ms, as a dialer's backoff would) before it carries messages again.
func (s *sim) relink() {
	for _, a := range s.nodes {
		for _, b := range s.nodes {
			if a != b && s.cut(a.id, b.id) {
				s.linkBack[[2]wire.NodeID{a.id, b.id}] = s.now + int64(s.rng.IntN(300))*int64(time.Millisecond)
			}
		}
	}
}

func (s *sim) heal() {
	s.relink()
	for i := range s.group {
		s.group[i] = 0
	}
	clear(s.oneWay)
	s.drop, s.dup, s.reorder = 0, 0, false
	s.logf("FAULT heal")
}

// randomFaults runs the fault phase: a fault every 2–11 heartbeats
// (20–110 simulated ms with the test timings).
func (s *sim) randomFaults(end int64) {
	hb := int64(s.config(1).Heartbeat)
	for s.now < end {
		s.run(min(end, s.now+hb*int64(2+s.rng.IntN(10))))
		s.oneFault()
	}
}

func (s *sim) oneFault() {
	pick := func(f func(n *simNode) bool) *simNode {
		var cands []*simNode
		for _, n := range s.nodes {
			if f(n) {
				cands = append(cands, n)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return cands[s.rng.IntN(len(cands))]
	}
	// Bring things back more often than taking them down.
	switch r := s.rng.IntN(100); {
	case r < 18:
		if n := pick(func(n *simNode) bool { return !n.up }); n != nil {
			s.restart(n, s.rng.IntN(3) == 0)
		}
	case r < 30:
		if n := pick(func(n *simNode) bool { return n.up && n.paused }); n != nil {
			s.resume(n)
		}
	case r < 48:
		prim := s.rng.IntN(2) == 0
		if n := pick(func(n *simNode) bool {
			return n.up && !n.paused && (!prim || n.core.Role() == wire.RolePrimary) && s.check.mayTakeDown(n)
		}); n != nil {
			s.crash(n, s.rng.IntN(4) != 0)
		}
	case r < 58:
		if n := pick(func(n *simNode) bool { return n.up && !n.paused && s.check.mayTakeDown(n) }); n != nil {
			s.pause(n)
		}
	case r < 72 && s.opts.noPartition:
		s.drop = []float64{0.01, 0.03}[s.rng.IntN(2)]
		s.logf("FAULT drop %.2f", s.drop)
	case r < 68:
		groups := make([]int, len(s.nodes))
		switch s.rng.IntN(3) {
		case 0: // isolate one
			groups[s.rng.IntN(len(groups))] = 1
		default: // random split
			for i := range groups {
				groups[i] = s.rng.IntN(2)
			}
		}
		s.partition(groups, s.rng.IntN(2) == 0)
	case r < 72:
		a, b := s.randomNode(), s.randomNode()
		if a != b {
			s.oneWay[[2]wire.NodeID{a, b}] = true
			s.logf("FAULT one-way cut n%d -> n%d", a, b)
			s.check.partitioned = true
		}
	case r < 80:
		s.drop = []float64{0.01, 0.05, 0.1}[s.rng.IntN(3)]
		s.logf("FAULT drop %.2f", s.drop)
	case r < 84:
		s.dup = 0.05
		s.logf("FAULT duplicate")
	case r < 88:
		s.reorder = true
		s.logf("FAULT reorder")
	default:
		s.heal() // the network only; nodes stay as they are
	}
}

// healAll ends every fault: network healed, paused nodes resumed, crashed
// nodes restarted (without memory), and lets the cluster settle.
func (s *sim) healAll() {
	s.heal()
	for _, n := range s.nodes {
		if n.paused {
			s.resume(n)
		}
	}
	for _, n := range s.nodes {
		if !n.up {
			s.restart(n, false)
		}
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
