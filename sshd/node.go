package sshd

import (
	"context"
	"net"
	"sync"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

// Node is the replica the server runs beside (a *node.Node): the
// sessions' apps reach the cluster through it and show its view and
// notices, as the app in `gridlock play` shows its own node's.
type Node interface {
	ID() wire.NodeID
	View() wire.ClusterView
	ClientAddr() string
	Watch() <-chan struct{}
	NoticesSince(k int) ([]wire.Notice, int)
	Done() <-chan struct{}
	// Dial connects to a client address as a client on the node's machine.
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// hub shares one watch of the node among the sessions: a node keeps every
// watch channel it hands out, and sessions come and go.
type hub struct {
	n    Node
	mu   sync.Mutex
	subs map[chan struct{}]bool
}

func newHub(n Node, quit <-chan struct{}) *hub {
	h := &hub{n: n, subs: map[chan struct{}]bool{}}
	ch := n.Watch()
	go func() {
		for {
			select {
			case <-ch:
			case <-n.Done():
				return
			case <-quit:
				return
			}
			h.mu.Lock()
			for s := range h.subs {
				select {
				case s <- struct{}{}:
				default:
				}
			}
			h.mu.Unlock()
		}
	}()
	return h
}

// local is a session's view of the node, for its client (client.Local).
type local struct {
	Node
	h  *hub
	ch chan struct{}
}

var _ client.Local = (*local)(nil)

func (h *hub) local() *local {
	l := &local{Node: h.n, h: h, ch: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[l.ch] = true
	h.mu.Unlock()
	return l
}

// Watch receives after each change of the node's view or notices.
func (l *local) Watch() <-chan struct{} { return l.ch }

func (l *local) close() {
	l.h.mu.Lock()
	delete(l.h.subs, l.ch)
	l.h.mu.Unlock()
}

// dial connects a session's client to a node of the cluster. The addresses
// a cluster gives its clients are the ones nodes advertise (--advertise),
// which are right for players elsewhere (on a Docker host, localhost:8002)
// but may not be from here (inside server1's container, that is server1's
// own loopback): a node known to advertise addr is dialled at its client
// address on the cluster's network instead.
func (s *Server) dial(ctx context.Context, addr string) (net.Conn, error) {
	return s.o.Node.Dial(ctx, reachable(s.o.Node.View(), addr))
}

func reachable(v wire.ClusterView, addr string) string {
	for _, n := range v.Nodes {
		if n.Advertise == addr && n.ClientAddr != "" {
			return n.ClientAddr
		}
	}
	return addr
}
