package node

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Streams of a MemNetwork: a pair of connected ends, each way a window of
// bytes. What is written crosses at once while the way between the hosts
// is up, and waits while it is cut (the writer's user timeout then resets
// its end); what arrived stays readable either way.

const (
	memWindow  = 1 << 20 // bytes under way each way before a writer waits
	memBacklog = 128     // connections waiting for Accept
)

type memStream struct {
	mu   sync.Mutex
	m    *MemNetwork
	path *memPath // nil: both ends on one host
	ends [2]*memConn
	dirs [2]memDir // dirs[i]: from ends[i] to the other
	// An end vanished while the way was cut (a crash, a user timeout): the
	// other is reset when the way heals, as the first segment it sends
	// would be answered.
	abandoned bool
	wake      chan struct{} // closed and replaced on a change, if waited on
	waiters   int
}

type memDir struct {
	rx  []byte // arrived: readable
	tx  []byte // under way: waits for the path
	fin bool   // the writer closed: EOF after what is under way
	eof bool   // the fin arrived
}

// memConn is one end of a stream.
type memConn struct {
	s             *memStream
	i             int
	host          *MemHost
	local, remote *net.TCPAddr

	// under s.mu
	closed      bool
	err         error // reset: every operation fails with it
	rdl, wdl    time.Time
	userTimeout time.Duration
	stall       *time.Timer
}

var _ net.Conn = (*memConn)(nil)

func (s *memStream) up() bool { return s.path == nil || !s.path.down.Load() }

func (s *memStream) broadcast() {
	if s.waiters > 0 {
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// wait lets go of s.mu until something changes or the deadline passes.
func (s *memStream) wait(deadline time.Time) {
	ch := s.wake
	s.waiters++
	s.mu.Unlock()
	if deadline.IsZero() {
		<-ch
	} else {
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	s.mu.Lock()
	s.waiters--
}

// flush delivers what waited, if the way is up (under s.mu).
func (s *memStream) flush() {
	if !s.up() {
		return
	}
	changed := false
	for i := range s.dirs {
		d, w, r := &s.dirs[i], s.ends[i], s.ends[1-i]
		if len(d.tx) > 0 {
			changed = true
			if r.closed {
				s.reset(w, syscall.ECONNRESET) // sent to a closed end
			} else {
				d.rx = append(d.rx, d.tx...)
			}
			d.tx = nil
		}
		if w.stall != nil {
			w.stall.Stop()
			w.stall = nil
		}
		if d.fin && !d.eof {
			d.eof, changed = true, true
		}
	}
	if s.abandoned {
		s.abandoned, changed = false, true
		for _, c := range s.ends {
			s.reset(c, syscall.ECONNRESET)
		}
	}
	if changed {
		s.broadcast()
	}
}

// reset fails an open end with err (under s.mu).
func (s *memStream) reset(c *memConn, err error) {
	if c.closed || c.err != nil {
		return
	}
	c.err = err
	s.dirs[1-c.i].rx = nil
	if c.stall != nil {
		c.stall.Stop()
		c.stall = nil
	}
	s.broadcast()
}

// finished says whether neither end can do more (under s.mu).
func (s *memStream) finished() bool {
	for _, c := range s.ends {
		if !c.closed && c.err == nil {
			return false
		}
	}
	return true
}

// heal lets through what waited while the way was cut.
func (s *memStream) heal() {
	s.mu.Lock()
	s.flush()
	done := s.finished()
	s.mu.Unlock()
	if done {
		s.m.forget(s)
	}
}

// crash closes the ends on host h, as the death of their process would,
// and resets the others (across a cut: when it heals).
func (s *memStream) crash(h *MemHost) { s.die(func(c *memConn) bool { return c.host == h }) }

// die closes the ends dead says and resets the others.
func (s *memStream) die(dead func(*memConn) bool) {
	s.mu.Lock()
	for _, c := range s.ends {
		if dead(c) && !c.closed {
			c.closed = true
			if c.stall != nil {
				c.stall.Stop()
				c.stall = nil
			}
		}
	}
	for _, c := range s.ends {
		if !dead(c) {
			if s.up() {
				s.reset(c, syscall.ECONNRESET)
			} else {
				s.abandoned = true
			}
		}
	}
	s.broadcast()
	done := s.finished()
	s.mu.Unlock()
	if done {
		s.m.forget(s)
	}
}

// forget drops a finished stream from the network's books.
func (m *MemNetwork) forget(s *memStream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range s.ends {
		delete(c.host.streams, s)
	}
	if s.path != nil {
		delete(s.path.streams, s)
	}
}

func (c *memConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

func expired(t time.Time) bool { return !t.IsZero() && !time.Now().Before(t) }

func (c *memConn) Read(b []byte) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.dirs[1-c.i]
	for {
		s.flush()
		switch {
		case c.closed:
			return 0, c.opErr("read", net.ErrClosed)
		case c.err != nil:
			return 0, c.opErr("read", c.err)
		case expired(c.rdl):
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		case len(d.rx) > 0:
			k := copy(b, d.rx)
			d.rx = d.rx[k:]
			if len(d.rx) == 0 {
				d.rx = nil
			}
			s.broadcast() // room for the writer
			return k, nil
		case d.eof:
			return 0, io.EOF
		case len(b) == 0:
			return 0, nil
		}
		s.wait(c.rdl)
	}
}

func (c *memConn) Write(b []byte) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for {
		k, err := c.put(b)
		total += k
		b = b[k:]
		if err != nil || len(b) == 0 {
			return total, err
		}
		s.wait(c.wdl)
	}
}

// TryWrite writes what the window takes now, without waiting (as a write
// to a non-blocking socket does).
func (c *memConn) TryWrite(b []byte) (int, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.put(b)
}

// put sends what of b fits (under s.mu). A full window is no error.
func (c *memConn) put(b []byte) (int, error) {
	s := c.s
	s.flush()
	switch {
	case c.closed:
		return 0, c.opErr("write", net.ErrClosed)
	case c.err != nil:
		return 0, c.opErr("write", c.err)
	case s.ends[1-c.i].closed && s.up():
		return 0, c.opErr("write", syscall.EPIPE)
	case len(b) == 0:
		return 0, nil
	case expired(c.wdl):
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	}
	d := &s.dirs[c.i]
	k := min(len(b), memWindow-len(d.rx)-len(d.tx))
	if k <= 0 {
		return 0, nil
	}
	if s.up() && len(d.tx) == 0 { // the common case: straight across
		d.rx = append(d.rx, b[:k]...)
		s.broadcast()
		return k, nil
	}
	d.tx = append(d.tx, b[:k]...)
	if s.up() {
		s.flush()
	} else if c.userTimeout > 0 && c.stall == nil {
		c.stall = time.AfterFunc(c.userTimeout, c.giveUp)
	}
	return k, nil
}

// giveUp resets the end whose data a cut held for its user timeout. The
// other end learns of it when the way heals.
func (c *memConn) giveUp() {
	s := c.s
	s.mu.Lock()
	c.stall = nil
	if s.up() || len(s.dirs[c.i].tx) == 0 {
		s.mu.Unlock()
		return
	}
	s.reset(c, syscall.ETIMEDOUT)
	s.abandoned = true
	done := s.finished()
	s.mu.Unlock()
	if done {
		s.m.forget(s)
	}
}

// SetUserTimeout has the end give up (reset) when what it wrote has
// waited on a cut for d; 0: never.
func (c *memConn) SetUserTimeout(d time.Duration) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.userTimeout = d
	return nil
}

// Close closes the end: the other end reads what is under way, then EOF;
// its writes fail. What was not read here is lost.
func (c *memConn) Close() error {
	s := c.s
	s.mu.Lock()
	if c.closed {
		s.mu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	if c.stall != nil {
		c.stall.Stop()
		c.stall = nil
	}
	s.dirs[c.i].fin = true
	s.dirs[1-c.i].rx = nil
	s.flush()
	s.broadcast()
	done := s.finished()
	s.mu.Unlock()
	if done {
		s.m.forget(s)
	}
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) SetDeadline(t time.Time) error {
	return c.setDeadlines(func() { c.rdl, c.wdl = t, t })
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	return c.setDeadlines(func() { c.rdl = t })
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadlines(func() { c.wdl = t })
}

func (c *memConn) setDeadlines(f func()) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed {
		return c.opErr("set", net.ErrClosed)
	}
	f()
	c.s.broadcast()
	return nil
}

// memListener takes the connections dialed to its port.
type memListener struct {
	h    *MemHost
	bind netip.Addr
	port int
	addr *net.TCPAddr

	mu     sync.Mutex
	queue  []*memConn
	closed bool
	wake   chan struct{} // closed and replaced when queue or closed change
}

// Listen opens a stream listener on the host.
func (h *MemHost) Listen(ctx context.Context, addr string) (net.Listener, error) {
	ip, port, err := splitAddr(addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	fail := func(errno syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{IP: ip.AsSlice(), Port: port}, Err: sysErr("bind", errno)}
	}
	if err := h.bindable(ip); err != nil {
		return nil, fail(err.(syscall.Errno))
	}
	if port == 0 {
		if port, err = h.ephemeral(); err != nil {
			return nil, fail(err.(syscall.Errno))
		}
	} else if h.listeners[port] != nil {
		return nil, fail(syscall.EADDRINUSE)
	}
	l := &memListener{h: h, bind: ip, port: port, addr: &net.TCPAddr{IP: ip.AsSlice(), Port: port}, wake: make(chan struct{})}
	h.listeners[port] = l
	return l, nil
}

func (l *memListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
		}
		if len(l.queue) > 0 {
			c := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			l.signal()
			return c, nil
		}
		ch := l.wake
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
}

func (l *memListener) signal() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// Close stops the listener; connections not yet accepted are reset.
func (l *memListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	q := l.queue
	l.queue = nil
	l.signal()
	l.mu.Unlock()
	m := l.h.m
	m.mu.Lock()
	if l.h.listeners[l.port] == l {
		delete(l.h.listeners, l.port)
	}
	m.mu.Unlock()
	for _, c := range q {
		c.s.die(func(e *memConn) bool { return e == c })
	}
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }

// Dial connects to a listener: at once if the way is up, refused if
// nothing listens; across a cut, or to a crashed host, it waits (for a
// heal, or ctx's end).
func (h *MemHost) Dial(ctx context.Context, addr string) (net.Conn, error) {
	ip, port, err := splitAddr(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
	}
	raddr := &net.TCPAddr{IP: h.m.routeIP(h, ip).AsSlice(), Port: port}
	fail := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err} }
	m := h.m
	for {
		m.mu.Lock()
		if h.down {
			m.mu.Unlock()
			return nil, fail(sysErr("connect", syscall.ENETDOWN))
		}
		to := m.route(h, ip)
		if to == nil {
			m.mu.Unlock()
			return nil, fail(sysErr("connect", syscall.EHOSTUNREACH))
		}
		if to.down || !m.up(h, to) {
			ch := m.changed
			m.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, fail(dialErr(ctx))
			}
		}
		l := to.listeners[port]
		if l == nil || !accepts(l.bind, ip) {
			m.mu.Unlock()
			return nil, fail(sysErr("connect", syscall.ECONNREFUSED))
		}
		lport, err := h.ephemeral()
		if err != nil {
			m.mu.Unlock()
			return nil, fail(sysErr("connect", err.(syscall.Errno)))
		}
		s := &memStream{m: m, path: m.path(h, to), wake: make(chan struct{})}
		laddr := &net.TCPAddr{IP: h.sourceFor(ip).AsSlice(), Port: lport}
		s.ends[0] = &memConn{s: s, i: 0, host: h, local: laddr, remote: raddr}
		s.ends[1] = &memConn{s: s, i: 1, host: to, local: raddr, remote: laddr}
		h.streams[s], to.streams[s] = struct{}{}, struct{}{}
		if s.path != nil {
			s.path.streams[s] = struct{}{}
		}
		m.mu.Unlock()
		if err := l.enqueue(ctx, s.ends[1]); err != nil {
			s.die(func(*memConn) bool { return true })
			return nil, fail(err)
		}
		return s.ends[0], nil
	}
}

// routeIP is the address a dial to ip reaches (127.0.0.1 for the host
// itself by 0.0.0.0).
func (m *MemNetwork) routeIP(h *MemHost, ip netip.Addr) netip.Addr {
	if ip.IsUnspecified() {
		return h.sourceFor(ip)
	}
	return ip
}

// enqueue waits for room in the backlog (a full one drops the SYN).
func (l *memListener) enqueue(ctx context.Context, c *memConn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed {
			return sysErr("connect", syscall.ECONNREFUSED)
		}
		if len(l.queue) < memBacklog {
			l.queue = append(l.queue, c)
			l.signal()
			return nil
		}
		ch := l.wake
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			return dialErr(ctx)
		}
		l.mu.Lock()
	}
}
