package node

import (
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// A new room's first puzzle is made by the primary before it proposes the
// room's creation, off its loop, and goes in the entry (CreateRoom.Dealt):
// no replica generates it in Apply, where a hard 9×9 (2–25 ms) stalled every
// room of every node. Only the creator waits; its later commands wait
// behind the creation, in order.

// deal gives cr its puzzle if it is made, and otherwise holds m until it is
// and reports false. dealing: m was held already; it goes out as it is.
func (s *service) deal(c *clientConn, m *wire.Command, cr game.CreateRoom, dealing bool) bool {
	n := s.n
	size, d, seed, ok := n.core.State().RoomPuzzle(cr)
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
		if dealing {
			return true // evicted and started again: Apply generates it
		}
	}
	c.held = append(c.held, m)
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
