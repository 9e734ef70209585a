package replica

import (
	"time"
)

// Clocks. A node's core runs on its process's monotonic clock, as the
// runtime's does (time since the process started, plus a second): each
// start of a node has a clock of its own, from its own origin. With
// per-node clocks (simOpts.clocks) the clocks also run at rates of their
// own (up to 5 % apart, far more than real drift, so that timeouts of
// different nodes disagree), and each node's wall clock, which the core
// only stamps entries with, has an offset of its own and is stepped, back
// or forward, by the "clock step" fault. Without, every clock reads the
// simulation's time.

type simClock struct {
	origin int64   // the monotonic clock at from
	from   int64   // simulated time at which it read origin
	rate   float64 // its seconds per simulated second
	wall   int64   // its wall clock's offset from the simulation's
}

// newClock gives a node's new start its monotonic clock.
func (s *sim) newClock(n *simNode) {
	if !s.opts.clocks {
		n.clock = simClock{origin: s.now, from: s.now, rate: 1}
		return
	}
	wall := n.clock.wall
	if n.lives <= 1 {
		wall = int64(s.rng.IntN(1000)-500) * int64(time.Millisecond)
	}
	n.clock = simClock{
		origin: int64(time.Second) + int64(s.rng.IntN(5000))*int64(time.Millisecond),
		from:   s.now,
		rate:   0.95 + 0.1*s.rng.Float64(),
		wall:   wall,
	}
}

// mono is what node n's monotonic clock reads now.
func (s *sim) mono(n *simNode) int64 {
	c := n.clock
	if c.rate == 1 {
		return c.origin + (s.now - c.from)
	}
	return c.origin + int64(float64(s.now-c.from)*c.rate)
}

// wall is what node n's wall clock reads now.
func (s *sim) wall(n *simNode) int64 { return s.now + n.clock.wall }

// tick gives node n the time, as the runtime's loop does at each turn.
func (s *sim) tick(n *simNode) {
	if s.opts.clocks {
		n.core.SetWall(s.wall(n))
	}
	n.core.Tick(s.mono(n))
}

// stepClock steps node n's wall clock by d (an operator, or NTP).
func (s *sim) stepClock(n *simNode, d time.Duration) {
	n.clock.wall += int64(d)
	s.counts["clock step"]++
	s.fault("n%d's wall clock steps by %v", n.id, d)
}
