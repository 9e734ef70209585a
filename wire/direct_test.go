package wire

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tcpPair is both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		done <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-done
	if b == nil {
		t.Fatal("no connection accepted")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A Reader of a socket and DirectWriter carry every frame, written in
// pieces of a few bytes, and end with io.EOF at a frame boundary.
func TestSocketReaderAndDirectWriter(t *testing.T) {
	a, b := tcpPair(t)
	r := NewReader(b, PeerLimits.MaxFrame)
	if _, ok := r.r.(*rawReader); !ok {
		t.Fatalf("a socket is read through %T, want *rawReader", r.r)
	}
	stream, want := sampleStream(t)
	w := DirectWriter(a)
	go func() {
		for i := 0; i < len(stream); i += 7 {
			chunk := stream[i:min(i+7, len(stream))]
			for len(chunk) > 0 {
				k, err := w(chunk)
				if err != nil {
					return
				}
				chunk = chunk[k:]
			}
		}
		a.Close()
	}()
	if got := readAll(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d messages, want %d, or they differ", len(got), len(want))
	}
}

// A deadline, a closed connection and a peer gone read as they do through
// net.Conn.Read.
func TestSocketReaderErrors(t *testing.T) {
	a, b := tcpPair(t)
	r := NewReader(b, PeerLimits.MaxFrame)
	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := r.ReadFrame()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("past the deadline: %v, want a timeout", err)
	}
	_ = b.SetReadDeadline(time.Time{})
	if _, err := a.Write([]byte{0, 0, 0, 3, 1}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := r.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Fatalf("a frame cut short: %v, want io.ErrUnexpectedEOF", err)
	}
	b.Close()
	if _, err := NewReader(b, PeerLimits.MaxFrame).ReadFrame(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a closed connection: %v, want net.ErrClosed", err)
	}
	if k, err := DirectWriter(b)([]byte{1}); k != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writing a closed connection: %d, %v; want 0, net.ErrClosed", k, err)
	}
}

// A write to a full socket takes nothing and does not block.
func TestDirectWriterFull(t *testing.T) {
	a, _ := tcpPair(t)
	w := DirectWriter(a)
	buf := make([]byte, 64<<10)
	for range 10_000 {
		k, err := w(buf)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			return
		}
	}
	t.Fatal("the socket never filled")
}

// Reading and writing a socket allocate nothing.
func TestSocketIODoesNotAllocate(t *testing.T) {
	a, b := tcpPair(t)
	w, r := DirectWriter(a), socketReader(b)
	out, in := []byte("frame"), make([]byte, 16)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := w(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, in[:len(out)]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations a write and read, want 0", allocs)
	}
}

// After a read(2) that empties the socket, the goroutine the bytes were
// handed to runs before the reader's next read(2), which would find the
// socket empty: on one thread that empty read would delay every hop. Go's
// scheduler runs the yielding goroutine again now and then (its global
// queue's turn, one in 61), so most rounds, not all, must show it.
func TestReaderYieldsBeforeAnEmptyRead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, b := tcpPair(t)
	rr, ok := socketReader(b).(*rawReader)
	if !ok {
		t.Fatal("a socket is not read through *rawReader")
	}
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	log := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(order)
	}
	count := func(l []string, s string) (n int) {
		for _, x := range l {
			if x == s {
				n++
			}
		}
		return n
	}
	read := rr.f
	rr.f = func(fd uintptr) bool {
		done := read(fd)
		if rr.err == syscall.EAGAIN {
			note("empty")
		} else {
			note("data")
		}
		return done
	}
	got := make(chan int, 1) // the reader never waits to hand over
	handled := make(chan struct{})
	go func() {
		for range got {
			note("handled")
			handled <- struct{}{}
		}
	}()
	const rounds = 20
	for i := range rounds {
		// On loopback the bytes are in b's queue when Write returns.
		if _, err := a.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			go func() {
				defer close(got)
				buf := make([]byte, 64)
				for {
					n, err := rr.Read(buf)
					if err != nil {
						return
					}
					got <- n
				}
			}()
		}
		<-handled
		// Wait until the reader has read again and found nothing.
		deadline := time.Now().Add(5 * time.Second)
		for l := log(); count(l, "empty") <= i; l = log() {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the reader never read again: %q", i+1, l)
			}
			time.Sleep(time.Millisecond)
		}
	}
	first := 0
	l := log()
	for i, s := range l {
		if s == "data" && i+1 < len(l) && l[i+1] == "handled" {
			first++
		}
	}
	if first < rounds/2 {
		t.Fatalf("the bytes were handled before the next read(2) in %d rounds of %d: %q", first, rounds, l)
	}
}

// A Reader given an Expect reads again after an empty read only within
// spinFor of a Mark, before its next frame, and while its link is active;
// else it leaves the socket to Go's poller.
func TestReaderSpinsOnlyWhileAnAnswerIsDue(t *testing.T) {
	var e Expect
	r := &rawReader{}
	if r.spin() {
		t.Fatal("a reader without an Expect spins")
	}
	r.expect = &e
	now := clock()
	for _, c := range []struct {
		name     string
		at, last int64
		want     bool
	}{
		{"marked after its last frame", now + int64(time.Hour), now + int64(time.Hour) - 1, true},
		{"a frame since the mark", now + int64(time.Hour), now + int64(time.Hour) + 1, false},
		{"the mark long past", now - int64(time.Second), now - int64(time.Second) - 1, false},
		{"an idle link", now + int64(time.Hour), now - int64(time.Second), false},
	} {
		e.at.Store(c.at)
		r.last = c.last
		if got := r.spin(); got != c.want {
			t.Errorf("%s: spin() = %v, want %v", c.name, got, c.want)
		}
	}
}

// A spinning Reader stops within its bound: on one thread, a read that
// nothing answers still ends at its deadline.
func TestSpinningReaderIsBounded(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, b := tcpPair(t)
	fr := NewReader(b, 64)
	var e Expect
	fr.SpinAfter(&e)
	frame := func(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }
	if _, err := a.Write(frame("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	e.Mark()
	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	if _, err := fr.ReadFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent: %v, want the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the read took %v", took)
	}
	_ = b.SetReadDeadline(time.Time{})
	e.Mark()
	go func() { _, _ = a.Write(frame("second")) }()
	if body, err := fr.ReadFrame(); err != nil || string(body) != "second" {
		t.Fatalf("frame %q, %v", body, err)
	}
}
