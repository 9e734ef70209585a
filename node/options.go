package node

import (
	"log/slog"
	"net"

	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// Options configure a replica on the network.
type Options struct {
	ID      wire.NodeID // 0: chosen automatically, unique in the cluster
	Cluster string      // nodes of other clusters on the group are ignored

	Group string // multicast group host:port ("" or "off": none)
	Iface string // interface for multicast (default lo)

	Peers         []string // static peers' heartbeat addresses (host:port)
	HeartbeatPort int      // UDP port for unicast heartbeats (with Peers)

	Listen          string // host the TCP listeners bind (default: 127.0.0.1 on lo, with no Peers or loopback ones; else all)
	TCPPort         int    // client port (0: ephemeral)
	ReplicationPort int    // peer port (0: ephemeral)
	Advertise       string // client address to tell clients (host:port)

	Secret []byte

	Config replica.Config // timings, quorum, rules (ID is set from ID)

	// Client service.
	RateLimit  float64 // commands per second per client
	Burst      int
	MaxClients int
	SendQueue  int // frames queued per client before it is dropped
	// ManyClients, if set, is called with true when the node comes to
	// serve ManyClientsAt client connections, and with false when it is
	// down to half as many (the process may then run more threads).
	ManyClients func(many bool)

	Logger *slog.Logger

	// DataDir keeps the node's log, hard state and snapshots ("": nothing
	// is kept; a restart is a node with no data). Fsync syncs each turn's
	// writes before the turn acknowledges anything.
	DataDir string
	Fsync   bool

	// Network carries the node's traffic (nil: RealNetwork). PeerNetwork,
	// if set, carries its peer traffic instead (peer links and beacons):
	// a fault there cuts the node off its peers and leaves its clients be.
	Network     Network
	PeerNetwork Network
}

func (o *Options) fill() {
	if o.Cluster == "" {
		o.Cluster = "gridlock"
	}
	if o.Iface == "" {
		o.Iface = "lo"
	}
	if o.Listen == "" {
		o.Listen = "0.0.0.0"
		if o.Iface == "lo" && loopbackOnly(o.Peers) {
			o.Listen = "127.0.0.1"
		}
	}
	if o.Config.Heartbeat == 0 {
		o.Config = replica.DefaultConfig(o.ID)
	}
	if o.RateLimit == 0 {
		o.RateLimit = 2000
	}
	if o.Burst == 0 {
		o.Burst = 4000
	}
	if o.MaxClients == 0 {
		o.MaxClients = 4096
	}
	if o.SendQueue == 0 {
		o.SendQueue = 4096
	}
	if o.Network == nil {
		o.Network = RealNetwork()
	}
	if o.PeerNetwork == nil {
		o.PeerNetwork = o.Network
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// loopbackOnly reports whether every peer is on this host (none is): its
// ports are then bound where only this host reaches them.
func loopbackOnly(peers []string) bool {
	for _, p := range peers {
		host, _, err := net.SplitHostPort(p)
		if err != nil {
			return false
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}
