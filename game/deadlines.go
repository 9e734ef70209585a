package game

import (
	"math"
	"slices"
	"strings"
	"time"
)

// expire runs everything due by now, oldest deadline first; at equal times
// claims go first, then sessions, then rounds.
func (s *State) expire(evs []Event) []Event {
	due := s.due[:0]
	if s.graceCount > 0 && s.graceMin <= s.now {
		for _, ss := range s.sessions {
			if !ss.online && ss.graceUntil <= s.now {
				due = append(due, dueItem{t: ss.graceUntil, kind: dueSession, id: uint64(ss.id), ss: ss})
			}
		}
	}
	for _, rm := range s.rooms {
		if rm.claimMin != 0 && rm.claimMin <= s.now {
			for c, h := range rm.holder {
				if h != nil && h.claimUntil <= s.now {
					due = append(due, dueItem{t: h.claimUntil, kind: dueClaim, room: rm, id: uint64(c), ss: h})
				}
			}
		}
		if rm.over && rm.nextAt <= s.now {
			due = append(due, dueItem{t: rm.nextAt, kind: dueRound, room: rm})
		}
	}
	slices.SortFunc(due, compareDue)
	for _, it := range due {
		switch it.kind {
		case dueClaim:
			if !it.ss.gone && it.ss.room == it.room && it.ss.claim == int(it.id) {
				evs = s.releaseClaim(it.ss, ReleasedByExpiry, evs)
			}
		case dueSession:
			if !it.ss.gone && !it.ss.online {
				evs = s.closeSession(it.ss, evs)
			}
		case dueRound:
			if !it.room.gone && it.room.over {
				evs = s.startRound(it.room, evs)
			}
		}
	}
	clear(due) // drop the pointers
	s.due = due[:0]
	s.dueDirty = true
	return evs
}

type dueKind uint8

const (
	dueClaim dueKind = iota
	dueSession
	dueRound
)

type dueItem struct {
	t    int64
	kind dueKind
	room *room
	id   uint64 // cell or session id
	ss   *session
}

func compareDue(a, b dueItem) int {
	switch {
	case a.t != b.t:
		return cmpInt(a.t, b.t)
	case a.kind != b.kind:
		return cmpInt(a.kind, b.kind)
	case a.room != b.room:
		return strings.Compare(a.room.name, b.room.name)
	}
	return cmpInt(a.id, b.id)
}

func cmpInt[T int64 | uint64 | dueKind](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// after returns t+d, saturating.
func after(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return t + int64(d)
}

func (s *State) noteDeadline(t int64) {
	if s.nextDue == 0 || t < s.nextDue {
		s.nextDue = t
	}
}

func (s *State) addGrace(t int64) {
	switch {
	case s.graceCount == 0 || t < s.graceMin:
		s.graceMin, s.graceCount = t, 1
	case t == s.graceMin:
		s.graceCount++
	}
	s.noteDeadline(t)
}

func (s *State) dropGrace(t int64) {
	if t != s.graceMin || s.graceCount == 0 {
		return
	}
	s.graceCount--
	if s.graceCount > 0 {
		return
	}
	s.graceMin = 0
	for _, ss := range s.sessions {
		if ss.online {
			continue
		}
		switch {
		case s.graceCount == 0 || ss.graceUntil < s.graceMin:
			s.graceMin, s.graceCount = ss.graceUntil, 1
		case ss.graceUntil == s.graceMin:
			s.graceCount++
		}
	}
	s.dueDirty = true
}

func (s *State) recomputeDue() {
	s.dueDirty = false
	s.nextDue = s.graceMin
	for _, rm := range s.rooms {
		if rm.claimMin != 0 && (s.nextDue == 0 || rm.claimMin < s.nextDue) {
			s.nextDue = rm.claimMin
		}
		if rm.over && (s.nextDue == 0 || rm.nextAt < s.nextDue) {
			s.nextDue = rm.nextAt
		}
	}
}
