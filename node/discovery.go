package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// discovery sends and receives beacons: on the multicast group (many
// processes on one machine share its port), and as unicast heartbeats to
// static peers where multicast is not available.
type discovery struct {
	n     *Node
	group *net.UDPAddr
	mc    net.PacketConn // joined to the group (Network.JoinGroup)
	hb    net.PacketConn // unicast heartbeats (with --peers)

	mu        sync.Mutex
	peerAddrs map[string]*net.UDPAddr
	warned    map[string]time.Time
}

func newDiscovery(ctx context.Context, n *Node) (*discovery, error) {
	d := &discovery{n: n, peerAddrs: map[string]*net.UDPAddr{}, warned: map[string]time.Time{}}
	o := n.opts
	if o.Group != "" && o.Group != "off" {
		g, err := parseGroup(o.Group)
		if err != nil {
			return nil, err
		}
		if d.mc, err = o.PeerNetwork.JoinGroup(ctx, o.Group, o.Iface); err != nil {
			return nil, err
		}
		d.group = g
	}
	if len(o.Peers) > 0 || o.HeartbeatPort != 0 {
		c, err := o.PeerNetwork.ListenPacket(ctx, net.JoinHostPort(o.Listen, strconv.Itoa(o.HeartbeatPort)))
		if err != nil {
			d.close()
			return nil, fmt.Errorf("heartbeat port: %w", err)
		}
		d.hb = c
	}
	if d.mc == nil && d.hb == nil {
		return nil, errors.New("no discovery: give a multicast --group or static --peers")
	}
	return d, nil
}

func (d *discovery) close() {
	if d.mc != nil {
		d.mc.Close()
	}
	if d.hb != nil {
		d.hb.Close()
	}
}

// run reads beacons until the sockets close.
func (d *discovery) run() {
	defer d.n.wg.Done()
	var wg sync.WaitGroup
	for _, pc := range d.sockets() {
		wg.Go(func() { d.read(pc) })
	}
	wg.Wait()
}

// maxDatagram is the longest datagram read as a beacon.
const maxDatagram = 2048

// sockets are the sockets beacons come in on.
func (d *discovery) sockets() []net.PacketConn {
	var out []net.PacketConn
	if d.mc != nil {
		out = append(out, d.mc)
	}
	if d.hb != nil {
		out = append(out, d.hb)
	}
	return out
}

func (d *discovery) read(pc net.PacketConn) {
	buf := make([]byte, maxDatagram+1) // one more: a longer one is no beacon
	for {
		k, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		src := udpAddrOf(from)
		if k > maxDatagram {
			d.warn(src, fmt.Sprintf("dropped a datagram of more than %d bytes: no beacon is that long", maxDatagram))
			continue
		}
		b, ok := d.accept(buf[:k], src)
		if !ok || (b.From == d.n.ID() && b.Instance == d.n.instance) {
			continue // not for us, or our own, looped back by the group
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
		if d.warn(src, "dropped a beacon of another protocol version", "error", err, "want", wire.Version) {
			d.tellVersion(src)
		}
		return nil, false
	}
	if err != nil {
		d.warn(src, "dropped a datagram that is not a beacon", "error", err)
		return nil, false
	}
	if err := wire.CheckVersion(b.Version); err != nil {
		if d.warn(src, "dropped a beacon of another protocol version", "version", b.Version, "want", wire.Version) {
			d.tellVersion(src)
		}
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
	if b.Quorum != d.n.opts.Config.Quorum {
		d.n.refuse(b.From, settingsMismatch(b.Quorum, d.n.opts.Config.Quorum))
		return nil, false
	}
	if mine := d.n.clusterID.Load(); b.Quorum && mine != 0 && b.ClusterID != 0 && b.ClusterID != mine {
		// Two histories under one name (an old data directory beside a
		// cluster made afresh): whichever a view change kept would
		// overwrite the other's commits. Availability mode merges them.
		d.n.refuse(b.From, fmt.Sprintf("it holds the data of another cluster of this name (its id %x, this node's %x): a node that should join the other needs an empty data directory", b.ClusterID, mine))
		return nil, false
	}
	return b, true
}

func (d *discovery) warn(src *net.UDPAddr, msg string, args ...any) bool {
	key := fmt.Sprint(src, msg)
	d.mu.Lock()
	last, seen := d.warned[key]
	if seen && time.Since(last) < time.Minute {
		d.mu.Unlock()
		return false
	}
	if len(d.warned) > 1000 {
		clear(d.warned)
	}
	d.warned[key] = time.Now()
	d.mu.Unlock()
	d.n.limited.warn(d.n.log, msg, msg, append(args, "from", src.String())...)
	return true
}

// tellVersion tells the players (the app's events) what the log says: a
// node of another release is on the group, and neither sees the other's
// game (friends who updated at different times would else each find a
// game of their own, and no word why).
func (d *discovery) tellVersion(src *net.UDPAddr) {
	nt := wire.Notice{Time: time.Now().UnixNano(), Kind: wire.NoticeStranger, Node: d.n.ID(),
		Text: fmt.Sprintf("a node of another gridlock release is on the group (from %s): it cannot join this game; run the same release everywhere", src)}
	select {
	case d.n.inbox <- input{kind: inCall, call: func() { d.n.publish([]wire.Notice{nt}) }}:
	case <-d.n.quit:
	}
}

// send multicasts a beacon and sends it to every static peer.
func (d *discovery) send(core *wire.Beacon) {
	n := d.n
	b := *core
	b.Version = wire.Version
	b.Cluster = n.opts.Cluster
	b.Instance = n.instance
	b.FixedID = n.idFixed
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
	if d.mc != nil {
		if _, err := d.mc.WriteTo(buf, d.group); err != nil {
			d.warn(d.group, "multicast send failed", "error", err)
		}
	}
	if d.hb != nil {
		for _, a := range d.staticPeers() {
			_, _ = d.hb.WriteTo(buf, a)
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
