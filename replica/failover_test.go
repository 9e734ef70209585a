package replica

import (
	"slices"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// measureFailover crashes the primary of a settled three-node cluster
// running the default timings and returns the simulated time from the
// crash to the first player move committed through the new primary. A
// player hands the move to every live node each millisecond, so the figure
// is the cluster's, not a client's retry interval.
func measureFailover(t testing.TB, seed uint64, linkDown bool) time.Duration {
	s := newSim(seed, simOpts{nodes: 3, cfg: DefaultConfig})
	s.run(s.now + int64(time.Second))
	prim := s.primary()
	if prim == nil || prim.id != 3 {
		t.Fatalf("seed %d: no settled primary n3:\n%s", seed, s.describe())
	}
	var session game.SessionID
	committedAt := int64(0)
	var probes = map[wire.NodeID]uint64{}
	s.onApplied = func(n *simNode, a Applied) {
		if o, ok := a.Entry.Cmd.(game.OpenSession); ok && o.Token == "probe" && session == 0 {
			session = a.Result.Session
		}
		if committedAt == 0 && n.id != 3 && n.core.Role() == wire.RolePrimary && a.Entry.Session == session && session != 0 {
			if _, ok := a.Entry.Cmd.(game.Place); ok {
				committedAt = s.now
			}
		}
	}
	if _, err := prim.core.Propose(0, 0, game.OpenSession{Name: "probe", Token: "probe"}); err != nil {
		t.Fatal(err)
	}
	s.drain(prim)
	s.run(s.now + int64(50*time.Millisecond))
	if session == 0 {
		t.Fatalf("seed %d: probe session not opened", seed)
	}
	// Crash at a random moment within a heartbeat.
	s.run(s.now + int64(s.rng.IntN(100))*int64(time.Millisecond))
	crashAt := s.now
	s.crash(prim, linkDown)
	seq := uint64(0)
	for committedAt == 0 && s.now < crashAt+int64(5*time.Second) {
		for _, n := range s.nodes {
			if !n.up || probes[n.id] != 0 {
				continue
			}
			seq++
			p, err := n.core.Propose(session, seq, game.Place{Row: 0, Col: 0, Digit: 1})
			if err == nil && !p.Done {
				probes[n.id] = p.Index
			}
			s.drain(n)
		}
		s.run(s.now + int64(time.Millisecond))
	}
	if committedAt == 0 {
		t.Fatalf("seed %d: no move committed through a new primary within 5s:\n%s", seed, s.describe())
	}
	return time.Duration(committedAt - crashAt)
}

// TestFailoverFigures measures failover in simulated time over many crashes
// and checks the goals: with the broken-link signal, at most two
// election-answer timeouts; for a hung primary (no signal), at most the
// suspicion timeout plus two election-answer timeouts.
func TestFailoverFigures(t *testing.T) {
	cfg := DefaultConfig(1)
	trials := envInt("GRIDLOCK_FAILOVER_TRIALS", 50)
	for _, linkDown := range []bool{true, false} {
		var d []time.Duration
		for i := 0; i < trials; i++ {
			d = append(d, measureFailover(t, uint64(1000+i), linkDown))
		}
		slices.Sort(d)
		goal := 2 * cfg.ElectionAnswer
		name := "crash (link down)"
		if !linkDown {
			goal += cfg.Suspicion
			name = "hung (silence)"
		}
		t.Logf("failover, %s, %d trials: p50 %v  p99 %v  max %v  (goal ≤ %v)", name, trials, pct(d, 50), pct(d, 99), d[len(d)-1], goal)
		if d[len(d)-1] > goal {
			t.Errorf("%s failover took up to %v; the goal is %v", name, d[len(d)-1], goal)
		}
	}
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	return d[min(len(d)-1, max(0, i-1))].Round(10 * time.Microsecond)
}
