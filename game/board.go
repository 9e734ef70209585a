package game

import "strconv"

func (s *State) scoreOf(ss *session) *score {
	if ss.score != nil {
		return ss.score
	}
	rm := ss.room
	sc := rm.scores[ss.key]
	if sc == nil {
		sc = &score{key: ss.key, name: ss.name}
		rm.scores[ss.key] = sc
	}
	ss.score = sc
	return sc
}

// openCell returns the index of cell (row, col) of ss's room if ss may fill
// or claim it, else why not.
func openCell(ss *session, row, col uint8) (int, *Error) {
	rm := ss.room
	n := uint8(rm.g.n)
	if row >= n || col >= n {
		return 0, &Error{Code: ErrBadCell}
	}
	if rm.over {
		return 0, &Error{Code: ErrRoundOver}
	}
	i := int(row)*int(n) + int(col)
	switch h := rm.holder[i]; {
	case rm.puzzle.Givens[i] != 0:
		return 0, &Error{Code: ErrGiven}
	case rm.digit[i] != 0:
		return 0, &Error{Code: ErrFilled}
	case h != nil && h != ss:
		return 0, &Error{Code: ErrClaimed, Who: h.name}
	}
	return i, nil
}

func (s *State) place(ss *session, c Place, evs []Event) (Result, []Event) {
	rm := ss.room
	if c.Digit == 0 || c.Digit > uint8(rm.g.n) {
		return fail(ErrBadCell), evs
	}
	i, err := openCell(ss, c.Row, c.Col)
	if err != nil {
		return Result{Err: err}, evs
	}
	sc := s.scoreOf(ss)
	rm.moves++
	sc.name, sc.lastMove, sc.played = ss.name, rm.moves, rm.round
	if c.Digit != rm.puzzle.Solution[i] {
		const miss = -3
		sc.round += miss
		sc.total += miss
		sc.wrong++
		sc.rwrong++
		evs = append(evs, Event{Kind: EvMissed, Room: rm.name, Session: ss.id, Name: ss.name,
			Row: c.Row, Col: c.Col, Digit: c.Digit, Points: miss})
		return Result{Err: &Error{Code: ErrWrong}, Points: miss}, evs
	}
	rm.digit[i] = c.Digit
	rm.owner[i] = ss.name
	rm.filled++
	g := rm.g
	pts := int32(10)
	for _, u := range [3]int{int(g.row[i]), g.n + int(g.col[i]), 2*g.n + int(g.box[i])} {
		rm.unit[u]++
		if int(rm.unit[u]) == g.n {
			pts += 5
		}
	}
	sc.round += pts
	sc.total += pts
	sc.right++
	sc.rright++
	rm.clearPlaced(i, c.Digit)
	evs = append(evs, Event{Kind: EvPlaced, Room: rm.name, Session: ss.id, Name: ss.name,
		Row: c.Row, Col: c.Col, Digit: c.Digit, Points: pts})
	if ss.claim == i {
		evs = s.releaseClaim(ss, ReleasedByPlace, evs)
	}
	if rm.filled == g.cells {
		evs = s.endRound(rm, evs)
	}
	return Result{Points: pts}, evs
}

func (s *State) claim(ss *session, c Claim, evs []Event) (Result, []Event) {
	rm := ss.room
	i, err := openCell(ss, c.Row, c.Col)
	if err != nil {
		return Result{Err: err}, evs
	}
	until := after(s.now, s.rules.ClaimLease)
	if rm.holder[i] == ss {
		old := ss.claimUntil
		ss.claimUntil = until
		if old == rm.claimMin {
			rm.recomputeClaimMin()
			s.dueDirty = true
		}
	} else {
		if ss.claim >= 0 {
			evs = s.releaseClaim(ss, ReleasedByMove, evs)
		}
		rm.holder[i] = ss
		rm.claims++
		ss.claim, ss.claimUntil = i, until
		if rm.claimMin == 0 || until < rm.claimMin {
			rm.claimMin = until
		}
	}
	s.noteDeadline(until)
	evs = append(evs, Event{Kind: EvClaimed, Room: rm.name, Session: ss.id, Name: ss.name,
		Row: c.Row, Col: c.Col, Until: until})
	return Result{}, evs
}

func (s *State) releaseClaim(ss *session, why ReleaseReason, evs []Event) []Event {
	rm := ss.room
	i := ss.claim
	rm.holder[i] = nil
	rm.claims--
	ss.claim = -1
	if ss.claimUntil == rm.claimMin {
		rm.recomputeClaimMin()
		s.dueDirty = true
	}
	n := rm.g.n
	return append(evs, Event{Kind: EvReleased, Room: rm.name, Session: ss.id, Name: ss.name,
		Row: uint8(i / n), Col: uint8(i % n), Reason: why})
}

// endRound closes a full board: claims go, the winner is the player with the
// highest score this round among those who moved in it; on a tie, the one
// whose last move came first (who reached the score first).
func (s *State) endRound(rm *room, evs []Event) []Event {
	for _, h := range rm.holder {
		if h != nil {
			evs = s.releaseClaim(h, ReleasedByRound, evs)
		}
	}
	var w *score
	for _, sc := range rm.scores {
		if sc.played != rm.round {
			continue
		}
		if w == nil || sc.round > w.round ||
			sc.round == w.round && (sc.lastMove < w.lastMove || sc.lastMove == w.lastMove && sc.key < w.key) {
			w = sc
		}
	}
	rm.over = true
	rm.endedAt = s.now
	rm.nextAt = after(s.now, s.rules.RoundCountdown)
	s.noteDeadline(rm.nextAt)
	var name string
	var pts int32
	if w != nil {
		w.wins++
		name, pts = w.name, w.round
	}
	rm.winner = name
	evs = append(evs, Event{Kind: EvRoundOver, Room: rm.name, Round: rm.round, Name: name, Points: pts, Until: rm.nextAt, At: rm.endedAt})
	if w != nil {
		text := name + " won round " + strconv.FormatUint(uint64(rm.round), 10) + " with " + strconv.Itoa(int(pts)) + " points"
		evs = append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, "", text)})
	}
	return evs
}

// startRound deals the room's next puzzle. Round scores start at 0; the
// scores of players who are no longer in the room are dropped.
func (s *State) startRound(rm *room, evs []Event) []Event {
	rm.round++
	p, err := source(rm.size, rm.diff, PuzzleSeed(s.seed, rm.name, rm.serial, rm.round))
	if err != nil {
		panic("game: " + err.Error()) // rooms only hold supported puzzles
	}
	rm.setPuzzle(p)
	// The round starts when its countdown said, even if the entry that
	// starts it comes later.
	rm.startedAt, rm.endedAt = rm.nextAt, 0
	rm.over, rm.winner, rm.nextAt = false, "", 0
	s.dueDirty = true
	keep := make(map[string]bool, len(rm.members))
	for _, m := range rm.members {
		keep[m.key] = !m.watch // a spectator is on no scoreboard
	}
	for k, sc := range rm.scores {
		if !keep[k] {
			delete(rm.scores, k)
			continue
		}
		sc.round, sc.rright, sc.rwrong = 0, 0, 0
	}
	for _, m := range rm.members {
		m.score = rm.scores[m.key]
	}
	pv := p.View()
	return append(evs, Event{Kind: EvRoundStarted, Room: rm.name, Round: rm.round, Puzzle: &pv, At: rm.startedAt})
}
