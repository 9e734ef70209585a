package replica

import (
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

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
	s.diskCrash(n)
}

// restart brings a node back: with memory (the core it had, without a
// disk), or as a new process: from its disk (durable, unless the crash
// took the disk), else empty.
func (s *sim) restart(n *simNode, memory bool) {
	var keep *Core
	how := "empty"
	switch {
	case s.opts.durable && n.wipe:
		n.setDisk(s, &simDisk{})
		how = "disk lost: empty"
	case s.opts.durable:
		how = "from disk"
		s.counts["restart from disk"]++
	case memory:
		keep = n.core
		how = "with memory"
	}
	s.fault("restart n%d (%s)", n.id, how)
	s.start(n, keep)
	s.linksBreak(n) // peers' old links to it break when it comes back
	if r := n.core.Role(); keep != nil && (r == wire.RolePrimary || r == wire.RoleSyncing || r == wire.RoleElecting) {
		// Back too soon to tell it was down, it keeps its office (or bid)
		// while its peers, told its links broke, take it for gone: a reset
		// partition. (A real restart comes back listening.)
		s.check.partitioned = true
		s.logf("de-facto partition: n%d kept its office through a crash", n.id)
	}
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
	s.tick(n)
	s.drain(n)
	s.rearm(n)
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
	if s.extraFault(pick) {
		return
	}
	// Bring things back more often than taking them down.
	switch r := s.rng.IntN(100); {
	case r < 18:
		if n := pick(func(n *simNode) bool { return !n.up && !n.gone }); n != nil {
			s.restart(n, n.keepMem)
		}
	case r < 30:
		if n := pick(func(n *simNode) bool { return n.up && n.paused }); n != nil {
			s.resume(n)
		}
	case r < 48:
		prim := s.rng.IntN(2) == 0
		if n := pick(func(n *simNode) bool {
			return n.up && !n.paused && (!prim || n.core.Role() == wire.RolePrimary) && s.mayCrash(n)
		}); n != nil {
			sole := !s.check.mayTakeDown(n)
			s.crash(n, s.rng.IntN(4) != 0)
			// Past the fault model's line, a crash keeps the data.
			n.keepMem = sole || s.rng.IntN(3) == 0
			n.wipe = s.opts.durable && !sole && s.rng.IntN(3) == 0
		}
	case r < 58:
		if n := pick(func(n *simNode) bool {
			return n.up && !n.paused && (s.opts.quorum && s.made() || s.check.mayTakeDown(n))
		}); n != nil {
			s.pause(n)
		}
	case r < 72 && s.opts.noPartition:
		s.drop = []float64{0.01, 0.03}[s.rng.IntN(2)]
		s.logf("FAULT drop %.2f", s.drop)
	case r < 68 && s.mayCut():
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
	case r < 72 && s.mayCut():
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

// healAll ends every fault: network healed, paused nodes resumed, nodes
// of the other setting brought back to the cluster's, crashed nodes
// restarted (with memory if they kept it, from disk if they have one,
// else empty), and lets the cluster settle.
func (s *sim) healAll() {
	s.heal()
	for _, n := range s.nodes {
		if n.paused {
			s.resume(n)
		}
	}
	for _, n := range s.nodes {
		switch {
		case n.mixed && n.up:
			s.unmix(n)
		case n.mixed:
			n.mixed, n.keepMem, n.wipe = false, false, true
		}
	}
	for _, n := range s.nodes {
		if !n.up && !n.gone {
			s.restart(n, n.keepMem)
		}
	}
}

// mayCrash applies the fault model to a crash: one that keeps the data
// (a disk; in quorum mode, memory kept for the restart) may take the
// cluster past its threshold, and it must stall; without a quorum a lone
// holder must stay up, as others would play on without it.
func (s *sim) mayCrash(n *simNode) bool {
	return !s.reporting(n) && (s.opts.quorum && s.made() || s.check.mayTakeDown(n))
}

// reporting reports whether node n holds commands it dropped to follow a
// winning branch and has not yet seen logged as rolled back: they are kept
// in its memory only, often the last trace of acknowledged commands, and a
// crash then would lose their players' news of the rollback. From disk
// that is a known limit; restarted empty (or left, or made another
// process), no node could tell them. The simulation leaves both out.
func (s *sim) reporting(n *simNode) bool {
	return n.up && len(n.core.unreported) > 0
}

// made reports whether the cluster exists: its first entry committed. A
// bootstrap cut short past the threshold (a power cut before any node
// synced its first answer) leaves a cluster that never was and cannot
// count its founders; the simulation leaves that case out.
func (s *sim) made() bool {
	return len(s.check.committed) > 1 && s.check.committed[1].set
}

// mayCut reports whether the network may be cut: with a quorum, not while
// the cluster is being made (a bootstrap cut short can leave a first entry
// that no quorum of founders holds: see made).
func (s *sim) mayCut() bool { return !s.opts.quorum || s.made() }

// extraFault runs, now and then, one of the faults of the grown
// simulation that the schedule's options turn on. It reports whether it
// did.
func (s *sim) extraFault(pick func(func(*simNode) bool) *simNode) bool {
	if !s.opts.clocks && !s.opts.members && !s.opts.durable {
		return false
	}
	r := s.rng.IntN(100)
	switch {
	case r < 5 && s.opts.clocks:
		if n := pick(func(n *simNode) bool { return n.up }); n != nil {
			d := time.Duration(10+s.rng.IntN(2000)) * time.Millisecond
			if s.rng.IntN(2) == 0 {
				d = -d
			}
			s.stepClock(n, d)
		}
	case r < 9 && s.opts.members && len(s.nodes) < maxSimNodes:
		s.join()
	case r < 12 && s.opts.members:
		if n := pick(func(n *simNode) bool {
			return n.up && !n.paused && !n.mixed && s.check.mayTakeDown(n) && !s.reporting(n) && s.members() > 2
		}); n != nil {
			s.leave(n)
		}
	case r < 14 && s.opts.members:
		if n := pick(func(n *simNode) bool {
			return n.up && !n.paused && !n.mixed && s.check.mayTakeDown(n) && !s.reporting(n)
		}); n != nil {
			s.setMixed(n)
		}
	case r < 17 && s.opts.members:
		if n := pick(func(n *simNode) bool { return n.up && n.mixed }); n != nil {
			s.unmix(n)
		}
	case r < 20 && s.opts.durable && s.made() && !slices.ContainsFunc(s.nodes, s.reporting):
		s.crashAll()
	default:
		return false
	}
	return true
}

// maxSimNodes bounds the ids a schedule's joins use.
const maxSimNodes = 9

// members counts the nodes that have not left.
func (s *sim) members() int {
	k := 0
	for _, n := range s.nodes {
		if !n.gone {
			k++
		}
	}
	return k
}

// join starts a node with a new id: it joins as a learner and votes once
// it has caught up.
func (s *sim) join() {
	n := &simNode{id: wire.NodeID(len(s.nodes) + 1), phase: int64(s.rng.IntN(1000)) * int64(time.Microsecond)}
	s.nodes = append(s.nodes, n)
	s.group = append(s.group, 0)
	s.fault("n%d joins", n.id)
	s.counts["join"]++
	s.start(n, nil)
	s.drain(n)
}

// leave shuts a node down gracefully, as the runtime's Leave does: it says
// goodbye, flushes what it has to its disk and its links, and stops for
// good; the primary removes it from the configuration through the log.
func (s *sim) leave(n *simNode) {
	s.fault("n%d leaves", n.id)
	s.counts["leave"]++
	n.core.Leave()
	s.drain(n)
	for n.disk != nil && len(n.disk.pending) > 0 {
		s.synced(n)
		s.drain(n)
	}
	n.up, n.gone = false, true
	n.held = nil
	s.linksBreak(n)
	s.connsDie(n)
}

// unmix restarts a node of the other quorum setting with the cluster's,
// empty: it rejoins as a node that lost its data.
func (s *sim) unmix(n *simNode) {
	n.mixed = false
	n.wipe = true
	s.crash(n, true)
	s.restart(n, false)
}

// crashAll crashes every node at once (durable schedules: a power cut),
// each losing what it had not synced, and restarts them all from disk a
// little later.
func (s *sim) crashAll() {
	s.fault("every node crashes")
	s.counts["power cut"]++
	for _, n := range s.nodes {
		if n.up {
			s.crash(n, s.rng.IntN(2) == 0)
		}
	}
	s.run(s.now + int64(10+s.rng.IntN(60))*int64(time.Millisecond))
	for _, n := range s.nodes {
		if !n.up && !n.gone {
			n.keepMem, n.wipe = false, false
			s.restart(n, false)
		}
	}
}
