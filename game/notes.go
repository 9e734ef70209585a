package game

import "slices"

// Pencil marks: each session keeps its own candidates for the empty cells of
// its room's board, at most one bit per digit per cell. They are replicated
// with the rest of the state (they survive a failover and a resumed
// session), but only their owner's session ever sees them: events of notes
// name the session they are for, and RoomView carries none.

func (s *State) note(ss *session, c Note, evs []Event) (Result, []Event) {
	rm := ss.room
	n := uint8(rm.g.n)
	if c.Row >= n || c.Col >= n || c.Digit == 0 || c.Digit > n {
		return fail(ErrBadCell), evs
	}
	i, err := noteCell(rm, c.Row, c.Col)
	if err != nil {
		return Result{Err: err}, evs
	}
	mask := ss.noteAt(i)
	bit := uint16(1) << (c.Digit - 1)
	if c.On {
		mask |= bit
	} else {
		mask &^= bit
	}
	ss.setNote(i, mask)
	return Result{}, append(evs, notesEvent(ss, i, mask))
}

func (s *State) clearNotes(ss *session, c ClearNotes, evs []Event) (Result, []Event) {
	rm := ss.room
	if c.All {
		for i, m := range ss.notes {
			if m != 0 {
				evs = append(evs, notesEvent(ss, i, 0))
			}
		}
		ss.dropNotes()
		return Result{}, evs
	}
	n := uint8(rm.g.n)
	if c.Row >= n || c.Col >= n {
		return fail(ErrBadCell), evs
	}
	i := int(c.Row)*int(n) + int(c.Col)
	ss.setNote(i, 0)
	return Result{}, append(evs, notesEvent(ss, i, 0))
}

// noteCell is the index of a cell that may take notes, or why not.
func noteCell(rm *room, row, col uint8) (int, *Error) {
	if rm.over {
		return 0, &Error{Code: ErrRoundOver}
	}
	i := int(row)*rm.g.n + int(col)
	switch {
	case rm.puzzle.Givens[i] != 0:
		return 0, &Error{Code: ErrGiven}
	case rm.digit[i] != 0:
		return 0, &Error{Code: ErrFilled}
	}
	return i, nil
}

func notesEvent(ss *session, i int, mask uint16) Event {
	n := ss.room.g.n
	return Event{Kind: EvNotes, Room: ss.room.name, Session: ss.id, Name: ss.name,
		Row: uint8(i / n), Col: uint8(i % n), Notes: mask}
}

func (ss *session) noteAt(i int) uint16 {
	if ss.notes == nil {
		return 0
	}
	return ss.notes[i]
}

// setNote sets the notes of cell i, keeping the counts.
func (ss *session) setNote(i int, mask uint16) {
	old := ss.noteAt(i)
	if old == mask {
		return
	}
	if ss.notes == nil {
		ss.notes = make([]uint16, ss.room.g.cells)
		ss.room.noters++
	}
	ss.notes[i] = mask
	switch {
	case old == 0:
		ss.noted++
	case mask == 0:
		ss.noted--
	}
	if ss.noted == 0 {
		ss.notes = nil
		ss.room.noters--
	}
}

// dropNotes forgets every note of the session.
func (ss *session) dropNotes() {
	if ss.notes != nil {
		ss.notes, ss.noted = nil, 0
		ss.room.noters--
	}
}

// clearPlaced takes digit d, placed right at cell i, out of every member's
// notes: all the notes of the cell, and d from its row, column and box.
func (rm *room) clearPlaced(i int, d uint8) {
	if rm.noters == 0 {
		return
	}
	g := rm.g
	bit := uint16(1) << (d - 1)
	for _, m := range rm.members {
		if m.notes == nil {
			continue
		}
		m.setNote(i, 0)
		for _, p := range g.peers[i][:g.npeers] {
			if m.notes == nil {
				break
			}
			if v := m.notes[p]; v&bit != 0 {
				m.setNote(int(p), v&^bit)
			}
		}
	}
}

// Notes returns a copy of the session's notes on its room's board (bit d-1
// for digit d, per cell, row-major), or nil if it has none: what the
// session's own RoomView carries.
func (s *State) Notes(id SessionID) []uint16 {
	ss := s.sessions[id]
	if ss == nil {
		return nil
	}
	return slices.Clone(ss.notes)
}

// SessionRoomView is the room of a session as that session sees it: its
// RoomView with the session's own notes.
func (s *State) SessionRoomView(id SessionID) (RoomView, bool) {
	ss := s.sessions[id]
	if ss == nil {
		return RoomView{}, false
	}
	v := s.roomView(ss.room)
	v.Notes = slices.Clone(ss.notes)
	return v, true
}
