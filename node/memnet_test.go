package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// memPair dials from a to a listener on b and returns both ends.
func memPair(t *testing.T, a, b *MemHost) (client, server net.Conn) {
	t.Helper()
	ln, err := b.Listen(context.Background(), b.IP()+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	client, err = a.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// readWithin reads exactly len(want) bytes within d and compares.
func readWithin(t *testing.T, c net.Conn, d time.Duration, want []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// readFails reads within d and returns the error (failing if none).
func readFails(t *testing.T, c net.Conn, d time.Duration) error {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	k, err := c.Read(make([]byte, 16))
	if err == nil {
		t.Fatalf("read %d bytes, want an error", k)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestMemStreamCarriesBytesAndCloses(t *testing.T) {
	m := NewMemNetwork()
	a, b := m.NewHost(), m.NewHost()
	c, s := memPair(t, a, b)
	if got, want := c.RemoteAddr().String(), s.LocalAddr().String(); got != want {
		t.Errorf("client's remote %s, server's local %s", got, want)
	}
	if got, want := s.RemoteAddr().String(), c.LocalAddr().String(); got != want {
		t.Errorf("server's remote %s, client's local %s", got, want)
	}
	if ip := c.LocalAddr().(*net.TCPAddr).IP.String(); ip != a.IP() {
		t.Errorf("the client's address is %s, want its host's %s", ip, a.IP())
	}

	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	readWithin(t, s, 5*time.Second, []byte("hello"))
	if _, err := s.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	readWithin(t, c, 5*time.Second, []byte("back"))

	// What was written before Close arrives, then EOF.
	if _, err := c.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	readWithin(t, s, 5*time.Second, []byte("last"))
	if err := readFails(t, s, 5*time.Second); err != io.EOF {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to a closed peer: %v, want EPIPE", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed end: %v, want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on a closed end: %v, want net.ErrClosed", err)
	}
}

// Bytes arrive whole and in order whatever the sizes of reads and writes,
// with a writer that has to wait for the reader (the window is smaller
// than what goes through).
func TestMemStreamKeepsOrderUnderLoad(t *testing.T) {
	m := NewMemNetwork()
	c, s := memPair(t, m.NewHost(), m.NewHost())
	data := make([]byte, 4*memWindow+12345)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	errc := make(chan error, 1)
	go func() {
		rest := data
		for len(rest) > 0 {
			k := min(len(rest), 1+rand.IntN(100000))
			if _, err := c.Write(rest[:k]); err != nil {
				errc <- err
				return
			}
			rest = rest[k:]
		}
		errc <- c.Close()
	}()
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%d bytes arrived, %d sent, or not in order", len(got), len(data))
	}
}

func TestMemDeadlines(t *testing.T) {
	m := NewMemNetwork()
	c, s := memPair(t, m.NewHost(), m.NewHost())

	// A read deadline that passes fails the read with a timeout.
	err := readFails(t, s, 20*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !isTimeout(err) {
		t.Fatalf("read past its deadline: %v", err)
	}
	// A deadline in the past wakes a read that waits.
	errc := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 1))
		errc <- err
	}()
	_ = s.SetReadDeadline(time.Now().Add(time.Hour))
	_ = s.SetReadDeadline(time.Now())
	select {
	case err := <-errc:
		if !isTimeout(err) {
			t.Fatalf("woken read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read went on waiting after its deadline was moved into the past")
	}
	// Without a deadline it reads again.
	_ = s.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	readWithin(t, s, 5*time.Second, []byte("ok"))

	// A writer facing a full window waits, up to its deadline; it reports
	// what went out.
	_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	k, err := c.Write(make([]byte, memWindow+100))
	if !isTimeout(err) || k != memWindow {
		t.Fatalf("write past a full window: %d bytes, %v; want %d and a timeout", k, err, memWindow)
	}
	// The direct write of a send queue fails too once the deadline passed.
	if _, err := c.(*memConn).TryWrite([]byte("x")); !isTimeout(err) {
		t.Fatalf("TryWrite past the write deadline: %v", err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	if k, err := c.(*memConn).TryWrite([]byte("x")); k != 0 || err != nil {
		t.Fatalf("TryWrite into a full window: %d, %v; want 0, nil", k, err)
	}
}

func TestMemDialErrors(t *testing.T) {
	m := NewMemNetwork()
	a, b := m.NewHost(), m.NewHost()
	ctx := context.Background()
	if _, err := a.Dial(ctx, b.IP()+":80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	if _, err := a.Dial(ctx, "10.99.0.1:80"); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("dial to no host: %v, want EHOSTUNREACH", err)
	}
	if _, err := a.Dial(ctx, "example.com:80"); err == nil {
		t.Errorf("dial by name: no error")
	}
	// A listener on loopback is reached from its own host only.
	ln, err := b.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if _, err := a.Dial(ctx, net.JoinHostPort(b.IP(), strconv.Itoa(port))); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial from elsewhere to a loopback listener: %v, want ECONNREFUSED", err)
	}
	c, err := b.Dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatalf("dial to a loopback listener on its host: %v", err)
	}
	c.Close()
	if _, err := b.Listen(ctx, "127.0.0.1:"+strconv.Itoa(port)); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("listen on a port in use: %v, want EADDRINUSE", err)
	}
	if _, err := b.Listen(ctx, a.IP()+":0"); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("listen on another host's address: %v, want EADDRNOTAVAIL", err)
	}
	// Closing the listener resets what it had not accepted.
	ln2, err := b.Listen(ctx, ":0")
	if err != nil {
		t.Fatal(err)
	}
	if got := ln2.Addr().String(); got[:8] != "0.0.0.0:" {
		t.Errorf("a listener on every address says %s", got)
	}
	waiting, err := a.Dial(ctx, net.JoinHostPort(b.IP(), strconv.Itoa(ln2.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
	if err := readFails(t, waiting, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read on a connection its listener dropped: %v, want ECONNRESET", err)
	}
	if _, err := ln2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept on a closed listener: %v", err)
	}
	// On one host too.
	ln3, err := b.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	waiting, err = b.Dial(ctx, ln3.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ln3.Close()
	if err := readFails(t, waiting, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read on a connection its listener on the same host dropped: %v, want ECONNRESET", err)
	}
}

// A cut holds bytes on their way (and delivers them in order when it
// heals), loses datagrams, and leaves dials waiting; what had arrived
// before stays readable.
func TestMemCutAndHeal(t *testing.T) {
	m := NewMemNetwork()
	a, b := m.NewHost(), m.NewHost()
	c, s := memPair(t, a, b)
	if _, err := c.Write([]byte("before ")); err != nil {
		t.Fatal(err)
	}
	m.Cut(a, b)
	readWithin(t, s, 5*time.Second, []byte("before "))
	if _, err := c.Write([]byte("during")); err != nil {
		t.Fatalf("a write across a cut: %v (it should wait on the way)", err)
	}
	if err := readFails(t, s, 30*time.Millisecond); !isTimeout(err) {
		t.Fatalf("read across a cut: %v, want a timeout", err)
	}
	ln, err := b.Listen(context.Background(), ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	target := net.JoinHostPort(b.IP(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = a.Dial(ctx, target)
	cancel()
	if !isTimeout(err) {
		t.Fatalf("dial across a cut: %v, want a timeout", err)
	}
	// A dial under way goes through when the cut heals.
	dialed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := a.Dial(ctx, target)
		if err == nil {
			conn.Close()
		}
		dialed <- err
	}()
	// So does a read that waits.
	got := make(chan []byte, 1)
	go func() {
		_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, len("during"))
		_, _ = io.ReadFull(s, b)
		got <- b
	}()
	waitFor(t, 5*time.Second, "the read to wait", func() bool { return waiting(s) })
	m.Heal(a, b)
	if b := <-got; string(b) != "during" {
		t.Fatalf("the read that waited for the heal got %q", b)
	}
	if err := <-dialed; err != nil {
		t.Fatalf("dial that waited for the heal: %v", err)
	}

	// Isolate cuts a host off from every other, and Rejoin undoes it.
	a.Isolate()
	if _, err := s.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if err := readFails(t, c, 30*time.Millisecond); !isTimeout(err) {
		t.Fatalf("read on an isolated host: %v, want a timeout", err)
	}
	a.Rejoin()
	readWithin(t, c, 5*time.Second, []byte("held"))
}

// An end with a user timeout gives up on bytes a cut holds; its peer
// learns when the cut heals.
func TestMemUserTimeout(t *testing.T) {
	m := NewMemNetwork()
	a, b := m.NewHost(), m.NewHost()
	c, s := memPair(t, a, b)
	setUserTimeout(c, 20*time.Millisecond)
	m.Cut(a, b)
	if _, err := c.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	if err := readFails(t, c, 5*time.Second); !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("read on an end that gave up: %v, want ETIMEDOUT", err)
	}
	// The other end cannot know across the cut.
	if err := readFails(t, s, 30*time.Millisecond); !isTimeout(err) {
		t.Fatalf("read on the far end during the cut: %v, want a timeout", err)
	}
	m.HealAll()
	if err := readFails(t, s, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read on the far end after the heal: %v, want ECONNRESET", err)
	}
}

// A crash resets the host's connections, closes its sockets and makes it
// unreachable until it restarts.
func TestMemCrash(t *testing.T) {
	m := NewMemNetwork()
	a, b, x := m.NewHost(), m.NewHost(), m.NewHost()
	c, s := memPair(t, a, b)
	cx, _ := memPair(t, x, b) // across a cut when b crashes
	m.Cut(x, b)
	ln, err := b.Listen(context.Background(), ":7000")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		accepted <- err
	}()
	pc, err := b.ListenPacket(context.Background(), ":7001")
	if err != nil {
		t.Fatal(err)
	}

	b.Crash()
	if err := readFails(t, c, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read from a crashed peer: %v, want ECONNRESET", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read on the crashed host: %v, want net.ErrClosed", err)
	}
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept on the crashed host: %v", err)
	}
	if _, _, err := pc.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("datagram socket on the crashed host: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = a.Dial(ctx, b.IP()+":7000")
	cancel()
	if !isTimeout(err) {
		t.Errorf("dial to a crashed host: %v, want a timeout", err)
	}
	if _, err := b.Listen(context.Background(), ":7000"); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("listen on a crashed host: %v, want ENETDOWN", err)
	}
	// Across the cut the reset waits for the heal.
	if err := readFails(t, cx, 30*time.Millisecond); !isTimeout(err) {
		t.Errorf("read across a cut from a crashed peer: %v, want a timeout", err)
	}
	m.Heal(x, b)
	if err := readFails(t, cx, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after the heal from a crashed peer: %v, want ECONNRESET", err)
	}

	b.Restart()
	ln, err = b.Listen(context.Background(), ":7000")
	if err != nil {
		t.Fatalf("listen after a restart: %v", err)
	}
	defer ln.Close()
	conn, err := a.Dial(context.Background(), b.IP()+":7000")
	if err != nil {
		t.Fatalf("dial after a restart: %v", err)
	}
	conn.Close()
}

// readDatagram reads one datagram within d; ok is false on a timeout.
func readDatagram(t *testing.T, pc net.PacketConn, d time.Duration) (string, *net.UDPAddr, bool) {
	t.Helper()
	_ = pc.SetReadDeadline(time.Now().Add(d))
	defer pc.SetReadDeadline(time.Time{})
	buf := make([]byte, 64)
	k, from, err := pc.ReadFrom(buf)
	if isTimeout(err) {
		return "", nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:k]), from.(*net.UDPAddr), true
}

// A datagram to a group reaches every member that the sender reaches (it
// too); unicast reaches the socket bound to the address.
func TestMemDatagrams(t *testing.T) {
	m := NewMemNetwork()
	hosts := []*MemHost{m.NewHost(), m.NewHost(), m.NewHost()}
	const group = "224.1.1.1:5007"
	var members []net.PacketConn
	for _, h := range hosts {
		pc, err := h.JoinGroup(context.Background(), group, "lo")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		members = append(members, pc)
	}
	if _, err := hosts[0].JoinGroup(context.Background(), "10.0.0.1:5007", "lo"); err == nil {
		t.Error("joined a group that is not multicast")
	}
	g, _ := parseGroup(group)
	if _, err := members[0].WriteTo([]byte("beacon"), g); err != nil {
		t.Fatal(err)
	}
	for i, pc := range members {
		msg, from, ok := readDatagram(t, pc, 5*time.Second)
		if !ok || msg != "beacon" {
			t.Fatalf("member %d read %q, %v", i, msg, ok)
		}
		if from.IP.String() != hosts[0].IP() {
			t.Errorf("member %d: the beacon came from %s, want %s", i, from, hosts[0].IP())
		}
	}

	hosts[2].Isolate()
	if _, err := members[0].WriteTo([]byte("again"), g); err != nil {
		t.Fatal(err)
	}
	if msg, _, ok := readDatagram(t, members[1], 5*time.Second); !ok || msg != "again" {
		t.Fatalf("member 1 read %q, %v", msg, ok)
	}
	if msg, _, ok := readDatagram(t, members[2], 30*time.Millisecond); ok {
		t.Fatalf("an isolated member read %q", msg)
	}
	hosts[2].Rejoin()

	// Unicast, to a port of another host.
	u, err := hosts[1].ListenPacket(context.Background(), hosts[1].IP()+":9000")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	v, err := hosts[0].ListenPacket(context.Background(), ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.WriteTo([]byte("hb"), u.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	msg, from, ok := readDatagram(t, u, 5*time.Second)
	if !ok || msg != "hb" || from.IP.String() != hosts[0].IP() || from.Port != v.LocalAddr().(*net.UDPAddr).Port {
		t.Fatalf("unicast read %q from %v (%v)", msg, from, ok)
	}
}

// waiting says whether an operation waits on the stream of c.
func waiting(c net.Conn) bool {
	s := c.(*memConn).s
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters > 0
}
