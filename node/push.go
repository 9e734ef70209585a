package node

import (
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// What commits become for the clients: answers to their commands, the
// sessions they opened, and the events of their rooms (fanout.go), batched
// and sent without stalling the node's loop.

func (s *service) touch(c *clientConn) {
	if !c.inBatch {
		c.inBatch = true
		s.touched = append(s.touched, c)
	}
}

// committed answers and pushes what the core committed.
func (s *service) committed(rd replica.Ready) {
	n := s.n
	clear(s.rooms) // the state may have moved on
	puzzles.aheadOf(n.core.State(), rd.Committed)
	serving := n.core.Role() == wire.RolePrimary
	if s.serving && !serving {
		// No longer primary: every player goes to the new one.
		s.redirectAll()
		clear(s.opening)
		clear(s.waiting)
		for _, q := range [][]*clientConn{s.later, s.now, s.pushes} {
			for _, c := range q {
				c.isLater, c.isNow, c.acks = false, false, nil
			}
		}
		s.later, s.now, s.pushes = s.later[:0], s.now[:0], s.pushes[:0]
		s.dropFeeds()
	}
	s.serving = serving
	if !serving {
		return
	}
	for i := range rd.Committed {
		a := &rd.Committed[i]
		if o, ok := a.Entry.Cmd.(game.OpenSession); ok && a.Epoch == n.core.Epoch() { // an earlier office's is an earlier HELLO's
			s.openedFor(s.opening[o.Token], a.Result)
			delete(s.opening, o.Token)
		} else if a.Entry.Session != 0 {
			k := dedupeKey{a.Entry.Session, a.Entry.Seq}
			if c := s.waiting[k]; c != nil {
				delete(s.waiting, k)
				c.acks = append(c.acks, ackOf(a.Entry.Seq, a.Index, a.Result))
				s.touch(c)
			}
		}
		for j := range a.Events {
			s.route(&a.Events[j])
		}
	}
	s.flush()
}

// openedFor answers the connections whose HELLO opened (or resumed) a
// session. A connection that closed before its session opened is not
// given it: were none of them left, nobody would hold the session while
// the state has it connected, never disconnected, so that its grace never
// ran and its name stayed taken. It is disconnected instead, as a player
// whose connection closes after its Welcome is.
func (s *service) openedFor(cs []*clientConn, r game.Result) {
	for _, c := range cs {
		if s.clients[c.id] == c {
			s.opened(c, r)
		}
	}
	if r.Err == nil && s.bySession[r.Session] == nil && s.n.core.Serving() {
		_, _ = s.n.core.Propose(0, 0, game.Disconnect{Session: r.Session})
	}
}

func (s *service) opened(c *clientConn, r game.Result) {
	if r.Err != nil {
		s.fail(c, wire.ErrSession, "%s", r.Err.Error())
		return
	}
	sv, ok := s.n.core.State().Session(r.Session)
	if !ok {
		s.fail(c, wire.ErrSession, "session vanished")
		return
	}
	if old := s.bySession[r.Session]; old != nil && old != c {
		old.send(&wire.Error{Code: wire.ErrSession, Text: "session resumed on another connection"})
		old.closeAfter()
		old.session = 0
		s.leaveRoom(old)
	}
	c.hello = true
	c.session = r.Session
	c.name = sv.Name
	c.watch = sv.Watch
	s.bySession[r.Session] = c
	s.joinRoom(c, sv.Room)
	c.welcome = true
	c.own.Reset()
	s.touch(c)
}

// Sending. Answers, welcomes and rooms go out at once; events for one
// client only are batched: a client with no answer waiting gets them at
// most pushDelay late, with whatever else came meanwhile, in one write (or
// with its next answer). Rooms' events are pushed as often (fanout.go).
// The node's loop sends for at most sendBudget at a time, answers first,
// so that a burst of sends to many clients never stalls it.
const (
	pushDelay     = 50 * time.Millisecond
	pushMaxEvents = 256 // sooner, when this many wait
	sendBudget    = 5 * time.Millisecond
)

// flush queues each touched client: to send now (it has an answer, a
// welcome or a room waiting, or many events), or with the next push.
func (s *service) flush() {
	for _, c := range s.touched {
		c.inBatch = false
		if c.welcome || c.roomState || len(c.acks) > 0 || c.own.Len() >= pushMaxEvents {
			if !c.isNow {
				c.isNow = true
				s.now = append(s.now, c)
			}
			continue
		}
		if !c.isLater {
			c.isLater = true
			if len(s.later) == 0 {
				s.laterAt = time.Now()
			}
			s.later = append(s.later, c)
		}
	}
	s.touched = s.touched[:0]
}

// pushLater pushes the rooms' events that waited pushDelay, moves the
// clients whose own events waited as long to the queue of pushes, and
// resynchronises clients that fell behind and have caught up.
func (s *service) pushLater(now time.Time) {
	if len(s.due) > 0 {
		s.pushFeeds(now)
	}
	if len(s.behind) > 0 {
		s.resync()
	}
	if len(s.later) == 0 || now.Sub(s.laterAt) < pushDelay {
		return
	}
	s.pushes = append(s.pushes, s.later...)
	clear(s.later)
	s.later = s.later[:0]
}

// pushesLater reports whether pushes wait for a later turn.
func (s *service) pushesLater() bool { return len(s.later) > 0 || len(s.due) > 0 || len(s.behind) > 0 }

// sending reports whether sends wait.
func (s *service) sending() bool { return len(s.now) > 0 || len(s.pushes) > 0 }

// send sends what waits, answers first, for about sendBudget.
func (s *service) send() {
	if !s.sending() {
		return
	}
	start := time.Now()
	k := 0
	for ; k < len(s.now); k++ {
		if k%16 == 15 && time.Since(start) > sendBudget {
			break
		}
		if c := s.now[k]; c.isNow {
			s.sendBatch(c)
		}
	}
	s.now = shift(s.now, k)
	if len(s.now) > 0 {
		return
	}
	k = 0
	for ; k < len(s.pushes); k++ {
		if k%16 == 15 && time.Since(start) > sendBudget {
			break
		}
		if c := s.pushes[k]; c.isLater {
			s.sendBatch(c)
		}
	}
	s.pushes = shift(s.pushes, k)
}

// shift drops the first k clients of q.
func shift(q []*clientConn, k int) []*clientConn {
	if k == len(q) {
		clear(q)
		return q[:0]
	}
	n := copy(q, q[k:])
	clear(q[n:])
	return q[:n]
}

// sendBatch sends a client what waits for it in one write: the room's
// events it has not had, its own, a whole room, its answers. s.rooms caches
// room views for the turn; a whole room goes out with the session's own
// notes.
func (s *service) sendBatch(c *clientConn) {
	n := s.n
	c.isLater, c.isNow = false, false
	st := n.core.State()
	applied := n.core.Applied()
	room := func() game.RoomView {
		rv := s.rooms[c.room]
		if rv == nil {
			v, _ := st.RoomView(c.room)
			rv = &v
			s.rooms[c.room] = rv
		}
		v := *rv
		if sv, ok := st.Session(c.session); ok && sv.Room == c.room {
			v.Notes = st.Notes(c.session)
		}
		return v
	}
	var buf []byte
	add := func(m wire.Message) {
		if b, err := wire.AppendFrame(buf, m); err == nil {
			buf = b
		} else {
			n.log.Error("frame not sent", "type", m.Type(), "error", err)
		}
	}
	if c.welcome {
		c.welcome, c.roomState = false, false
		v := n.View()
		done, from := st.Results(c.session)
		add(&wire.Welcome{Node: n.ID(), Epoch: n.core.Epoch(), Session: c.session, Name: c.name, Token: c.token, Index: applied, Room: room(), View: v,
			Done: done, DoneFrom: from, Watch: c.watch, Cluster: st.ClusterID()})
		c.own.Reset()
		c.feedFrom = s.feedLen(c.room)
	} else if c.own.Len() > 0 {
		s.catchUp(c)
	} else {
		buf = s.appendFeed(buf, c, applied)
	}
	if c.own.Len() > 0 {
		buf = c.own.AppendFrame(buf, applied, 0, -1, "")
		c.own.Reset()
		if c.own.Cap() > maxKeptOwn {
			c.own = wire.EventBatch{}
		}
	}
	if c.roomState {
		c.roomState = false
		add(&wire.RoomState{Index: applied, Room: room()})
		c.feedFrom = s.feedLen(c.room)
	}
	for _, a := range c.acks {
		add(a)
	}
	clear(c.acks)
	c.acks = c.acks[:0]
	if len(buf) > 0 {
		c.enqueue(buf)
	}
}

// maxKeptOwn is the memory a client keeps for its own next events.
const maxKeptOwn = 2 << 10
