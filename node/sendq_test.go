package node

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// A write through the writer goroutine must not leave a deadline behind:
// senders write to the same socket directly, and once the deadline passed
// every direct write failed with "i/o timeout", cutting an idle peer link
// a few seconds after its last burst.
func TestSendQueueWriterLeavesNoDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(io.LimitReader(c, 6))
		got <- b
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	const timeout = 50 * time.Millisecond
	s := newSendQueue(16, 1<<20)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.writer(conn, stop, timeout) }()
	// Queued before the connection is attached: the writer sends it, with
	// its deadline.
	if err := s.push([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	s.attach(conn)
	waitFor(t, 5*time.Second, "the queue to empty", s.idle)
	time.Sleep(2 * timeout)
	// Now a direct write, long after that deadline.
	if err := s.push([]byte("def")); err != nil {
		t.Fatalf("direct write after the writer's deadline: %v", err)
	}
	select {
	case b := <-got:
		if string(b) != "abcdef" {
			t.Fatalf("peer read %q, want %q", b, "abcdef")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the peer read nothing in 5 s")
	}
	close(stop)
	if err := <-done; err != net.ErrClosed {
		t.Fatalf("writer: %v", err)
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// A frame that went out only in part on a connection that then broke must
// not go on: the next connection starts with a whole frame.
func TestSendQueueDropsTheRestOfAFrameWithItsConnection(t *testing.T) {
	first, _ := tcpPair(t) // nobody reads: the kernel's buffers fill
	if err := first.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	s := newSendQueue(16, 64<<20)
	s.attach(first)
	big := bytes.Repeat([]byte{0x55}, 16<<20)
	if err := s.push(big); err != nil {
		t.Fatal(err)
	}
	if s.idle() {
		t.Fatal("16 MiB went out at once to a peer that does not read: the test cannot tell")
	}
	s.detach() // the link broke
	next := []byte("next frame")
	if err := s.push(next); err != nil {
		t.Fatal(err)
	}

	second, peer := tcpPair(t)
	stop := make(chan struct{})
	defer close(stop)
	go s.writer(second, stop, time.Second)
	s.attach(second)
	got := make([]byte, len(next))
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, next) {
		t.Fatalf("the new connection starts with %q, want %q", got[:8], next)
	}
}

// On a MemNetwork stream the direct write is TryWrite, with the same
// partial frames: the next connection starts with a whole frame too.
func TestSendQueueDropsTheRestOfAFrameOnAMemStream(t *testing.T) {
	m := NewMemNetwork()
	a, b := m.NewHost(), m.NewHost()
	first, _ := memPair(t, a, b) // nobody reads: the window fills
	s := newSendQueue(16, 64<<20)
	s.attach(first)
	if err := s.push(bytes.Repeat([]byte{0x55}, 2*memWindow)); err != nil {
		t.Fatal(err)
	}
	if s.idle() {
		t.Fatal("a frame twice the window went out at once: the test cannot tell")
	}
	s.detach()
	next := []byte("next frame")
	if err := s.push(next); err != nil {
		t.Fatal(err)
	}
	second, peer := memPair(t, a, b)
	stop := make(chan struct{})
	defer close(stop)
	go s.writer(second, stop, time.Second)
	s.attach(second)
	readWithin(t, peer, 5*time.Second, next)
}

// onlyConn hides all but net.Conn's methods: no direct writes.
type onlyConn struct{ net.Conn }

// A connection that cannot be written without blocking gets every frame
// through the writer, in order.
func TestSendQueueWithoutDirectWrites(t *testing.T) {
	m := NewMemNetwork()
	c, peer := memPair(t, m.NewHost(), m.NewHost())
	s := newSendQueue(64, 1<<20)
	s.attach(onlyConn{c})
	if err := s.push([]byte("one,")); err != nil {
		t.Fatal(err)
	}
	if s.idle() {
		t.Fatal("a frame went out with no writer and no direct write")
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.writer(onlyConn{c}, stop, time.Second) }()
	for _, f := range []string{"two,", "three"} {
		if err := s.push([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	readWithin(t, peer, 5*time.Second, []byte("one,two,three"))
	close(stop)
	if err := <-done; err != net.ErrClosed {
		t.Fatalf("writer: %v", err)
	}
}

// writeOut writes what was queued quietly, as far as the socket takes it,
// leaves the rest to the writer in order, and with closeQuiet has the
// writer close once all is sent.
func TestSendQueueWriteOut(t *testing.T) {
	conn, peer := tcpPair(t)
	if err := conn.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	s := newSendQueue(64, 64<<20)
	s.attach(conn)
	var want []byte
	for i := range 8 {
		b := bytes.Repeat([]byte{byte('a' + i)}, 512<<10) // more than the socket takes at once
		want = append(want, b...)
		if err := s.queueQuiet(b); err != nil {
			t.Fatal(err)
		}
	}
	s.closeQuiet()
	if bytes, frames := s.backlog(); bytes != len(want) || frames != 8 {
		t.Fatalf("backlog %d bytes in %d frames, want %d in 8", bytes, frames, len(want))
	}
	s.writeOut()
	if s.idle() {
		t.Fatal("4 MiB went out at once to a peer that does not read: the test cannot tell")
	}
	stop := make(chan struct{})
	defer close(stop)
	done := make(chan error, 1)
	go func() {
		err := s.writer(conn, stop, 5*time.Second)
		conn.Close() // as the service does when its writer returns
		done <- err
	}()
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d queued in order", len(got), len(want))
	}
	if err := <-done; err != net.ErrClosed {
		t.Fatalf("writer: %v, want it to close the queue", err)
	}
}
