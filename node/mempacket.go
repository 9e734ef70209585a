package node

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Datagrams of a MemNetwork: a socket bound to a port of its host, or a
// member of a multicast group. A datagram reaches every socket it is for
// whose host is up and reachable, and is lost otherwise, or when the
// receiver's queue is full.

const memPacketQueue = 256 // datagrams waiting to be read before more are lost

type memPacketConn struct {
	h     *MemHost
	local *net.UDPAddr
	bind  netip.Addr
	port  int            // unicast: the port in h.packets; 0 for a group member
	group netip.AddrPort // a group member: the group
	src   netip.Addr     // the source address of what it sends
	sport int            // and its port

	mu      sync.Mutex
	queue   []memDatagram
	closed  bool
	rdl     time.Time
	wake    chan struct{}
	waiters int
}

type memDatagram struct {
	b    []byte
	from *net.UDPAddr
}

var _ net.PacketConn = (*memPacketConn)(nil)

// ListenPacket opens a datagram socket on the host.
func (h *MemHost) ListenPacket(ctx context.Context, addr string) (net.PacketConn, error) {
	ip, port, err := splitAddr(addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: err}
	}
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	fail := func(errno syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "udp", Addr: &net.UDPAddr{IP: ip.AsSlice(), Port: port}, Err: sysErr("bind", errno)}
	}
	if err := h.bindable(ip); err != nil {
		return nil, fail(err.(syscall.Errno))
	}
	if port == 0 {
		if port, err = h.ephemeral(); err != nil {
			return nil, fail(err.(syscall.Errno))
		}
	} else if h.packets[port] != nil {
		return nil, fail(syscall.EADDRINUSE)
	}
	src := h.ip
	if ip.IsLoopback() {
		src = ip
	}
	c := &memPacketConn{h: h, local: &net.UDPAddr{IP: ip.AsSlice(), Port: port}, bind: ip, port: port, src: src, sport: port, wake: make(chan struct{})}
	h.packets[port] = c
	return c, nil
}

// JoinGroup joins a multicast group. The network is one segment: iface
// names no interface of its own.
func (h *MemHost) JoinGroup(ctx context.Context, group, iface string) (net.PacketConn, error) {
	g, err := parseGroup(group)
	if err != nil {
		return nil, err
	}
	ga, _ := netip.AddrFromSlice(g.IP)
	key := netip.AddrPortFrom(ga.Unmap(), uint16(g.Port))
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if h.down {
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: g, Err: sysErr("bind", syscall.ENETDOWN)}
	}
	// A member sends from a socket of its own, as the real one does.
	sport, err := h.ephemeral()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: g, Err: sysErr("bind", err.(syscall.Errno))}
	}
	c := &memPacketConn{h: h, local: g, bind: key.Addr(), group: key, src: h.ip, sport: sport, wake: make(chan struct{})}
	members := m.groups[key]
	if members == nil {
		members = map[*memPacketConn]struct{}{}
		m.groups[key] = members
	}
	members[c] = struct{}{}
	h.members[c] = struct{}{}
	return c, nil
}

func (c *memPacketConn) opErr(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.local, Addr: addr, Err: err}
}

func (c *memPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return 0, nil, c.opErr("read", nil, net.ErrClosed)
		case expired(c.rdl):
			return 0, nil, c.opErr("read", nil, os.ErrDeadlineExceeded)
		case len(c.queue) > 0:
			d := c.queue[0]
			c.queue[0] = memDatagram{}
			c.queue = c.queue[1:]
			return copy(b, d.b), d.from, nil
		}
		ch, rdl := c.wake, c.rdl
		c.waiters++
		c.mu.Unlock()
		if rdl.IsZero() {
			<-ch
		} else {
			t := time.NewTimer(time.Until(rdl))
			select {
			case <-ch:
			case <-t.C:
			}
			t.Stop()
		}
		c.mu.Lock()
		c.waiters--
	}
}

// WriteTo sends a datagram to a socket's address or to a group. Like UDP,
// it does not say whether anything received it.
func (c *memPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	to := udpAddrOf(addr)
	if to == nil {
		return 0, c.opErr("write", addr, &net.AddrError{Err: "not a UDP address", Addr: addr.String()})
	}
	ap := to.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, c.opErr("write", to, net.ErrClosed)
	}
	m := c.h.m
	m.mu.Lock()
	var dst []*memPacketConn
	from := &net.UDPAddr{IP: c.src.AsSlice(), Port: c.sport}
	switch {
	case c.h.down:
	case ap.Addr().IsMulticast():
		for p := range m.groups[ap] {
			if !p.h.down && m.up(c.h, p.h) && (!c.src.IsLoopback() || p.h == c.h) {
				dst = append(dst, p)
			}
		}
	default:
		h := m.route(c.h, ap.Addr())
		if h == nil || h.down || !m.up(c.h, h) || (c.src.IsLoopback() && h != c.h) {
			break
		}
		if p := h.packets[int(ap.Port())]; p != nil && accepts(p.bind, ap.Addr()) {
			if ap.Addr().IsLoopback() || ap.Addr().IsUnspecified() {
				from.IP = net.IPv4(127, 0, 0, 1)
			}
			dst = append(dst, p)
		}
	}
	m.mu.Unlock()
	for _, p := range dst {
		p.deliver(memDatagram{b: append([]byte(nil), b...), from: from})
	}
	return len(b), nil
}

func (c *memPacketConn) deliver(d memDatagram) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.queue) >= memPacketQueue {
		return
	}
	c.queue = append(c.queue, d)
	c.signal()
}

func (c *memPacketConn) signal() {
	if c.waiters > 0 {
		close(c.wake)
		c.wake = make(chan struct{})
	}
}

func (c *memPacketConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opErr("close", nil, net.ErrClosed)
	}
	c.closed = true
	c.queue = nil
	c.signal()
	c.mu.Unlock()
	m := c.h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.port != 0 && c.h.packets[c.port] == c {
		delete(c.h.packets, c.port)
	}
	if c.group.IsValid() {
		delete(m.groups[c.group], c)
		delete(c.h.members, c)
	}
	return nil
}

func (c *memPacketConn) LocalAddr() net.Addr { return c.local }

func (c *memPacketConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *memPacketConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl = t
	c.signal()
	return nil
}

// SetWriteDeadline is accepted; a write never waits.
func (c *memPacketConn) SetWriteDeadline(t time.Time) error { return nil }
