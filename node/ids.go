package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// yieldsID decides, when two nodes claim the same id, which one chooses
// again: never one whose id was given or is its data's; else the one with
// nothing in its log, else the smaller instance. (Two apps started at the
// same moment choose the same id, and both may hold the cluster's data by
// the time they hear each other.)
func (n *Node) yieldsID(b *wire.Beacon) bool {
	if n.idFixed || b.FixedID {
		return !n.idFixed
	}
	mine, theirs := n.core.LastIndex() > 0, b.Last > 0
	if mine != theirs {
		return theirs
	}
	return n.instance < b.Instance
}

// reID takes the next free id after an id collision, with a fresh core.
// Peers and clients connected under the old id are let go; they come back.
func (n *Node) reID(b *wire.Beacon) {
	top := max(n.ID(), b.From)
	for id := range n.peers {
		top = max(top, id)
	}
	if top == 0xffff {
		n.log.Error("no free node id left")
		return
	}
	old := n.ID()
	if n.store != nil {
		// The id was chosen in this process, so whatever the store holds
		// is a copy of the cluster's made since: dropped, as by a node
		// that lost its disk. The writer finishes first (it writes to
		// the store) and what it was given dies with the old core.
		n.stopWriter()
		n.saveJobs, n.saving, n.outstanding = nil, false, 0
		path := n.store.Path()
		n.store.Close()
		n.store = nil
		_ = os.Remove(path) // it held nothing but the old id
	}
	n.links.closeAll()
	n.svc.closeAll()
	n.id.Store(uint32(top + 1))
	if err := n.newCore(); err != nil {
		n.log.Error("cannot restart the node under a new id", "error", err)
		return
	}
	if n.saveJobs == nil {
		n.startWriter() // for the new store
	}
	n.log.Warn("another node took the same id: this one chose again", "was", fmt.Sprintf("n%d", old))
	n.publish(nil)
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
	d := n.disc
	for _, pc := range d.sockets() {
		wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				k, from, err := pc.ReadFrom(buf)
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
				if b, ok := d.accept(buf[:k], udpAddrOf(from)); ok {
					select {
					case ch <- b:
					default:
					}
				}
			}
		})
	}
	// A deadline in the past wakes the readers; the sockets then go on
	// without one.
	finish := func() {
		close(stop)
		for _, pc := range d.sockets() {
			_ = pc.SetReadDeadline(time.Now())
		}
		wg.Wait()
		for _, pc := range d.sockets() {
			_ = pc.SetReadDeadline(time.Time{})
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
			// A node refused for its settings was heard too: an id of
			// its own keeps it apart in the view (and on screen).
			n.refMu.Lock()
			for id := range n.refused {
				top = max(top, id)
			}
			n.refMu.Unlock()
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

// idCheckWindow bounds how long after its start a node with a fixed id
// stops if a node further on holds that id (a node answers a newcomer's
// beacon at once).
const idCheckWindow = time.Second

// idTaken stops a node that has just started with a fixed id that a
// running node holds: two nodes with one id would replace each other's
// links for as long as both run, and the cluster would elect again and
// again. (Found later, between two nodes that both ran, it is only
// warned of: neither is the newcomer.)
func (n *Node) idTaken(b *wire.Beacon, src *net.UDPAddr) bool {
	if !n.idFixed || !b.FixedID || time.Since(n.started) > idCheckWindow || n.startLast >= b.Last {
		return false // not a newcomer behind a running node: both warn
	}
	if fillHost(b.PeerAddr, src) == n.PeerAddr() {
		return false // its port is this node's: an earlier process's beacon, late or replayed
	}
	at := b.ClientAddr
	if at == "" && src != nil {
		at = src.String()
	}
	err := fmt.Errorf("n%d is already running (at %s): give this node another --id, or stop that one first", b.From, at)
	n.log.Error("stopping: this node's id is taken", "error", err)
	n.failed.CompareAndSwap(nil, &err)
	n.stop()
	return true
}

// Err says why the node stopped by itself, once Done is closed: nil if it
// was stopped (Close, Leave).
func (n *Node) Err() error {
	if p := n.failed.Load(); p != nil {
		return *p
	}
	return nil
}
