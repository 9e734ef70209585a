package replica

import (
	"fmt"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Chat as clients see it. A node in session with a client sends it the
// room's lines with the welcome (and with each move to another room), then
// every new line of that room as it commits. A client takes lines only on
// its current connection and shows each line number once, in order. The
// checks: every client's lines of a room are gap-free (but for history older
// than the room keeps) and in order, and all clients agree on each line
// (unless a partition's rollback replaced it).

type chatSub struct {
	session game.SessionID
	room    string
	epoch   wire.Epoch
}

// pushChat sends the room lines an entry added to the clients in session
// on n (and a room's lines to a client that moved there).
func (s *sim) pushChat(n *simNode, a Applied) {
	for _, ev := range a.Events {
		switch ev.Kind {
		case game.EvChat:
			for _, idx := range sortedKeys(n.subs) {
				sub := n.subs[idx]
				if s.opts.skipLines > 0 && ev.Line != nil && ev.Line.N%uint64(s.opts.skipLines) == 0 {
					continue
				}
				if sub.room == ev.Room && sub.epoch == n.core.Epoch() && ev.Line != nil {
					s.reply(n, &clientRep{client: idx, chatRoom: ev.Room, chatLines: []game.ChatLine{*ev.Line}})
				}
			}
		case game.EvJoined:
			for _, idx := range sortedKeys(n.subs) {
				sub := n.subs[idx]
				if sub.session == ev.Session && sub.room != ev.Room {
					sub.room = ev.Room
					rv, _ := n.core.State().RoomView(ev.Room)
					s.reply(n, &clientRep{client: idx, chatRoom: ev.Room, chatSnap: true, chatLines: rv.Chat})
				}
			}
		}
	}
}

// onChat takes lines on the client's current connection.
func (c *simClient) onChat(r *clientRep) {
	if r.node != c.resumed || r.epoch != c.resumedEpoch {
		return // from a connection it no longer has
	}
	if c.lastLine == nil {
		c.lastLine = map[string]uint64{}
	}
	k := c.s.check
	room := r.chatRoom
	last := c.lastLine[room]
	lines := r.chatLines
	if r.chatSnap {
		c.chatRoom = room
		if n := len(lines); n > 0 && lines[n-1].N < last {
			// The room's history is shorter than what it saw: a
			// rollback replaced it.
			if !k.diverged {
				k.fail("client %s: room %s's lines went back from %d to %d", c.name, room, last, lines[n-1].N)
			}
			last = 0
		}
		full := len(lines) >= c.s.config(1).Rules.ChatHistory
		first := true
		for _, l := range lines {
			if l.N <= last {
				continue
			}
			if first && last > 0 && l.N != last+1 && !full {
				k.fail("client %s: room %s jumps from line %d to %d on resuming", c.name, room, last, l.N)
			}
			first = false
			k.sawLine(c, room, l)
			last = l.N
		}
		c.lastLine[room] = last
		return
	}
	if room != c.chatRoom {
		return
	}
	for _, l := range lines {
		if l.N <= last {
			continue
		}
		if l.N != last+1 && last > 0 {
			k.fail("client %s: room %s jumps from line %d to %d", c.name, room, last, l.N)
		}
		k.sawLine(c, room, l)
		last = l.N
	}
	c.lastLine[room] = last
}

// sawLine checks that every client agrees on a line.
func (k *checker) sawLine(c *simClient, room string, l game.ChatLine) {
	if k.lines == nil {
		k.lines = map[string]map[uint64]string{}
	}
	m := k.lines[room]
	if m == nil {
		m = map[uint64]string{}
		k.lines[room] = m
	}
	text := fmt.Sprintf("%s: %s", l.From, l.Text)
	if prev, ok := m[l.N]; ok && prev != text && !k.diverged {
		k.fail("room %s line %d: %s saw %q, another client %q", room, l.N, c.name, text, prev)
	}
	m[l.N] = text
	k.linesSeen++
}
