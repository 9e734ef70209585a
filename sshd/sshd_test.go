package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// The server in one process: a one-node cluster on an in-memory network,
// the SSH server on loopback, and players that are Go SSH clients (the
// tests at the top of the module use the real OpenSSH client in tmux).

type testCluster struct {
	t   *testing.T
	m   *node.MemNetwork
	n   *node.Node
	srv *Server
}

func logger() *slog.Logger {
	if os.Getenv("GRIDLOCK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newTestCluster starts a node and an SSH server beside it (cfg adjusts
// the server's options).
func newTestCluster(t *testing.T, cfg func(*Options)) *testCluster {
	t.Helper()
	m := node.NewMemNetwork()
	h := m.NewHost()
	o := node.Options{ID: 1, Cluster: "test", Config: replica.DefaultConfig(1), Group: "224.1.1.1:5007", Network: h, Listen: h.IP(), Logger: logger()}
	o.Config.BootstrapAny = true
	n, err := node.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	so := Options{Addr: "127.0.0.1:0", Node: n, KeyDir: t.TempDir(), Logger: logger()}
	if cfg != nil {
		cfg(&so)
	}
	srv, err := Listen(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx, nil)
	})
	return &testCluster{t: t, m: m, n: n, srv: srv}
}

// observer is a plain client of the cluster, to see what the game holds.
func (c *testCluster) observer() *client.Client {
	c.t.Helper()
	h := c.m.NewHost()
	cl := client.Dial(context.Background(), client.ClientOptions{Name: "observer", Addrs: []string{c.n.ClientAddr()}, Dial: h.Dial})
	c.t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// member is how the game has name in room main (ok: it has it).
func member(cl *client.Client, name string) (online, ok bool) {
	r, _, _ := cl.Room()
	for _, m := range r.Members {
		if game.NameKey(m.Name) == game.NameKey(name) {
			return m.Online, true
		}
	}
	return false, false
}

func newKey(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// player is an SSH session with a terminal.
type player struct {
	t     *testing.T
	conn  *gossh.Client
	sess  *gossh.Session
	stdin io.WriteCloser
	out   *syncBuf
	exit  chan error
	hold  sync.Mutex // held: the client reads nothing (its window fills)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// text is what was written, without escapes.
func (s *syncBuf) text() string { return ansi.Strip(s.String()) }

// dialSSH logs in as user with auth.
func (c *testCluster) dialSSH(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", c.srv.Addr().String(), &gossh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(c.srv.HostKey()), Timeout: 5 * time.Second,
	})
}

// play logs in as user with key (nil: keyboard-interactive) and opens a
// terminal of w×h. The player answers the server's question about the
// terminal's background as a dark terminal would.
func (c *testCluster) play(user string, key gossh.Signer, w, h int) *player {
	c.t.Helper()
	auth := gossh.AuthMethod(gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil }))
	if key != nil {
		auth = gossh.PublicKeys(key)
	}
	conn, err := c.dialSSH(user, auth)
	if err != nil {
		c.t.Fatalf("ssh as %s: %v", user, err)
	}
	c.t.Cleanup(func() { conn.Close() })
	p := &player{t: c.t, conn: conn, out: &syncBuf{}, exit: make(chan error, 1)}
	if p.sess, err = conn.NewSession(); err != nil {
		c.t.Fatal(err)
	}
	if err := p.sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		c.t.Fatal(err)
	}
	p.stdin, _ = p.sess.StdinPipe()
	stdout, _ := p.sess.StdoutPipe()
	if err := p.sess.Shell(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 32<<10)
		answered := false
		for {
			// A gate (an empty critical section on purpose): wait while the test holds it.
			p.hold.Lock()
			p.hold.Unlock()
			n, err := stdout.Read(buf)
			p.out.Write(buf[:n])
			if !answered && strings.Contains(p.out.String(), queryBackground) {
				answered = true
				io.WriteString(p.stdin, "\x1b]11;rgb:1c1c/1c1c/1c1c\x07\x1b[?62;22c")
			}
			if err != nil {
				p.exit <- p.sess.Wait()
				return
			}
		}
	}()
	return p
}

func (p *player) keys(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		p.t.Fatal(err)
	}
}

// waitText waits until the player's screen output holds s.
func (p *player) waitText(s string, d time.Duration) {
	p.t.Helper()
	waitUntil(p.t, d, "the player's output to show "+s, func() bool { return strings.Contains(p.out.text(), s) }, func() string { return p.out.text() })
}

// waitExit waits for the session to end and returns its exit status.
func (p *player) waitExit(d time.Duration) int {
	p.t.Helper()
	select {
	case err := <-p.exit:
		var ee *gossh.ExitError
		if errors.As(err, &ee) {
			return ee.ExitStatus()
		}
		if err != nil {
			p.t.Fatalf("session ended with %v", err)
		}
		return 0
	case <-time.After(d):
		p.t.Fatalf("the session did not end within %v; its output:\n%s", d, p.out.text())
		return -1
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, show func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			extra := ""
			if show != nil {
				extra = "\n" + show()
			}
			t.Fatalf("%s: not within %v%s", what, d, extra)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPlayAndQuit(t *testing.T) {
	c := newTestCluster(t, nil)
	obs := c.observer()
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	waitUntil(t, 5*time.Second, "alice in the game", func() bool { on, ok := member(obs, "alice"); return ok && on }, nil)
	p.keys("\t")
	p.keys("hello over ssh\r")
	waitUntil(t, 5*time.Second, "alice's chat line", func() bool {
		r, _, _ := obs.Room()
		for _, l := range r.Chat {
			if l.From == "alice" && l.Text == "hello over ssh" {
				return true
			}
		}
		return false
	}, nil)
	p.keys("\x1b")
	time.Sleep(50 * time.Millisecond) // esc then q, as typed: not alt+q
	p.keys("q")
	if code := p.waitExit(5 * time.Second); code != 0 {
		t.Fatalf("q: exit status %d, want 0", code)
	}
	if !strings.Contains(p.out.text(), "bye, alice") {
		t.Fatalf("no goodbye: %q", p.out.text())
	}
	if out := p.out.String(); !strings.Contains(out, resetTerminal) {
		t.Fatalf("the terminal was not put back: %q", out[max(0, len(out)-200):])
	}
	// Quitting closes the game session: the name is free at once.
	waitUntil(t, 5*time.Second, "alice gone from the game", func() bool { _, ok := member(obs, "alice"); return !ok }, nil)
	if n := c.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions after the only one quit", n)
	}
}

// A name that is taken is asked again; the same key comes back to its
// session, after its connection dropped or from a second terminal (the
// newest connection wins, and the older is told).
func TestNamesAndKeys(t *testing.T) {
	c := newTestCluster(t, nil)
	obs := c.observer()
	alice := newKey(t)
	p1 := c.play("alice", alice, 100, 30)
	p1.waitText("n1 is primary", 10*time.Second)

	// Another key as alice: taken; the player types bob.
	p2 := c.play("alice", newKey(t), 100, 30)
	p2.waitText(`the name "alice" is taken`, 10*time.Second)
	p2.keys(strings.Repeat("\x7f", 5) + "bob\r")
	waitUntil(t, 5*time.Second, "bob in the game", func() bool { on, ok := member(obs, "bob"); return ok && on }, nil)

	// alice's key again, in a second terminal: it takes her session, and
	// the first terminal is told.
	p3 := c.play("alice", alice, 100, 30)
	p3.waitText("n1 is primary", 10*time.Second)
	if code := p1.waitExit(5 * time.Second); code != 1 || !strings.Contains(p1.out.text(), "you connected again as alice with the same key") {
		t.Fatalf("the older terminal: exit %d, output %q", code, p1.out.text())
	}
	if strings.Contains(p3.out.text(), "is taken") {
		t.Fatalf("alice's own key was told her name is taken:\n%s", p3.out.text())
	}
	waitUntil(t, 5*time.Second, "alice online", func() bool { on, ok := member(obs, "alice"); return ok && on }, nil)

	// alice's connection drops: her session waits for her (offline).
	p3.conn.Close()
	waitUntil(t, 5*time.Second, "alice offline", func() bool { on, ok := member(obs, "alice"); return ok && !on }, nil)
	// Another key cannot have the name meanwhile; alice's key resumes it
	// (names compared as the game compares them).
	p4 := c.play("alice", newKey(t), 100, 30)
	p4.waitText(`the name "alice" is taken`, 10*time.Second)
	p5 := c.play("ALICE", alice, 100, 30)
	p5.waitText("n1 is primary", 10*time.Second)
	waitUntil(t, 5*time.Second, "alice back online", func() bool { on, ok := member(obs, "alice"); return ok && on }, nil)
	if strings.Contains(p5.out.text(), "is taken") {
		t.Fatalf("alice's own key was told her name is taken:\n%s", p5.out.text())
	}
	r, _, _ := obs.Room()
	n := 0
	for _, m := range r.Members {
		if game.NameKey(m.Name) == "alice" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("alice is %d times in the room: %+v", n, r.Members)
	}
}

// Esc on the name screen leaves.
func TestNameScreenEsc(t *testing.T) {
	c := newTestCluster(t, nil)
	p1 := c.play("alice", newKey(t), 100, 30)
	p1.waitText("n1 is primary", 10*time.Second)
	p2 := c.play("alice", newKey(t), 100, 30)
	p2.waitText(`the name "alice" is taken`, 10*time.Second)
	p2.keys("\x1b")
	if code := p2.waitExit(5 * time.Second); code != 1 || !strings.Contains(p2.out.text(), "no name, no game") {
		t.Fatalf("esc on the name screen: exit %d, output %q", code, p2.out.text())
	}
}

func TestInvalidUserNameIsAsked(t *testing.T) {
	c := newTestCluster(t, nil)
	p := c.play(strings.Repeat("x", 40), nil, 100, 30)
	p.waitText("is not a name here", 10*time.Second)
	p.keys("\x15carol\r") // ctrl+u clears the input
	p.waitText("n1 is primary", 10*time.Second)
	p.waitText("carol", time.Second)
}

// Without a terminal, or with a command, one line says why, and exit 1.
func TestNoTerminal(t *testing.T) {
	c := newTestCluster(t, nil)
	conn, err := c.dialSSH("alice", gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		name string
		run  func(*gossh.Session) error
		want string
	}{
		{"shell without a terminal", func(s *gossh.Session) error { return s.Shell() }, "needs a terminal"},
		{"command without a terminal", func(s *gossh.Session) error { return s.Start("status") }, "needs a terminal"},
		{"command with a terminal", func(s *gossh.Session) error {
			if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
				return err
			}
			return s.Start("status")
		}, "takes no command"},
	} {
		s, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out syncBuf
		s.Stdout, s.Stderr = &out, &out
		if err := tc.run(s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = s.Wait()
		var ee *gossh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 1 {
			t.Errorf("%s: %v, want exit status 1", tc.name, err)
		}
		if got := strings.TrimSpace(out.String()); !strings.Contains(got, tc.want) || strings.Count(got, "\n") > 0 {
			t.Errorf("%s: said %q, want one line with %q", tc.name, got, tc.want)
		}
	}
}

func TestAuthorizedKeysOnly(t *testing.T) {
	a, b := newKey(t), newKey(t)
	file := t.TempDir() + "/authorized_keys"
	write := func(keys ...gossh.Signer) {
		var buf bytes.Buffer
		buf.WriteString("# players\n\n")
		for _, k := range keys {
			buf.Write(gossh.MarshalAuthorizedKey(k.PublicKey()))
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a)
	c := newTestCluster(t, func(o *Options) { o.AuthorizedKeys = file })
	if conn, err := c.dialSSH("alice", gossh.PublicKeys(a)); err != nil {
		t.Fatalf("a listed key refused: %v", err)
	} else {
		conn.Close()
	}
	if _, err := c.dialSSH("bob", gossh.PublicKeys(b)); err == nil {
		t.Fatal("a key not listed got in")
	}
	kbd := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })
	if _, err := c.dialSSH("bob", kbd); err == nil {
		t.Fatal("keyboard-interactive got into a private game")
	}
	// A key added to the file plays without a restart.
	time.Sleep(10 * time.Millisecond) // a modification time of its own
	write(a, b)
	if conn, err := c.dialSSH("bob", gossh.PublicKeys(b)); err != nil {
		t.Fatalf("a key added to the file refused: %v", err)
	} else {
		conn.Close()
	}
}

func TestAuthorizedKeysFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad"
	os.WriteFile(bad, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9+t alice\nnot a key\n"), 0o600)
	empty := dir + "/empty"
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	for _, tc := range []struct{ path, want string }{
		{dir + "/missing", "no such file"},
		{bad, "bad:1"},
		{empty, "no keys"},
	} {
		_, err := loadAuthorizedKeys(tc.path, logger())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.path, err, tc.want)
		}
	}
}

// The host key and the session secret are made once and kept: a server
// started again with the same directory has the same key, and gives a
// player's key the same token.
func TestKeysAreKept(t *testing.T) {
	dir := t.TempDir()
	k1, err := hostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := tokenSecret(dir, nil)
	k2, err := hostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := tokenSecret(dir, nil)
	if !bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()) {
		t.Fatal("the host key changed between two starts")
	}
	player := newKey(t).PublicKey()
	if sessionToken(s1, player, "alice") != sessionToken(s2, player, "Alice") {
		t.Fatal("the same key and name got another token after a restart")
	}
	if sessionToken(s1, player, "alice") == sessionToken(s1, player, "bob") {
		t.Fatal("two names of one key share a token")
	}
	other, _ := tokenSecret(t.TempDir(), nil)
	if sessionToken(s1, player, "alice") == sessionToken(other, player, "alice") {
		t.Fatal("two servers with secrets of their own gave one token")
	}
	c1, _ := tokenSecret(t.TempDir(), []byte("cluster"))
	c2, _ := tokenSecret(t.TempDir(), []byte("cluster"))
	if sessionToken(c1, player, "alice") != sessionToken(c2, player, "alice") {
		t.Fatal("two servers with the same cluster secret gave a key different tokens")
	}
	if tok := sessionToken(s1, nil, "alice"); tok == sessionToken(s1, nil, "alice") || len(tok) < 16 {
		t.Fatal("logins without a key should get fresh tokens")
	}
	os.WriteFile(dir+"/"+HostKeyFile, []byte("garbage"), 0o600)
	if _, err := hostKey(dir); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("a damaged host key: %v", err)
	}
}

func TestFullServer(t *testing.T) {
	c := newTestCluster(t, func(o *Options) { o.MaxSessions = 1 })
	p1 := c.play("alice", newKey(t), 100, 30)
	p1.waitText("n1 is primary", 10*time.Second)
	p2 := c.play("bob", newKey(t), 100, 30)
	if code := p2.waitExit(5 * time.Second); code != 1 || !strings.Contains(p2.out.text(), "this server is full (1 players)") {
		t.Fatalf("a session past the cap: exit %d, output %q", code, p2.out.text())
	}
}

func TestIdleTimeout(t *testing.T) {
	const idle = 600 * time.Millisecond
	c := newTestCluster(t, func(o *Options) { o.IdleTimeout = idle })
	c.observer() // the cluster is made before the idle clock starts
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	// Keys keep it open past the timeout.
	start := time.Now()
	for time.Since(start) < 2*idle {
		p.keys("l")
		time.Sleep(idle / 4)
	}
	select {
	case <-p.exit:
		t.Fatalf("a player pressing keys was closed as idle: %s", p.out.text())
	default:
	}
	if code := p.waitExit(idle + 5*time.Second); code != 1 || !strings.Contains(p.out.text(), "without a key") {
		t.Fatalf("idle: exit %d, output %q", code, p.out.text())
	}
}

// The app follows the client's window: a window change is drawn whole at
// the new size.
func TestWindowChange(t *testing.T) {
	c := newTestCluster(t, nil)
	p := c.play("alice", newKey(t), 80, 24)
	p.waitText("n1 is primary", 10*time.Second)
	if strings.Contains(p.out.String(), "\x1b[25;1H") {
		t.Fatal("a 25th line on a 24-line terminal")
	}
	if err := p.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "a frame 40 lines high", func() bool { return strings.Contains(p.out.String(), "\x1b[40;1H") }, nil)
	// A window too large to believe is drawn at the largest size allowed.
	if err := p.sess.WindowChange(100000, 100000); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "a frame at the largest size", func() bool { return strings.Contains(p.out.String(), "\x1b[300;1H") }, nil)
	if strings.Contains(p.out.String(), "\x1b[301;1H") {
		t.Fatal("a frame higher than the largest size")
	}
}

func TestShutdownTellsThePlayers(t *testing.T) {
	c := newTestCluster(t, nil)
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The cluster's only server sends no one to another.
	if code := p.waitExit(5 * time.Second); code != 1 || !strings.Contains(p.out.text(), "server n1: this server is shutting down") ||
		!strings.Contains(p.out.text(), "the cluster's only server") || strings.Contains(p.out.text(), "another server") {
		t.Fatalf("shutdown: exit %d, output %q", code, p.out.text())
	}
	if _, err := net.DialTimeout("tcp", c.srv.Addr().String(), time.Second); err == nil {
		t.Fatal("the server still listens after Shutdown")
	}
}

func TestNodeStopTellsThePlayers(t *testing.T) {
	c := newTestCluster(t, nil)
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	c.n.Close()
	if code := p.waitExit(5 * time.Second); code != 1 || !strings.Contains(p.out.text(), "server n1 stopped") {
		t.Fatalf("node stopped: exit %d, output %q", code, p.out.text())
	}
}

// panicky is a node whose ID panics once, when armed: the app asks for it
// to mark its node in the sidebar, so its next frame panics.
type panicky struct {
	*node.Node
	armed atomic.Bool
}

func (p *panicky) ID() wire.NodeID {
	if p.armed.CompareAndSwap(true, false) {
		panic("a bug in the app")
	}
	return p.Node.ID()
}

// A panic in one session's app ends that session, with a message, and
// not the server: the next player plays.
func TestAppPanicEndsItsSessionOnly(t *testing.T) {
	var pn *panicky
	c := newTestCluster(t, func(o *Options) {
		pn = &panicky{Node: o.Node.(*node.Node)}
		o.Node = pn
	})
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	pn.armed.Store(true)
	if err := p.sess.WindowChange(31, 101); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(5 * time.Second); code != 1 || !strings.Contains(p.out.text(), "stopped on an error of its own") {
		t.Fatalf("after a panic: exit %d, output %q", code, p.out.text())
	}
	if !strings.HasSuffix(strings.TrimSpace(p.out.text()), "connect again to resume") {
		t.Fatalf("the message is not the last thing on the screen: %q", p.out.text())
	}
	bob := c.play("bob", newKey(t), 100, 30)
	bob.waitText("n1 is primary", 10*time.Second)
	// alice's game session waits for her, and she gets it back.
	obs := c.observer()
	waitUntil(t, 5*time.Second, "alice offline", func() bool { on, ok := member(obs, "alice"); return ok && !on }, nil)
}

// A server with another in its cluster sends its players there when it
// stops.
func TestNodeStopSendsThePlayersToAnother(t *testing.T) {
	c := newTestCluster(t, nil)
	h := c.m.NewHost()
	o := node.Options{ID: 2, Cluster: "test", Config: replica.DefaultConfig(2), Group: "224.1.1.1:5007", Network: h, Listen: h.IP(), Logger: logger()}
	o.Config.BootstrapAny = true
	n2, err := node.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n2.Close)
	p := c.play("alice", newKey(t), 100, 30)
	waitUntil(t, 10*time.Second, "n2 in n1's view", func() bool { return len(c.n.View().Nodes) == 2 }, nil)
	c.n.Close()
	if code := p.waitExit(5 * time.Second); code != 1 || !strings.Contains(p.out.text(), "server n1 stopped: the game goes on: connect to another server of the cluster") {
		t.Fatalf("node stopped: exit %d, output %q", code, p.out.text())
	}
}
