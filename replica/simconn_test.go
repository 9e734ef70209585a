package replica

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

// The players' connections: each is a stream (in order, nothing lost while
// it lasts) between a player and one start of a node, and every message on
// it goes through the wire codec, as on TCP. A dial to a dead process is
// refused; to a vanished machine (a crash without the broken-link signal)
// it times out. A node that dies with the signal closes its connections;
// one that vanishes leaves them silent, and after a restart answers what
// still comes on them with a reset. A paused node holds what comes, as its
// kernel would. With losses on the network, a message may break its
// connection (TCP gives up) instead of being lost alone. Partitions cut
// the nodes' links, not the players' (a scenario's route pins a player to
// one node: dials elsewhere are refused; nor do players reach a node of
// the other quorum setting).

type connEventKind uint8

const (
	cAccept     connEventKind = iota + 1 // to the node: a connection arrived
	cToNode                              // to the node: a message
	cGone                                // to the node: the player closed it, or it broke
	cDialed                              // to the player: the dial succeeded
	cDialFailed                          // to the player
	cToPlayer                            // to the player: a message
	cClosed                              // to the player: the node closed it, or it broke
)

type connEvent struct {
	kind connEventKind
	conn *simConn
	msg  wire.Message
}

type simConn struct {
	p      *simPlayer
	id     client.ConnID
	node   *simNode
	boot   int // the start of the node it connected to
	svc    *svcConn
	left   bool // the player's side is closed
	dead   bool // the node's side is closed (or its process died)
	up     int64
	down   int64 // last delivery each way (streams keep order)
	closed bool  // the player was told it closed
}

func simAddr(id wire.NodeID) string { return fmt.Sprintf("n%d", id) }

func (s *sim) nodeAt(addr string) *simNode {
	id, err := strconv.Atoi(strings.TrimPrefix(addr, "n"))
	if err != nil || id < 1 || id > len(s.nodes) {
		return nil
	}
	return s.nodes[id-1]
}

// dialTimeout is the runtime's dial timeout, scaled as the cluster's
// timings are.
func (s *sim) dialTimeout() int64 { return 10 * int64(s.config(1).Heartbeat) }

func (s *sim) toPlayerAt(at int64, c *simConn, kind connEventKind, m wire.Message) {
	s.push(&msgEvent{at: at, cl: &connEvent{kind: kind, conn: c, msg: m}})
}

// upward queues an event for the node's side, after what the stream holds.
func (s *sim) upward(c *simConn, kind connEventKind, m wire.Message) {
	c.up = max(s.now+s.latency(), c.up)
	s.push(&msgEvent{at: c.up, to: c.node.id, cl: &connEvent{kind: kind, conn: c, msg: m}})
}

// downward queues events for the player's side, after what the stream
// holds, all at once (one write).
func (s *sim) downward(c *simConn, kind connEventKind, ms ...wire.Message) {
	c.down = max(s.now+s.latency(), c.down)
	if kind == cClosed {
		s.toPlayerAt(c.down, c, cClosed, nil)
		return
	}
	for _, m := range ms {
		s.toPlayerAt(c.down, c, kind, m)
	}
}

// roundTrip passes m through the codec, as the stream would.
func roundTrip(m wire.Message, lim wire.Limits) wire.Message {
	b, err := wire.AppendMessage(nil, m)
	if err != nil {
		panic(fmt.Sprintf("encode %s: %v", m.Type(), err))
	}
	out, err := wire.DecodeMessage(b, lim)
	if err != nil {
		panic(fmt.Sprintf("decode %s: %v", m.Type(), err))
	}
	return out
}

// dial opens a player's connection.
func (s *sim) dial(p *simPlayer, d client.Connect) {
	n := s.nodeAt(d.Addr)
	c := &simConn{p: p, id: d.Conn, node: n}
	p.conns[d.Conn] = c
	switch {
	case n == nil || (p.pin != 0 && n.id != p.pin) || n.mixed:
		s.toPlayerAt(s.now+s.latency(), c, cDialFailed, nil)
	case !n.up && n.silent:
		s.toPlayerAt(s.now+s.dialTimeout(), c, cDialFailed, nil)
	case !n.up:
		s.toPlayerAt(s.now+2*s.latency(), c, cDialFailed, nil)
	default:
		c.boot = n.boot
		s.upward(c, cAccept, nil)
		c.down = s.now + 2*s.latency()
		s.toPlayerAt(c.down, c, cDialed, nil)
	}
}

// playerSend puts a player's message on its connection.
func (s *sim) playerSend(p *simPlayer, id client.ConnID, m wire.Message) {
	c := p.conns[id]
	if c == nil || c.left {
		return
	}
	if s.drop > 0 && s.rng.Float64() < s.drop/2 {
		s.breakConn(c)
		return
	}
	s.upward(c, cToNode, roundTrip(m, wire.ClientLimits))
}

// playerClose closes a player's side: the node reads the end after what
// was sent.
func (s *sim) playerClose(p *simPlayer, id client.ConnID) {
	c := p.conns[id]
	if c == nil {
		return
	}
	delete(p.conns, id)
	c.left = true
	if c.boot != 0 {
		s.upward(c, cGone, nil)
	}
}

// nodeSend sends a player messages from the node, in one write.
func (s *sim) nodeSend(c *simConn, ms ...wire.Message) {
	if c.dead {
		return
	}
	for i, m := range ms {
		ms[i] = roundTrip(m, wire.ServerLimits)
	}
	s.downward(c, cToPlayer, ms...)
}

// nodeClose closes the node's side after what it sent; the node's service
// then hears that the connection is gone, as its reader would.
func (s *sim) nodeClose(c *simConn) {
	if c.dead {
		return
	}
	c.dead = true
	s.downward(c, cClosed)
	s.push(&msgEvent{at: s.now + s.latency(), to: c.node.id, cl: &connEvent{kind: cGone, conn: c}})
}

// breakConn: the connection fails at both ends.
func (s *sim) breakConn(c *simConn) {
	if !c.dead {
		c.dead = true
		s.downward(c, cClosed)
	}
	s.upward(c, cGone, nil)
}

// connsDie: n's process died. With the broken-link signal its players see
// their connections close; without, they hear nothing more.
func (s *sim) connsDie(n *simNode) {
	for _, p := range s.clients {
		for _, id := range sortedKeys(p.conns) {
			c := p.conns[id]
			if c.node != n || c.boot != n.boot || c.dead {
				continue
			}
			c.dead = true
			if !n.silent {
				s.downward(c, cClosed)
			}
		}
	}
}

// toService delivers a connection's event to a node that is up and running.
func (s *sim) toService(n *simNode, e *connEvent) {
	c := e.conn
	if c.boot != n.boot {
		// A connection to an earlier start of this node: reset.
		if e.kind == cToNode {
			s.downwardReset(c)
		}
		return
	}
	switch e.kind {
	case cAccept:
		if !c.dead {
			n.svc.accept(c)
		}
	case cToNode:
		if c.svc != nil && !c.dead {
			n.svc.message(c.svc, e.msg)
		}
	case cGone:
		if c.svc != nil {
			n.svc.gone(c.svc)
		}
	}
}

func (s *sim) downwardReset(c *simConn) {
	if !c.closed && !c.left {
		c.closed = true
		s.toPlayerAt(s.now+s.latency(), c, cClosed, nil)
	}
}

var errReset = errors.New("connection reset")

// toPlayer delivers a connection's event to its player.
func (s *sim) toPlayer(e *connEvent) {
	c, p := e.conn, e.conn.p
	if c.left || c.closed || p.quit {
		return
	}
	now := time.Unix(0, s.now)
	switch e.kind {
	case cDialed:
		p.core.Connected(now, c.id)
	case cDialFailed:
		c.closed = true
		delete(p.conns, c.id)
		p.core.DialFailed(now, c.id, errReset)
	case cToPlayer:
		p.core.Receive(now, c.id, e.msg)
	case cClosed:
		c.closed = true
		delete(p.conns, c.id)
		p.core.Closed(now, c.id, errReset)
	}
	p.drive()
}
