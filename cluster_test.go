package main

// The harness for tests and benchmarks that run real gridlock processes on
// loopback: it builds the binary once, starts `gridlock serve` nodes in their
// own process groups with their logs in files, signals them, asks them for
// their views, and waits for conditions with deadlines.
//
// Environment: GRIDLOCK_BIN (a binary to use instead of building one),
// GRIDLOCK_TEST_LOGS=N (print the last N lines of every node's log even
// when the test passes), GRIDLOCK_LOG_DIR (keep the logs there),
// GRIDLOCK_NODE_GOMAXPROCS (for the node processes), GRIDLOCK_CPUPROFILE
// and GRIDLOCK_TRACE (see bench_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/wire"
)

// binPath is the gridlock binary the tests run (built by TestMain, or
// GRIDLOCK_BIN).
var binPath string

func TestMain(m *testing.M) {
	if os.Getenv("GRIDLOCK_ECHO_SERVER") == "1" {
		os.Exit(echoServer())
	}
	if path := os.Getenv("GRIDLOCK_NODE_PROFILE"); path != "" && len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(profiledServe(path, os.Args[2:]))
	}
	dir, err := os.MkdirTemp("", "gridlock-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = os.Getenv("GRIDLOCK_BIN")
	if binPath == "" {
		binPath = filepath.Join(dir, "gridlock")
		if err := goBuild(binPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// profiledServe runs `gridlock serve` in this (test) binary while writing
// a CPU profile, or an execution trace if path ends in .trace, until the
// node stops (SIGTERM).
func profiledServe(path string, args []string) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	if strings.HasSuffix(path, ".trace") {
		err = trace.Start(f)
		defer trace.Stop()
	} else {
		err = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := cmdServe(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// goBuild builds gridlock into bin, with env added to the environment.
func goBuild(bin string, env ...string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no go command to build the binary (or set GRIDLOCK_BIN): %v", err)
	}
	cmd := exec.Command(goCmd, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s go build: %v\n%s", strings.Join(env, " "), err, out)
	}
	return nil
}

// envInt reads a positive integer setting from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// freePort returns a TCP port on 127.0.0.1 that is free now, below the
// kernel's ephemeral range so that outgoing connections do not take it
// before the node binds it.
func freePort(t testing.TB) int {
	t.Helper()
	for range 1000 {
		p := 10000 + rand.IntN(22000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port")
	return 0
}

// usedPorts keeps ports handed out in this process from being handed out
// twice.
var (
	portMu    sync.Mutex
	usedPorts = map[int]bool{}
)

func uniquePort(t testing.TB) int {
	portMu.Lock()
	defer portMu.Unlock()
	for {
		p := freePort(t)
		if !usedPorts[p] {
			usedPorts[p] = true
			return p
		}
	}
}

// cluster is a set of gridlock serve processes on one multicast group.
type cluster struct {
	t       testing.TB
	dir     string
	group   string
	name    string
	secret  string
	extra   []string // flags for every node
	data    string   // with withData: each node keeps its data in data/nN
	nodes   map[int]*proc
	mu      sync.Mutex
	started time.Time
}

// proc is one node: its fixed ports, and its current process.
type proc struct {
	id         int
	clientPort int
	peerPort   int
	logPath    string
	extra      []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
	starts int
}

type clusterOpt func(*cluster)

func withSecret(s string) clusterOpt   { return func(c *cluster) { c.secret = s } }
func withFlags(f ...string) clusterOpt { return func(c *cluster) { c.extra = append(c.extra, f...) } }

// withData gives each node a data directory of its own (fsync: always or
// off), kept across its restarts.
func withData(fsync string) clusterOpt {
	return func(c *cluster) {
		c.data = c.t.TempDir()
		c.extra = append(c.extra, "--fsync="+fsync)
	}
}

var clusterSeq atomic.Int64

// uniqueCluster is a cluster name no other test cluster has, in this run or
// another one at the same time: two clusters that chance on the same group
// port do not join each other.
func uniqueCluster() string {
	return fmt.Sprintf("test-%d-%d-%d", os.Getpid(), clusterSeq.Add(1), rand.Uint32())
}

// newCluster makes an empty cluster on a fresh group; t.Cleanup kills every
// process it started, and on failure prints the tail of their logs.
func newCluster(t testing.TB, opts ...clusterOpt) *cluster {
	t.Helper()
	c := &cluster{
		t:       t,
		dir:     t.TempDir(),
		group:   fmt.Sprintf("224.1.1.1:%d", 20000+rand.IntN(20000)),
		name:    uniqueCluster(),
		nodes:   map[int]*proc{},
		started: time.Now(),
	}
	for _, o := range opts {
		o(c)
	}
	if dir := os.Getenv("GRIDLOCK_LOG_DIR"); dir != "" {
		// Keep the logs.
		d, err := os.MkdirTemp(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-")
		if err != nil {
			t.Fatal(err)
		}
		c.dir = d
	}
	t.Cleanup(func() {
		c.killAll()
		if t.Failed() || os.Getenv("GRIDLOCK_TEST_LOGS") != "" {
			c.dumpLogs(envInt("GRIDLOCK_TEST_LOGS", 120))
		}
	})
	return c
}

// start starts node id (with the ports it had before, if it ran before).
func (c *cluster) start(id int, flags ...string) *proc {
	c.t.Helper()
	c.mu.Lock()
	p := c.nodes[id]
	if p == nil {
		p = &proc{id: id, clientPort: uniquePort(c.t), peerPort: uniquePort(c.t),
			logPath: filepath.Join(c.dir, fmt.Sprintf("n%d.log", id)), extra: flags}
		c.nodes[id] = p
	}
	c.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !p.exitedLocked() {
		c.t.Fatalf("n%d is already running", id)
	}
	args := []string{"serve", "--id", strconv.Itoa(id), "--group", c.group, "--iface", "lo", "--cluster", c.name,
		"--tcp-port", strconv.Itoa(p.clientPort), "--replication-port", strconv.Itoa(p.peerPort)}
	if c.secret != "" {
		args = append(args, "--secret", c.secret)
	}
	// Availability mode and a cluster made by whoever is highest, unless
	// the test says otherwise (later flags win).
	args = append(args, "--quorum=off", "--bootstrap=any")
	args = append(args, c.extra...)
	if c.data != "" {
		args = append(args, "--data-dir", filepath.Join(c.data, fmt.Sprintf("n%d", id)))
	}
	args = append(args, p.extra...)
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	p.starts++
	fmt.Fprintf(f, "=== start %d at %s: gridlock %s\n", p.starts, time.Now().Format("15:04:05.000"), strings.Join(args, " "))
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "GRIDLOCK_SECRET=")
	if dir := os.Getenv("GRIDLOCK_CPUPROFILE"); dir != "" {
		// The test binary runs the node and profiles it.
		ext := "pprof"
		if os.Getenv("GRIDLOCK_TRACE") != "" {
			ext = "trace"
		}
		cmd = exec.Command(os.Args[0], args...)
		cmd.Env = append(cmd.Env, fmt.Sprintf("GRIDLOCK_NODE_PROFILE=%s", filepath.Join(dir, fmt.Sprintf("n%d-%d.%s", id, p.starts, ext))))
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if v := os.Getenv("GRIDLOCK_NODE_GOMAXPROCS"); v != "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+v)
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start n%d: %v", id, err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		_ = cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(exited)
	}()
	return p
}

func (p *proc) exitedLocked() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// running reports whether the node's process is alive (maybe stopped).
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !p.exitedLocked()
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) addr() string     { return fmt.Sprintf("127.0.0.1:%d", p.clientPort) }
func (p *proc) peerAddr() string { return fmt.Sprintf("127.0.0.1:%d", p.peerPort) }

// signal sends sig to the node's process group.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exitedLocked() {
		return errors.New("not running")
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// wait waits for the process to exit and returns its state.
func (p *proc) wait(d time.Duration) (*os.ProcessState, error) {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return nil, errors.New("never started")
	}
	select {
	case <-ch:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.state, nil
	case <-time.After(d):
		return nil, fmt.Errorf("n%d did not exit within %v", p.id, d)
	}
}

func (c *cluster) node(id int) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.nodes[id]
	if p == nil {
		c.t.Fatalf("no node n%d", id)
	}
	return p
}

// crash kills node id with SIGKILL and waits until it is gone.
func (c *cluster) crash(id int) {
	c.t.Helper()
	p := c.node(id)
	if err := p.signal(syscall.SIGKILL); err != nil {
		c.t.Fatalf("kill n%d: %v", id, err)
	}
	if _, err := p.wait(10 * time.Second); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) signal(id int, sig syscall.Signal) {
	c.t.Helper()
	if err := c.node(id).signal(sig); err != nil {
		c.t.Fatalf("signal %v to n%d: %v", sig, id, err)
	}
}

// killAll kills every process this cluster started (continuing stopped
// ones first so that they die at once) and reaps them.
func (c *cluster) killAll() {
	c.mu.Lock()
	ps := make([]*proc, 0, len(c.nodes))
	for _, p := range c.nodes {
		ps = append(ps, p)
	}
	c.mu.Unlock()
	if os.Getenv("GRIDLOCK_CPUPROFILE") != "" {
		// Profiled nodes write their profiles as they leave.
		for _, p := range ps {
			_ = p.signal(syscall.SIGCONT)
			_ = p.signal(syscall.SIGTERM)
		}
		for _, p := range ps {
			_, _ = p.wait(5 * time.Second)
		}
	}
	for _, p := range ps {
		_ = p.signal(syscall.SIGKILL)
		_ = p.signal(syscall.SIGCONT)
	}
	for _, p := range ps {
		_, _ = p.wait(10 * time.Second)
	}
}

func (c *cluster) ids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []int
	for id := range c.nodes {
		ids = append(ids, id)
	}
	return ids
}

// addrs are the client addresses of every node.
func (c *cluster) addrs() []string {
	var out []string
	for _, id := range c.ids() {
		out = append(out, c.node(id).addr())
	}
	return out
}

// dumpLogs prints the last lines of every node's log.
func (c *cluster) dumpLogs(lines int) {
	for _, id := range c.ids() {
		p := c.node(id)
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			continue
		}
		ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		c.t.Logf("---- n%d log (last %d lines of %s) ----\n%s", id, len(ls), p.logPath, strings.Join(ls, "\n"))
	}
}

// logText is node id's whole log.
func (c *cluster) logText(id int) string {
	b, _ := os.ReadFile(c.node(id).logPath)
	return string(b)
}

// logCount counts the log lines of node id that contain s.
func (c *cluster) logCount(id int, s string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(c.logText(id)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// view asks node id for its cluster view.
func (c *cluster) view(id int, d time.Duration) (*wire.ClusterView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return fetchStatus(ctx, c.node(id).addr())
}

// live lists the ids whose processes run (stopped or not), but for except.
func (c *cluster) live(except ...int) []int {
	var out []int
outer:
	for _, id := range c.ids() {
		for _, x := range except {
			if x == id {
				continue outer
			}
		}
		if c.node(id).running() {
			out = append(out, id)
		}
	}
	return out
}

// settled reports whether every node in ids sees want as primary in the
// same epoch, want sees all of them alive and in its view, and their
// commit indexes agree. It returns the primary's view and a description.
func (c *cluster) settled(want int, ids []int) (bool, *wire.ClusterView, string) {
	var pv *wire.ClusterView
	var epoch wire.Epoch
	commits := map[int]uint64{}
	for _, id := range ids {
		v, err := c.view(id, 300*time.Millisecond)
		if err != nil {
			return false, nil, fmt.Sprintf("n%d: %v", id, err)
		}
		if int(v.Primary) != want {
			return false, nil, fmt.Sprintf("n%d sees primary n%d (epoch %d)", id, v.Primary, v.Epoch.Term())
		}
		if !epoch.IsZero() && v.Epoch != epoch {
			return false, nil, fmt.Sprintf("n%d in epoch %d, another in %d", id, v.Epoch.Term(), epoch.Term())
		}
		epoch = v.Epoch
		commits[id] = v.Commit
		if id == want {
			pv = v
		}
	}
	if pv == nil {
		return false, nil, fmt.Sprintf("n%d not asked", want)
	}
	for _, id := range ids {
		if id == want {
			continue
		}
		ok := false
		for _, n := range pv.Nodes {
			if int(n.ID) == id && n.Alive && n.InView && n.Role == wire.RoleBackup {
				ok = true
			}
		}
		if !ok {
			return false, pv, fmt.Sprintf("n%d not a live backup in n%d's view", id, want)
		}
	}
	for _, n := range pv.Nodes {
		if int(n.ID) == want && n.Role != wire.RolePrimary {
			return false, pv, fmt.Sprintf("n%d is %s", want, n.Role)
		}
	}
	// Backups learn the commit index with the next append: allow a
	// moving target, but not a backup far behind.
	for id, ci := range commits {
		if ci+64 < pv.Commit {
			return false, pv, fmt.Sprintf("n%d commit %d, primary %d", id, ci, pv.Commit)
		}
	}
	return true, pv, ""
}

// waitSettled waits until the running nodes have settled on want.
func (c *cluster) waitSettled(want int, d time.Duration) *wire.ClusterView {
	c.t.Helper()
	var v *wire.ClusterView
	waitFor(c.t, d, fmt.Sprintf("the cluster to settle on n%d", want), func() (bool, string) {
		ok, pv, why := c.settled(want, c.live())
		v = pv
		return ok, why
	})
	return v
}

// waitPrimary waits until node id reports itself primary and returns its
// view.
func (c *cluster) waitPrimary(id int, d time.Duration) *wire.ClusterView {
	c.t.Helper()
	var v *wire.ClusterView
	waitFor(c.t, d, fmt.Sprintf("n%d to be primary", id), func() (bool, string) {
		pv, err := c.view(id, 300*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		v = pv
		return int(pv.Primary) == id && selfRole(pv) == wire.RolePrimary, fmt.Sprintf("n%d sees primary n%d, itself %s", id, pv.Primary, selfRole(pv))
	})
	return v
}

func selfRole(v *wire.ClusterView) wire.Role {
	for _, n := range v.Nodes {
		if n.ID == v.Self {
			return n.Role
		}
	}
	return wire.RoleDown
}

// waitFor polls cond until it holds or d passes; the failure names what
// was awaited and the last reason cond gave.
func waitFor(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	waitEvery(t, d, 10*time.Millisecond, what, cond)
}

// waitEvery is waitFor with a pause of its own between polls.
func waitEvery(t testing.TB, d, pause time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", d, what, why)
		}
		time.Sleep(pause)
	}
}

// rssKB reads a process's resident set (VmRSS) in kB.
func rssKB(pid int) (int, error) {
	return procKB(pid, "VmRSS:")
}

// procField returns the values of a field of /proc/PID/status.
func procField(pid int, field string) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok && len(strings.Fields(v)) > 0 {
			return strings.Fields(v), nil
		}
	}
	return nil, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// procKB reads a size field of /proc/PID/status in kB.
func procKB(pid int, field string) (int, error) {
	v, err := procField(pid, field)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v[0])
}

// fdCount counts a process's open file descriptors.
func fdCount(pid int) int {
	es, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es)
}

// runBots plays with n bots for d against the cluster and returns their
// report.
func runBots(t testing.TB, addrs []string, o bot.Options) bot.Report {
	t.Helper()
	o.Addrs = addrs
	if o.Players == 0 {
		o.Players = 3
	}
	if o.Rate == 0 {
		o.Rate = 20
	}
	rep, err := bot.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("bots: %v", err)
	}
	return rep
}

// runGridlock runs the binary (not a server) and returns its output and
// exit code.
func runGridlock(t testing.TB, d time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	stdout, stderr, code, err := runGridlockCtx(ctx, args...)
	if err != nil {
		t.Fatalf("gridlock %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gridlock %s: still running after %v", strings.Join(args, " "), d)
	}
	return stdout, stderr, code
}

// runGridlockCtx runs the binary until it exits or ctx ends (then its
// process group is killed), and returns its output and exit code.
func runGridlockCtx(ctx context.Context, args ...string) (stdout, stderr string, code int, err error) {
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "GRIDLOCK_SECRET=")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return o.String(), e.String(), -1, err
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code, nil
}
