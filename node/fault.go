package node

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// FaultSwitch cuts a node off while it is on: put in the node's way to its
// peers (Options.PeerNetwork = sw.Wrap(RealNetwork())), it drops the
// node's beacons both ways, fails its dials, and breaks its peer links on
// their next read or write, while its clients still reach it. Turned off,
// the node is heard again and dials afresh.
//
// It works on any Network, the machine's included, where processes on one
// machine cannot otherwise be parted; on a MemNetwork, Isolate parts hosts
// more faithfully (bytes wait on the way instead of links breaking).
type FaultSwitch struct{ on atomic.Bool }

// ErrSwitchedOff is the error of what a FaultSwitch stopped.
var ErrSwitchedOff = errors.New("cut off by the fault switch")

// Set turns the switch on (cut) or off.
func (s *FaultSwitch) Set(on bool) { s.on.Store(on) }

// On says whether the switch cuts.
func (s *FaultSwitch) On() bool { return s.on.Load() }

// Wrap returns inner with the switch in its way.
func (s *FaultSwitch) Wrap(inner Network) Network { return switched{inner, s} }

type switched struct {
	Network
	s *FaultSwitch
}

func (w switched) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if w.s.On() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ErrSwitchedOff}
	}
	c, err := w.Network.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return switchedConn{c, w.s}, nil
}

func (w switched) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := w.Network.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return switchedListener{l, w.s}, nil
}

func (w switched) ListenPacket(ctx context.Context, addr string) (net.PacketConn, error) {
	p, err := w.Network.ListenPacket(ctx, addr)
	if err != nil {
		return nil, err
	}
	return switchedPackets{p, w.s}, nil
}

func (w switched) JoinGroup(ctx context.Context, group, iface string) (net.PacketConn, error) {
	p, err := w.Network.JoinGroup(ctx, group, iface)
	if err != nil {
		return nil, err
	}
	return switchedPackets{p, w.s}, nil
}

type switchedConn struct {
	net.Conn
	s *FaultSwitch
}

func (c switchedConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	if c.s.On() {
		c.Conn.Close()
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: ErrSwitchedOff}
	}
	return k, err
}

func (c switchedConn) Write(b []byte) (int, error) {
	if c.s.On() {
		c.Conn.Close()
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: ErrSwitchedOff}
	}
	return c.Conn.Write(b)
}

type switchedListener struct {
	net.Listener
	s *FaultSwitch
}

func (l switchedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.s.On() {
			return switchedConn{c, l.s}, nil
		}
		c.Close()
	}
}

type switchedPackets struct {
	net.PacketConn
	s *FaultSwitch
}

func (p switchedPackets) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		k, from, err := p.PacketConn.ReadFrom(b)
		if err != nil || !p.s.On() {
			return k, from, err
		}
	}
}

func (p switchedPackets) WriteTo(b []byte, addr net.Addr) (int, error) {
	if p.s.On() {
		return len(b), nil // lost on the way, as a datagram may be
	}
	return p.PacketConn.WriteTo(b, addr)
}
