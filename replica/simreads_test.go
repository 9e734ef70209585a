package replica

import (
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/gridlock-game/gridlock/wire"
)

// Checked reads (simOpts.reads). A reader asks whichever node believes it
// leads to read a cell of a room (Core.Read), as a status or room query
// would, and takes the cell from that node's state once the core says the
// read may be answered. The reads join the placements in the
// linearizability check: a deposed primary that answered from its own
// state would show a cell as it was before a placement another primary
// acknowledged.

type simRead struct {
	node *simNode
	boot int
	call int64
	room string
	cell int
	size int
	puz  string // the puzzle it was asked of
}

// readInput is the input of a read in the board model.
type readInput struct {
	room string
	cell int
}

// readOp asks a node that believes it leads for one read.
func (s *sim) readOp() {
	var cands []*simNode
	for _, n := range s.nodes {
		if n.up && !n.paused && n.core.Role() == wire.RolePrimary {
			cands = append(cands, n)
		}
	}
	if len(cands) == 0 {
		return
	}
	n := cands[s.rng.IntN(len(cands))]
	rooms := n.core.State().Rooms()
	if len(rooms) == 0 {
		return
	}
	v, ok := n.core.State().RoomView(rooms[s.rng.IntN(len(rooms))].Name)
	size := int(v.Puzzle.Size)
	if !ok || size == 0 {
		return
	}
	cell := s.rng.IntN(size * size)
	if v.Puzzle.Givens[cell] != 0 {
		return
	}
	s.readSeq++
	if n.core.Read(s.readSeq) != nil {
		return
	}
	s.readsOut[s.readSeq] = &simRead{node: n, boot: n.boot, call: s.now, room: v.Name, cell: cell, size: size, puz: string(v.Puzzle.Givens)}
}

// readsDone answers the reads a node's Ready says may be answered.
func (s *sim) readsDone(n *simNode, rs []ReadResult) {
	for _, r := range rs {
		rd := s.readsOut[r.ID]
		delete(s.readsOut, r.ID)
		if rd == nil || !r.OK || rd.node != n || rd.boot != n.boot {
			continue
		}
		v, ok := n.core.State().RoomView(rd.room)
		if !ok || int(v.Puzzle.Size) != rd.size || string(v.Puzzle.Givens) != rd.puz {
			continue // another puzzle: the room was made again
		}
		s.check.readsOK++
		s.check.history = append(s.check.history, porcupine.Operation{
			ClientId: readerClient + int(r.ID), Input: readInput{room: rd.room, cell: rd.cell},
			Call: rd.call, Output: v.Board[rd.cell].Digit, Return: s.now,
		})
	}
}

// readerClient is the reader's client id in the history.
const readerClient = 1 << 20

// readTick runs the reader when it is due.
func (s *sim) readTick() {
	if !s.opts.reads || s.now < s.nextRead {
		return
	}
	s.nextRead = s.now + int64(1+s.rng.IntN(5))*int64(time.Millisecond)
	s.readOp()
}
