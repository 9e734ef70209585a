package replica

import (
	"fmt"

	"github.com/gridlock-game/gridlock/game"
)

// Chat as players see it. A node in session with a client sends it the
// room's lines with the welcome (and with each move to another room), then
// every new line of that room as it commits; the client takes them only on
// its current connection. The checks, on what the client shows: every
// player's lines of a room are gap-free (but for history older than the
// room keeps) and in order, and all players agree on each line (unless a
// partition's rollback replaced it).

// onRoom looks at a room the client shows: replaced whole, or changed by
// events.
func (p *simPlayer) onRoom(room *game.RoomView, evs []game.Event, replaced bool) {
	if replaced {
		p.chatSnapshot(room.Name, room.Chat)
		return
	}
	for _, ev := range evs {
		switch ev.Kind {
		case game.EvPlaced, game.EvMissed:
			if p.op == nil || ev.Session != p.session {
				continue
			}
			if pl, ok := p.op.cmd.(game.Place); ok && pl.Row == ev.Row && pl.Col == ev.Col {
				p.placedIn = ev.Room
			}
		case game.EvChat:
			if ev.Line != nil && ev.Room == p.chatRoom {
				p.chatLine(ev.Room, *ev.Line)
			}
		}
	}
}

// chatSnapshot checks a room's lines as a welcome or a move brought them.
func (p *simPlayer) chatSnapshot(room string, lines []game.ChatLine) {
	k := p.s.check
	p.chatRoom = room
	last := p.lastLine[room]
	if n := len(lines); n > 0 && lines[n-1].N < last {
		// The room's history is shorter than what it saw: a rollback
		// replaced it.
		if !k.diverged {
			k.fail("client %s: room %s's lines went back from %d to %d", p.name, room, last, lines[n-1].N)
		}
		last = 0
	}
	full := len(lines) >= p.s.config(1).Rules.ChatHistory
	first := true
	for _, l := range lines {
		if l.N <= last {
			continue
		}
		if first && last > 0 && l.N != last+1 && !full {
			k.fail("client %s: room %s jumps from line %d to %d on resuming", p.name, room, last, l.N)
		}
		first = false
		k.sawLine(p, room, l)
		last = l.N
	}
	p.lastLine[room] = last
}

// chatLine checks a line pushed as it committed.
func (p *simPlayer) chatLine(room string, l game.ChatLine) {
	k := p.s.check
	last := p.lastLine[room]
	if l.N <= last {
		return
	}
	if l.N != last+1 && last > 0 {
		k.fail("client %s: room %s jumps from line %d to %d", p.name, room, last, l.N)
	}
	k.sawLine(p, room, l)
	p.lastLine[room] = l.N
}

// sawLine checks that every player agrees on a line.
func (k *checker) sawLine(p *simPlayer, room string, l game.ChatLine) {
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
		k.fail("room %s line %d: %s saw %q, another client %q", room, l.N, p.name, text, prev)
	}
	m[l.N] = text
	k.linesSeen++
}
