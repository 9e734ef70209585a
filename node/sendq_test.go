package node

import (
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
	for !s.idle() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * timeout)
	// Now a direct write, long after that deadline.
	if err := s.push([]byte("def")); err != nil {
		t.Fatalf("direct write after the writer's deadline: %v", err)
	}
	if b := <-got; string(b) != "abcdef" {
		t.Fatalf("peer read %q, want %q", b, "abcdef")
	}
	close(stop)
	if err := <-done; err != net.ErrClosed {
		t.Fatalf("writer: %v", err)
	}
}
