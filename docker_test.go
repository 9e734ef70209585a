package main

// Tests of the three-server cluster under Docker Compose: they build the
// static binary and the image, start docker-compose.yml under a project name
// of their own, and drive it from the host through the published ports, with
// `docker-compose stop/start`, SIGSTOP/SIGCONT and `docker network
// disconnect/connect`. They run only with GRIDLOCK_DOCKER=1 (.ci/run sets
// it), one after the other, and always end with `docker-compose down -v`.
//
// Settings from the environment:
//   GRIDLOCK_PORT0..2  host ports for server1..3 (default 8000..8002, or free
//                      ports if those are taken)
//   GRIDLOCK_SSH_PORT0..2  host SSH ports for server1..3 (default 2222..2224,
//                      or free ports if those are taken)
//   GRIDLOCK_NET       the compose network's /24 prefix (default 172.30.80)
//   GRIDLOCK_DOCKER_LOGS=DIR  write each test's docker-compose logs there
//                      (by default they are printed when a test fails)
//   GRIDLOCK_DOCKER_KEEP=1  keep the build context and print where it is

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// dkCluster is one compose project: server1..3 from docker-compose.yml.
type dkCluster struct {
	t        *testing.T
	project  string
	dir      string // build context: Dockerfile, .dockerignore, docker-compose.yml, gridlock
	bin      string // the static binary, also run on the host
	env      []string
	ports    [3]int
	sshPorts [3]int
	netPfx   string // the network's /24 prefix, e.g. 172.30.80
	quorum   string
	cids     map[string]string
}

// String tells the status in one line, for logs and failures.
func (s *statusJSON) String() string {
	if s == nil {
		return "no answer"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "n%d says: primary n%d epoch %d commit %d", s.Reporter, s.Primary, s.Epoch, s.Commit)
	for _, n := range s.Nodes {
		fmt.Fprintf(&b, "; n%d %s alive=%v in-view=%v commit %d", n.ID, n.Role, n.Alive, n.InView, n.Commit)
	}
	return b.String()
}

// whole: the view holds all three nodes alive, the primary and two
// backups; asked of the primary, both backups are in its view (acknowledge
// every entry).
func (s *statusJSON) whole() bool {
	if s == nil || len(s.Nodes) != 3 || s.Primary == 0 {
		return false
	}
	for _, n := range s.Nodes {
		role := "backup"
		if n.ID == s.Primary {
			role = "primary"
		}
		if !n.Alive || n.Role != role || (s.Reporter == s.Primary && !n.InView) {
			return false
		}
	}
	return true
}

var dkSeq atomic.Int64

// dkStart builds the binary and the image and starts the cluster, with
// --quorum q (on or off). Cleanup tears it all down, also on failure.
func dkStart(t *testing.T, quorum string) *dkCluster {
	t.Helper()
	if os.Getenv("GRIDLOCK_DOCKER") != "1" {
		t.Skip("Docker tests are off: set GRIDLOCK_DOCKER=1 (needs a Docker engine and docker-compose)")
	}
	for _, tool := range []string{"docker", "docker-compose", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("GRIDLOCK_DOCKER=1 but %s is not on PATH: %v", tool, err)
		}
	}
	dir := t.TempDir()
	if os.Getenv("GRIDLOCK_DOCKER_KEEP") == "1" {
		var err error
		if dir, err = os.MkdirTemp("", "gridlock-docker-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("build context kept in %s", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docker", "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Dockerfile", ".dockerignore", "docker-compose.yml", "docker/data/README"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &dkCluster{
		t:       t,
		project: fmt.Sprintf("gridlocktest%dx%d", os.Getpid(), dkSeq.Add(1)),
		dir:     dir,
		bin:     filepath.Join(dir, "gridlock"),
		netPfx:  os.Getenv("GRIDLOCK_NET"),
		quorum:  quorum,
		cids:    map[string]string{},
	}
	if c.netPfx == "" {
		c.netPfx = "172.30.80"
	}
	start := time.Now()
	// The documented `CGO_ENABLED=0 go build -o gridlock .`
	if err := goBuild(c.bin, "CGO_ENABLED=0"); err != nil {
		t.Fatal(err)
	}
	c.ports = dkHostPorts(t, "GRIDLOCK_PORT", 8000)
	c.sshPorts = dkHostPorts(t, "GRIDLOCK_SSH_PORT", 2222)
	c.env = append(os.Environ(),
		"GRIDLOCK_IMAGE="+c.project,
		"GRIDLOCK_NET="+c.netPfx,
		"GRIDLOCK_QUORUM="+quorum,
		"GRIDLOCK_BIND=", // the default
		fmt.Sprintf("GRIDLOCK_SECRET=docker-test-%x", rand.Uint64()),
	)
	for i, p := range c.ports {
		c.env = append(c.env, fmt.Sprintf("GRIDLOCK_PORT%d=%d", i, p))
	}
	for i, p := range c.sshPorts {
		c.env = append(c.env, fmt.Sprintf("GRIDLOCK_SSH_PORT%d=%d", i, p))
	}
	t.Cleanup(c.down)
	if out, err := c.compose(3*time.Minute, "up", "-d", "--build"); err != nil {
		hint := ""
		if strings.Contains(out, "overlaps") {
			hint = fmt.Sprintf("\n(the network %s.0/24 is taken: set GRIDLOCK_NET to another /24 prefix)", c.netPfx)
		}
		t.Fatalf("docker-compose up --build: %v\n%s%s", err, out, hint)
	}
	t.Logf("project %s up in %v (binary, image, containers); host ports %v, network %s.0/24, quorum %s",
		c.project, time.Since(start).Round(time.Millisecond), c.ports, c.netPfx, quorum)
	return c
}

// down shows the logs if the test failed, then removes containers,
// network, volumes and the test's image.
func (c *dkCluster) down() {
	dir := os.Getenv("GRIDLOCK_DOCKER_LOGS")
	if c.t.Failed() || dir != "" {
		out, _ := c.compose(time.Minute, "logs", "--no-color", "--timestamps")
		if dir == "" {
			c.t.Logf("docker-compose logs:\n%s", out)
		} else {
			f := filepath.Join(dir, c.t.Name()+".log")
			if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
				c.t.Error(err)
			}
			c.t.Logf("docker-compose logs in %s", f)
		}
	}
	if out, err := c.compose(2*time.Minute, "down", "-v", "--rmi", "all", "--timeout", "5"); err != nil {
		c.t.Errorf("docker-compose down -v: %v\n%s", err, out)
	}
}

// dkHostPorts: the three ports in the environment (env0..2), else
// base..base+2 if free, else free ports.
func dkHostPorts(t *testing.T, env string, base int) [3]int {
	var p [3]int
	set := 0
	for i := range p {
		if v, err := strconv.Atoi(os.Getenv(fmt.Sprintf("%s%d", env, i))); err == nil && v > 0 {
			p[i] = v
			set++
		}
	}
	if set == 3 {
		return p
	}
	free := func(port int) bool {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	if free(base) && free(base+1) && free(base+2) {
		return [3]int{base, base + 1, base + 2}
	}
	for i := range p {
		for {
			l, err := net.Listen("tcp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			p[i] = l.Addr().(*net.TCPAddr).Port
			l.Close()
			if i == 0 || p[i] != p[i-1] {
				break
			}
		}
	}
	t.Logf("host ports %d..%d are taken: using %v", base, base+2, p)
	return p
}

// run runs a command with a deadline and returns its combined output.
func (c *dkCluster) run(d time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s %s: still running after %v", name, strings.Join(args, " "), d)
	}
	return string(out), err
}

func (c *dkCluster) compose(d time.Duration, args ...string) (string, error) {
	return c.run(d, "docker-compose", append([]string{"-p", c.project, "-f", filepath.Join(c.dir, "docker-compose.yml")}, args...)...)
}

func (c *dkCluster) mustCompose(args ...string) {
	c.t.Helper()
	if out, err := c.compose(time.Minute, args...); err != nil {
		c.t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *dkCluster) docker(args ...string) (string, error) {
	return c.run(time.Minute, "docker", args...)
}

func (c *dkCluster) mustDocker(args ...string) string {
	c.t.Helper()
	out, err := c.docker(args...)
	if err != nil {
		c.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// cid is a service's container id.
func (c *dkCluster) cid(service string) string {
	c.t.Helper()
	if id := c.cids[service]; id != "" {
		return id
	}
	out, err := c.compose(time.Minute, "ps", "-q", service)
	id := strings.TrimSpace(out)
	if err != nil || id == "" || strings.Contains(id, "\n") {
		c.t.Fatalf("docker-compose ps -q %s: %v\n%s", service, err, out)
	}
	c.cids[service] = id
	return id
}

// hostAddr is server i's (1..3) client address as published on the host.
func (c *dkCluster) hostAddr(i int) string { return fmt.Sprintf("localhost:%d", c.ports[i-1]) }

func (c *dkCluster) hostAddrs(ids ...int) []string {
	var a []string
	for _, i := range ids {
		a = append(a, c.hostAddr(i))
	}
	return a
}

// status runs `gridlock status --connect localhost:PORT --json` on the host.
func (c *dkCluster) status(i int) (*statusJSON, string) {
	out, _ := c.run(10*time.Second, c.bin, "status", "--connect", c.hostAddr(i), "--json", "--timeout", "1s")
	return dkParseStatus(out)
}

// statusInside runs the same command inside server i's container, for when
// the host cannot reach it (it is cut off from its network).
func (c *dkCluster) statusInside(i int) (*statusJSON, string) {
	out, _ := c.docker("exec", c.cid(fmt.Sprintf("server%d", i)), "/gridlock", "status",
		"--connect", fmt.Sprintf("127.0.0.1:%d", 7999+i), "--json", "--timeout", "1s")
	return dkParseStatus(out)
}

func dkParseStatus(out string) (*statusJSON, string) {
	i := strings.Index(out, "{")
	if i < 0 {
		return nil, out
	}
	var s statusJSON
	if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(&s); err != nil {
		return nil, out
	}
	return &s, out
}

// waitStatus polls server i's status from the host until cond holds.
func (c *dkCluster) waitStatus(i int, d time.Duration, what string, cond func(*statusJSON) bool) *statusJSON {
	c.t.Helper()
	return c.waitStatusFrom(func() (*statusJSON, string) { return c.status(i) }, d, what, cond)
}

func (c *dkCluster) waitStatusFrom(get func() (*statusJSON, string), d time.Duration, what string, cond func(*statusJSON) bool) *statusJSON {
	c.t.Helper()
	var s *statusJSON
	waitEvery(c.t, d, 100*time.Millisecond, what, func() (bool, string) {
		var out string
		if s, out = get(); s == nil {
			return false, "last status: " + strings.TrimSpace(out)
		}
		return cond(s), "last status: " + s.String()
	})
	return s
}

// waitLeader waits until server i reports want as primary of the whole
// cluster (all three alive and in the view).
func (c *dkCluster) waitLeader(i, want int, d time.Duration) *statusJSON {
	c.t.Helper()
	return c.waitStatus(i, d, fmt.Sprintf("n%d is primary of all three (asked n%d)", want, i), func(s *statusJSON) bool {
		return s.Primary == want && s.whole()
	})
}

// takeover waits until server1 sees n2 primary (and cond, if not nil),
// then until the commit index grows under n2: the players carry on. It
// returns n2's first status as primary and the time since t0.
func (c *dkCluster) takeover(t0 time.Time, what string, cond func(*statusJSON) bool) (*statusJSON, time.Duration) {
	c.t.Helper()
	s := c.waitStatus(1, 10*time.Second, what, func(s *statusJSON) bool { return s.Primary == 2 && (cond == nil || cond(s)) })
	took := time.Since(t0)
	c.t.Logf("%s (%v): %s", what, took.Round(time.Millisecond), s)
	c.waitStatus(1, 10*time.Second, fmt.Sprintf("commit grows past %d under n2", s.Commit), func(s2 *statusJSON) bool {
		return s2.Primary == 2 && s2.Commit > s.Commit+5
	})
	return s, took
}

// logs is a service's log.
func (c *dkCluster) logs(service string) string {
	out, _ := c.compose(time.Minute, "logs", "--no-color", service)
	return out
}

// waitLog waits until a service's log has more than n matches of re.
func (c *dkCluster) waitLog(service string, re *regexp.Regexp, n int, d time.Duration) {
	c.t.Helper()
	waitEvery(c.t, d, 200*time.Millisecond, fmt.Sprintf("the log of %s to say %q (again)", service, re), func() (bool, string) {
		l := c.logs(service)
		return len(re.FindAllString(l, -1)) > n, "the log:\n" + l
	})
}

// What the nodes log: a step down, a lost quorum, a dropped branch.
var (
	dkLogStepDown  = regexp.MustCompile(`msg="stepped down`)
	dkLogNoQuorum  = regexp.MustCompile(`not acting as primary|view change got \d+ of the \d+ votes needed`)
	dkLogDropped   = regexp.MustCompile(`losing branch`)
	dkLogRolledBak = regexp.MustCompile(`losing branch|rolled back`)
)

// dkBots is a `gridlock bot --json` process.
type dkBots struct {
	name string
	cmd  *exec.Cmd
	out  bytes.Buffer
	err  bytes.Buffer
	done chan error
}

// startBots runs bots on the host against the published ports.
func (c *dkCluster) startBots(prefix string, addrs []string, players int, d time.Duration) *dkBots {
	return c.startBotsCmd(prefix, c.bin, []string{"bot", "--json", "--connect", strings.Join(addrs, ","),
		"--prefix", prefix, "--players", strconv.Itoa(players), "--rate", "10", "--duration", d.String()})
}

// startBotsInside runs bots inside server i's container, against it alone.
func (c *dkCluster) startBotsInside(i int, prefix string, players int, d time.Duration) *dkBots {
	return c.startBotsCmd(prefix, "docker", []string{"exec", c.cid(fmt.Sprintf("server%d", i)), "/gridlock", "bot", "--json",
		"--connect", fmt.Sprintf("127.0.0.1:%d", 7999+i), "--prefix", prefix, "--players", strconv.Itoa(players),
		"--rate", "10", "--duration", d.String()})
}

func (c *dkCluster) startBotsCmd(prefix, name string, args []string) *dkBots {
	c.t.Helper()
	b := &dkBots{name: prefix, done: make(chan error, 1)}
	b.cmd = exec.Command(name, args...)
	b.cmd.Env = c.env
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.err
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	c.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
			<-b.done
		}
	})
	return b
}

// running says whether the bots are still playing.
func (b *dkBots) running() bool {
	select {
	case err := <-b.done:
		b.done <- err
		return false
	default:
		return true
	}
}

// wait returns the bots' report and exit error.
func (b *dkBots) wait(t *testing.T, d time.Duration) (bot.Report, error) {
	t.Helper()
	var err error
	select {
	case err = <-b.done:
		b.done <- err
	case <-time.After(d):
		t.Fatalf("bots %s still running after %v", b.name, d)
	}
	var rep bot.Report
	if i := bytes.IndexByte(b.out.Bytes(), '{'); i >= 0 {
		if jerr := json.Unmarshal(b.out.Bytes()[i:], &rep); jerr != nil {
			t.Fatalf("bots %s: report: %v\n%s\n%s", b.name, jerr, b.out.String(), b.err.String())
		}
	} else if err == nil {
		t.Fatalf("bots %s printed no report:\n%s\n%s", b.name, b.out.String(), b.err.String())
	} else {
		return rep, fmt.Errorf("%v: %s", err, strings.TrimSpace(b.err.String()))
	}
	return rep, err
}

// finish waits for the bots' report and checks it (dkCheckBots). They
// must still be playing when it is called, after server3 led again, or
// they did not play across all of the test.
func (b *dkBots) finish(t *testing.T) bot.Report {
	t.Helper()
	if !b.running() {
		t.Errorf("the bots %s stopped before server3 led again: the test's timing is too tight", b.name)
	}
	rep, err := b.wait(t, 60*time.Second)
	dkCheckBots(t, b, rep, err)
	return rep
}

// dkCheckBots: the bots played; nothing they had acknowledged was lost or
// rolled back, every command was answered, and no chat line of theirs was
// applied twice.
func dkCheckBots(t *testing.T, b *dkBots, rep bot.Report, err error) {
	t.Helper()
	t.Logf("bots %s: %s", b.name, rep)
	if err != nil {
		t.Errorf("bots %s: %v", b.name, err)
	}
	if rep.Acked == 0 {
		t.Errorf("bots %s: nothing was acknowledged", b.name)
	}
	if rep.Lost != 0 || rep.RolledBack != 0 || rep.Errors != 0 || rep.ChatDups != 0 {
		t.Errorf("bots %s: lost=%d rolled-back=%d unanswered=%d chat-duplicated=%d, want 0: %v",
			b.name, rep.Lost, rep.RolledBack, rep.Errors, rep.ChatDups, rep.Problems)
	}
}

// dkClient connects a player from the host.
func dkClient(t *testing.T, name string, addrs []string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cl := client.Dial(ctx, client.ClientOptions{Name: name, Addrs: addrs})
	t.Cleanup(func() {
		cl.Close()
		cancel()
	})
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := cl.WaitConnected(wctx); err != nil {
		t.Fatalf("%s could not connect to %v: %v", name, addrs, err)
	}
	return cl
}

func dkDo(t *testing.T, cl *client.Client, cmd game.Command) game.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := cl.Do(ctx, cmd)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	return a.Result
}

// dkRoom waits until the client's room is the named one.
func dkRoom(t *testing.T, cl *client.Client, name string) game.RoomView {
	t.Helper()
	var r game.RoomView
	waitEvery(t, 10*time.Second, 20*time.Millisecond, fmt.Sprintf("the client's room to be %q", name), func() (bool, string) {
		var ok bool
		r, _, ok = cl.Room()
		return ok && r.Name == name, fmt.Sprintf("the room is %q", r.Name)
	})
	return r
}

type dkMove struct{ row, col, digit uint8 }

// dkKeepRoom creates a room in which one player places k right digits and
// nobody else plays, so that its board can be checked after failovers.
func dkKeepRoom(t *testing.T, cl *client.Client, room string, k int) []dkMove {
	t.Helper()
	if res := dkDo(t, cl, game.CreateRoom{Name: room, Size: 9, Difficulty: game.Easy}); res.Err != nil {
		t.Fatalf("create %s: %v", room, res.Err)
	}
	r := dkRoom(t, cl, room)
	sol, ok := game.Solve(r.Puzzle.Size, r.Puzzle.Givens)
	if !ok {
		t.Fatal("the room's puzzle has no solution")
	}
	var moves []dkMove
	size := int(r.Puzzle.Size)
	for i, cell := range r.Board {
		if len(moves) == k {
			break
		}
		if cell.Digit != 0 {
			continue
		}
		m := dkMove{uint8(i / size), uint8(i % size), sol[i]}
		if res := dkDo(t, cl, game.Place{Row: m.row, Col: m.col, Digit: m.digit}); res.Err != nil {
			t.Fatalf("place %v: %v", m, res.Err)
		}
		moves = append(moves, m)
	}
	return moves
}

// dkCheckKeepRoom joins the room through the given addresses only and
// checks that its board holds the moves, as the given primary serves it.
func dkCheckKeepRoom(t *testing.T, name string, addrs []string, room, owner string, moves []dkMove, primary int) {
	t.Helper()
	cl := dkClient(t, name, addrs)
	if res := dkDo(t, cl, game.JoinRoom{Name: room}); res.Err != nil {
		t.Fatalf("join %s: %v", room, res.Err)
	}
	r := dkRoom(t, cl, room)
	if st := cl.Status(); int(st.Node) != primary {
		t.Errorf("%s is served by n%d, want n%d", name, st.Node, primary)
	}
	size := int(r.Puzzle.Size)
	filled := 0
	for _, c := range r.Board {
		if c.Digit != 0 && !c.Given {
			filled++
		}
	}
	for _, m := range moves {
		c := r.Board[int(m.row)*size+int(m.col)]
		if c.Digit != m.digit || !strings.EqualFold(c.Owner, owner) {
			t.Errorf("room %s r%dc%d is %d by %q, want %d by %s (the board has %d placed cells)",
				room, m.row+1, m.col+1, c.Digit, c.Owner, m.digit, owner, filled)
		}
	}
	t.Logf("room %s through %v, served by n%d: all %d moves are on the board", room, addrs, cl.Status().Node, len(moves))
}

// TestDockerUp: the image is what the Dockerfile says, and the cluster
// comes up with server3 primary of all three, healthy, seen from the host.
func TestDockerUp(t *testing.T) {
	c := dkStart(t, "on")

	img := c.mustDocker("image", "inspect", "-f", "{{.Config.User}} {{json .Config.Healthcheck.Test}} {{.Size}}", c.project)
	f := strings.Fields(img)
	if len(f) != 3 || f[0] != "10001:10001" || !strings.Contains(f[1], "--health") {
		t.Errorf("image: user, health check, size = %q", img)
	}
	if size, _ := strconv.Atoi(f[len(f)-1]); size > 64<<20 {
		t.Errorf("image is %d bytes: FROM scratch with one binary should be far smaller", size)
	}

	up := time.Now()
	s := c.waitLeader(1, 3, 30*time.Second)
	t.Logf("n3 primary of all three after %v: %s", time.Since(up).Round(time.Millisecond), s)
	for i := 1; i <= 3; i++ {
		c.waitLeader(i, 3, 10*time.Second)
	}

	// The operator's command, as documented: the text output names n3.
	out, err := c.run(10*time.Second, c.bin, "status", "--connect", c.hostAddr(1))
	if err != nil || !strings.HasPrefix(out, "primary n3 ") || strings.Count(out, " yes ") != 3 || !strings.Contains(out, "★ n3  primary") {
		t.Errorf("gridlock status --connect %s: %v\n%s", c.hostAddr(1), err, out)
	}
	t.Logf("gridlock status --connect %s:\n%s", c.hostAddr(1), out)
	// The node asked binds every address; it shows one a client can dial.
	if line := nodeLine(out, "n1"); strings.Contains(line, "[::]") || strings.Contains(line, "0.0.0.0") {
		t.Errorf("status shows n1 at its bind address: %q", line)
	}

	// Every container healthy by its HEALTHCHECK, running as uid 10001.
	for i := 1; i <= 3; i++ {
		id := c.cid(fmt.Sprintf("server%d", i))
		waitEvery(t, 40*time.Second, 250*time.Millisecond, fmt.Sprintf("server%d to be healthy", i), func() (bool, string) {
			h := c.mustDocker("inspect", "-f", "{{.State.Health.Status}}", id)
			return h == "healthy", h
		})
		pid, err := strconv.Atoi(c.mustDocker("inspect", "-f", "{{.State.Pid}}", id))
		if err != nil {
			t.Fatalf("server%d's pid: %v", i, err)
		}
		if uids, err := procField(pid, "Uid:"); err != nil {
			t.Errorf("server%d: %v", i, err)
		} else if strings.Join(uids, " ") != "10001 10001 10001 10001" {
			t.Errorf("server%d runs with uids %q, want 10001", i, uids)
		}
	}
	t.Logf("all three healthy %v after up", time.Since(up).Round(time.Millisecond))

	// The client ports are published on the host's loopback only.
	for i := 1; i <= 3; i++ {
		out, err := c.compose(time.Minute, "port", fmt.Sprintf("server%d", i), strconv.Itoa(7999+i))
		if want := fmt.Sprintf("127.0.0.1:%d", c.ports[i-1]); err != nil || strings.TrimSpace(out) != want {
			t.Errorf("server%d's client port is published on %q (%v), want %s", i, strings.TrimSpace(out), err, want)
		}
	}

	// A player on the host who knows only server1 is redirected to
	// server3's advertised, published address.
	cl := dkClient(t, "hostplayer", c.hostAddrs(1))
	if st := cl.Status(); st.Node != 3 || st.Addr != c.hostAddr(3) {
		t.Errorf("client via %s: connected to n%d at %s, want n3 at %s", c.hostAddr(1), st.Node, st.Addr, c.hostAddr(3))
	}
}

// TestDockerStopStart: `docker-compose stop server3` moves every player to
// server2 and the bots carry on; `docker-compose start server3` brings it
// back with the state, and it leads again. Nothing is lost.
func TestDockerStopStart(t *testing.T) {
	c := dkStart(t, "on")
	c.waitLeader(1, 3, 30*time.Second)

	keeper := dkClient(t, "keeper", c.hostAddrs(1, 2, 3))
	moves := dkKeepRoom(t, keeper, "keep", 12)

	bots := c.startBots("bot", c.hostAddrs(1, 2, 3), 4, 26*time.Second)
	time.Sleep(3 * time.Second)

	t0 := time.Now()
	c.mustCompose("stop", "server3")
	t.Logf("server3 stopped in %v", time.Since(t0).Round(time.Millisecond))
	c.takeover(t0, "n2 primary after the stop of server3 began", nil)
	dkCheckKeepRoom(t, "checker2", c.hostAddrs(2), "keep", "keeper", moves, 2)
	time.Sleep(2 * time.Second)

	before := c.waitStatus(2, 10*time.Second, "n2 answers", func(s *statusJSON) bool { return s.Primary == 2 })
	t1 := time.Now()
	c.mustCompose("start", "server3")
	after := c.waitLeader(3, 3, 20*time.Second)
	t.Logf("server3 started; it leads all three %v later: %s", time.Since(t1).Round(time.Millisecond), after)
	if after.Commit < before.Commit {
		t.Errorf("server3 leads with commit %d, below the %d committed before it came back", after.Commit, before.Commit)
	}
	// Never an empty board: server3 serves the room with every move.
	dkCheckKeepRoom(t, "checker3", c.hostAddrs(3), "keep", "keeper", moves, 3)
	if rep := bots.finish(t); rep.Reconnects == 0 {
		t.Errorf("the bots never failed over")
	}
	if l := c.logs("server3"); !strings.Contains(l, "signal received: leaving the cluster") {
		t.Errorf("server3 did not leave gracefully on docker-compose stop:\n%s", l)
	}
}

// TestDockerHungPrimary: SIGSTOP the primary's process: after the suspicion
// timeout server2 takes over; on SIGCONT the old primary steps down, then
// leads again (Bully), and nothing is lost.
func TestDockerHungPrimary(t *testing.T) {
	c := dkStart(t, "on")
	c.waitLeader(1, 3, 30*time.Second)
	bots := c.startBots("bot", c.hostAddrs(1, 2, 3), 4, 28*time.Second)
	time.Sleep(3 * time.Second)

	stepDowns := len(dkLogStepDown.FindAllString(c.logs("server3"), -1))
	t0 := time.Now()
	c.mustCompose("kill", "-s", "SIGSTOP", "server3")
	if _, took := c.takeover(t0, "n2 primary after SIGSTOP to server3", nil); took < 400*time.Millisecond {
		t.Errorf("n2 took over %v after SIGSTOP, before the suspicion timeout could run out", took)
	}
	time.Sleep(2 * time.Second)

	c.mustCompose("kill", "-s", "SIGCONT", "server3")
	c.waitLog("server3", dkLogStepDown, stepDowns, 10*time.Second)
	after := c.waitLeader(2, 3, 20*time.Second)
	t.Logf("server3 woke, stepped down, and leads again: %s", after)
	bots.finish(t)
}

// dkPartition cuts server3 off the compose network while bots on the host
// play; bots inside server3's container play on its side meanwhile. Then it
// heals the network (the same address and name again).
type dkPartition struct {
	network, cid string
}

func (c *dkCluster) partition() dkPartition {
	c.t.Helper()
	id := c.cid("server3")
	nw := c.mustDocker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", id)
	if f := strings.Fields(nw); len(f) != 1 {
		c.t.Fatalf("server3 is on networks %q, want one", nw)
	}
	p := dkPartition{network: strings.TrimSpace(nw), cid: id}
	c.mustDocker("network", "disconnect", p.network, id)
	return p
}

func (c *dkCluster) heal(p dkPartition) {
	c.t.Helper()
	c.mustDocker("network", "connect", "--ip", c.netPfx+".13", "--alias", "server3", p.network, p.cid)
}

// TestDockerPartition: without a quorum, the cut-off server3 keeps a branch
// of its own; server1 and server2 elect server2 and the players carry on.
// On healing, server3 takes the majority's state, drops its branch, and
// leads again; nothing acknowledged on the majority side is lost.
func TestDockerPartition(t *testing.T) {
	c := dkStart(t, "off")
	c.waitLeader(1, 3, 30*time.Second)
	keeper := dkClient(t, "keeper", c.hostAddrs(1, 2, 3))
	moves := dkKeepRoom(t, keeper, "keep", 8)
	bots := c.startBots("major", c.hostAddrs(1, 2, 3), 4, 32*time.Second)
	time.Sleep(3 * time.Second)

	p := c.partition()
	t0 := time.Now()
	minor := c.startBotsInside(3, "minor", 2, 3*time.Second)
	c.takeover(t0, "n2 primary of n1 and n2 after the cut", nil)
	inside := c.waitStatusFrom(func() (*statusJSON, string) { return c.statusInside(3) }, 10*time.Second,
		"server3 is primary of its own side", func(s *statusJSON) bool { return s.Primary == 3 && s.Reporter == 3 })
	t.Logf("inside server3: %s", inside)
	mrep, merr := minor.wait(t, 30*time.Second)
	t.Logf("bots minor (inside server3, during the cut): %s (%v)", mrep, merr)
	if mrep.Acked == 0 {
		t.Fatalf("server3's side acknowledged nothing: there is no branch to drop (%v)", merr)
	}
	majority := c.waitStatus(2, 10*time.Second, "n2 answers", func(s *statusJSON) bool { return s.Primary == 2 })
	time.Sleep(time.Second)

	t1 := time.Now()
	c.heal(p)
	after := c.waitLeader(3, 3, 30*time.Second)
	t.Logf("healed; n3 leads all three %v later: %s", time.Since(t1).Round(time.Millisecond), after)
	c.waitLog("server3", dkLogDropped, 0, 10*time.Second)
	if after.Commit < majority.Commit {
		t.Errorf("after healing commit is %d, below the majority's %d", after.Commit, majority.Commit)
	}
	bots.finish(t)

	// server3 serves the majority's state: the kept room, and nothing of
	// its own branch (the minority's players placed nothing after it).
	dkCheckKeepRoom(t, "checker", c.hostAddrs(3), "keep", "keeper", moves, 3)
	obs := dkClient(t, "observer", c.hostAddrs(3))
	r := dkRoom(t, obs, game.MainRoom)
	for i, cell := range r.Board {
		if strings.HasPrefix(cell.Owner, "minor") {
			t.Errorf("cell %d holds %d by %s, a move of server3's dropped branch", i, cell.Digit, cell.Owner)
		}
	}
	for _, sc := range r.Scores {
		if strings.HasPrefix(sc.Name, "minor") && sc.Right > 0 {
			t.Errorf("the score table keeps %s's %d right placements of the dropped branch", sc.Name, sc.Right)
		}
	}
}

// TestDockerPartitionQuorum: with --quorum 2 the cut-off server3 stops
// acting as primary and says so (log and status), acknowledges nothing,
// and on healing nothing is rolled back.
func TestDockerPartitionQuorum(t *testing.T) {
	c := dkStart(t, "on")
	s := c.waitLeader(1, 3, 30*time.Second)
	if s.Quorum != 2 || !s.HasQuorum {
		t.Fatalf("status: quorum %d reachable=%v, want 2 and true", s.Quorum, s.HasQuorum)
	}
	keeper := dkClient(t, "keeper", c.hostAddrs(1, 2, 3))
	moves := dkKeepRoom(t, keeper, "keep", 8)
	bots := c.startBots("major", c.hostAddrs(1, 2, 3), 4, 25*time.Second)
	time.Sleep(3 * time.Second)

	p := c.partition()
	t0 := time.Now()
	// Players who reach only server3 (bots in its container) get nothing
	// acknowledged: they cannot even open a session (they give up after
	// 10 s).
	minor := c.startBotsInside(3, "minor", 1, 2*time.Second)
	c.takeover(t0, "n2 primary of n1 and n2 after the cut, with a quorum", func(s *statusJSON) bool { return s.HasQuorum })

	// server3 says it is not primary: in its log, and in
	// `gridlock status --connect localhost:8002`, run inside its container
	// since the host's path to it is cut with the network.
	c.waitLog("server3", dkLogNoQuorum, 0, 10*time.Second)
	inside := c.waitStatusFrom(func() (*statusJSON, string) { return c.statusInside(3) }, 10*time.Second,
		"server3 reports no quorum", func(s *statusJSON) bool { return s.Reporter == 3 && s.Primary == 0 && !s.HasQuorum })
	for _, n := range inside.Nodes {
		if n.ID == 3 && n.Role != "no quorum" {
			t.Errorf("server3's role is %q, want \"no quorum\"", n.Role)
		}
	}
	var out string
	waitEvery(t, 10*time.Second, 200*time.Millisecond, "status inside server3 to say it has no quorum and is not primary", func() (bool, string) {
		out, _ = c.docker("exec", p.cid, "/gridlock", "status", "--connect", "127.0.0.1:8002", "--timeout", "1s")
		return strings.Contains(out, "no primary") && strings.Contains(out, "NOT reachable") && strings.Contains(out, "no quorum"), out
	})
	t.Logf("inside server3, gridlock status --connect 127.0.0.1:8002:\n%s", out)
	mrep, merr := minor.wait(t, 40*time.Second)
	t.Logf("bots minor (inside server3, during the cut): %s (%v)", mrep, merr)
	if mrep.Acked != 0 {
		t.Errorf("server3 acknowledged %d commands without a quorum", mrep.Acked)
	}
	if late, out := c.statusInside(3); late == nil {
		t.Errorf("server3 did not answer a status request: %s", out)
	} else if late.Commit != inside.Commit {
		t.Errorf("server3 alone committed entries: commit %d, then %d", inside.Commit, late.Commit)
	}

	t1 := time.Now()
	c.heal(p)
	after := c.waitLeader(3, 3, 30*time.Second)
	t.Logf("healed; n3 leads all three %v later: %s", time.Since(t1).Round(time.Millisecond), after)
	bots.finish(t)
	dkCheckKeepRoom(t, "checker", c.hostAddrs(3), "keep", "keeper", moves, 3)
	for _, sv := range []string{"server1", "server2", "server3"} {
		if l := c.logs(sv); dkLogRolledBak.MatchString(l) {
			t.Errorf("with a quorum, %s's log tells of a rollback:\n%s", sv, l)
		}
	}
}

// TestDockerDownUp: `docker-compose down` (without -v) and `up` bring the
// game back from the servers' volumes: rooms, scores, chat and sessions.
// `down -v` (at the end, as in every test) removes them.
func TestDockerDownUp(t *testing.T) {
	c := dkStart(t, "on")
	c.waitLeader(1, 3, 30*time.Second)
	keeper := dkClient(t, "keeper", c.hostAddrs(1, 2, 3))
	moves := dkKeepRoom(t, keeper, "keep", 8)
	if res := dkDo(t, keeper, game.Chat{Text: "see you after the restart"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	session, token := keeper.Status().Session, keeper.Token()
	bots := c.startBots("bot", c.hostAddrs(1, 2, 3), 3, 6*time.Second)
	rep := bots.finish(t)
	before := c.waitLeader(1, 3, 10*time.Second)
	keeper.Close()

	t0 := time.Now()
	c.mustCompose("down", "--timeout", "5")
	c.mustCompose("up", "-d")
	after := c.waitLeader(1, 3, 60*time.Second)
	t.Logf("down and up in %v: %s (before: %s; bots acknowledged %d)", time.Since(t0).Round(time.Millisecond), after, before, rep.Acked)
	if after.Commit < before.Commit {
		t.Errorf("after down and up the cluster is at commit %d, below the %d before", after.Commit, before.Commit)
	}
	// The board, the chat and the keeper's session and score are back.
	dkCheckKeepRoom(t, "checker", c.hostAddrs(1, 2, 3), "keep", "keeper", moves, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	back := client.Dial(ctx, client.ClientOptions{Name: "keeper", Token: token, Addrs: c.hostAddrs(1, 2, 3)})
	defer back.Close()
	if err := back.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if st := back.Status(); st.Session != session {
		t.Errorf("the keeper's session after down and up is %d, want %d (resumed)", st.Session, session)
	}
	r := dkRoom(t, back, "keep")
	found := false
	for _, l := range r.Chat {
		found = found || l.Text == "see you after the restart"
	}
	if !found {
		t.Errorf("the chat line is gone after down and up: %v", r.Chat)
	}
	score := int32(0)
	for _, s := range r.Scores {
		if strings.EqualFold(s.Name, "keeper") {
			score = s.Total
		}
	}
	if score < int32(10*len(moves)) {
		t.Errorf("the keeper's score in keep is %d after down and up, want at least %d", score, 10*len(moves))
	}
}
