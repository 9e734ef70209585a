package node

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// sendQueue carries frames to one connection. A sender writes at once,
// without blocking, when nothing waits and no write is under way (the
// common case, and the fastest: no goroutine to wake); what cannot go out
// at once waits for the connection's writer goroutine, which sends all that
// waits with one writev. A connection that cannot be written without
// blocking gets everything through the writer.
type sendQueue struct {
	mu        sync.Mutex
	conn      net.Conn                  // nil while not connected: frames wait
	direct    func([]byte) (int, error) // writes what conn takes now; nil: none
	q         [][]byte
	bytes     int
	inFlight  int  // bytes the writer took and is writing
	busy      bool // a write is under way
	partial   bool // q[0] is the rest of a frame begun on this connection
	closing   bool // close once what waits is sent
	err       error
	maxFrames int
	maxBytes  int
	wake      chan struct{} // capacity 1
}

var errQueueFull = errors.New("send queue full")

func newSendQueue(maxFrames, maxBytes int) *sendQueue {
	return &sendQueue{maxFrames: maxFrames, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

func (s *sendQueue) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// attach starts writing to conn (directly, and through writer).
func (s *sendQueue) attach(conn net.Conn) {
	var direct func([]byte) (int, error)
	switch c := conn.(type) {
	case syscall.Conn: // a socket: a non-blocking write(2)
		direct = wire.DirectWriter(conn)
	case interface{ TryWrite([]byte) (int, error) }: // a MemNetwork stream
		direct = c.TryWrite
	}
	s.mu.Lock()
	s.conn, s.direct, s.err = conn, direct, nil
	s.mu.Unlock()
	s.signal()
}

// detach stops writing; whole frames that wait stay for the next
// connection, which must not start with the rest of a frame.
func (s *sendQueue) detach() {
	s.mu.Lock()
	s.conn, s.direct = nil, nil
	if s.partial {
		s.bytes -= len(s.q[0])
		s.q = s.q[1:]
		s.partial = false
	}
	s.mu.Unlock()
}

// push sends b or queues it. It fails when the queue is full (the other
// side is too slow), the connection failed, or the queue is closing.
// lockOpen takes the lock if the queue still takes frames; else it says
// why not, unlocked.
func (s *sendQueue) lockOpen() error {
	s.mu.Lock()
	if s.err != nil || s.closing {
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = net.ErrClosed
		}
		return err
	}
	return nil
}

func (s *sendQueue) push(b []byte) error {
	if err := s.lockOpen(); err != nil {
		return err
	}
	if s.direct != nil && !s.busy && len(s.q) == 0 {
		s.busy = true
		conn, direct := s.conn, s.direct
		s.mu.Unlock()
		k, err := direct(b)
		s.mu.Lock()
		s.busy = false
		if err != nil {
			if s.conn == conn { // not an old connection's
				s.err = err
			}
			s.mu.Unlock()
			s.signal()
			return err
		}
		if k == len(b) {
			waiting := len(s.q) > 0 // queued while this write ran
			s.mu.Unlock()
			if waiting {
				s.signal()
			}
			return nil
		}
		// The rest goes first, before anything queued meanwhile.
		b = b[k:]
		s.q = append(s.q, nil)
		copy(s.q[1:], s.q)
		s.q[0] = b
		s.partial = true
		s.bytes += len(b)
		s.mu.Unlock()
		s.signal()
		return nil
	}
	return s.enqueueLocked(b)
}

// queueQuiet queues b and wakes no one: the caller has writeOut called
// (or signals the writer) soon after. It fails as push does.
func (s *sendQueue) queueQuiet(b []byte) error {
	if err := s.lockOpen(); err != nil {
		return err
	}
	return s.addLocked(b)
}

// writeOut writes what waits as far as the connection takes it without
// blocking, on the caller's goroutine; the writer gets the rest.
func (s *sendQueue) writeOut() {
	s.mu.Lock()
	if s.busy || s.err != nil {
		s.mu.Unlock()
		return // nothing to do, or the one writing now signals when done
	}
	if len(s.q) == 0 {
		closing := s.closing
		s.mu.Unlock()
		if closing {
			s.signal() // the writer closes
		}
		return
	}
	if s.direct == nil {
		s.mu.Unlock()
		s.signal()
		return
	}
	q, wasPartial := s.q, s.partial
	s.q, s.busy, s.inFlight, s.bytes, s.partial = nil, true, s.bytes, 0, false
	conn, direct := s.conn, s.direct
	s.mu.Unlock()
	var err error
	i, k := 0, 0 // q[i][k:] is what is left
	for i < len(q) {
		var w int
		if w, err = direct(q[i][k:]); err != nil {
			break
		}
		if k += w; k < len(q[i]) {
			break // the socket is full
		}
		i, k = i+1, 0
	}
	s.mu.Lock()
	s.busy, s.inFlight = false, 0
	switch {
	case err != nil:
		if s.conn == conn {
			s.err = err
		}
	case i < len(q):
		rest := q[i:]
		rest[0] = rest[0][k:]
		for _, b := range rest {
			s.bytes += len(b)
		}
		s.partial = k > 0 || (i == 0 && wasPartial)
		s.q = append(rest, s.q...)
	}
	waiting := len(s.q) > 0 || err != nil || s.closing
	s.mu.Unlock()
	if waiting {
		s.signal()
	}
}

// enqueueLocked queues b for the writer, unlocks and wakes it.
func (s *sendQueue) enqueueLocked(b []byte) error {
	if err := s.addLocked(b); err != nil {
		return err
	}
	s.signal()
	return nil
}

// addLocked queues b and unlocks; a full queue takes nothing.
func (s *sendQueue) addLocked(b []byte) error {
	if len(s.q) >= s.maxFrames || s.bytes+len(b) > s.maxBytes {
		s.mu.Unlock()
		return errQueueFull
	}
	s.q = append(s.q, b)
	s.bytes += len(b)
	s.mu.Unlock()
	return nil
}

// backlog is the bytes and frames waiting, with the write under way.
func (s *sendQueue) backlog() (bytes, frames int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bytes, frames = s.bytes+s.inFlight, len(s.q)
	if s.busy {
		frames++
	}
	return bytes, frames
}

// closeQuiet has the writer close once what waits is sent, when it is next
// woken (see queueQuiet).
func (s *sendQueue) closeQuiet() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
}

// closeAfter has the writer close once what waits is sent.
func (s *sendQueue) closeAfter() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.signal()
}

// idle reports whether nothing waits and no write is under way.
func (s *sendQueue) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q) == 0 && !s.busy
}

// writer sends what waits to conn until stop closes, a write fails, or the
// queue closes (it then returns net.ErrClosed).
func (s *sendQueue) writer(conn net.Conn, stop <-chan struct{}, timeout time.Duration) error {
	var spare [][]byte
	for {
		select {
		case <-stop:
			return net.ErrClosed
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if s.err != nil {
				err := s.err
				s.mu.Unlock()
				return err
			}
			if s.busy {
				s.mu.Unlock()
				break // the sender that writes signals when done
			}
			if len(s.q) == 0 {
				closing := s.closing
				s.mu.Unlock()
				if closing {
					return net.ErrClosed
				}
				break
			}
			q := s.q
			s.inFlight = s.bytes
			s.q, s.bytes, s.busy, s.partial = spare, 0, true, false
			s.mu.Unlock()
			_ = conn.SetWriteDeadline(time.Now().Add(timeout))
			bufs := net.Buffers(q)
			_, err := bufs.WriteTo(conn)
			// Cleared at once: senders write to the same socket directly,
			// and an expired deadline would fail their writes too.
			_ = conn.SetWriteDeadline(time.Time{})
			clear(q)
			spare = q[:0]
			if cap(q) > 1024 {
				spare = nil
			}
			s.mu.Lock()
			s.busy, s.inFlight = false, 0
			if err != nil {
				s.err = err
			}
			s.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
}
