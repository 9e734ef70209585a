package client

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Finding the primary. A round tries the candidates one at a time: dial,
// say hello, and a welcome opens the session. A redirect ends the round
// (its address comes first in the next); a round that found no primary is
// followed by the next after a pause that doubles up to maxBackoff. A
// session that ends starts the next round at once.

var errClosed = errors.New("closed")

// redirected ends a session whose node stepped down, naming primary to as
// its successor (0: none, as when it leaves the cluster).
type redirected struct{ to wire.NodeID }

func (redirected) Error() string { return "the node is no longer primary" }

// candidates lists the addresses to try, best first: a redirect's, the
// primary's as last seen, the embedded node, the addresses given, then
// every node known; not the primary just left for a newer one.
func (c *Core) candidates() []string {
	var out []string
	skip := c.leftAddr
	if !c.now.Before(c.leftUntil) {
		skip = ""
	}
	add := func(a string) {
		if a != "" && a != skip && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	add(c.prefer)
	c.prefer = ""
	views := []wire.ClusterView{c.view}
	if c.local.known {
		views = []wire.ClusterView{c.local.view, c.view}
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.ID == v.Primary && n.Alive {
				add(clientAddrOf(n))
			}
		}
	}
	add(c.local.addr)
	for _, a := range c.cfg.Addrs {
		add(a)
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.Alive {
				add(clientAddrOf(n))
			}
		}
	}
	return out
}

func clientAddrOf(n wire.NodeInfo) string {
	if n.Advertise != "" {
		return n.Advertise
	}
	return n.ClientAddr
}

// newRound starts a round of candidates.
func (c *Core) newRound() {
	c.retryAt = time.Time{}
	c.round, c.next = c.candidates(), 0
	c.connectNext()
}

// connectNext dials the round's next candidate, or, when none is left,
// waits before the next round.
func (c *Core) connectNext() {
	if c.next < len(c.round) {
		addr := c.round[c.next]
		c.next++
		c.nextID++
		c.conn = &conn{id: c.nextID, addr: addr}
		c.out.Dials = append(c.out.Dials, Connect{Conn: c.nextID, Addr: addr})
		return
	}
	c.endRound()
}

func (c *Core) endRound() {
	c.round, c.next = nil, 0
	c.retryAt = c.now.Add(c.backoff)
	c.backoff = min(c.backoff*2, maxBackoff)
}

// attemptFailed: the candidate tried is not the primary (c.conn is gone).
func (c *Core) attemptFailed() {
	c.conn = nil
	c.status.Attempts++
	if c.prefer != "" {
		c.endRound() // a redirect: go there first
		return
	}
	c.connectNext()
}

// Connected: the runtime opened a connection the core asked for.
func (c *Core) Connected(now time.Time, id ConnID) {
	if c.stopped {
		return
	}
	c.now = now
	if w := c.watchConn(id); w != nil {
		w.state, w.since, w.lastRead = inSession, now, now
		c.send(id, &wire.Status{})
		return
	}
	cc := c.conn
	if cc == nil || cc.id != id || cc.state != dialling {
		return
	}
	cc.state, cc.since = inHello, now
	c.send(id, &wire.Hello{Version: wire.Version, Name: c.cfg.Name, Token: c.cfg.Token, LastLine: c.lastLine[c.room.Name], Watch: c.cfg.Watch})
}

// DialFailed: the runtime could not open a connection the core asked for.
func (c *Core) DialFailed(now time.Time, id ConnID, err error) {
	c.Closed(now, id, err)
}

// Closed: a connection broke (or the node closed it).
func (c *Core) Closed(now time.Time, id ConnID, err error) {
	if c.stopped {
		return
	}
	c.now = now
	if w := c.watchConn(id); w != nil {
		c.dropWatch(w)
		return
	}
	cc := c.conn
	if cc == nil || cc.id != id {
		return
	}
	if cc.state == inSession {
		c.lost(err)
		return
	}
	if err != nil {
		c.setStatus(func(s *Status) { s.LastError = err.Error() })
	}
	c.attemptFailed()
}

// helloAnswer handles the first message on a connection that said hello.
func (c *Core) helloAnswer(cc *conn, msg wire.Message) {
	switch m := msg.(type) {
	case *wire.Welcome:
		c.welcome(cc, m)
		return
	case *wire.Redirect:
		if m.Addr != "" && m.Addr != cc.addr {
			c.prefer = m.Addr
		}
		c.setStatus(func(s *Status) { s.VotersUp, s.VotersNeeded = int(m.Up), int(m.Need) })
	case *wire.Error:
		if m.Code == wire.ErrSession {
			c.close(cc.id)
			c.conn = nil
			c.fatal = errors.New(m.Text)
			c.emit(Refused{EventInfo: c.info(), Err: c.fatal})
			c.Stop(c.now)
			return
		}
		c.logf(slog.LevelInfo, "node refused the hello", "addr", cc.addr, "code", m.Code, "text", m.Text)
		c.setStatus(func(s *Status) { s.LastError = fmt.Sprintf("%s refused the hello: %s", cc.addr, m.Text) })
	default:
		// A node's peer port, say: say so, or the player waits with no
		// reason given.
		c.logf(slog.LevelInfo, "not a node's client port", "addr", cc.addr, "answer", m.Type())
		c.setStatus(func(s *Status) {
			s.LastError = fmt.Sprintf("%s answered the hello with a %s: give a node's client port", cc.addr, m.Type())
		})
	}
	c.close(cc.id)
	c.attemptFailed()
}

// welcome starts a session on the primary.
func (c *Core) welcome(cc *conn, m *wire.Welcome) {
	cc.state, cc.node, cc.epoch, cc.lastRead = inSession, m.Node, m.Epoch, c.now
	key := sessionKey{m.Cluster, m.Session}
	resumed := c.session == key
	if !c.cfg.Local {
		c.view = m.View
		c.emit(ViewChanged{EventInfo: c.info(), View: cloneView(m.View)})
	}
	c.room, c.hasRoom, c.index = m.Room, true, m.Index
	c.checkDone(m, key)
	c.dropForeign(m, key)
	if !resumed {
		// Number on from the highest command the session has answered
		// (an earlier run of the app's, if it was resumed with its token).
		c.seqBase = 0
		for _, r := range m.Done {
			c.seqBase = max(c.seqBase, r.Seq)
		}
	}
	c.session = key
	for _, p := range c.pending {
		p.sent = false
	}
	c.setStatus(func(s *Status) {
		s.State = Connected
		s.Node, s.Epoch, s.Addr = m.Node, m.Epoch, cc.addr
		s.Lost, s.Handover, s.Successor = 0, 0, 0
		s.Session, s.Name, s.Watch = m.Session, m.Name, m.Watch
		s.Resumed = resumed
		s.Attempts, s.LastError = 0, ""
		s.VotersUp, s.VotersNeeded = 0, 0
	})
	c.emitRoom(nil)
	c.welcomes++
	c.left, c.leftAddr = 0, ""
	c.round, c.next, c.backoff = nil, 0, minBackoff
	c.nonce, c.pingAt, c.resendAt, c.watching = 0, time.Time{}, time.Time{}, false
	c.nextPing = c.now.Add(c.cfg.PingEvery)
	c.flush()
}

// lost ends the session: the app hears that the primary is gone, and the
// next round starts at once.
func (c *Core) lost(err error) {
	cc := c.conn
	c.close(cc.id)
	c.conn = nil
	c.stopWatch()
	c.logf(slog.LevelInfo, "lost the primary", "node", fmt.Sprintf("n%d", cc.node), "error", err)
	c.setStatus(func(s *Status) {
		s.State = Failover
		s.Lost, s.Handover, s.Successor = cc.node, 0, 0
		var rd redirected
		if errors.As(err, &rd) {
			s.Lost, s.Handover, s.Successor = 0, cc.node, rd.to
		}
		s.Resumed = false
	})
	c.newRound()
}
