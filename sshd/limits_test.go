package sshd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/wire"
)

// blockingWriter is a client that reads nothing until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got.Write(p)
}

func (b *blockingWriter) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got.String()
}

// A client that does not read: writes never wait, what is queued stays
// under the limit, whole frames are dropped (never part of one), and once
// the client reads again the app is asked for a whole frame.
func TestOutputQueueDropsForASlowClient(t *testing.T) {
	const limit = 1000
	bw := &blockingWriter{release: make(chan struct{})}
	o := newOutput(bw, limit)
	defer o.close()
	frame := func(i int) string { return fmt.Sprintf("<frame %03d %s>", i, strings.Repeat("x", 80)) }
	// The writer takes the first frame and waits for the client.
	o.Write([]byte(frame(0)))
	waitUntil(t, 5*time.Second, "the writer busy", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.busy
	}, nil)
	start := time.Now()
	for i := 1; i < 200; i++ {
		o.Write([]byte(frame(i)))
		o.mu.Lock()
		n := len(o.buf)
		o.mu.Unlock()
		if n > limit {
			t.Fatalf("%d bytes queued, limit %d", n, limit)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("writes to a client that does not read took %v", took)
	}
	if o.dropped() == 0 {
		t.Fatal("nothing dropped for a client that does not read")
	}
	select {
	case <-o.redraw:
		t.Fatal("a redraw asked for while the client still does not read")
	default:
	}
	close(bw.release)
	select {
	case <-o.redraw:
	case <-time.After(5 * time.Second):
		t.Fatal("no redraw asked for once the client read again")
	}
	o.Write([]byte("<whole frame>"))
	o.flush(5 * time.Second)
	got := bw.String()
	if !strings.HasSuffix(got, "<whole frame>") {
		t.Fatalf("the whole frame after the drop did not arrive last: %q", got[max(0, len(got)-100):])
	}
	// Every frame that arrived arrived whole.
	rest := strings.TrimSuffix(got, "<whole frame>")
	for rest != "" {
		if !strings.HasPrefix(rest, "<frame ") {
			t.Fatalf("a frame arrived cut: %q", rest[:min(len(rest), 60)])
		}
		var i int
		fmt.Sscanf(rest, "<frame %03d", &i)
		if !strings.HasPrefix(rest, frame(i)) {
			t.Fatalf("frame %d arrived cut", i)
		}
		rest = rest[len(frame(i)):]
	}
	// The last words are never dropped.
	o.final([]byte("bye"))
	o.flush(5 * time.Second)
	if !strings.HasSuffix(bw.String(), "bye") {
		t.Fatal("the final message was dropped")
	}
}

// Keys are handed from one reader (the name screen) to the next (the
// app) without loss, and a terminal's answer about its background is
// taken out of the keys around it.
func TestInputHandsKeysOnAndReadsTheBackground(t *testing.T) {
	pr, pw := io.Pipe()
	in := newInput(pr)
	defer in.close()
	var out bytes.Buffer
	go func() {
		// A light terminal answers, with keys typed before and after.
		pw.Write([]byte("ab\x1b]11;rgb:ffff/fafa/f0f0\x1b\\"))
		pw.Write([]byte("\x1b[?62;22ccd"))
	}()
	dark, known := in.background(&out, 5*time.Second)
	if !known || dark {
		t.Fatalf("background: dark %v known %v, want a light one", dark, known)
	}
	if out.String() != queryBackground {
		t.Fatalf("the query written was %q", out.String())
	}
	r1 := in.reader()
	buf := make([]byte, 1)
	if n, _ := r1.Read(buf); n != 1 || buf[0] != 'a' {
		t.Fatalf("first key %q, want a", buf[:n])
	}
	r1.Close() // the rest of what it had goes to the next reader
	if _, err := r1.Read(buf); err != io.EOF {
		t.Fatalf("a closed reader read: %v", err)
	}
	go pw.Write([]byte("ef"))
	r2 := in.reader()
	got := ""
	for len(got) < 5 {
		b := make([]byte, 16)
		n, err := r2.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		got += string(b[:n])
	}
	if got != "bcdef" {
		t.Fatalf("the next reader got %q, want bcdef", got)
	}

	// A terminal that answers only the device attributes: not known, dark.
	pr2, pw2 := io.Pipe()
	in2 := newInput(pr2)
	defer in2.close()
	go pw2.Write([]byte("\x1b[?1;2c"))
	if dark, known := in2.background(io.Discard, 5*time.Second); known || !dark {
		t.Fatalf("no answer: dark %v known %v", dark, known)
	}
	// One that answers nothing is waited for no longer than the timeout.
	pr3, _ := io.Pipe()
	in3 := newInput(pr3)
	defer in3.close()
	start := time.Now()
	in3.background(io.Discard, 200*time.Millisecond)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("a silent terminal was waited for %v", took)
	}
}

func TestReachable(t *testing.T) {
	v := wire.ClusterView{Nodes: []wire.NodeInfo{
		{ID: 1, ClientAddr: "172.30.80.11:8000", Advertise: "localhost:8000"},
		{ID: 2, ClientAddr: "172.30.80.12:8001", Advertise: "localhost:8001"},
		{ID: 3, ClientAddr: "127.0.0.1:9000"},
	}}
	for addr, want := range map[string]string{
		"localhost:8001": "172.30.80.12:8001",
		"127.0.0.1:9000": "127.0.0.1:9000",
		"elsewhere:1":    "elsewhere:1",
	} {
		if got := reachable(v, addr); got != want {
			t.Errorf("reachable(%q) = %q, want %q", addr, got, want)
		}
	}
}

// Connections that never get to a session: refused at once past the
// limit of handshakes under way, closed when the handshake takes too
// long, closed on garbage; the server serves all along.
func TestHandshakeLimits(t *testing.T) {
	const timeout = 500 * time.Millisecond
	c := newTestCluster(t, func(o *Options) { o.MaxHandshakes = 4; o.HandshakeTimeout = timeout })
	addr := c.srv.Addr().String()
	dial := func() net.Conn {
		t.Helper()
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// readAll reads until the server closes (or d passes: an error).
	closedWithin := func(conn net.Conn, d time.Duration) (string, error) {
		conn.SetReadDeadline(time.Now().Add(d))
		b, err := io.ReadAll(conn)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return string(b), fmt.Errorf("still open after %v", d)
		}
		return string(b), nil
	}
	var silent []net.Conn
	for range 4 {
		conn := dial()
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "SSH-2.0-gridlock") {
			t.Fatalf("the server's version: %q, %v", line, err)
		}
		silent = append(silent, conn)
	}
	// A fifth, while four are in their handshake: closed at once, unheard.
	if got, err := closedWithin(dial(), time.Second); err != nil || got != "" {
		t.Fatalf("a connection past the limit: got %q, %v; want it closed at once", got, err)
	}
	waitUntil(t, 2*time.Second, "four connections open", func() bool { return c.srv.Connections() == 4 }, nil)
	// The silent four are closed when their time is up.
	start := time.Now()
	for _, conn := range silent {
		if _, err := closedWithin(conn, timeout+3*time.Second); err != nil {
			t.Fatalf("a silent connection: %v", err)
		}
	}
	t.Logf("silent connections closed %v after the check began (timeout %v)", time.Since(start).Round(time.Millisecond), timeout)
	waitUntil(t, 2*time.Second, "no connection left", func() bool { return c.srv.Connections() == 0 }, nil)

	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	for name, send := range map[string][]byte{
		"garbage":                    garbage,
		"a version and then garbage": append([]byte("SSH-2.0-OpenSSH_9.2\r\n"), garbage...),
		"a version line too long":    bytes.Repeat([]byte("SSH-2.0-"), 1000),
		"a huge packet length":       append([]byte("SSH-2.0-OpenSSH_9.2\r\n"), 0x7f, 0xff, 0xff, 0xff, 4, 20),
	} {
		conn := dial()
		go conn.Write(send)
		if _, err := closedWithin(conn, timeout+3*time.Second); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// And a player plays all along.
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
}

// A session may ask a few things before its shell, not any number.
func TestEnvironmentIsBounded(t *testing.T) {
	c := newTestCluster(t, nil)
	conn, err := c.dialSSH("alice", gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range 200 {
		if s.Setenv(fmt.Sprintf("V%d", i), "x") == nil {
			ok++
		}
	}
	if ok != maxEnv {
		t.Fatalf("%d environment variables accepted, want %d", ok, maxEnv)
	}
	if s.Setenv("BIG", strings.Repeat("x", 2*maxEnvSize)) == nil {
		t.Fatal("a huge environment variable accepted")
	}
	// More session channels than allowed on one connection are refused.
	var open []*gossh.Session
	for range maxChannels - 1 {
		s2, err := conn.NewSession()
		if err != nil {
			t.Fatalf("session channel %d refused: %v", len(open)+2, err)
		}
		open = append(open, s2)
	}
	if _, err := conn.NewSession(); err == nil {
		t.Fatalf("a session channel past %d accepted", maxChannels)
	}
}

// A client that stops reading its output does not hold up the server or
// the other players; its frames are dropped, and when it reads again it
// gets a whole frame.
func TestSlowClient(t *testing.T) {
	c := newTestCluster(t, func(o *Options) { o.OutputQueue = 64 << 10 })
	obs := c.observer()
	slow := c.play("slow", newKey(t), 100, 30)
	slow.waitText("n1 is primary", 10*time.Second)
	// From now on the slow player's client reads nothing: its window
	// fills, and the server's writes to it block.
	slow.hold.Lock()
	// Many whole frames: each window change redraws all of a large screen,
	// until the client's window is full and frames are dropped.
	go func() {
		for i := 0; c.srv.droppedFrames("slow") == 0 && i < 5000; i++ {
			if slow.sess.WindowChange(maxRows-i%2, maxCols-i%2) != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitUntil(t, 20*time.Second, "frames dropped for the slow client", func() bool { return c.srv.droppedFrames("slow") > 0 }, nil)
	// Another player plays and chats meanwhile, at full speed.
	p := c.play("alice", newKey(t), 100, 30)
	p.waitText("n1 is primary", 10*time.Second)
	p.keys("\t")
	for i := range 20 {
		p.keys(fmt.Sprintf("line %d\r", i))
	}
	waitUntil(t, 10*time.Second, "alice's 20 lines", func() bool {
		r, _, _ := obs.Room()
		return len(r.Chat) > 0 && r.Chat[len(r.Chat)-1].Text == "line 19"
	}, nil)
	p.waitText("line 19", 5*time.Second)
	// When it reads again, it catches up with a whole frame of the game as
	// it is now.
	slow.hold.Unlock()
	slow.waitText("line 19", 10*time.Second)
}
