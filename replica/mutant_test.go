//go:build gridlock_mutant

package replica

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The mutation suite: go test -tags gridlock_mutant -run TestMutantsAreCaught ./replica/
//
// Each mutant is a deliberately broken core (the branches guarded by
// mutant(name) in the package's files). The suite (every scenario, then up
// to mutantSchedules random schedules shaped for the mutant) must fail on
// every one, and pass with none.
var mutants = []struct {
	name, what string
	opts       func(seed uint64) simOpts // the random schedules it meets
}{
	{"fig8", "commits entries of an older epoch by counting the replicas that hold them (Raft, figure 8)", quorumOpts},
	{"staleack", "backups acknowledge appends of a stale epoch", quorumOpts},
	{"emptyvote", "empty and recovering nodes vote and lead", quorumOpts},
	{"norenew", "no renewal of the office when the view shrinks", availOpts},
	{"anyquorum", "a quorum counted against whoever answered, not the voters", quorumOpts},
	{"earlyack", "a node acknowledges (and a primary counts its own entries) before its log is synced", durableOpts},
	{"uncheckedread", "reads answered without confirming the leadership", quorumOpts},
	{"nobranchweight", "on healing, the branch kept is chosen by epoch, not by the nodes it held", availOpts},
	{"nohistory", "appends carry no records of older epochs: a node that catches up by them cannot weigh their branch", availOpts},
	{"hastyoffice", "a node that has heard nobody makes a new cluster, or takes office alone, after the startup wait, before the silence that has a node suspected", availOpts},
	{"latedue", "the core asks a runtime that sleeps until its next timer to wake far too late", sleepyOpts},
}

// mutantSchedules bounds the random schedules run against each mutant.
const mutantSchedules = 400

func quorumOpts(seed uint64) simOpts {
	o := scheduleOpts(seed)
	o.quorum = true
	return o
}

func availOpts(seed uint64) simOpts {
	o := scheduleOpts(seed)
	o.quorum, o.noPartition = false, false
	return o
}

func sleepyOpts(seed uint64) simOpts {
	o := scheduleOpts(seed)
	o.sleepy = true
	return o
}

func durableOpts(seed uint64) simOpts {
	o := scheduleOpts(seed)
	o.durable = true
	return o
}

func TestMutantsAreCaught(t *testing.T) {
	if why := suiteFails(t, "", availOpts, 60); why != "" {
		t.Fatalf("the suite fails with no mutant: %s", why)
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			why := suiteFails(t, m.name, m.opts, mutantSchedules)
			if why == "" {
				t.Errorf("mutant %s (%s) passed every scenario and %d random schedules", m.name, m.what, mutantSchedules)
				return
			}
			t.Logf("%s (%s): caught by %s", m.name, m.what, why)
		})
	}
}

// suiteFails runs the scenarios, then random schedules, with mutant name
// switched on, and says what failed first ("": nothing).
func suiteFails(t *testing.T, name string, opts func(uint64) simOpts, schedules int) string {
	mutantName = name
	defer func() { mutantName = "" }()
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		r := &recorder{}
		func() {
			defer func() {
				if p := recover(); p != nil && p != errStop {
					r.fail(fmt.Sprintf("panic: %v", p))
				}
			}()
			runScenario(r, f)
		}()
		if r.failed {
			return fmt.Sprintf("scenario %s: %s", filepath.Base(f), r.first)
		}
	}
	// Random schedules on every core, until one fails.
	var (
		next  atomic.Uint64
		found atomic.Value
		wg    sync.WaitGroup
	)
	next.Store(1)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for found.Load() == nil {
				seed := next.Add(1) - 1
				if seed > uint64(schedules) {
					return
				}
				s := runSchedule(seed, opts(seed))
				if len(s.check.failed) > 0 {
					found.CompareAndSwap(nil, fmt.Sprintf("schedule seed %d: %s", seed, s.check.failed[0]))
				}
			}
		}()
	}
	wg.Wait()
	if v := found.Load(); v != nil {
		return v.(string)
	}
	return ""
}

// recorder is a scenarioT that records the first failure instead of
// failing the test; Fatalf stops the scenario with a panic.
type recorder struct {
	failed bool
	first  string
}

var errStop = fmt.Errorf("scenario stopped")

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Failed() bool              { return r.failed }
func (r *recorder) Errorf(f string, a ...any) { r.fail(fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) {
	r.fail(fmt.Sprintf(f, a...))
	panic(errStop)
}

func (r *recorder) fail(msg string) {
	if !r.failed {
		r.failed = true
		r.first = strings.SplitN(msg, "\n", 3)[0]
		if lines := strings.Split(msg, "\n"); len(lines) > 1 {
			r.first += " " + strings.TrimSpace(lines[1])
		}
	}
}
