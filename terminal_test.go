package main

// The app in a real terminal, end to end: three `gridlock` apps in tmux on
// loopback, a digit placed in one shows in the others, the app whose node is
// primary is killed with kill -9, the other two show the new primary (how
// soon is logged; BenchmarkClusterCrashFailover measures failover) and still
// take moves, and no score changes.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
)

type tmuxServer struct {
	t    *testing.T
	sock string
}

func (s *tmuxServer) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxServer) must(args ...string) string {
	s.t.Helper()
	out, err := s.run(args...)
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// screen is what a session's pane shows, as text.
func (s *tmuxServer) screen(session string) string {
	out, _ := s.run("capture-pane", "-p", "-t", session)
	return out
}

func (s *tmuxServer) keys(session string, keys ...string) {
	s.t.Helper()
	s.must(append([]string{"send-keys", "-t", session}, keys...)...)
}

// boardOf reads the board off a screen: rows of the grid drawn with box
// characters, each cell a digit or "·" (0).
func boardOf(screen string, size int) [][]int {
	var rows [][]int
	for _, line := range strings.Split(screen, "\n") {
		i, j := strings.Index(line, "┃"), strings.LastIndex(line, "┃")
		if i < 0 || j <= i {
			continue
		}
		var cells []int
		for _, r := range line[i:j] {
			switch {
			case r >= '1' && r <= '9':
				cells = append(cells, int(r-'0'))
			case r == '·':
				cells = append(cells, 0)
			}
		}
		if len(cells) == size {
			rows = append(rows, cells)
		}
	}
	return rows
}

func waitScreen(t *testing.T, tm *tmuxServer, session string, d time.Duration, what string, ok func(string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		sc := tm.screen(session)
		if ok(sc) {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v; the screen:\n%s", what, d, sc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTerminalEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	group, name := fmt.Sprintf("224.1.1.1:%d", uniquePort(t)), uniqueCluster()
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-e2e-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })

	// Three apps, ids 1..3, in 120×40 terminals. (Their session files go
	// to the test's directory.)
	app := func(session string, i int) {
		cmd := fmt.Sprintf("env XDG_CACHE_HOME=%s XDG_STATE_HOME=%[1]s %s --id %d --name p%d --group %s --cluster %s --log-file %s",
			filepath.Join(dir, "cache"), binPath, i, i, group, name, filepath.Join(dir, session+".log"))
		tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
		tm.must("set-option", "-t", session, "remain-on-exit", "on")
	}
	for i := 1; i <= 3; i++ {
		app(fmt.Sprintf("p%d", i), i)
	}
	for i := 1; i <= 3; i++ {
		waitScreen(t, tm, fmt.Sprintf("p%d", i), 10*time.Second, fmt.Sprintf("p%d sees n3 as primary with three nodes", i), func(sc string) bool {
			return strings.Contains(sc, "n3 is primary") && strings.Contains(sc, "n1") && strings.Contains(sc, "n2")
		})
	}

	// An observer reads the room to know what is right.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := node.Discover(ctx, node.DiscoverOptions{Cluster: name, Group: group, Iface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, n := range v.Nodes {
		addrs = append(addrs, n.ClientAddr)
	}
	obs := client.Dial(ctx, client.ClientOptions{Name: "observer", Addrs: addrs})
	defer obs.Close()
	if err := obs.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	room, _, _ := obs.Room()
	size := int(room.Puzzle.Size)
	sol, ok := game.Solve(room.Puzzle.Size, room.Puzzle.Givens)
	if !ok {
		t.Fatal("the room's puzzle has no solution")
	}
	empty := func(r game.RoomView, skip int) (int, int) {
		for i, c := range r.Board {
			if c.Digit == 0 && i != skip {
				return i / size, i % size
			}
		}
		t.Fatal("no empty cell")
		return 0, 0
	}

	// place moves an app's cursor to (row, col) and types the right digit.
	place := func(session string, row, col int) {
		for i := 0; i < size; i++ {
			tm.keys(session, "k", "h")
		}
		for i := 0; i < row; i++ {
			tm.keys(session, "j")
		}
		for i := 0; i < col; i++ {
			tm.keys(session, "l")
		}
		tm.keys(session, strconv.Itoa(int(sol[row*size+col])))
	}
	shows := func(row, col, digit int) func(string) bool {
		return func(sc string) bool {
			b := boardOf(sc, size)
			return len(b) == size && b[row][col] == digit
		}
	}

	r1, c1 := empty(room, -1)
	d1 := int(sol[r1*size+c1])
	place("p1", r1, c1)
	for _, s := range []string{"p2", "p3"} {
		waitScreen(t, tm, s, 5*time.Second, fmt.Sprintf("p1's %d at r%dc%d on %s's board", d1, r1+1, c1+1, s), shows(r1, c1, d1))
	}
	scoreOf := func(name string, row, col int) int32 {
		waitFor(t, 5*time.Second, name+"'s move in the observer's room", func() (bool, string) {
			r, _, _ := obs.Room()
			return r.Board[row*size+col].Owner == name, ""
		})
		r, _, _ := obs.Room()
		for _, sc := range r.Scores {
			if sc.Name == name {
				return sc.Total
			}
		}
		return 0
	}
	score := func() int32 { return scoreOf("p1", r1, c1) }
	before := score()
	if before <= 0 {
		t.Fatalf("p1's score after a right move is %d", before)
	}
	// p3, whose app is about to be killed, scores too.
	room, _, _ = obs.Room()
	r3, c3 := empty(room, r1*size+c1)
	place("p3", r3, c3)
	before3 := scoreOf("p3", r3, c3)

	// kill -9 the app whose node is primary (n3, in session p3).
	pidText := strings.TrimSpace(tm.must("list-panes", "-t", "p3", "-F", "#{pane_pid}"))
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		t.Fatalf("pane pid %q: %v", pidText, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"p1", "p2"} {
		took := waitScreen(t, tm, s, 10*time.Second, s+" shows the new primary n2", func(sc string) bool {
			return strings.Contains(sc, "n2 is primary")
		})
		t.Logf("%s showed the new primary %v after the kill", s, took.Round(time.Millisecond))
	}

	// The survivors still take moves.
	room, _, _ = obs.Room()
	r2, c2 := empty(room, r1*size+c1)
	d2 := int(sol[r2*size+c2])
	place("p2", r2, c2)
	waitScreen(t, tm, "p1", 5*time.Second, fmt.Sprintf("p2's %d at r%dc%d on p1's board after the failover", d2, r2+1, c2+1), shows(r2, c2, d2))
	waitScreen(t, tm, "p1", time.Second, "p1's first move still on its board", shows(r1, c1, d1))
	if after := score(); after != before {
		t.Fatalf("p1's score changed across the failover: %d, then %d", before, after)
	}

	// p3 starts the app again with the same name: it is back in its
	// session (not "name taken"), with its score, and its node, the
	// highest id, leads again with the state.
	app("p3again", 3)
	waitScreen(t, tm, "p3again", 10*time.Second, "p3's new app connected with n3 primary", func(sc string) bool {
		if strings.Contains(sc, "is taken") {
			t.Fatalf("p3's name is taken after a restart:\n%s", sc)
		}
		b := boardOf(sc, size)
		return strings.Contains(sc, "n3 is primary") && len(b) == size && b[r1][c1] == d1 && b[r2][c2] == d2
	})
	if after := scoreOf("p3", r3, c3); after != before3 {
		t.Fatalf("p3's score after its app came back is %d, was %d", after, before3)
	}
	r, _, _ := obs.Room()
	seen := 0
	for _, sc := range r.Scores {
		if strings.EqualFold(sc.Name, "p3") {
			seen++
		}
	}
	if seen != 1 {
		t.Fatalf("p3 is %d times on the scoreboard", seen)
	}
}

// TestAppLeavesOnSignal: SIGTERM, or SIGHUP as when the terminal is
// closed, ends the app as `q` does: it exits 0, its node leaves at once (the
// others elect long before they would suspect it), and the player's session
// is closed, so that the name is free at once.
func TestAppLeavesOnSignal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	for _, sig := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGHUP", syscall.SIGHUP}} {
		t.Run(sig.name, func(t *testing.T) {
			const suspicion = 10 * time.Second
			c := newCluster(t, withFlags("--suspicion", suspicion.String()))
			c.start(1)
			c.start(2)
			c.waitPrimary(2, 10*time.Second)

			dir := t.TempDir()
			tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-sig-%d-%s", os.Getpid(), sig.name)}
			t.Cleanup(func() { tm.run("kill-server") })
			logFile := filepath.Join(dir, "app.log")
			// The pane's shell waits for the app and writes down its exit
			// status: tmux does not always reap a dead pane's process at
			// once, and then has no status to show.
			statusFile := filepath.Join(dir, "status")
			tm.must("new-session", "-d", "-s", "app", "-x", "120", "-y", "40",
				fmt.Sprintf("env XDG_CACHE_HOME=%s XDG_STATE_HOME=%[1]s %s --id 3 --name p3 --group %s --cluster %s --suspicion %s --log-file %s; echo $? > %s; sleep 60",
					filepath.Join(dir, "cache"), binPath, c.group, c.name, suspicion, logFile, statusFile))
			waitScreen(t, tm, "app", 10*time.Second, "the app in session, n3 primary", func(sc string) bool {
				return strings.Contains(sc, "n3 is primary") && len(boardOf(sc, 9)) == 9
			})
			if err := connectAs(c, "p3"); err == nil {
				t.Fatal("a second p3 got in while the app plays: the name check below proves nothing")
			}

			pid := paneApp(t, tm, "app")
			t0 := time.Now()
			if err := syscall.Kill(pid, sig.sig); err != nil {
				t.Fatal(err)
			}
			c.waitPrimary(2, 2*suspicion)
			took := time.Since(t0)
			t.Logf("n2 primary %v after %s to the app (suspicion %v)", took.Round(time.Millisecond), sig.name, suspicion)
			if took > suspicion/2 {
				t.Errorf("n2 took %v to take over: the app's node did not leave, it was suspected", took)
			}
			var status string
			waitFor(t, 10*time.Second, "the app to exit", func() (bool, string) {
				b, _ := os.ReadFile(statusFile)
				status = strings.TrimSpace(string(b))
				return status != "", status
			})
			if status != "0" {
				t.Errorf("the app exited with status %s after %s, want 0; the screen:\n%s", status, sig.name, tm.screen("app"))
			}
			if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "signal received") {
				t.Errorf("the app's log does not tell of the signal:\n%s", b)
			}
			if err := connectAs(c, "p3"); err != nil {
				t.Errorf("p3's name is not free after the app left: %v", err)
			}
		})
	}
}

// paneApp is the pid of the app that a session's pane runs: the one child
// of the pane's shell.
func paneApp(t *testing.T, tm *tmuxServer, session string) int {
	t.Helper()
	shell := strings.TrimSpace(tm.must("list-panes", "-t", session, "-F", "#{pane_pid}"))
	children, err := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", shell, shell))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		t.Fatalf("the pane's shell has children %q, want the app alone", children)
	}
	return pid
}

// connectAs connects a new player (a fresh session token) to c and leaves.
func connectAs(c *cluster, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := client.Dial(ctx, client.ClientOptions{Name: name, Addrs: c.addrs()})
	defer cl.Leave(context.Background())
	return cl.WaitConnected(ctx)
}

// startApps starts an app in a 120×40 tmux session and returns when it did.
// Its session file goes to dir, not to the user's cache.
func startApps(b testing.TB, tm *tmuxServer, group, cluster, dir string, name string, id int) time.Time {
	cmd := fmt.Sprintf("env XDG_CACHE_HOME=%s XDG_STATE_HOME=%[1]s %s --id %d --name %s --group %s --cluster %s --log-file %s",
		filepath.Join(dir, "cache"), binPath, id, name, group, cluster, filepath.Join(dir, name+".log"))
	t0 := time.Now()
	if out, err := tm.run("new-session", "-d", "-s", name, "-x", "120", "-y", "40", cmd); err != nil {
		b.Fatalf("tmux: %v\n%s", err, out)
	}
	return t0
}

// BenchmarkApp measures the app as a player meets it: launch to first
// frame, a new app seeing the cluster and the board, and the CPU an idle
// app uses with three nodes running.
func BenchmarkApp(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux is not installed")
	}
	dir := b.TempDir()
	group, cluster := fmt.Sprintf("224.1.1.1:%d", uniquePort(b)), uniqueCluster()
	tm := &tmuxServer{sock: fmt.Sprintf("gridlock-bench-%d-%d", os.Getpid(), time.Now().UnixNano())}
	defer tm.run("kill-server")
	poll := func(session string, ok func(string) bool) time.Time {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if sc, _ := tm.run("capture-pane", "-p", "-t", session); ok(sc) {
				return time.Now()
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.Fatalf("%s: not within 10 s", session)
		return time.Time{}
	}
	frame := func(sc string) bool { return strings.Contains(sc, "gridlock") }
	board := func(n int) func(string) bool {
		return func(sc string) bool {
			b := boardOf(sc, 9)
			nodes := 0
			for i := 1; i <= n; i++ {
				if strings.Contains(sc, fmt.Sprintf("n%d ", i)) {
					nodes++
				}
			}
			return len(b) == 9 && nodes == n && strings.Contains(sc, "is primary")
		}
	}

	t0 := startApps(b, tm, group, cluster, dir, "a1", 1)
	first := poll("a1", frame).Sub(t0)
	poll("a1", board(1))
	startApps(b, tm, group, cluster, dir, "a2", 2)
	poll("a2", board(2))
	t3 := startApps(b, tm, group, cluster, dir, "a3", 3)
	first3 := poll("a3", frame).Sub(t3)
	sees := poll("a3", board(3)).Sub(t3)
	b.ReportMetric(float64(max(first, first3).Microseconds())/1000, "first-frame-ms")
	b.ReportMetric(float64(sees.Microseconds())/1000, "sees-cluster-ms")

	// Idle: three apps, nobody playing, for 10 s.
	time.Sleep(2 * time.Second)
	var pids []int
	for _, s := range []string{"a1", "a2", "a3"} {
		out, _ := tm.run("list-panes", "-t", s, "-F", "#{pane_pid}")
		pid, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			b.Fatalf("pane pid %q", out)
		}
		pids = append(pids, pid)
	}
	cpu := func() []float64 {
		var out []float64
		for _, pid := range pids {
			out = append(out, cpuSeconds(b, pid))
		}
		return out
	}
	before, start := cpu(), time.Now()
	time.Sleep(10 * time.Second)
	after, took := cpu(), time.Since(start)
	worst := 0.0
	for i := range pids {
		worst = max(worst, 100*(after[i]-before[i])/took.Seconds())
	}
	b.ReportMetric(worst, "idle-cpu-%")
}

// TestAppAsksForAnotherName: an app whose name a player elsewhere has is
// asked for another, plays under it, and one whose player leaves that
// screen ends with the refusal, said once.
func TestAppAsksForAnotherName(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	c := newCluster(t)
	c.start(1)
	c.waitPrimary(1, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice := client.Dial(ctx, client.ClientOptions{Name: "alice", Addrs: c.addrs()})
	defer alice.Leave(context.Background())
	if err := alice.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-name-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	app := func(session string) string {
		status := filepath.Join(dir, session+".status")
		tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40",
			fmt.Sprintf("env XDG_CACHE_HOME=%s %s connect %s --name alice --log-file %s 2>&1; echo $? > %s; sleep 60",
				filepath.Join(dir, "cache-"+session), binPath, c.addrs()[0], filepath.Join(dir, session+".log"), status))
		waitScreen(t, tm, session, 10*time.Second, session+" asked for another name", func(sc string) bool {
			return strings.Contains(sc, `the name "alice" is taken`) && strings.Contains(sc, "your name")
		})
		return status
	}

	app("a")
	tm.keys("a", "C-u")
	tm.keys("a", "-l", "alicia")
	tm.keys("a", "Enter")
	waitScreen(t, tm, "a", 10*time.Second, "a plays as alicia", func(sc string) bool {
		return strings.Contains(sc, "alicia") && len(boardOf(sc, 9)) == 9
	})
	if err := connectAs(c, "alicia"); err == nil {
		t.Error("a second alicia got in: the app does not play under the name it was given")
	}

	exit := func(session, status string) string {
		var code string
		waitFor(t, 10*time.Second, session+" to exit", func() (bool, string) {
			b, _ := os.ReadFile(status)
			code = strings.TrimSpace(string(b))
			return code != "", code
		})
		return code
	}
	status := app("b")
	tm.keys("b", "Escape")
	code := exit("b", status)
	sc := tm.screen("b")
	if code != "1" || strings.Count(sc, "gridlock") != 1 || !strings.Contains(sc, `the name "alice" is taken`) {
		t.Errorf("b left the name screen: exit status %s, want 1 and the refusal said once; the screen:\n%s", code, sc)
	}
	// A signal on the name screen is a quit, as in the game.
	status = app("c")
	if err := syscall.Kill(paneApp(t, tm, "c"), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exit("c", status); code != "0" {
		t.Errorf("SIGTERM on the name screen: exit status %s, want 0; the screen:\n%s", code, tm.screen("c"))
	}
}
