package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Network is all the runtime asks of the network: stream listeners and
// dials (peer links, clients) and datagram sockets (beacons). RealNetwork
// is the machine's; a MemNetwork host runs a node in memory, for tests. A
// wrapper can add faults: every byte and datagram of a node passes here.
//
// Conns may offer more, and the runtime uses it where they do: a
// syscall.Conn gets non-blocking writes straight to its socket, a
// *net.TCPConn or a conn with SetUserTimeout(time.Duration) error gives up
// on data a partition keeps unacknowledged.
type Network interface {
	// Listen opens a stream listener on addr (host:port; port 0: any).
	Listen(ctx context.Context, addr string) (net.Listener, error)
	// Dial opens a stream connection to addr (host:port).
	Dial(ctx context.Context, addr string) (net.Conn, error)
	// ListenPacket opens a datagram socket on addr, for unicast beacons.
	ListenPacket(ctx context.Context, addr string) (net.PacketConn, error)
	// JoinGroup joins an IPv4 multicast group (addr:port) on the interface
	// named iface. The socket hears the group's datagrams from that
	// interface only (every process that joined hears each one); what it
	// writes to the group's address goes to every member, itself too.
	JoinGroup(ctx context.Context, group, iface string) (net.PacketConn, error)
}

// RealNetwork is the machine's network: TCP, UDP and IPv4 multicast.
func RealNetwork() Network { return realNetwork{} }

type realNetwork struct{}

func (realNetwork) Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

func (realNetwork) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func (realNetwork) ListenPacket(ctx context.Context, addr string) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, "udp4", addr)
}

// JoinGroup listens on the group's port, joined on iface, and sends from a
// socket of its own that multicasts on iface only (TTL 1, loopback on, so
// that other processes on this machine hear it).
func (realNetwork) JoinGroup(ctx context.Context, group, iface string) (net.PacketConn, error) {
	listen, g, ifi, err := joinGroup(ctx, group, iface)
	if err != nil {
		return nil, err
	}
	bind := "0.0.0.0:0"
	if ifi.Flags&net.FlagLoopback != 0 {
		bind = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	s, err := lc.ListenPacket(ctx, "udp4", bind)
	if err != nil {
		listen.Close()
		return nil, err
	}
	sender := ipv4.NewPacketConn(s)
	err = errors.Join(sender.SetMulticastInterface(ifi), sender.SetMulticastTTL(1), sender.SetMulticastLoopback(true))
	if err != nil {
		listen.Close()
		s.Close()
		return nil, fmt.Errorf("multicast on %s: %w", iface, err)
	}
	return &groupConn{listen: listen, sender: sender, group: g}, nil
}

// groupConn is a multicast group as one PacketConn: it reads from the
// joined socket and writes through the sender.
type groupConn struct {
	listen *ipv4.PacketConn
	sender *ipv4.PacketConn
	group  *net.UDPAddr
}

func (g *groupConn) ReadFrom(b []byte) (int, net.Addr, error) {
	k, _, src, err := g.listen.ReadFrom(b)
	return k, src, err
}

func (g *groupConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	return g.sender.WriteTo(b, nil, addr)
}

func (g *groupConn) Close() error { return errors.Join(g.listen.Close(), g.sender.Close()) }

func (g *groupConn) LocalAddr() net.Addr { return g.group }

func (g *groupConn) SetDeadline(t time.Time) error {
	return errors.Join(g.listen.SetDeadline(t), g.sender.SetDeadline(t))
}

func (g *groupConn) SetReadDeadline(t time.Time) error  { return g.listen.SetReadDeadline(t) }
func (g *groupConn) SetWriteDeadline(t time.Time) error { return g.sender.SetWriteDeadline(t) }

// groupSocket lets many processes bind the group port, and has the socket
// hear the group only on the interfaces it joined: by default Linux also
// hands it the group's packets from any interface another socket joined,
// and a beacon from there could have the node dial off that network.
func groupSocket(network, address string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) {
		err = errors.Join(
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1),
			unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0))
	})
	return errors.Join(cerr, err)
}

// parseGroup checks a multicast group address:port.
func parseGroup(group string) (*net.UDPAddr, error) {
	g, err := net.ResolveUDPAddr("udp4", group)
	if err != nil || !g.IP.IsMulticast() || g.Port == 0 {
		return nil, fmt.Errorf("--group %q is not an IPv4 multicast address:port", group)
	}
	return g, nil
}

// joinGroup listens to a multicast group ("addr:port") on one interface.
func joinGroup(ctx context.Context, group, iface string) (*ipv4.PacketConn, *net.UDPAddr, *net.Interface, error) {
	g, err := parseGroup(group)
	if err != nil {
		return nil, nil, nil, err
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--iface %q: %w", iface, err)
	}
	lc := net.ListenConfig{Control: groupSocket}
	c, err := lc.ListenPacket(ctx, "udp4", g.String())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("multicast group %s: %w", g, err)
	}
	pc := ipv4.NewPacketConn(c)
	if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: g.IP}); err != nil {
		c.Close()
		return nil, nil, nil, fmt.Errorf("join %s on %s: %w", g.IP, iface, err)
	}
	return pc, g, ifi, nil
}

// setUserTimeout makes a connection give up on sent data that stays
// unacknowledged for d, where the connection can.
func setUserTimeout(conn net.Conn, d time.Duration) {
	switch c := conn.(type) {
	case interface{ SetUserTimeout(time.Duration) error }:
		_ = c.SetUserTimeout(d)
	case *net.TCPConn:
		raw, err := c.SyscallConn()
		if err != nil {
			return
		}
		_ = raw.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
		})
	}
}

// udpAddrOf is a datagram's source as a UDP address (nil if it is none).
func udpAddrOf(a net.Addr) *net.UDPAddr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a
	case nil:
		return nil
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return nil
	}
	return net.UDPAddrFromAddrPort(ap)
}
