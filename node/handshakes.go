package node

import (
	"net"
	"sync"
)

// pendingHandshakes holds inbound connections that have not said who they
// are yet: peers not yet authenticated (at most maxHandshakes), clients
// before their Hello (at most maxStrangers). When it is full a newcomer
// takes the place of the oldest: a peer's handshake or a client's Hello
// takes a millisecond, so strangers that only hold connections open cannot
// keep a node's peers or players out (refusing the newcomer instead let 64
// idle connections, opened again as each timed out, keep a restarted node
// out of its cluster; 4,096 idle ones on the client port refused players
// and failed health checks).
type pendingHandshakes struct {
	mu    sync.Mutex
	conns []net.Conn // oldest first
}

// add admits conn and returns the connection it evicted, if any (the
// caller closes it, outside the lock).
func (p *pendingHandshakes) add(conn net.Conn, limit int) (evicted net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) >= limit {
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
