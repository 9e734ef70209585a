package node

import (
	"net"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// View returns the cluster as this node last saw it, with addresses.
func (n *Node) View() wire.ClusterView {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.view
	v.Nodes = append([]wire.NodeInfo(nil), v.Nodes...)
	return v
}

// NoticesSince returns the notices published after the first k (as many
// as are still kept), and how many were ever published.
func (n *Node) NoticesSince(k int) ([]wire.Notice, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	kept := n.nNotices - len(n.notices)
	from := max(0, k-kept)
	if from > len(n.notices) {
		from = len(n.notices)
	}
	return append([]wire.Notice(nil), n.notices[from:]...), n.nNotices
}

// Watch returns a channel that receives (without blocking the node) after
// each change of the view or new notices.
func (n *Node) Watch() <-chan struct{} {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	n.watchers = append(n.watchers, ch)
	n.mu.Unlock()
	return ch
}

func (n *Node) lastViewAt() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.viewAt
}

// publish updates the view that other goroutines read and wakes watchers.
func (n *Node) publish(notices []wire.Notice) {
	v := n.core.View()
	for i := range v.Nodes {
		ni := &v.Nodes[i]
		if ni.ID == n.ID() {
			ni.ClientAddr, ni.PeerAddr, ni.Advertise = n.ClientAddr(), n.PeerAddr(), n.opts.Advertise
			continue
		}
		if ps := n.peers[ni.ID]; ps != nil {
			ni.ClientAddr, ni.PeerAddr, ni.Advertise = ps.clientAddr, ps.peerAddr, ps.advertise
		}
	}
	v.Nodes = append(v.Nodes, n.refusedNodes(v.Nodes)...)
	n.mu.Lock()
	changed := !viewsEqual(n.view, v, false) || len(notices) > 0
	n.view = v
	n.viewAt = time.Now()
	n.notices = append(n.notices, notices...)
	n.nNotices += len(notices)
	if len(n.notices) > 200 {
		n.notices = append([]wire.Notice(nil), n.notices[len(n.notices)-100:]...)
	}
	ws := n.watchers
	n.mu.Unlock()
	if changed {
		for _, w := range ws {
			select {
			case w <- struct{}{}:
			default:
			}
		}
	}
	// Clients get a change of who is where at once, news of progress
	// (lags) at most once a second.
	now := time.Now()
	if !viewsEqual(n.pushed, v, true) || len(notices) > 0 || (!viewsEqual(n.pushed, v, false) && now.Sub(n.pushedAt) >= time.Second) {
		n.pushed, n.pushedAt = v, now
		n.svc.viewChanged(v)
	}
}

// viewsEqual compares views but for commit indexes (and lags, with
// ignoreLag).
func viewsEqual(a, b wire.ClusterView, ignoreLag bool) bool {
	if a.Self != b.Self || a.Primary != b.Primary || a.Epoch != b.Epoch || a.HasQuorum != b.HasQuorum || len(a.Nodes) != len(b.Nodes) {
		return false
	}
	for i := range a.Nodes {
		x, y := a.Nodes[i], b.Nodes[i]
		x.Commit, y.Commit, x.Last, y.Last = 0, 0, 0, 0
		if ignoreLag {
			x.Lag, y.Lag = 0, 0
		}
		if x != y {
			return false
		}
	}
	return true
}

// addrOf is the client address of a node, as clients should use it.
func (n *Node) addrOf(id wire.NodeID) string {
	if id == n.ID() {
		return n.advertise()
	}
	ps := n.peers[id]
	if ps == nil {
		return ""
	}
	if ps.advertise != "" {
		return ps.advertise
	}
	return ps.clientAddr
}

// refusedNodes lists the peers refused for their settings lately, for the
// view (status shows them), but for those the view has.
func (n *Node) refusedNodes(have []wire.NodeInfo) []wire.NodeInfo {
	n.refMu.Lock()
	defer n.refMu.Unlock()
	var out []wire.NodeInfo
	for id, r := range n.refused {
		if time.Since(r.at) > refusedFor {
			delete(n.refused, id)
			continue
		}
		if !slices.ContainsFunc(have, func(ni wire.NodeInfo) bool { return ni.ID == id }) {
			out = append(out, wire.NodeInfo{ID: id, Role: wire.RoleRefused})
		}
	}
	slices.SortFunc(out, func(a, b wire.NodeInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// refusedFor is how long a refused peer stays in the view after the last
// time it was heard.
const refusedFor = 10 * time.Second

// reachableAddrs puts reachable addresses in the view's entry for the
// node that made it, where its listeners are bound to an unspecified host
// ([::]:8000 says nothing to whoever reads it): the host that the request
// being answered came to, which local is, with each listener's port.
func reachableAddrs(v *wire.ClusterView, local net.Addr) {
	to, ok := local.(*net.TCPAddr)
	if !ok || to.IP == nil || to.IP.IsUnspecified() {
		return
	}
	fix := func(addr string) string {
		host, port, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || (host != "" && (ip == nil || !ip.IsUnspecified())) {
			return addr
		}
		return net.JoinHostPort(to.IP.String(), port)
	}
	for i := range v.Nodes {
		if ni := &v.Nodes[i]; ni.ID == v.Self {
			ni.ClientAddr, ni.PeerAddr = fix(ni.ClientAddr), fix(ni.PeerAddr)
		}
	}
}
