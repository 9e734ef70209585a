package node

import (
	"context"
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// DiscoverOptions say where to listen for a cluster's beacons.
type DiscoverOptions struct {
	Cluster string
	Group   string
	Iface   string
	Secret  []byte
	Listen  time.Duration // how long to listen (default 350 ms)
	Network Network       // nil: RealNetwork
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
	if o.Network == nil {
		o.Network = RealNetwork()
	}
	pc, err := o.Network.JoinGroup(ctx, o.Group, o.Iface)
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
	unverified := map[wire.NodeID]bool{} // the cluster's nodes whose beacons fail the secret
	buf := make([]byte, 2048)
	for {
		k, src, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		b, err := wire.DecodeBeacon(buf[:k])
		if err != nil || wire.CheckVersion(b.Version) != nil || b.Cluster != o.Cluster || b.From == 0 {
			continue
		}
		if !wire.VerifyBeacon(o.Secret, b) {
			unverified[b.From] = true
			continue
		}
		ua := udpAddrOf(src)
		b.ClientAddr = fillHost(b.ClientAddr, ua)
		b.PeerAddr = fillHost(b.PeerAddr, ua)
		seen[b.From] = b
	}
	if len(seen) == 0 {
		if len(unverified) > 0 {
			// Say why they were not taken: a missing or wrong secret.
			how := "signed with a secret this one lacks: give --secret or GRIDLOCK_SECRET"
			if len(o.Secret) > 0 {
				how = "signed with another secret, or none: check --secret or GRIDLOCK_SECRET"
			}
			return nil, fmt.Errorf("no node of cluster %q verified on %s (%s) (%d heard, their beacons %s)", o.Cluster, o.Group, o.Iface, len(unverified), how)
		}
		return nil, fmt.Errorf("no node of cluster %q heard on %s (%s)", o.Cluster, o.Group, o.Iface)
	}
	v := &wire.ClusterView{}
	for _, b := range seen {
		v.Nodes = append(v.Nodes, wire.NodeInfo{ID: b.From, Role: b.Role, Epoch: b.Epoch, Commit: b.Commit, Last: b.Last,
			Alive: true, ClientAddr: b.ClientAddr, PeerAddr: b.PeerAddr, Advertise: b.Advertise})
		if b.Role == wire.RolePrimary && !b.Epoch.Before(v.Epoch) {
			v.Primary, v.Epoch, v.Commit = b.From, b.Epoch, b.Commit
		}
	}
	return v, nil
}
