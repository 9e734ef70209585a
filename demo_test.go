package main

// gridlock demo in a real terminal, as a presenter runs it: it comes up
// with a primary and bots playing; K kills the primary five times in a
// row, P hangs it, X cuts it off and heals it; q ends it and leaves no
// process; kill -9 of the demo leaves none either, and a demo right after
// starts clean.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/replica"
)

var (
	statusPrimaryRE = regexp.MustCompile(`● n(\d+) is primary`)
	failoversRE     = regexp.MustCompile(`presenter · (\d+) failovers?`)
	ackedRE         = regexp.MustCompile(`bots (\d+) acked · (\d+) (lost|LOST)`)
	summaryBotsRE   = regexp.MustCompile(`bots: (\d+) acknowledged, (\d+) lost`)
)

// demoScreen reads what the demo's screen says.
type demoScreen string

// primary is the node the app's status line says leads (0: none).
func (s demoScreen) primary() int {
	m := statusPrimaryRE.FindStringSubmatch(string(s))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// failovers is the count in the panel's title.
func (s demoScreen) failovers() int {
	m := failoversRE.FindStringSubmatch(string(s))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// acked is the bots' count of acknowledged commands, and of lost moves.
func (s demoScreen) acked() (acked, lost int, ok bool) {
	m := ackedRE.FindStringSubmatch(string(s))
	if m == nil {
		return 0, 0, false
	}
	acked, _ = strconv.Atoi(m[1])
	lost, _ = strconv.Atoi(m[2])
	return acked, lost, true
}

// sections are the sidebar's cluster lines and the panel's lines.
func (s demoScreen) sections() (cluster, panel string) {
	lines := strings.Split(sidebarOf(string(s)), "\n")
	find := func(title string) int {
		for i, l := range lines {
			if strings.Contains(l, "─") && strings.Contains(l, " "+title) {
				return i
			}
		}
		return -1
	}
	c, p, sc := find("cluster"), find("presenter"), find("scores")
	if c < 0 || p < c || sc < p {
		return "", ""
	}
	return strings.Join(lines[c+1:p], "\n"), strings.Join(lines[p+1:sc], "\n")
}

var (
	clusterTroubleRE = regexp.MustCompile(`n\d+ +(down|lost)`)
	panelTroubleRE   = regexp.MustCompile(`n\d+ (dead|paused|cut off) ·|electing|no primary`)
)

// whole: every node runs and is in the cluster, and n(top) leads.
func (s demoScreen) whole(top int) bool {
	cluster, panel := s.sections()
	if cluster == "" || clusterTroubleRE.MatchString(cluster) || panelTroubleRE.MatchString(panel) || strings.Count(cluster, "●") != top {
		return false
	}
	return s.primary() == top
}

// bar says whether the chart has a bar for failover k of cause.
func (s demoScreen) bar(k int, cause string) bool {
	return regexp.MustCompile(fmt.Sprintf(`│ +%d %s `, k, cause)).MatchString(string(s))
}

// demoRun is one `gridlock demo` in a tmux session.
type demoRun struct {
	t       *testing.T
	tm      *tmuxServer
	session string
	dir     string // its TMPDIR, log, and the app's cache
	pid     int
}

func startDemo(t *testing.T, tm *tmuxServer, session, dir string, flags ...string) *demoRun {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The pane's shell waits for the demo and writes down its exit status
	// (tmux does not always reap a dead pane's process at once, and then
	// has no status to show); the screen stays for the test to read.
	cmd := fmt.Sprintf("env TMPDIR=%s XDG_CACHE_HOME=%s %s demo --log-file %s %s; echo $? > %s; sleep 600",
		filepath.Join(dir, "tmp"), filepath.Join(dir, "cache"), binPath, filepath.Join(dir, session+".log"), strings.Join(flags, " "),
		filepath.Join(dir, session+".status"))
	tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
	shell := strings.TrimSpace(tm.must("list-panes", "-t", session, "-F", "#{pane_pid}"))
	var pid int
	waitFor(t, 10*time.Second, "the demo's process", func() (bool, string) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", shell, shell))
		p, err := strconv.Atoi(strings.TrimSpace(string(b)))
		pid = p
		return err == nil, string(b)
	})
	r := &demoRun{t: t, tm: tm, session: session, dir: dir, pid: pid}
	t.Cleanup(func() {
		if t.Failed() {
			r.dumpLogs()
		}
	})
	return r
}

func (r *demoRun) screen() demoScreen { return demoScreen(r.tm.screen(r.session)) }

// wait waits for the screen to satisfy ok, and returns it and how long it took.
func (r *demoRun) wait(d time.Duration, what string, ok func(demoScreen) bool) (demoScreen, time.Duration) {
	r.t.Helper()
	start := time.Now()
	for {
		sc := r.screen()
		if ok(sc) {
			return sc, time.Since(start)
		}
		if time.Since(start) > d {
			r.t.Fatalf("%s: not within %v; the screen:\n%s", what, d, sc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status is the demo's exit status, once it has exited.
func (r *demoRun) status() string {
	r.t.Helper()
	var st string
	waitFor(r.t, 10*time.Second, "the demo's exit status", func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(r.dir, r.session+".status"))
		st = strings.TrimSpace(string(b))
		return st != "", st
	})
	return st
}

// children are the demo's child processes (its nodes), from every thread.
func (r *demoRun) children() []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", r.pid))
	var pids []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// dumpLogs prints the tail of the demo's log and of its nodes' logs.
func (r *demoRun) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(r.dir, "tmp", "gridlock-demo-*", "n*.log"))
	for _, f := range append([]string{filepath.Join(r.dir, r.session+".log")}, logs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		r.t.Logf("---- %s (last 40 lines) ----\n%s", f, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// gone says whether a process is gone (a zombie no one has reaped yet
// counts as gone: it runs nothing).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

func waitGone(t *testing.T, pids []int, d time.Duration, what string) {
	t.Helper()
	waitFor(t, d, what, func() (bool, string) {
		var left []string
		for _, pid := range pids {
			if !gone(pid) {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				left = append(left, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(b), "\x00", " ")))
			}
		}
		return len(left) == 0, strings.Join(left, "\n")
	})
}

func needTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
}

func TestDemoInATerminal(t *testing.T) {
	needTmux(t)
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-demo-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	r := startDemo(t, tm, "demo", t.TempDir())

	// Up: a primary, three nodes, bots playing.
	_, took := r.wait(20*time.Second, "the demo up with n3 primary and the bots playing", func(s demoScreen) bool {
		a, _, ok := s.acked()
		return s.whole(3) && ok && a > 0 && strings.Contains(string(s), "no failover yet")
	})
	t.Logf("up with n3 primary and the bots playing %v after the start", took.Round(time.Millisecond))
	nodes := r.children()
	if len(nodes) != 3 {
		t.Fatalf("the demo has %d children, want its 3 nodes: %v", len(nodes), nodes)
	}
	pids := append([]int{r.pid}, nodes...)

	failovers := 0
	// fault presses key and checks that the panel names a new primary
	// within limit, and the app's status line within statusLimit; that
	// the chart has the failover; and waits until the cluster is whole
	// again (undo, if given, undoes the fault first).
	fault := func(key, cause string, limit, statusLimit time.Duration, undo string) demoScreen {
		t.Helper()
		old := r.screen().primary()
		failovers++
		head := regexp.MustCompile(fmt.Sprintf(`n%d %s → n(\d+) in`, old, causeText(cause)))
		t0 := time.Now()
		r.tm.keys(r.session, key)
		var panelTook, statusTook time.Duration
		var next string
		sc, _ := r.wait(statusLimit+5*time.Second, fmt.Sprintf("a new primary on screen after %s", key), func(s demoScreen) bool {
			// The headline of this failover (the last one's may read the same).
			if m := head.FindStringSubmatch(string(s)); panelTook == 0 && m != nil && s.failovers() == failovers {
				panelTook, next = time.Since(t0), m[1]
			}
			if p := s.primary(); statusTook == 0 && p != 0 && p != old {
				statusTook = time.Since(t0)
			}
			return panelTook > 0 && statusTook > 0
		})
		t.Logf("%s (%s n%d): the panel shows n%s primary %v after the key, the status line n%d %v",
			key, cause, old, next, panelTook.Round(time.Millisecond), sc.primary(), statusTook.Round(time.Millisecond))
		if panelTook > limit || statusTook > statusLimit {
			t.Errorf("%s: the new primary took %v on the panel (want ≤ %v) and %v on the status line (want ≤ %v)", key, panelTook, limit, statusTook, statusLimit)
		}
		sc, _ = r.wait(5*time.Second, fmt.Sprintf("failover %d charted", failovers), func(s demoScreen) bool {
			return s.failovers() == failovers && s.bar(failovers, cause)
		})
		if undo != "" {
			r.tm.keys(r.session, undo)
		}
		sc2, _ := r.wait(20*time.Second, "the cluster whole again, n3 leading", func(s demoScreen) bool { return s.whole(3) })
		t.Logf("whole again, n3 leading, %v after the key", time.Since(t0).Round(time.Millisecond))
		// As a presenter does, let play go on before the next fault: the
		// bots have moved to n3 (two more acknowledgements).
		a0, _, _ := sc2.acked()
		r.wait(20*time.Second, "the bots playing on", func(s demoScreen) bool {
			a, _, ok := s.acked()
			return ok && a >= a0+2
		})
		return sc
	}

	for range 5 {
		fault("K", "kill", time.Second, time.Second, "")
	}
	// A hung primary is suspected after the suspicion timeout of silence:
	// the panel names the new primary about then. (The app's own client
	// notices the hang only through a request of its own that goes
	// unanswered, at its next ping: later.)
	d := replica.DefaultConfig(1)
	sc := fault("P", "pause", d.Suspicion+time.Second, d.Suspicion+3*time.Second, "P")
	// The demo's own measure, from the pause: within the suspicion time
	// (counted from the last heartbeat n3 sent, before the pause) and a
	// heartbeat's slack for the nodes' loop on a busy machine.
	if el, ok := phase(sc, "primary"); !ok || el > d.Suspicion+d.Heartbeat {
		t.Errorf("after P the panel says the new primary came %v (found %v) after the pause, want at most %v", el, ok, d.Suspicion+d.Heartbeat)
	} else {
		t.Logf("after P: the new primary %v after the pause (suspicion %v)", el, d.Suspicion)
	}
	fault("X", "cut", time.Second, 2*time.Second, "X") // healed: the cut node rejoins and leads again

	sc = r.screen()
	acked, lost, ok := sc.acked()
	if !ok || lost != 0 || acked == 0 {
		t.Fatalf("the bots' count: %d acknowledged, %d lost (found %v)", acked, lost, ok)
	}
	t.Logf("before quitting: bots %d acknowledged, %d lost; the panel:\n%s", acked, lost, sidebarOf(string(sc)))

	// Every node the demo ever ran, to check that none is left.
	nodes = r.children()
	pids = append(pids, nodes...)
	r.tm.keys(r.session, "q")
	waitGone(t, pids, 30*time.Second, "every process of the demo gone after q")
	out := r.tm.screen(r.session)
	m := summaryBotsRE.FindStringSubmatch(out)
	if m == nil || m[2] != "0" {
		t.Fatalf("after q, the bots' summary is not 0 lost:\n%s", out)
	}
	if st := r.status(); st != "0" {
		t.Errorf("the demo exited with status %s:\n%s", st, out)
	}
	if left, _ := filepath.Glob(filepath.Join(r.dir, "tmp", "gridlock-demo-*")); len(left) != 0 {
		t.Errorf("the demo left %v", left)
	}
	t.Logf("after q:\n%s", strings.TrimSpace(out))
}

// phase reads a step's time of the last failover off the panel ("  n2
// primary   464ms").
func phase(sc demoScreen, step string) (time.Duration, bool) {
	m := regexp.MustCompile(`│ +(?:n\d+ )?` + step + ` +([0-9.]+)(ms|s) `).FindStringSubmatch(string(sc))
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	if m[2] == "s" {
		v *= 1000
	}
	return time.Duration(v * float64(time.Millisecond)), true
}

func causeText(cause string) string {
	return map[string]string{"kill": "killed", "pause": "paused", "cut": "cut off"}[cause]
}

// sidebarOf is the right-hand column of a screen.
func sidebarOf(sc string) string {
	var out []string
	for _, l := range strings.Split(sc, "\n") {
		rs := []rune(l)
		if len(rs) > 84 {
			out = append(out, string(rs[84:]))
		}
	}
	return strings.Join(out, "\n")
}

// TestDemoKilledLeavesNothing: kill -9 of the demo kills its nodes (they
// get the parent-death signal), and a demo started right after comes up
// clean and removes what the first left in the temporary directory.
func TestDemoKilledLeavesNothing(t *testing.T) {
	needTmux(t)
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-demo9-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	dir := t.TempDir()
	first := startDemo(t, tm, "first", dir, "--bots", "2")
	first.wait(20*time.Second, "the first demo up", func(s demoScreen) bool { return s.whole(3) })
	nodes := first.children()
	if len(nodes) != 3 {
		t.Fatalf("the demo has %d children, want 3: %v", len(nodes), nodes)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "tmp", "gridlock-demo-*"))
	if len(left) != 1 {
		t.Fatalf("temporary directories %v, want the demo's one", left)
	}
	if err := syscall.Kill(first.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, append([]int{first.pid}, nodes...), 10*time.Second, "the demo's nodes gone after kill -9 of the demo")

	second := startDemo(t, tm, "second", dir, "--bots", "2")
	second.wait(20*time.Second, "a second demo up right after", func(s demoScreen) bool {
		a, _, ok := s.acked()
		return s.whole(3) && ok && a > 0
	})
	if _, err := os.Stat(left[0]); !os.IsNotExist(err) {
		t.Errorf("the first demo's %s is still there: %v", left[0], err)
	}
	nodes = second.children()
	tm.keys(second.session, "q")
	waitGone(t, append([]int{second.pid}, nodes...), 30*time.Second, "the second demo gone after q")
	// The panes' shells write the exit statuses into dir just after; read
	// them, so that no write races the cleanup of dir.
	if st := second.status(); st != "0" {
		t.Errorf("the second demo exited with status %s after q", st)
	}
	if st := first.status(); st != "137" {
		t.Errorf("the first demo's status %s, want 137 (kill -9)", st)
	}
	// What the demo's processes wrote is gone with them (a child still
	// writing would show here, not as a failed cleanup of the test's dir).
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, _ := filepath.Glob(filepath.Join(dir, "tmp", "gridlock-demo-*"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second demo left %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
