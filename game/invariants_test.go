package game

import (
	"fmt"
	"strings"
)

// checkState recomputes everything the state caches and checks the rules'
// invariants. It returns the first problem found.
func checkState(s *State) error {
	if len(s.rooms) == 0 || s.rooms[0].name != MainRoom {
		return fmt.Errorf("main is not the first room")
	}
	if len(s.rooms) != len(s.roomsBy) || len(s.rooms) > s.rules.MaxRooms {
		return fmt.Errorf("%d rooms listed, %d by name (max %d)", len(s.rooms), len(s.roomsBy), s.rules.MaxRooms)
	}
	for i, rm := range s.rooms {
		if s.roomsBy[rm.name] != rm || rm.gone {
			return fmt.Errorf("room %q not indexed", rm.name)
		}
		if i > 1 && s.rooms[i-1].name >= rm.name {
			return fmt.Errorf("rooms out of order")
		}
		if i > 0 && len(rm.members) == 0 {
			return fmt.Errorf("empty room %q kept", rm.name)
		}
		if err := checkRoom(rm); err != nil {
			return fmt.Errorf("room %q: %w", rm.name, err)
		}
	}
	if len(s.byName) != len(s.sessions) || len(s.sessions) > s.rules.MaxSessions {
		return fmt.Errorf("%d sessions, %d names", len(s.sessions), len(s.byName))
	}
	var graceMin int64
	graceCount := 0
	members := 0
	tokens := 0
	for id, ss := range s.sessions {
		if ss.id != id || ss.gone || ss.id > s.lastSID {
			return fmt.Errorf("session %d misfiled", id)
		}
		if s.byName[ss.key] != ss || ss.key != NameKey(ss.name) {
			return fmt.Errorf("session %d: name %q not unique or not indexed", id, ss.name)
		}
		if ss.token != "" {
			tokens++
			if s.byToken[ss.token] != ss {
				return fmt.Errorf("session %d: token not indexed", id)
			}
		}
		if s.roomsBy[ss.room.name] != ss.room {
			return fmt.Errorf("session %d in a room that is gone", id)
		}
		found := false
		for _, m := range ss.room.members {
			found = found || m == ss
		}
		if !found {
			return fmt.Errorf("session %d not a member of its room", id)
		}
		if ss.online != (ss.graceUntil == 0) {
			return fmt.Errorf("session %d: online %v with grace %d", id, ss.online, ss.graceUntil)
		}
		if !ss.online {
			switch {
			case graceCount == 0 || ss.graceUntil < graceMin:
				graceMin, graceCount = ss.graceUntil, 1
			case ss.graceUntil == graceMin:
				graceCount++
			}
		}
		if ss.claim >= 0 && ss.room.holder[ss.claim] != ss {
			return fmt.Errorf("session %d: claim not on the board", id)
		}
		if ss.score != nil && ss.room.scores[ss.key] != ss.score {
			return fmt.Errorf("session %d: stale score cache", id)
		}
		if err := checkNotes(ss); err != nil {
			return fmt.Errorf("session %d: %w", id, err)
		}
		if ss.watch && (ss.claim >= 0 || ss.score != nil) {
			return fmt.Errorf("session %d: a spectator that plays", id)
		}
	}
	if tokens != len(s.byToken) {
		return fmt.Errorf("%d tokens indexed, %d held", len(s.byToken), tokens)
	}
	if graceCount != s.graceCount || graceMin != s.graceMin && graceCount > 0 {
		return fmt.Errorf("grace min %d×%d, cached %d×%d", graceMin, graceCount, s.graceMin, s.graceCount)
	}
	due := graceMin
	for _, rm := range s.rooms {
		members += len(rm.members)
		for _, h := range rm.holder {
			if h != nil && (due == 0 || h.claimUntil < due) {
				due = h.claimUntil
			}
		}
		if rm.over && (due == 0 || rm.nextAt < due) {
			due = rm.nextAt
		}
	}
	if members != len(s.sessions) {
		return fmt.Errorf("%d members, %d sessions", members, len(s.sessions))
	}
	if due != s.nextDue {
		return fmt.Errorf("next deadline %d, cached %d", due, s.nextDue)
	}
	if due != 0 && due < s.now {
		return fmt.Errorf("deadline %d passed at %d", due, s.now)
	}
	return nil
}

func checkRoom(rm *room) error {
	g := rm.g
	p := rm.puzzle
	if err := p.Check(); err != nil {
		return err
	}
	filled := 0
	var unit [3 * maxSize]uint8
	claims := 0
	var claimMin int64
	for i, d := range rm.digit {
		switch {
		case p.Givens[i] != 0 && (d != p.Givens[i] || rm.owner[i] != ""):
			return fmt.Errorf("given %d changed", i)
		case p.Givens[i] == 0 && d != 0 && (d != p.Solution[i] || rm.owner[i] == ""):
			return fmt.Errorf("cell %d holds %d by %q", i, d, rm.owner[i])
		case d == 0 && rm.owner[i] != "":
			return fmt.Errorf("empty cell %d has an owner", i)
		}
		if d != 0 {
			filled++
			unit[g.row[i]]++
			unit[g.n+int(g.col[i])]++
			unit[2*g.n+int(g.box[i])]++
		}
		if h := rm.holder[i]; h != nil {
			claims++
			if d != 0 || h.room != rm || h.claim != i || h.gone {
				return fmt.Errorf("bad claim on %d", i)
			}
			if claimMin == 0 || h.claimUntil < claimMin {
				claimMin = h.claimUntil
			}
		}
	}
	if filled != rm.filled || unit != rm.unit {
		return fmt.Errorf("fill counts")
	}
	if claims != rm.claims || claimMin != rm.claimMin {
		return fmt.Errorf("claims %d min %d, cached %d min %d", claims, claimMin, rm.claims, rm.claimMin)
	}
	if rm.over != (filled == g.cells) || rm.over && (claims != 0 || rm.nextAt == 0) || !rm.over && (rm.nextAt != 0 || rm.winner != "") {
		return fmt.Errorf("round state")
	}
	noters := 0
	for _, m := range rm.members {
		if m.notes != nil {
			noters++
		}
	}
	if noters != rm.noters {
		return fmt.Errorf("%d members with notes, cached %d", noters, rm.noters)
	}
	if !rm.over && rm.endedAt != 0 || rm.over && rm.endedAt < rm.startedAt {
		return fmt.Errorf("round times %d to %d", rm.startedAt, rm.endedAt)
	}
	for i, m := range rm.members {
		if m.room != rm || m.gone {
			return fmt.Errorf("member %q elsewhere", m.name)
		}
		if i > 0 && strings.Compare(rm.members[i-1].key, m.key) >= 0 {
			return fmt.Errorf("members out of order")
		}
	}
	for k, sc := range rm.scores {
		if sc.key != k || NameKey(sc.name) != k || sc.lastMove > rm.moves || sc.played > rm.round ||
			sc.rright > sc.right || sc.rwrong > sc.wrong || sc.played != rm.round && sc.rright+sc.rwrong != 0 {
			return fmt.Errorf("score %q", k)
		}
	}
	if len(rm.chat) > 0 && rm.chat[(rm.chatHead+len(rm.chat)-1)%len(rm.chat)].N != rm.nextLine-1 {
		return fmt.Errorf("chat numbering")
	}
	return nil
}

// checkNotes: a session's notes are on empty cells of its room's board only,
// with the board's digits, and counted.
func checkNotes(ss *session) error {
	if ss.notes == nil {
		if ss.noted != 0 {
			return fmt.Errorf("%d noted cells and no notes", ss.noted)
		}
		return nil
	}
	rm := ss.room
	if len(ss.notes) != rm.g.cells {
		return fmt.Errorf("notes for %d cells on a board of %d", len(ss.notes), rm.g.cells)
	}
	n := 0
	for i, m := range ss.notes {
		if m == 0 {
			continue
		}
		n++
		if rm.digit[i] != 0 || m&^rm.g.full != 0 {
			return fmt.Errorf("notes %#x on cell %d holding %d", m, i, rm.digit[i])
		}
	}
	if n == 0 || n != ss.noted {
		return fmt.Errorf("%d noted cells, counted %d", n, ss.noted)
	}
	return nil
}
