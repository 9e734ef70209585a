package node

import (
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// A new room's first puzzle is made by the primary before it proposes the
// room's creation, off its loop, and goes in the entry (CreateRoom.Dealt):
// no replica generates it in Apply, where a hard 9×9 (2–25 ms) stalled every
// room of every node. Only the creator waits; its later commands wait
// behind the creation, in order. The puzzle's seed depends on the room's
// serial, which is known only when the entry is applied: the primary counts
// the creations proposed ahead of it, and Apply takes a puzzle dealt for a
// serial near the room's (game.State.RoomPuzzle), so rooms created at the
// same moment are all dealt.

// proposedAt is a log entry this node proposed as primary.
type proposedAt struct {
	epoch wire.Epoch
	index uint64
}

// deal gives cr its puzzle if it is made, and otherwise holds m until it is
// and reports false. dealing: m was held already; it goes out as it is,
// with its puzzle if that was made.
func (s *service) deal(c *clientConn, m *wire.Command, cr game.CreateRoom, dealing bool) bool {
	n := s.n
	if dealing {
		e := c.dealing
		c.dealing = nil
		if e != nil {
			select {
			case <-e.done:
				if p := e.made(); p != nil {
					cr.Dealt = p
					m.Cmd = cr
				}
			default:
			}
		}
		return true
	}
	size, d, seed, ok := n.core.State().RoomPuzzle(cr, s.creatingAhead())
	if !ok || !n.core.Serving() {
		return true // refused, or sent to the primary, as before
	}
	e := puzzles.start(size, d, seed)
	select {
	case <-e.done:
		if p := e.made(); p != nil {
			cr.Dealt = p
			m.Cmd = cr
		}
		return true
	default:
	}
	c.held = append(c.held, m)
	c.dealing = e
	go func() {
		select {
		case <-e.done:
		case <-c.gone:
			return
		case <-n.quit:
			return
		}
		select {
		case s.in <- input{kind: inCall, call: func() { s.release(c) }}:
		case <-c.gone:
		case <-n.quit:
		}
	}()
	return false
}

// creatingAhead counts the rooms' creations this node proposed in its
// epoch that are not applied yet.
func (s *service) creatingAhead() uint64 {
	core := s.n.core
	keep := s.creating[:0]
	for _, p := range s.creating {
		if p.epoch == core.Epoch() && p.index > core.Applied() {
			keep = append(keep, p)
		}
	}
	s.creating = keep
	return uint64(len(keep))
}

// release proposes c's held commands, in order, until one is held again.
func (s *service) release(c *clientConn) {
	if s.clients[c.id] != c {
		return // gone meanwhile
	}
	held := c.held
	c.held = nil
	for i, m := range held {
		if !s.propose(c, m, i == 0) {
			c.held = append(c.held, held[i+1:]...)
			return
		}
	}
}
