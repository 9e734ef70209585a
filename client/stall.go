package client

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Time, and a primary that falls silent. While a request is out (a command
// or a ping) and nothing at all has been read since, the primary may be
// hung: after StallAfter the client asks every other node it knows for its
// view and listens to what they push; a view that names a newer primary
// (and the embedded node's view likewise) moves the session there. After
// DeadAfter of such silence the client gives up on the connection.

// Tick tells the core the time; it acts on what came due.
func (c *Core) Tick(now time.Time) {
	if c.stopped {
		return
	}
	c.now = now
	if c.conn == nil && !c.retryAt.IsZero() && !now.Before(c.retryAt) {
		c.newRound()
	}
	for _, w := range slices.Clone(c.watch) {
		if w.state == inSession && now.Sub(w.lastRead) >= c.cfg.DeadAfter {
			c.dropWatch(w)
		}
	}
	cc := c.conn
	if cc == nil {
		return
	}
	if cc.state == inHello && now.Sub(cc.since) >= c.cfg.HelloTimeout {
		c.close(cc.id)
		c.attemptFailed()
		return
	}
	if cc.state != inSession {
		return
	}
	if !c.resendAt.IsZero() && !now.Before(c.resendAt) {
		c.resendAt = time.Time{}
		for _, p := range c.pending {
			p.sent = false
		}
		c.flush()
	}
	if !now.Before(c.nextPing) {
		c.nonce++
		if c.pingAt.IsZero() || cc.lastRead.After(c.pingAt) {
			c.pingAt = now
		}
		c.send(cc.id, &wire.Ping{Nonce: c.nonce, Time: now.UnixNano()})
		c.flush()
		c.nextPing = now.Add(c.cfg.PingEvery)
	}
	c.checkStall(cc)
}

// stalledSince is when the oldest request still unanswered on the session's
// connection was sent, if nothing at all was read since; zero when none. (A
// frame read at the very time of a send does not answer it.)
func (c *Core) stalledSince() time.Time {
	last := c.conn.lastRead
	var oldest time.Time
	if !c.pingAt.IsZero() && !c.pingAt.Before(last) {
		oldest = c.pingAt
	}
	for i, p := range c.pending {
		if i >= c.cfg.Window {
			break // never sent on this connection
		}
		if p.sent && !p.at.Before(last) && (oldest.IsZero() || p.at.Before(oldest)) {
			oldest = p.at
		}
	}
	return oldest
}

func (c *Core) checkStall(cc *conn) {
	since := c.stalledSince()
	if since.IsZero() {
		c.stopWatch()
		return
	}
	silent := c.now.Sub(since)
	switch {
	case silent >= c.cfg.DeadAfter:
		c.logf(slog.LevelInfo, "the primary answers nothing: reconnecting", "node", fmt.Sprintf("n%d", cc.node))
		c.lost(errors.New("the primary answers nothing"))
	case !c.watching && silent >= c.cfg.StallAfter:
		c.startWatch(cc)
	}
}

// startWatch dials every other node known, to hear its view.
func (c *Core) startWatch(cc *conn) {
	c.watching = true
	var addrs []string
	add := func(a string) {
		if a != "" && a != cc.addr && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	views := []wire.ClusterView{c.view}
	if c.local.known {
		views = append(views, c.local.view)
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.ID != cc.node {
				add(clientAddrOf(n))
			}
		}
	}
	for _, a := range c.cfg.Addrs {
		add(a)
	}
	c.logf(slog.LevelDebug, "the primary is silent: watching the other nodes", "node", fmt.Sprintf("n%d", cc.node), "nodes", addrs)
	for _, a := range addrs {
		c.nextID++
		c.watch = append(c.watch, &conn{id: c.nextID, addr: a})
		c.out.Dials = append(c.out.Dials, Connect{Conn: c.nextID, Addr: a, Watch: true})
	}
}

func (c *Core) watchConn(id ConnID) *conn {
	for _, w := range c.watch {
		if w.id == id {
			return w
		}
	}
	return nil
}

func (c *Core) dropWatch(w *conn) {
	c.close(w.id)
	c.watch = slices.DeleteFunc(c.watch, func(x *conn) bool { return x == w })
}

func (c *Core) stopWatch() {
	for _, w := range c.watch {
		c.close(w.id)
	}
	c.watch = nil
	c.watching = false
}

// watchHeard handles what a watched node sent: its views, nothing else.
func (c *Core) watchHeard(w *conn, msg wire.Message) {
	w.lastRead = c.now
	v, ok := msg.(*wire.ClusterView)
	if !ok {
		c.dropWatch(w)
		return
	}
	c.move(*v)
}

// newer reports whether v names a primary newer than the session's.
func (c *Core) newer(v wire.ClusterView) bool {
	cc := c.conn
	return cc != nil && cc.state == inSession && v.Primary != 0 && v.Primary != cc.node && v.Epoch.After(cc.epoch)
}

// move leaves the session for the newer primary that v names, if it does.
func (c *Core) move(v wire.ClusterView) {
	if !c.newer(v) {
		return
	}
	cc := c.conn
	handover := false // the old primary lives on as a backup
	for _, n := range v.Nodes {
		if n.ID == v.Primary {
			c.prefer = clientAddrOf(n)
		}
		if n.ID == cc.node && n.Alive {
			handover = true
		}
	}
	if !c.cfg.Local {
		c.view = v
	}
	c.left, c.leftAddr, c.leftEpoch, c.leftUntil = cc.node, cc.addr, cc.epoch, c.now.Add(c.cfg.DeadAfter)
	c.logf(slog.LevelInfo, "a newer primary is known: moving", "from", fmt.Sprintf("n%d", cc.node), "to", fmt.Sprintf("n%d", v.Primary))
	err := errors.New("a newer primary is known")
	if handover {
		err = redirected{v.Primary}
	}
	c.lost(err)
}

// LocalChanged: the embedded node's view changed, or it has notices.
func (c *Core) LocalChanged(now time.Time, addr string, v wire.ClusterView, notices []wire.Notice) {
	if c.stopped {
		return
	}
	c.now = now
	c.local = localNode{known: true, addr: addr, view: v}
	c.view = v
	if c.left != 0 && v.Primary == c.left && v.Epoch.After(c.leftEpoch) {
		c.left, c.leftAddr = 0, "" // it leads again
	}
	if !sameView(c.shown, v) || !c.hasShown {
		// A node republishes its view as it ticks: only a change is news.
		c.shown, c.hasShown = cloneView(v), true
		c.emit(ViewChanged{EventInfo: c.info(), View: cloneView(v)})
	}
	for i := range notices {
		c.emit(Noticed{EventInfo: c.info(), Notice: notices[i]})
	}
	c.move(v)
}

// sameView reports whether two views show the same.
func sameView(a, b wire.ClusterView) bool {
	return a.Self == b.Self && a.Primary == b.Primary && a.Epoch == b.Epoch && a.Commit == b.Commit &&
		a.Quorum == b.Quorum && a.HasQuorum == b.HasQuorum && slices.Equal(a.Nodes, b.Nodes)
}
