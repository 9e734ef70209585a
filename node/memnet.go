package node

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// MemNetwork is a network in memory: hosts with addresses, streams that
// behave as TCP connections do, datagrams and multicast groups, and the
// faults a test (or a demo) controls: a cut between hosts, a host cut off
// from all others, a host that crashes. A whole cluster runs in one
// process on it, with no sockets and nothing left behind.
//
// It is one network segment: every host is on it, and a multicast group
// reaches every member whatever interface it named. Addresses are IP
// literals (there are no names but localhost); 127.0.0.1 and 0.0.0.0 are
// the host itself.
type MemNetwork struct {
	mu      sync.Mutex
	hosts   map[netip.Addr]*MemHost
	paths   map[[2]netip.Addr]*memPath
	cuts    map[[2]netip.Addr]bool
	groups  map[netip.AddrPort]map[*memPacketConn]struct{}
	changed chan struct{} // closed and replaced when hosts or paths change
	last    uint32        // the last host number given
}

// NewMemNetwork returns an empty in-memory network.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{
		hosts:   map[netip.Addr]*MemHost{},
		paths:   map[[2]netip.Addr]*memPath{},
		cuts:    map[[2]netip.Addr]bool{},
		groups:  map[netip.AddrPort]map[*memPacketConn]struct{}{},
		changed: make(chan struct{}),
	}
}

// MemHost is a machine on a MemNetwork, and the Network of the nodes,
// clients and tests that run "on" it.
type MemHost struct {
	m  *MemNetwork
	ip netip.Addr

	// under m.mu
	down      bool
	isolated  bool
	nextPort  int
	listeners map[int]*memListener
	packets   map[int]*memPacketConn // unicast sockets by port
	members   map[*memPacketConn]struct{}
	streams   map[*memStream]struct{}
}

var _ Network = (*MemHost)(nil)

// NewHost adds a host with the next address: 10.77.0.1, 10.77.0.2, …
func (m *MemNetwork) NewHost() *MemHost {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last++
	k := m.last
	ip := netip.AddrFrom4([4]byte{10, 77, byte(k >> 8), byte(k)})
	h := &MemHost{m: m, ip: ip, nextPort: memFirstPort,
		listeners: map[int]*memListener{}, packets: map[int]*memPacketConn{},
		members: map[*memPacketConn]struct{}{}, streams: map[*memStream]struct{}{}}
	m.hosts[ip] = h
	return h
}

// IP is the host's address, e.g. "10.77.0.1".
func (h *MemHost) IP() string { return h.ip.String() }

func (h *MemHost) String() string { return h.ip.String() }

// Ephemeral ports, as Linux gives them.
const (
	memFirstPort = 32768
	memLastPort  = 60999
)

// memPath is the way between two hosts. Streams check it on every read
// and write, so down is read without the network's lock.
type memPath struct {
	down    atomic.Bool
	streams map[*memStream]struct{} // under m.mu
}

func pathKey(a, b netip.Addr) [2]netip.Addr {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]netip.Addr{a, b}
}

// up says whether a and b reach each other (under m.mu).
func (m *MemNetwork) up(a, b *MemHost) bool {
	return a == b || (!a.isolated && !b.isolated && !m.cuts[pathKey(a.ip, b.ip)])
}

// path returns the way between two hosts; nil when they are one.
func (m *MemNetwork) path(a, b *MemHost) *memPath {
	if a == b {
		return nil
	}
	k := pathKey(a.ip, b.ip)
	p := m.paths[k]
	if p == nil {
		p = &memPath{streams: map[*memStream]struct{}{}}
		p.down.Store(!m.up(a, b))
		m.paths[k] = p
	}
	return p
}

// Cut stops all traffic between a and b, both ways, until Heal: bytes on
// their connections wait (and the connections give up after their user
// timeout), datagrams are lost, dials wait for their deadline.
func (m *MemNetwork) Cut(a, b *MemHost) { m.change(func() { m.cuts[pathKey(a.ip, b.ip)] = true }) }

// Heal undoes Cut: what waited on their connections goes through.
func (m *MemNetwork) Heal(a, b *MemHost) { m.change(func() { delete(m.cuts, pathKey(a.ip, b.ip)) }) }

// HealAll undoes every Cut and Isolate.
func (m *MemNetwork) HealAll() {
	m.change(func() {
		clear(m.cuts)
		for _, h := range m.hosts {
			h.isolated = false
		}
	})
}

// Isolate cuts the host off from every other host (as Cut does) until
// Rejoin or HealAll. Its own traffic to itself goes on.
func (h *MemHost) Isolate() { h.m.change(func() { h.isolated = true }) }

// Rejoin undoes Isolate.
func (h *MemHost) Rejoin() { h.m.change(func() { h.isolated = false }) }

// change applies a change of reachability, and lets through what waited
// on the ways that came up.
func (m *MemNetwork) change(f func()) {
	m.mu.Lock()
	f()
	var healed []*memStream
	for k, p := range m.paths {
		down := !m.up(m.hosts[k[0]], m.hosts[k[1]])
		if p.down.Load() && !down {
			for s := range p.streams {
				healed = append(healed, s)
			}
		}
		p.down.Store(down)
	}
	m.wakeDials()
	m.mu.Unlock()
	for _, s := range healed {
		s.heal()
	}
}

// wakeDials wakes the dials that wait for a way to their host (under m.mu).
func (m *MemNetwork) wakeDials() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Crash ends the host as a crash of its machine would: its sockets close,
// its peers' connections are reset (across a cut: when it heals), and it
// is unreachable until Restart. A node that ran on it can do nothing more
// on the network; Close it.
func (h *MemHost) Crash() {
	m := h.m
	m.mu.Lock()
	if h.down {
		m.mu.Unlock()
		return
	}
	h.down = true
	var ls []*memListener
	for _, l := range h.listeners {
		ls = append(ls, l)
	}
	var ps []*memPacketConn
	for _, p := range h.packets {
		ps = append(ps, p)
	}
	for p := range h.members {
		ps = append(ps, p)
	}
	var ss []*memStream
	for s := range h.streams {
		ss = append(ss, s)
	}
	m.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, p := range ps {
		p.Close()
	}
	for _, s := range ss {
		s.crash(h)
	}
}

// Restart brings a crashed host back, with nothing open: a new process
// can listen on it again.
func (h *MemHost) Restart() {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	h.down = false
	h.m.wakeDials()
}

// route finds the host an address is on (under m.mu): nil if none.
func (m *MemNetwork) route(from *MemHost, ip netip.Addr) *MemHost {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return from
	}
	return m.hosts[ip]
}

// ephemeral returns a free port of the host (under m.mu).
func (h *MemHost) ephemeral() (int, error) {
	for range memLastPort - memFirstPort + 1 {
		p := h.nextPort
		h.nextPort++
		if h.nextPort > memLastPort {
			h.nextPort = memFirstPort
		}
		if h.listeners[p] == nil && h.packets[p] == nil {
			return p, nil
		}
	}
	return 0, syscall.EADDRNOTAVAIL
}

// bindable checks an address the host may bind (under m.mu).
func (h *MemHost) bindable(ip netip.Addr) error {
	if h.down {
		return syscall.ENETDOWN
	}
	if !ip.IsUnspecified() && !ip.IsLoopback() && ip != h.ip {
		return syscall.EADDRNOTAVAIL
	}
	return nil
}

// accepts says whether a socket bound to bind takes what is sent to ip on
// its host.
func accepts(bind, ip netip.Addr) bool {
	if bind.IsUnspecified() {
		return true
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return bind.IsLoopback()
	}
	return bind == ip
}

// sourceFor is the address a host sends from to reach ip.
func (h *MemHost) sourceFor(ip netip.Addr) netip.Addr {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return h.ip
}

// splitAddr parses host:port; the host is an IP literal, localhost or
// empty (every address of the host).
func splitAddr(addr string) (netip.Addr, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return netip.Addr{}, 0, &net.AddrError{Err: "invalid port", Addr: addr}
	}
	var ip netip.Addr
	switch host {
	case "":
		ip = netip.IPv4Unspecified()
	case "localhost":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		ip, err = netip.ParseAddr(host)
		if err != nil {
			return netip.Addr{}, 0, &net.AddrError{Err: "not an IP address (the in-memory network has no names)", Addr: host}
		}
	}
	return ip.Unmap(), int(port), nil
}

// dialErr is the error of a dial that ctx ended.
func dialErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return os.ErrDeadlineExceeded
	}
	return ctx.Err()
}

func sysErr(call string, errno syscall.Errno) error { return os.NewSyscallError(call, errno) }
