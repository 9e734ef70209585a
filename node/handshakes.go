package node

import (
	"net"
	"sync"
)

// pendingHandshakes holds the inbound peer connections not yet
// authenticated, at most maxHandshakes. When it is full a newcomer takes
// the place of the oldest: a peer's handshake takes a millisecond, so
// strangers that only hold connections open cannot keep a node's peers
// out (refusing the newcomer instead let 64 idle connections, opened again
// as each timed out, keep a restarted node out of its cluster).
type pendingHandshakes struct {
	mu    sync.Mutex
	conns []net.Conn // oldest first
}

// add admits conn and returns the connection it evicted, if any (the
// caller closes it, outside the lock).
func (p *pendingHandshakes) add(conn net.Conn) (evicted net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) >= maxHandshakes {
		evicted = p.conns[0]
		p.conns = append(p.conns[:0], p.conns[1:]...)
	}
	p.conns = append(p.conns, conn)
	return evicted
}

// done forgets conn, its handshake over (or conn evicted).
func (p *pendingHandshakes) done(conn net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.conns {
		if c == conn {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			return
		}
	}
}
