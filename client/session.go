package client

import (
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// In session. Commands go out up to the window; a new connection gets every
// unanswered one again with its sequence number (the cluster answers a
// repeat with its first result). The room copy follows the pushed events.

// Receive: a message arrived on a connection.
func (c *Core) Receive(now time.Time, id ConnID, msg wire.Message) {
	if c.stopped {
		return
	}
	c.now = now
	if w := c.watchConn(id); w != nil {
		c.watchHeard(w, msg)
		return
	}
	cc := c.conn
	if cc == nil || cc.id != id {
		return // a connection the core has left
	}
	switch cc.state {
	case inHello:
		c.helloAnswer(cc, msg)
	case inSession:
		cc.lastRead = now
		c.sessionMessage(cc, msg)
	}
}

func (c *Core) sessionMessage(cc *conn, msg wire.Message) {
	switch m := msg.(type) {
	case *wire.Ack:
		c.acked(m)
	case *wire.Events:
		for _, ev := range m.Events {
			if ev.Kind == game.EvNotes && ev.Session != c.status.Session {
				continue // not this player's notes
			}
			if ev.Room == c.room.Name || ev.Room == "" {
				c.room.ApplyEvent(ev)
			}
		}
		c.index = m.Index
		c.emitRoom(m.Events)
	case *wire.RoomState:
		c.room, c.index = m.Room, m.Index
		c.emitRoom(nil)
	case *wire.ClusterView:
		c.view = *m
		if !c.cfg.Local {
			c.emit(ViewChanged{EventInfo: c.info(), View: cloneView(*m)})
		}
	case *wire.Pong:
		rtt := time.Duration(c.now.UnixNano() - m.Time)
		c.setStatus(func(s *Status) { s.RTT = rtt })
	case *wire.QueryReply:
		c.emit(Replied{EventInfo: c.info(), Reply: m})
	case *wire.Redirect:
		var to wire.NodeID
		if m.Addr != "" {
			c.prefer, to = m.Addr, m.Leader
		}
		c.lost(redirected{to})
		c.setStatus(func(s *Status) { s.VotersUp, s.VotersNeeded = int(m.Up), int(m.Need) })
	case *wire.Error:
		if m.Code == wire.ErrRateLimited {
			// Unanswered commands go out again after a pause.
			if c.resendAt.IsZero() {
				c.resendAt = c.now.Add(ratePause)
				c.emit(Throttled{EventInfo: c.info(), Text: m.Text})
			}
			return
		}
		c.lost(fmt.Errorf("%s: %s", m.Code, m.Text))
	}
}

// acked resolves an answered command.
func (c *Core) acked(m *wire.Ack) {
	i := slices.IndexFunc(c.pending, func(p *pendingCmd) bool { return p.seq+c.seqBase == m.Seq })
	if i < 0 {
		return // answered before (a resend)
	}
	p := c.pending[i]
	c.pending = slices.Delete(c.pending, i, i+1)
	res := game.Result{Points: m.Points}
	if m.Code != game.OK {
		res.Err = &game.Error{Code: m.Code, Who: m.Who, Room: m.Room}
	}
	a := Ack{Seq: p.seq, Cmd: p.cmd, Result: res, Index: m.Index, RTT: c.now.Sub(p.first), Wire: m.Seq}
	c.remember(a)
	c.emit(Answered{EventInfo: c.info(), Ack: a})
	c.flush()
}

// dropForeign answers, without sending them, the unanswered commands that
// the player aimed at a board or room of a session the cluster no longer
// knows (it expired, or a restart lost it): in the new session they would
// land on whatever board it shows. Whether the old session's cluster made
// them is unknown; the player sees the new board and can act again.
func (c *Core) dropForeign(m *wire.Welcome, key sessionKey) {
	keep := c.pending[:0]
	for _, p := range c.pending {
		if p.session == (sessionKey{}) || p.session == key || !boundTo(p.cmd, p.room, m.Room.Name) {
			keep = append(keep, p)
			continue
		}
		a := Ack{Seq: p.seq, Cmd: p.cmd, Result: game.Result{Err: &game.Error{Code: game.ErrNoSession, Room: p.room}}, RTT: c.now.Sub(p.first), NotSent: true}
		c.emit(Answered{EventInfo: c.info(), Ack: a})
	}
	clear(c.pending[len(keep):])
	c.pending = keep
}

// boundTo reports whether cmd, sent while the player was in room was, means
// something else in room now: a move always (the board may be another), a
// chat line or a leave when the room differs.
func boundTo(cmd game.Command, was, now string) bool {
	switch cmd.(type) {
	case game.Place, game.Claim, game.Release, game.Note, game.ClearNotes:
		return true
	case game.Chat, game.LeaveRoom:
		return was != now
	}
	return false
}

// flush sends the commands not yet sent on the session's connection, up to
// the window.
func (c *Core) flush() {
	id := c.Session()
	if id == 0 {
		return
	}
	for i, p := range c.pending {
		if i >= c.cfg.Window {
			break
		}
		if !p.sent {
			p.sent, p.at = true, c.now
			c.send(id, &wire.Command{Seq: p.seq + c.seqBase, Cmd: p.cmd})
		}
	}
}

// emitRoom tells the app the room changed, with the events that changed it
// (nil: it was replaced).
func (c *Core) emitRoom(evs []game.Event) {
	var room *game.RoomView
	if !c.cfg.NoRoomCopies {
		r := cloneRoom(c.room)
		room = &r
	}
	c.heardRollbacks(evs)
	c.emit(RoomChanged{EventInfo: c.info(), Room: room, Events: evs, Replaced: evs == nil})
	if n := len(c.room.Chat); n > 0 {
		c.lastLine[c.room.Name] = c.room.Chat[n-1].N
	}
}
