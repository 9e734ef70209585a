package replica

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// GRIDLOCK_SIM_SCHEDULES sets how many random schedules TestRandomSchedules
// runs (default 1000); GRIDLOCK_SIM_SEED replays one schedule with its trace.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scheduleOpts derives a schedule's shape from its seed.
func scheduleOpts(seed uint64) simOpts {
	r := rand.New(rand.NewPCG(seed, 7))
	return simOpts{
		noPartition: r.IntN(5) < 2,
		nodes:       3 + r.IntN(5),
		quorum:      r.IntN(3) == 0,
		clients:     2 + r.IntN(4),
		duration:    time.Duration(400+r.IntN(800)) * time.Millisecond,
		heal:        3 * time.Second,
		durable:     r.IntN(3) == 0,
		syncMax:     []int{200, 2000}[r.IntN(2)],
		clocks:      r.IntN(2) == 0,
		members:     r.IntN(3) == 0,
		reads:       r.IntN(2) == 0,
		batch:       []int{0, 0, 1, 3}[r.IntN(4)],
		sleepy:      r.IntN(2) == 0,
	}
}

// runSchedule runs one random schedule: faults, then healing, then the
// final checks. The returned sim holds any violation.
func runSchedule(seed uint64, o simOpts) *sim {
	s := newSim(seed, o)
	s.randomFaults(s.now + int64(o.duration))
	for _, c := range s.clients {
		c.stop = true
	}
	s.healAll()
	deadline := s.now + int64(o.heal)
	for s.now < deadline && !s.settled() {
		s.run(s.now + int64(5*time.Millisecond))
	}
	s.check.final()
	return s
}

func TestRandomSchedules(t *testing.T) {
	if v := os.Getenv("GRIDLOCK_SIM_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("GRIDLOCK_SIM_SEED=%q: %v", v, err)
		}
		s := runSchedule(seed, scheduleOpts(seed))
		t.Logf("%s", s.describe())
		for _, f := range s.check.failed {
			t.Errorf("%s", f)
		}
		return
	}
	def := 1000
	if raceEnabled {
		def = 250
	}
	n := envInt("GRIDLOCK_SIM_SCHEDULES", def)
	if testing.Short() {
		n = min(n, 100)
	}
	first := uint64(envInt("GRIDLOCK_SIM_FIRST", 1))
	stats := runMany(t, first, n, func(seed uint64) simOpts { return scheduleOpts(seed) })
	t.Logf("%d schedules (seeds %d..%d): %s", n, first, first+uint64(n)-1, stats)
}

// Seeds that once failed, each replayed here (all but 2928 beyond the
// range CI runs):
// 202155 and 229198 (the checker judged a commit against a later epoch),
// 241040 (a primary took in a node catching up from another), 253341 (the
// fault model let a committed configuration lose its majority), 283460 (a
// dropped move whose outcome the losing node no longer remembered was
// taken for kept), 284578 (a branch of two nodes kept over one of five),
// 310264 (a node restarted empty that heard nobody for 26 ms made a new
// cluster beside the game), 308805 (a branch of two kept over one of four:
// its nodes had caught up by appends, which carried no older epoch's
// weight), 339807 (a lower node took office while the higher one listened,
// and the new cluster stalled), 359523 and 362431 (a primary that stepped
// down unable to lead, a learner in the log it had taken, still took
// itself for the leader and never looked for one), 404313 and 419446 (the
// checker took a later primary's view for the committing one's), 425001
// (a late snapshot of the same office undid an entry, reported as rolled
// back), 425867 (a node restarted with the other quorum setting broke no
// links, and its primary counted what its old life had acknowledged),
// 433312 (a dropped command the winning log held, past its dedupe window,
// was reported as rolled back), 448708 (a room whose creation only a
// departed primary had applied was taken for no room at all), 455168
// (an entry that a later primary took in before its own epoch's primary
// committed it was weighed by the later one's view), 490049 (a
// primary-elect whose configuration was not yet committed counted votes
// against a lagging learner's stale one), 496300 (the simulated service
// answered a HELLO with its own OpenSession from before a restart, which
// the runtime does not), 486259 (a backup credited its primary's epoch
// with a commit index carried over from an earlier epoch, so a view change
// weighed a branch by a view that never committed on it), 2928 (the
// simulation paused the last live holder of a lone primary's commits
// before any command was acknowledged: the checker's guard looked at
// acknowledged commands only), 472041 (a move resent after a rollback
// landed in another room than the one it was filed under, and the checker
// left the first room in the linearizability check) and 519393 (a node
// that installed a snapshot kept the entries behind it in memory only; two
// restarts later it could no longer list the commands of a branch it
// dropped, and reported none of them rolled back), 639431 (a backup with a
// live primary of its own took a newer primary's entries, then its
// snapshot, and dropped commits of a branch that held more nodes) and
// 641293 (a primary restarted with its memory at the instant of its crash
// kept its office while its peers, told its links broke, elected: a reset
// partition the checker did not count as one), 691279 and 697524 (empty
// nodes that first answered another view change were not counted as
// founders of the cluster made after it, whose maker, deposed before the
// first entry committed, then never had a quorum), 819763 (a primary-elect
// took office with the log it had fetched, though a node that answered
// during the fetch, paused at the pick, held a branch of more nodes),
// 910646 (the simulation restarted empty a node, without a disk, whose
// memory alone held the commands of a branch it had just dropped, before
// any primary could log their rollback: the guard was for disks only),
// 1037793 (a primary-elect weighed the logs one after another, so two
// branches that parted late never met: each tied with a third at an
// earlier fork, which beat the heavier on its newer epoch and lost to the
// lighter on the lighter's).
var foundSeeds = []uint64{2928, 202155, 229198, 241040, 253341, 283460, 284578, 310264, 308805, 339807, 359523, 362431, 404313, 419446, 425001, 425867, 433312, 448708, 455168, 472041, 486259, 490049, 496300, 519393, 639431, 641293, 691279, 697524, 819763, 910646, 1037793}

func TestFoundSeeds(t *testing.T) {
	for _, seed := range foundSeeds {
		s := runSchedule(seed, scheduleOpts(seed))
		for _, f := range s.check.failed {
			t.Errorf("seed %d: %s (replay: GRIDLOCK_SIM_SEED=%d go test -run TestRandomSchedules -v ./replica/)", seed, f, seed)
		}
	}
}

type runStats struct {
	acked, partitioned, rolledBack, quorum, lines atomic.Int64
	durable, crashAll, joins, leaves, steps       atomic.Int64 // the grown simulation's faults
	restarts, olderSnaps, reads                   atomic.Int64
	lost, watched, moved, silent                  atomic.Int64 // what the players' clients did
}

func (r *runStats) String() string {
	return fmt.Sprintf("%d acknowledged commands, %d chat lines shown to clients, %d checked reads; %d schedules partitioned, %d with a reported rollback, %d with a quorum, %d durable; "+
		"%d restarts from disk, %d power cuts (every node at once), %d joins, %d leaves, %d wall clock steps; %d snapshots older than the stored one (node/store refuses them); "+
		"clients lost a primary %d times, watched the other nodes %d times, moved to a newer primary seen in a view %d times, gave up a silent primary %d times",
		r.acked.Load(), r.lines.Load(), r.reads.Load(), r.partitioned.Load(), r.rolledBack.Load(), r.quorum.Load(), r.durable.Load(),
		r.restarts.Load(), r.crashAll.Load(), r.joins.Load(), r.leaves.Load(), r.steps.Load(), r.olderSnaps.Load(),
		r.lost.Load(), r.watched.Load(), r.moved.Load(), r.silent.Load())
}

func (r *runStats) add(s *sim) {
	r.acked.Add(int64(len(s.check.acked)))
	r.lines.Add(int64(s.check.linesSeen))
	if s.check.partitioned {
		r.partitioned.Add(1)
	}
	if len(s.check.rollback) > 0 {
		r.rolledBack.Add(1)
	}
	if s.opts.durable {
		r.durable.Add(1)
	}
	r.crashAll.Add(int64(s.counts["power cut"]))
	r.joins.Add(int64(s.counts["join"]))
	r.leaves.Add(int64(s.counts["leave"]))
	r.steps.Add(int64(s.counts["clock step"]))
	r.restarts.Add(int64(s.counts["restart from disk"]))
	r.reads.Add(int64(s.check.readsOK))
	for _, n := range s.nodes {
		if n.disk != nil {
			r.olderSnaps.Add(int64(n.disk.olderSnaps))
		}
	}
	r.lost.Add(int64(s.clientLogs["lost the primary"]))
	r.watched.Add(int64(s.clientLogs["the primary is silent: watching the other nodes"]))
	r.moved.Add(int64(s.clientLogs["a newer primary is known: moving"]))
	r.silent.Add(int64(s.clientLogs["the primary answers nothing: reconnecting"]))
}

// runMany runs schedules first..first+n-1 on every core and fails the test
// with the seed and trace of each failing one (the first few).
func runMany(t *testing.T, first uint64, n int, opts func(uint64) simOpts) *runStats {
	var (
		next  atomic.Uint64
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails int
		stats runStats
	)
	next.Store(first)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed := next.Add(1) - 1
				if seed >= first+uint64(n) {
					return
				}
				o := opts(seed)
				s := runSchedule(seed, o)
				stats.add(s)
				if o.quorum {
					stats.quorum.Add(1)
				}
				if len(s.check.failed) == 0 {
					continue
				}
				mu.Lock()
				fails++
				failed := s.check.failed
				if len(failed) > 8 {
					failed = append(failed[:8:8], fmt.Sprintf("... and %d more", len(s.check.failed)-8))
				}
				if fails <= 3 {
					t.Errorf("schedule seed %d failed (replay: GRIDLOCK_SIM_SEED=%d go test -run TestRandomSchedules ./replica/):\n%s\n%s",
						seed, seed, strings.Join(failed, "\n"), s.describe())
				} else {
					t.Errorf("schedule seed %d failed [partitioned %v, quorum %v, diverged %v, rollbacks %d]: %s", seed, s.check.partitioned, o.quorum, s.check.diverged, len(s.check.rollback), failed[0])
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fails > 0 {
		t.Errorf("%d of %d schedules failed", fails, n)
	}
	return &stats
}

// firstWith is the first violation that contains what.
func firstWith(failed []string, what string) string {
	for _, f := range failed {
		if strings.Contains(f, what) {
			return f
		}
	}
	return ""
}

// TestChatCheckerBites: nodes that lose a pushed chat line now and then
// must be caught.
func TestChatCheckerBites(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		o := scheduleOpts(seed)
		o.skipLines = 7
		if f := firstWith(runSchedule(seed, o).check.failed, "jumps from line"); f != "" {
			t.Logf("seed %d: %s", seed, f)
			return
		}
	}
	t.Fatal("lost chat lines went unnoticed: the chat checks do not bite")
}

// TestCheckerBites proves the checks can fail: with replication made
// asynchronous (the primary answers before its backups hold the entry),
// crashes must lose acknowledged moves and the suite must say so.
func TestCheckerBites(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		o := scheduleOpts(seed)
		o.async, o.quorum = true, false
		o.durable, o.clocks, o.members = false, false, false // the plain simulation: a disk would keep what a crash loses
		if f := firstWith(runSchedule(seed, o).check.failed, "acknowledged move lost"); f != "" {
			t.Logf("seed %d: %s", seed, f)
			return
		}
	}
	t.Fatal("asynchronous replication lost no acknowledged move in 300 schedules: the checks do not bite")
}
