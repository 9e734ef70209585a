package game

import (
	"slices"
	"strings"
)

// RoomView returns the room as its players see it (no solution). Scores are
// sorted by round score, highest first, then by name; members by name (names
// compare as by NameKey); claims by cell; chat oldest first.
func (s *State) RoomView(name string) (RoomView, bool) {
	rm := s.room(name)
	if rm == nil {
		return RoomView{}, false
	}
	return s.roomView(rm), true
}

func (s *State) roomView(rm *room) RoomView {
	g := rm.g
	v := RoomView{
		Name:        rm.name,
		Round:       rm.round,
		Winner:      rm.winner,
		NextRoundAt: rm.nextAt,
		Puzzle:      rm.puzzle.View(),
		Board:       make([]CellView, g.cells),
		Chat:        rm.chatLines(),
		ChatHistory: s.rules.ChatHistory,
		RoundStart:  rm.startedAt,
		RoundEnd:    rm.endedAt,
	}
	if rm.over {
		v.State = RoundOver
	}
	for i := range v.Board {
		v.Board[i] = CellView{Digit: rm.digit[i], Given: rm.puzzle.Givens[i] != 0, Owner: rm.owner[i]}
	}
	if rm.claims > 0 {
		v.Claims = make([]ClaimView, 0, rm.claims)
		for i, h := range rm.holder {
			if h != nil {
				v.Claims = append(v.Claims, ClaimView{Row: uint8(i / g.n), Col: uint8(i % g.n), Owner: h.name, Until: h.claimUntil})
			}
		}
	}
	if len(rm.scores) > 0 {
		v.Scores = make([]ScoreView, 0, len(rm.scores))
		for _, sc := range rm.scores {
			v.Scores = append(v.Scores, ScoreView{Name: sc.name, Round: sc.round, Total: sc.total,
				Right: sc.right, Wrong: sc.wrong, Wins: sc.wins, RoundRight: sc.rright, RoundWrong: sc.rwrong})
		}
		sortScores(v.Scores)
	}
	if len(rm.members) > 0 {
		v.Members = make([]MemberView, len(rm.members))
		for i, m := range rm.members {
			v.Members[i] = MemberView{Name: m.name, Online: m.online, Watching: m.watch}
		}
	}
	return v
}

// sortScores orders a scoreboard: round score, highest first, then name.
func sortScores(scores []ScoreView) {
	slices.SortFunc(scores, func(a, b ScoreView) int {
		switch {
		case a.Round > b.Round:
			return -1
		case a.Round < b.Round:
			return 1
		}
		return strings.Compare(NameKey(a.Name), NameKey(b.Name))
	})
}

// ApplyEvent brings v up to date with one event. A client that holds a room's
// view and applies every event of the log in order keeps it equal to the
// server's RoomView of that room; events of other rooms are ignored. An
// EvRoomCreated event starts a zero view (or one of the same name) afresh.
// Malformed events are ignored rather than trusted. EvNotes events set
// Notes: a view of a session's own room (SessionRoomView) stays equal when
// it takes the EvNotes events of that session alone.
func (v *RoomView) ApplyEvent(ev Event) {
	if ev.Kind == EvRoomCreated && (v.Name == "" || v.Name == ev.Room) && ev.Puzzle != nil {
		limit := v.ChatHistory
		round := ev.Round
		if round == 0 {
			round = 1
		}
		*v = RoomView{Name: ev.Room, Round: round, ChatHistory: limit, RoundStart: ev.At}
		v.setPuzzle(ev.Puzzle)
		return
	}
	if ev.Room != v.Name {
		return
	}
	switch ev.Kind {
	case EvSessionResumed, EvDisconnected:
		if i, ok := v.member(ev.Name); ok {
			v.Members[i].Online = ev.Kind == EvSessionResumed
		}
	case EvJoined:
		m := MemberView{Name: ev.Name, Online: ev.Until == 0, Watching: ev.Watch}
		if i, ok := v.member(ev.Name); ok {
			v.Members[i] = m
		} else {
			v.Members = slices.Insert(v.Members, i, m)
		}
	case EvLeft:
		if i, ok := v.member(ev.Name); ok {
			v.Members = slices.Delete(v.Members, i, i+1)
		}
	case EvPlaced, EvMissed:
		i, ok := v.cell(ev.Row, ev.Col)
		if !ok {
			return
		}
		if ev.Kind == EvPlaced {
			v.Board[i] = CellView{Digit: ev.Digit, Owner: ev.Name}
			v.clearPlaced(i, ev.Digit)
		}
		i = v.score(ev.Name)
		sc := &v.Scores[i]
		sc.Name = ev.Name
		sc.Round += ev.Points
		sc.Total += ev.Points
		if ev.Kind == EvPlaced {
			sc.Right++
			sc.RoundRight++
		} else {
			sc.Wrong++
			sc.RoundWrong++
		}
		v.resort(i)
	case EvNotes:
		if i, ok := v.cell(ev.Row, ev.Col); ok {
			v.setNote(i, ev.Notes)
		}
	case EvClaimed:
		i, ok := v.claim(ev.Row, ev.Col)
		c := ClaimView{Row: ev.Row, Col: ev.Col, Owner: ev.Name, Until: ev.Until}
		if ok {
			v.Claims[i] = c
		} else {
			v.Claims = slices.Insert(v.Claims, i, c)
		}
	case EvReleased:
		if i, ok := v.claim(ev.Row, ev.Col); ok {
			v.Claims = slices.Delete(v.Claims, i, i+1)
		}
	case EvRoundOver:
		v.State, v.Winner, v.NextRoundAt, v.RoundEnd = RoundOver, ev.Name, ev.Until, ev.At
		if ev.Name != "" {
			i := v.score(ev.Name)
			v.Scores[i].Wins++
			v.resort(i)
		}
	case EvRoundStarted:
		if ev.Puzzle == nil {
			return
		}
		v.Round, v.State, v.Winner, v.NextRoundAt = ev.Round, RoundPlaying, "", 0
		v.RoundStart, v.RoundEnd = ev.At, 0
		v.setPuzzle(ev.Puzzle)
		v.Claims, v.Notes = nil, nil
		v.Scores = slices.DeleteFunc(v.Scores, func(sc ScoreView) bool {
			i, ok := v.member(sc.Name)
			return !ok || v.Members[i].Watching
		})
		for i := range v.Scores {
			v.Scores[i].Round, v.Scores[i].RoundRight, v.Scores[i].RoundWrong = 0, 0, 0
		}
		sortScores(v.Scores)
	case EvChat:
		if ev.Line == nil {
			return
		}
		limit := v.ChatHistory
		if limit <= 0 {
			limit = DefaultRules().ChatHistory
		}
		if len(v.Chat) == cap(v.Chat) && len(v.Chat) >= limit {
			v.rewindChat(limit)
		}
		v.Chat = append(v.Chat, *ev.Line)
		if over := len(v.Chat) - limit; over > 0 {
			// Dropping from the front costs nothing but the array's room
			// at its end, which rewindChat gives back.
			clear(v.Chat[:over])
			v.Chat = v.Chat[over:]
		}
	}
}

// rewindChat moves the newest limit-1 lines of a full Chat to the front of
// chatBuf, which it makes when Chat does not lie in it (a view that came
// whole, or a copy), so that the next limit+1 lines take no allocation.
func (v *RoomView) rewindChat(limit int) {
	keep := v.Chat[len(v.Chat)-(limit-1):]
	buf := v.chatBuf[:cap(v.chatBuf)]
	at := len(buf) - cap(keep)
	if len(keep) == 0 || len(buf) < 2*limit || at < 0 || at >= len(buf) || &buf[at] != &keep[0] {
		buf = make([]ChatLine, 2*limit)
	}
	n := copy(buf, keep)
	clear(buf[n:])
	v.chatBuf, v.Chat = buf, buf[:n]
}

func (v *RoomView) setPuzzle(p *PuzzleView) {
	v.Puzzle = *p
	v.Puzzle.Givens = slices.Clone(p.Givens)
	n := int(p.Size) * int(p.Size)
	v.Board = make([]CellView, n)
	for i := 0; i < n && i < len(p.Givens); i++ {
		if d := p.Givens[i]; d != 0 {
			v.Board[i] = CellView{Digit: d, Given: true}
		}
	}
}

// setNote sets the notes of cell i; a view without notes has Notes nil.
func (v *RoomView) setNote(i int, mask uint16) {
	if v.Notes == nil {
		if mask == 0 {
			return
		}
		v.Notes = make([]uint16, len(v.Board))
	}
	if i >= len(v.Notes) {
		return
	}
	v.Notes[i] = mask
	if mask == 0 && !slices.ContainsFunc(v.Notes, func(m uint16) bool { return m != 0 }) {
		v.Notes = nil
	}
}

// clearPlaced takes digit d, placed at cell i, out of the notes (as the
// game does): the cell's, and d from its row, column and box.
func (v *RoomView) clearPlaced(i int, d uint8) {
	g := geometryOf(v.Puzzle.Size)
	if v.Notes == nil || g == nil || d == 0 || int(d) > g.n || len(v.Notes) != g.cells {
		return
	}
	bit := uint16(1) << (d - 1)
	v.Notes[i] = 0
	for _, p := range g.peers[i][:g.npeers] {
		v.Notes[p] &^= bit
	}
	v.setNote(i, 0)
}

// member finds a member by name, or where it would go.
func (v *RoomView) member(name string) (int, bool) {
	key := NameKey(name)
	return slices.BinarySearchFunc(v.Members, key, func(m MemberView, key string) int {
		return strings.Compare(NameKey(m.Name), key)
	})
}

// claim finds the claim on a cell, or where it would go.
func (v *RoomView) claim(row, col uint8) (int, bool) {
	return slices.BinarySearchFunc(v.Claims, [2]uint8{row, col}, func(c ClaimView, rc [2]uint8) int {
		if c.Row != rc[0] {
			return int(c.Row) - int(rc[0])
		}
		return int(c.Col) - int(rc[1])
	})
}

func (v *RoomView) cell(row, col uint8) (int, bool) {
	n := int(v.Puzzle.Size)
	i := int(row)*n + int(col)
	if int(row) >= n || int(col) >= n || i >= len(v.Board) {
		return 0, false
	}
	return i, true
}

// score finds or adds a player's score entry and returns its index; a new
// entry is added last, for resort to move.
func (v *RoomView) score(name string) int {
	for i := range v.Scores {
		if v.Scores[i].Name == name {
			return i
		}
	}
	key := NameKey(name)
	for i := range v.Scores {
		if NameKey(v.Scores[i].Name) == key {
			return i
		}
	}
	v.Scores = append(v.Scores, ScoreView{Name: name})
	return len(v.Scores) - 1
}

// resort moves entry i, the only one changed, to its place in the
// scoreboard's order (sortScores): a move changes one score, so sorting
// them all at every event is not needed.
func (v *RoomView) resort(i int) {
	s := v.Scores
	for i > 0 && scoreBefore(&s[i], &s[i-1]) {
		s[i], s[i-1] = s[i-1], s[i]
		i--
	}
	for i+1 < len(s) && scoreBefore(&s[i+1], &s[i]) {
		s[i], s[i+1] = s[i+1], s[i]
		i++
	}
}

// scoreBefore is sortScores' order.
func scoreBefore(a, b *ScoreView) bool {
	if a.Round != b.Round {
		return a.Round > b.Round
	}
	return NameKey(a.Name) < NameKey(b.Name)
}

// Equal reports whether two views show the same thing (an empty list equals
// a nil one).
func (v *RoomView) Equal(w *RoomView) bool {
	if v.Name != w.Name || v.Round != w.Round || v.State != w.State || v.Winner != w.Winner ||
		v.NextRoundAt != w.NextRoundAt || v.ChatHistory != w.ChatHistory ||
		v.RoundStart != w.RoundStart || v.RoundEnd != w.RoundEnd {
		return false
	}
	p, q := &v.Puzzle, &w.Puzzle
	if p.Size != q.Size || p.BoxRows != q.BoxRows || p.BoxCols != q.BoxCols ||
		p.Difficulty != q.Difficulty || p.Seed != q.Seed || !slices.Equal(p.Givens, q.Givens) {
		return false
	}
	return slices.Equal(v.Board, w.Board) && slices.Equal(v.Claims, w.Claims) &&
		slices.Equal(v.Scores, w.Scores) && slices.Equal(v.Members, w.Members) &&
		slices.Equal(v.Chat, w.Chat) && slices.Equal(v.Notes, w.Notes)
}
