package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/gridlock-game/gridlock/wire"
)

// discovery sends and receives beacons: on the multicast group (many
// processes on one machine share its port), and as unicast heartbeats to
// static peers where multicast is not available.
type discovery struct {
	n      *Node
	group  *net.UDPAddr
	listen *ipv4.PacketConn // joined to the group
	sender *ipv4.PacketConn // sends to the group on the interface only
	hb     *net.UDPConn     // unicast heartbeats (with --peers)

	mu        sync.Mutex
	peerAddrs map[string]*net.UDPAddr
	warned    map[string]time.Time
	closed    bool
}

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

// joinGroup listens to a multicast group ("addr:port") on one interface.
func joinGroup(ctx context.Context, group, iface string) (*ipv4.PacketConn, *net.UDPAddr, *net.Interface, error) {
	g, err := net.ResolveUDPAddr("udp4", group)
	if err != nil || !g.IP.IsMulticast() {
		return nil, nil, nil, fmt.Errorf("--group %q is not an IPv4 multicast address:port", group)
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

func newDiscovery(n *Node) (*discovery, error) {
	d := &discovery{n: n, peerAddrs: map[string]*net.UDPAddr{}, warned: map[string]time.Time{}}
	o := n.opts
	if o.Group != "" && o.Group != "off" {
		pc, g, ifi, err := joinGroup(context.Background(), o.Group, o.Iface)
		if err != nil {
			return nil, err
		}
		d.listen = pc
		bind := "0.0.0.0:0"
		if ifi.Flags&net.FlagLoopback != 0 {
			bind = "127.0.0.1:0"
		}
		s, err := net.ListenPacket("udp4", bind)
		if err != nil {
			pc.Close()
			return nil, err
		}
		d.sender = ipv4.NewPacketConn(s)
		err = errors.Join(d.sender.SetMulticastInterface(ifi), d.sender.SetMulticastTTL(1), d.sender.SetMulticastLoopback(true))
		if err != nil {
			pc.Close()
			s.Close()
			return nil, fmt.Errorf("multicast on %s: %w", o.Iface, err)
		}
		d.group = g
	}
	if len(o.Peers) > 0 || o.HeartbeatPort != 0 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(o.Listen), Port: o.HeartbeatPort})
		if err != nil {
			d.close()
			return nil, fmt.Errorf("heartbeat port: %w", err)
		}
		d.hb = c
	}
	if d.listen == nil && d.hb == nil {
		return nil, errors.New("no discovery: give a multicast --group or static --peers")
	}
	return d, nil
}

func (d *discovery) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	if d.listen != nil {
		d.listen.Close()
	}
	if d.sender != nil {
		d.sender.Close()
	}
	if d.hb != nil {
		d.hb.Close()
	}
}

// run reads beacons until the sockets close.
func (d *discovery) run() {
	defer d.n.wg.Done()
	var wg sync.WaitGroup
	if d.listen != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.read(func(b []byte) (int, *net.UDPAddr, error) {
				k, _, src, err := d.listen.ReadFrom(b)
				ua, _ := src.(*net.UDPAddr)
				return k, ua, err
			})
		}()
	}
	if d.hb != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.read(func(b []byte) (int, *net.UDPAddr, error) { return d.hb.ReadFromUDP(b) })
		}()
	}
	wg.Wait()
}

func (d *discovery) read(recv func([]byte) (int, *net.UDPAddr, error)) {
	buf := make([]byte, 2048)
	for {
		k, src, err := recv(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b, ok := d.accept(buf[:k], src)
		if !ok {
			continue
		}
		select {
		case d.n.inbox <- input{kind: inBeacon, msg: b, src: src}:
		case <-d.n.quit:
			return
		}
	}
}

// accept decodes and checks a datagram; strangers are logged (at most once
// a minute each) and dropped.
func (d *discovery) accept(p []byte, src *net.UDPAddr) (*wire.Beacon, bool) {
	b, err := wire.DecodeBeacon(p)
	if wire.CodeOf(err) == wire.ErrBadVersion {
		d.warn(src, "dropped a beacon of another protocol version", "error", err, "want", wire.Version)
		return nil, false
	}
	if err != nil {
		d.warn(src, "dropped a datagram that is not a beacon", "error", err)
		return nil, false
	}
	if err := wire.CheckVersion(b.Version); err != nil {
		d.warn(src, "dropped a beacon of another protocol version", "version", b.Version, "want", wire.Version)
		return nil, false
	}
	if b.Cluster != d.n.opts.Cluster {
		return nil, false // another game on the same group: not ours
	}
	if !wire.VerifyBeacon(d.n.opts.Secret, b) {
		if len(d.n.opts.Secret) == 0 {
			d.warn(src, "dropped a signed beacon: this node has no secret (set --secret or GRIDLOCK_SECRET)", "claims", fmt.Sprintf("n%d", b.From))
		} else {
			d.warn(src, "dropped a beacon that failed authentication (wrong or missing secret)", "claims", fmt.Sprintf("n%d", b.From))
		}
		return nil, false
	}
	if b.From == 0 {
		return nil, false
	}
	return b, true
}

func (d *discovery) warn(src *net.UDPAddr, msg string, args ...any) {
	key := fmt.Sprint(src, msg)
	d.mu.Lock()
	last, seen := d.warned[key]
	if seen && time.Since(last) < time.Minute {
		d.mu.Unlock()
		return
	}
	if len(d.warned) > 1000 {
		clear(d.warned)
	}
	d.warned[key] = time.Now()
	d.mu.Unlock()
	d.n.limited.warn(d.n.log, msg, msg, append(args, "from", src.String())...)
}

// send multicasts a beacon and sends it to every static peer.
func (d *discovery) send(core *wire.Beacon) {
	n := d.n
	b := *core
	b.Version = wire.Version
	b.Cluster = n.opts.Cluster
	b.Instance = n.instance
	b.ClientAddr = n.ClientAddr()
	b.PeerAddr = n.PeerAddr()
	b.Advertise = n.opts.Advertise
	if err := wire.SignBeacon(n.opts.Secret, &b); err != nil {
		n.log.Error("beacon not sent", "error", err)
		return
	}
	buf, err := wire.AppendMessage(nil, &b)
	if err != nil {
		n.log.Error("beacon not sent", "error", err)
		return
	}
	if d.sender != nil {
		if _, err := d.sender.WriteTo(buf, nil, d.group); err != nil {
			d.warn(d.group, "multicast send failed", "error", err)
		}
	}
	if d.hb != nil {
		for _, a := range d.staticPeers() {
			_, _ = d.hb.WriteToUDP(buf, a)
		}
	}
}

// staticPeers returns --peers as last resolved. Names are resolved in the
// background (resolvePeers): a name server that is slow to answer must not
// stall the node.
func (d *discovery) staticPeers() []*net.UDPAddr {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*net.UDPAddr, 0, len(d.peerAddrs))
	for _, a := range d.peerAddrs {
		out = append(out, a)
	}
	return out
}

// resolvePeers resolves --peers again and again: every few seconds, more
// often while some name does not resolve (names in a container network
// appear as containers start).
func (d *discovery) resolvePeers() {
	defer d.n.wg.Done()
	var r net.Resolver
	for {
		missing := false
		for _, p := range d.n.opts.Peers {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			host, port, err := net.SplitHostPort(p)
			var ips []net.IP
			if err == nil {
				if ip := net.ParseIP(host); ip != nil {
					ips = []net.IP{ip}
				} else {
					ips, err = r.LookupIP(ctx, "ip4", host)
				}
			}
			cancel()
			pn, perr := strconv.Atoi(port)
			if err != nil || perr != nil || len(ips) == 0 {
				missing = true
				continue
			}
			d.mu.Lock()
			d.peerAddrs[p] = &net.UDPAddr{IP: ips[0], Port: pn}
			d.mu.Unlock()
		}
		wait := 3 * time.Second
		if missing {
			wait = 200 * time.Millisecond
		}
		select {
		case <-d.n.quit:
			return
		case <-time.After(wait):
		}
	}
}

// chooseID listens to the cluster for a few heartbeats and takes the next
// id above every id it hears. Two nodes that pick the same id at once are
// told apart later by Instance (see onBeacon).
func (n *Node) chooseID(ctx context.Context) (wire.NodeID, error) {
	wait := 2*n.opts.Config.Heartbeat + n.opts.Config.Heartbeat/2
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	seen := map[wire.NodeID]uint64{}
	ch := make(chan *wire.Beacon, 64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	listen := func(recv func([]byte) (int, *net.UDPAddr, error)) {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			k, src, err := recv(buf)
			select {
			case <-stop:
				return
			default:
			}
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
			if b, ok := n.disc.accept(buf[:k], src); ok {
				select {
				case ch <- b:
				default:
				}
			}
		}
	}
	d := n.disc
	if d.listen != nil {
		wg.Add(1)
		go listen(func(b []byte) (int, *net.UDPAddr, error) {
			_ = d.listen.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			k, _, src, err := d.listen.ReadFrom(b)
			ua, _ := src.(*net.UDPAddr)
			return k, ua, err
		})
	}
	if d.hb != nil {
		wg.Add(1)
		go listen(func(b []byte) (int, *net.UDPAddr, error) {
			_ = d.hb.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			return d.hb.ReadFromUDP(b)
		})
	}
	finish := func() {
		close(stop)
		wg.Wait()
		if d.listen != nil {
			_ = d.listen.SetReadDeadline(time.Time{})
		}
		if d.hb != nil {
			_ = d.hb.SetReadDeadline(time.Time{})
		}
	}
	for {
		select {
		case b := <-ch:
			seen[b.From] = b.Instance
		case <-deadline.C:
			finish()
			var top wire.NodeID
			for id := range seen {
				top = max(top, id)
			}
			if top == 0xffff {
				return 0, errors.New("no free node id: the cluster uses 65535")
			}
			return top + 1, nil
		case <-ctx.Done():
			finish()
			return 0, ctx.Err()
		}
	}
}

// DiscoverOptions say where to listen for a cluster's beacons.
type DiscoverOptions struct {
	Cluster string
	Group   string
	Iface   string
	Secret  []byte
	Listen  time.Duration // how long to listen (default 350 ms)
}

// Discover listens to a cluster's beacons on its multicast group and
// returns the cluster as they describe it: every node heard, its role,
// epoch and addresses, and the primary.
func Discover(ctx context.Context, o DiscoverOptions) (*wire.ClusterView, error) {
	if o.Listen == 0 {
		o.Listen = 350 * time.Millisecond
	}
	if o.Cluster == "" {
		o.Cluster = "gridlock"
	}
	if o.Iface == "" {
		o.Iface = "lo"
	}
	pc, _, _, err := joinGroup(ctx, o.Group, o.Iface)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	deadline := time.Now().Add(o.Listen)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = pc.SetReadDeadline(deadline)
	seen := map[wire.NodeID]*wire.Beacon{}
	buf := make([]byte, 2048)
	for {
		k, _, src, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		b, err := wire.DecodeBeacon(buf[:k])
		if err != nil || wire.CheckVersion(b.Version) != nil || b.Cluster != o.Cluster || !wire.VerifyBeacon(o.Secret, b) || b.From == 0 {
			continue
		}
		ua, _ := src.(*net.UDPAddr)
		b.ClientAddr = fillHost(b.ClientAddr, ua)
		b.PeerAddr = fillHost(b.PeerAddr, ua)
		seen[b.From] = b
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no node of cluster %q heard on %s (%s)", o.Cluster, o.Group, o.Iface)
	}
	v := &wire.ClusterView{}
	for _, b := range seen {
		v.Nodes = append(v.Nodes, wire.NodeInfo{ID: b.From, Role: b.Role, Epoch: b.Epoch, Commit: b.Commit, Last: b.Last,
			Alive: true, ClientAddr: b.ClientAddr, PeerAddr: b.PeerAddr, Advertise: b.Advertise})
		if b.Role == wire.RolePrimary && b.Epoch >= v.Epoch {
			v.Primary, v.Epoch, v.Commit = b.From, b.Epoch, b.Commit
		}
	}
	return v, nil
}
