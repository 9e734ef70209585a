package replica

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// service is the simulation's stand-in for the runtime's client service
// (node/service.go), with its rules: HELLO opens or resumes a session
// (logged, answered after commit with WELCOME and the room), commands are
// answered after commit (a repeat at once, from the dedupe table), committed
// events go to the players of the room and of the session, and views to
// players and watchers as they change. A node that does not serve answers
// with REDIRECT and closes; one that stops being primary redirects every
// player. Left out, as the simulated players never meet them: rate limits,
// queries, the bound on connections, and the batching delay (what a commit
// brings goes out at once).
type service struct {
	s         *sim
	n         *simNode
	conns     []*svcConn // in the order they arrived
	opening   map[string][]*svcConn
	waiting   map[dedupeKey]*svcConn
	bySession map[game.SessionID]*svcConn
	touched   []*svcConn
	serving   bool
	pushed    wire.ClusterView
	viewAt    int64 // when the view was last looked at
}

type svcConn struct {
	c          *simConn
	hello      bool // in session
	helloSent  bool
	session    game.SessionID
	name       string
	token      string
	room       string
	inRoom     bool
	welcome    bool // send WELCOME with this batch
	roomState  bool // send the whole room with this batch
	events     []game.Event
	acks       []wire.Message
	inBatch    bool
	watchViews bool
	gone       bool
}

func newService(s *sim, n *simNode) *service {
	return &service{s: s, n: n, opening: map[string][]*svcConn{}, waiting: map[dedupeKey]*svcConn{}, bySession: map[game.SessionID]*svcConn{}}
}

func (v *service) accept(c *simConn) {
	sc := &svcConn{c: c}
	c.svc = sc
	v.conns = append(v.conns, sc)
}

func (v *service) gone(c *svcConn) {
	if c.gone {
		return
	}
	c.gone = true
	v.conns = slices.DeleteFunc(v.conns, func(x *svcConn) bool { return x == c })
	c.inRoom = false
	if c.session != 0 && v.bySession[c.session] == c {
		delete(v.bySession, c.session)
		if v.n.core.Serving() {
			_, _ = v.n.core.Propose(0, 0, game.Disconnect{Session: c.session})
		}
	}
}

func (v *service) send(c *svcConn, ms ...wire.Message) { v.s.nodeSend(c.c, ms...) }

func (v *service) fail(c *svcConn, code wire.ErrCode, format string, args ...any) {
	v.send(c, &wire.Error{Code: code, Text: fmt.Sprintf(format, args...)})
	v.s.nodeClose(c.c)
}

// redirect tells the player where the primary is, and closes.
func (v *service) redirect(c *svcConn) {
	core := v.n.core
	r := &wire.Redirect{Epoch: core.Epoch()}
	if l := core.Leader(); l != 0 && l != v.n.id && core.Alive(l) {
		r.Leader, r.Addr = l, simAddr(l)
	}
	v.send(c, r)
	v.s.nodeClose(c.c)
}

func (v *service) message(c *svcConn, m wire.Message) {
	core := v.n.core
	switch m := m.(type) {
	case *wire.Ping:
		v.send(c, &wire.Pong{Nonce: m.Nonce, Time: m.Time})
	case *wire.Status:
		view := v.s.nodeView(v.n)
		v.send(c, &view)
		c.watchViews = true
	case *wire.Hello:
		if c.helloSent {
			v.fail(c, wire.ErrUnexpected, "hello twice")
			return
		}
		c.helloSent = true
		if err := wire.CheckVersion(m.Version); err != nil {
			v.fail(c, wire.ErrBadVersion, "%v", err)
			return
		}
		if len(m.Token) < 16 {
			v.fail(c, wire.ErrSession, "a session token of at least 16 characters is required")
			return
		}
		if !core.Serving() {
			v.redirect(c)
			return
		}
		c.token = m.Token
		if _, err := core.Propose(0, 0, game.OpenSession{Name: m.Name, Token: m.Token}); err != nil {
			v.redirect(c)
			return
		}
		v.opening[m.Token] = append(v.opening[m.Token], c)
	case *wire.Command:
		if !c.hello {
			v.fail(c, wire.ErrUnexpected, "send hello first")
			return
		}
		p, err := core.Propose(c.session, m.Seq, m.Cmd)
		switch {
		case errors.Is(err, ErrNoQuorum):
			v.send(c, &wire.Redirect{Epoch: core.Epoch()}) // no primary just now: retry
		case err != nil:
			v.redirect(c)
		case p.Done:
			c.acks = append(c.acks, ackOf(m.Seq, 0, p.Result))
			v.touch(c)
			v.flush()
		default:
			v.waiting[dedupeKey{c.session, m.Seq}] = c
		}
	default:
		v.fail(c, wire.ErrUnexpected, "a client does not send %s", m.Type())
	}
}

func ackOf(seq, index uint64, r game.Result) *wire.Ack {
	a := &wire.Ack{Seq: seq, Index: index, Points: r.Points}
	if r.Err != nil {
		a.Code, a.Who, a.Room = r.Err.Code, r.Err.Who, r.Err.Room
	}
	return a
}

func (v *service) touch(c *svcConn) {
	if !c.inBatch {
		c.inBatch = true
		v.touched = append(v.touched, c)
	}
}

// committed answers and pushes what the core committed.
func (v *service) committed(rd Ready) {
	core := v.n.core
	serving := core.Role() == wire.RolePrimary
	if v.serving && !serving {
		// No longer primary: every player goes to the new one.
		for _, c := range slices.Clone(v.conns) {
			if c.helloSent {
				v.redirect(c)
			}
		}
		clear(v.opening)
		clear(v.waiting)
		for _, c := range v.touched {
			c.inBatch, c.events, c.acks = false, nil, nil
		}
		v.touched = v.touched[:0]
	}
	v.serving = serving
	if !serving {
		return
	}
	for i := range rd.Committed {
		a := &rd.Committed[i]
		if o, ok := a.Entry.Cmd.(game.OpenSession); ok && a.Epoch == core.Epoch() {
			// Only an entry of this office answers a HELLO it took, as in
			// package node: an older one with the same token (an earlier
			// resume, applied late by a primary that was behind, this
			// node's own before a restart too) comes before entries the
			// player was answered for.
			for _, c := range v.opening[o.Token] {
				v.opened(c, a.Result)
			}
			delete(v.opening, o.Token)
		} else if a.Entry.Session != 0 {
			k := dedupeKey{a.Entry.Session, a.Entry.Seq}
			if c := v.waiting[k]; c != nil {
				delete(v.waiting, k)
				c.acks = append(c.acks, ackOf(a.Entry.Seq, a.Index, a.Result))
				v.touch(c)
			}
		}
		for _, ev := range a.Events {
			v.route(ev)
		}
	}
	v.flush()
}

func (v *service) opened(c *svcConn, r game.Result) {
	if c.gone {
		return
	}
	if r.Err != nil {
		v.fail(c, wire.ErrSession, "%s", r.Err.Error())
		return
	}
	sv, ok := v.n.core.State().Session(r.Session)
	if !ok {
		v.fail(c, wire.ErrSession, "session vanished")
		return
	}
	if old := v.bySession[r.Session]; old != nil && old != c {
		v.send(old, &wire.Error{Code: wire.ErrSession, Text: "session resumed on another connection"})
		v.s.nodeClose(old.c)
		old.session = 0
		old.inRoom = false
	}
	c.hello, c.session, c.name = true, r.Session, sv.Name
	v.bySession[r.Session] = c
	c.room, c.inRoom = sv.Room, true
	c.welcome = true
	c.events = c.events[:0]
	v.touch(c)
}

// route gives an event to the players it concerns.
func (v *service) route(ev game.Event) {
	if k := v.s.opts.skipLines; k > 0 && ev.Kind == game.EvChat && ev.Line != nil && ev.Line.N%uint64(k) == 0 {
		return // the fault the chat checks must catch
	}
	if ev.Kind == game.EvViewChange {
		for _, c := range v.conns {
			if c.hello {
				v.give(c, ev)
			}
		}
		return
	}
	if ev.Session != 0 {
		if c := v.bySession[ev.Session]; c != nil {
			if ev.Kind == game.EvJoined && ev.Room != c.room {
				// The player moved: the new room goes out whole with the
				// batch; first what it saw of the old one.
				c.room, c.inRoom = ev.Room, true
				c.roomState = true
				v.touch(c)
			}
			if ev.Room != c.room {
				v.give(c, ev)
			}
		}
	}
	for _, c := range v.conns {
		if c.inRoom && c.room == ev.Room {
			v.give(c, ev)
		}
	}
}

func (v *service) give(c *svcConn, ev game.Event) {
	if (c.welcome || c.roomState) && ev.Room == c.room {
		return // the whole room goes with the batch
	}
	c.events = append(c.events, ev)
	v.touch(c)
}

// flush sends each touched player what waits for it, in one write:
// welcome, events, room, answers.
func (v *service) flush() {
	core := v.n.core
	applied := core.Applied()
	for _, c := range v.touched {
		c.inBatch = false
		if c.gone || c.c.dead {
			c.events, c.acks, c.welcome, c.roomState = nil, nil, false, false
			continue
		}
		room := func() game.RoomView {
			rv, _ := core.State().RoomView(c.room)
			return rv
		}
		var out []wire.Message
		if c.welcome {
			c.welcome, c.roomState = false, false
			done, from := core.State().Results(c.session)
			out = append(out, &wire.Welcome{Node: v.n.id, Epoch: core.Epoch(), Session: c.session, Name: c.name, Token: c.token,
				Index: applied, Room: room(), View: v.s.nodeView(v.n), Done: done, DoneFrom: from, Cluster: core.State().ClusterID()})
			c.events = nil
		}
		if len(c.events) > 0 {
			out = append(out, &wire.Events{Index: applied, Events: c.events})
			c.events = nil
		}
		if c.roomState {
			c.roomState = false
			out = append(out, &wire.RoomState{Index: applied, Room: room()})
		}
		out = append(out, c.acks...)
		c.acks = nil
		if len(out) > 0 {
			v.send(c, out...)
		}
	}
	v.touched = v.touched[:0]
}

// publish pushes the node's view to its players and watchers, and to the
// players whose app embeds it, when who is where changed (looked at, as the runtime does, when the role changed,
// with notices, or a heartbeat after the last look).
func (v *service) publish(rd Ready) {
	if !rd.RoleChanged && len(rd.Notices) == 0 && v.s.now-v.viewAt <= int64(v.s.config(1).Heartbeat) {
		return
	}
	v.viewAt = v.s.now
	notices := len(rd.Notices) > 0
	view := v.s.nodeView(v.n)
	for _, p := range v.s.clients {
		if p.local == v.n && (notices || !viewsEqual(p.localView, view)) {
			// The app's embedded node wakes its watchers.
			p.localView = view
			p.core.LocalChanged(time.Unix(0, v.s.now), simAddr(v.n.id), view, rd.Notices)
			p.drive()
		}
	}
	if viewsEqual(v.pushed, view) && !notices {
		return
	}
	v.pushed = view
	for _, c := range v.conns {
		if c.hello || c.watchViews {
			w := view
			v.send(c, &w)
		}
	}
}

// nodeView is the node's view with the players' addresses filled in.
func (s *sim) nodeView(n *simNode) wire.ClusterView {
	v := n.core.View()
	for i := range v.Nodes {
		v.Nodes[i].ClientAddr = simAddr(v.Nodes[i].ID)
	}
	return v
}

// viewsEqual compares views but for progress (commit indexes, lags).
func viewsEqual(a, b wire.ClusterView) bool {
	if a.Self != b.Self || a.Primary != b.Primary || a.Epoch != b.Epoch || a.HasQuorum != b.HasQuorum || len(a.Nodes) != len(b.Nodes) {
		return false
	}
	for i := range a.Nodes {
		x, y := a.Nodes[i], b.Nodes[i]
		x.Commit, y.Commit, x.Last, y.Last, x.Lag, y.Lag = 0, 0, 0, 0, 0, 0
		if x != y {
			return false
		}
	}
	return true
}
