package game

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"
)

// Snapshot format: the magic, a version byte, then the fields in a fixed
// order (rules, clock, counters, rooms in list order, sessions by id).
// Integers are varints in their shortest form; everything derivable (members,
// claim tables, fill counts, deadlines) is left out and rebuilt. Equal states
// give equal bytes, and Restore accepts only that canonical form.
//
// Version 4 added each round's start and end, the scores of the round, and
// each session's kind and notes. Restore still reads version 3 (those read
// as zero: no notes, no round times) and such a state snapshots as 4.
const (
	snapMagic   = "GLST"
	snapVersion = 4
	snapOldest  = 3                        // the oldest version Restore reads
	maxLineLen  = 4 * (MaxChatRunes + 100) // system lines run a little longer
)

// ErrSnapshot is returned (wrapped) by Restore for bytes it cannot take.
var ErrSnapshot = errors.New("bad snapshot")

// Snapshot encodes the whole state.
func (s *State) Snapshot() []byte { return s.AppendSnapshot(nil) }

// Digest is a 64-bit FNV-1a hash of the snapshot: replicas that applied the
// same entries have the same digest.
func (s *State) Digest() uint64 {
	h := fnv.New64a()
	h.Write(s.Snapshot())
	return h.Sum64()
}

// AppendSnapshot appends the snapshot to dst.
func (s *State) AppendSnapshot(dst []byte) []byte {
	e := enc{b: dst}
	e.b = append(e.b, snapMagic...)
	e.b = append(e.b, snapVersion)
	r := s.rules
	e.u(uint64(r.ClaimLease))
	e.u(uint64(r.SessionGrace))
	e.u(uint64(r.RoundCountdown))
	e.u(uint64(r.ChatHistory))
	e.u(uint64(r.MaxRooms))
	e.u(uint64(r.MaxSessions))
	e.u(uint64(r.DedupeWindow))
	e.byte(r.MainSize)
	e.byte(uint8(r.MainDifficulty))
	e.b = binary.LittleEndian.AppendUint64(e.b, s.seed)
	e.i(s.now)
	e.u(s.applied)
	e.u(uint64(s.lastSID))
	e.u(s.serial)
	e.b = binary.LittleEndian.AppendUint64(e.b, s.clusterID)
	e.u(uint64(len(s.voters)))
	for _, v := range s.voters {
		e.u(uint64(v))
	}

	e.u(uint64(len(s.rooms)))
	index := make(map[*room]uint64, len(s.rooms))
	for i, rm := range s.rooms {
		index[rm] = uint64(i)
		s.encodeRoom(&e, rm)
	}
	sessions := s.sortedSessions()
	e.u(uint64(len(sessions)))
	for _, ss := range sessions {
		e.u(uint64(ss.id))
		e.str(ss.name)
		e.str(ss.token)
		e.u(index[ss.room])
		e.bool(ss.online)
		e.i(ss.graceUntil)
		e.u(uint64(ss.claim + 1))
		if ss.claim >= 0 {
			e.i(ss.claimUntil)
		}
		e.bool(ss.watch)
		e.u(uint64(ss.noted))
		for i, m := range ss.notes {
			if m != 0 {
				e.u(uint64(i))
				e.u(uint64(m))
			}
		}
		hi, ok := ss.hiSeq()
		e.bool(ok)
		if !ok {
			continue
		}
		e.u(hi)
		e.u(uint64(len(ss.done)))
		for _, d := range ss.done {
			e.u(d.seq)
			e.i(int64(d.points))
			if d.err == nil {
				e.byte(0)
				continue
			}
			e.byte(uint8(d.err.Code))
			e.str(d.err.Who)
			e.str(d.err.Room)
		}
	}
	e.u(uint64(len(s.rolled)))
	for _, k := range s.rolled {
		e.str(k.name)
		e.u(k.seq)
	}
	return e.b
}

func (s *State) encodeRoom(e *enc, rm *room) {
	e.str(rm.name)
	e.u(rm.serial)
	e.byte(rm.size)
	e.byte(uint8(rm.diff))
	e.u(uint64(rm.round))
	e.bool(rm.over)
	e.str(rm.winner)
	e.i(rm.nextAt)
	e.u(rm.moves)
	e.i(rm.startedAt)
	if rm.over {
		e.i(rm.endedAt)
	}
	p := rm.puzzle
	e.b = binary.LittleEndian.AppendUint64(e.b, p.Seed)
	e.b = append(e.b, p.Givens...)
	e.b = append(e.b, p.Solution...)
	for i, d := range rm.digit {
		if p.Givens[i] != 0 {
			continue
		}
		e.byte(d)
		if d != 0 {
			e.str(rm.owner[i])
		}
	}
	scores := make([]*score, 0, len(rm.scores))
	for _, sc := range rm.scores {
		scores = append(scores, sc)
	}
	slices.SortFunc(scores, func(a, b *score) int { return strings.Compare(a.key, b.key) })
	e.u(uint64(len(scores)))
	for _, sc := range scores {
		e.str(sc.name)
		e.i(int64(sc.round))
		e.i(int64(sc.total))
		e.u(uint64(sc.right))
		e.u(uint64(sc.wrong))
		e.u(uint64(sc.wins))
		e.u(sc.lastMove)
		e.u(uint64(sc.played))
		e.u(uint64(sc.rright))
		e.u(uint64(sc.rwrong))
	}
	e.u(rm.nextLine)
	lines := rm.chatLines()
	e.u(uint64(len(lines)))
	for _, ln := range lines {
		e.i(ln.Time)
		e.str(ln.From)
		e.str(ln.Text)
	}
}

// Restore decodes a snapshot. It checks everything it reads, so that any
// State it returns is one that Apply could have made, and it never panics.
func Restore(b []byte) (*State, error) {
	d := &dec{b: b}
	if len(b) < len(snapMagic)+1 || string(b[:len(snapMagic)]) != snapMagic {
		return nil, fmt.Errorf("%w: not a gridlock snapshot", ErrSnapshot)
	}
	if v := b[len(snapMagic)]; v < snapOldest || v > snapVersion {
		return nil, fmt.Errorf("%w: version %d (this build reads %d to %d)", ErrSnapshot, v, snapOldest, snapVersion)
	}
	d.ver = b[len(snapMagic)]
	d.b = b[len(snapMagic)+1:]
	var r Rules
	r.ClaimLease = time.Duration(d.num(math.MaxInt64))
	r.SessionGrace = time.Duration(d.num(math.MaxInt64))
	r.RoundCountdown = time.Duration(d.num(math.MaxInt64))
	r.ChatHistory = int(d.num(math.MaxInt32))
	r.MaxRooms = int(d.num(math.MaxInt32))
	r.MaxSessions = int(d.num(math.MaxInt32))
	r.DedupeWindow = int(d.num(math.MaxInt32))
	r.MainSize = d.byte()
	r.MainDifficulty = Difficulty(d.byte())
	if d.err == nil && r.Normalize() != r {
		d.fail("rules out of range")
	}
	s := &State{rules: r,
		roomsBy:  make(map[string]*room),
		sessions: make(map[SessionID]*session),
		byToken:  make(map[string]*session),
		byName:   make(map[string]*session),
	}
	s.seed = d.fixed64()
	s.now = d.time(false)
	s.applied = d.u()
	s.lastSID = SessionID(d.u())
	s.serial = d.u()
	s.clusterID = d.fixed64()
	if nv := d.count(1, MaxVoters); nv > 0 {
		s.voters = make([]uint16, nv)
		for i := range s.voters {
			s.voters[i] = uint16(d.num(math.MaxUint16))
		}
		if d.err == nil && !ValidVoters(s.voters) {
			d.fail("bad configuration")
		}
	}

	nrooms := d.count(20, r.MaxRooms)
	if d.err == nil && nrooms == 0 {
		d.fail("no room main")
	}
	for i := 0; i < nrooms && d.err == nil; i++ {
		rm := s.decodeRoom(d)
		if d.err != nil {
			break
		}
		switch {
		case i == 0 && rm.name != MainRoom:
			d.fail("room main must come first")
		case i > 0 && (rm.name == MainRoom || i > 1 && rm.name <= s.rooms[i-1].name):
			d.fail("rooms out of order")
		case i > 0 && (rm.serial == 0 || rm.serial > s.serial):
			d.fail("bad room serial")
		case i == 0 && rm.serial != 0:
			d.fail("bad serial of main")
		}
		s.rooms = append(s.rooms, rm)
		s.roomsBy[rm.name] = rm
	}

	nsessions := d.count(8, r.MaxSessions)
	var last SessionID
	for i := 0; i < nsessions && d.err == nil; i++ {
		s.decodeSession(d, &last)
	}
	nrolled := d.count(2, maxRolled)
	for i := 0; i < nrolled && d.err == nil; i++ {
		raw := d.str(4 * MaxNameRunes)
		k := rolledKey{raw, d.u()}
		if d.err == nil && (NameKey(raw) != raw || s.rolledSet[k]) {
			d.fail("bad rolled-back command")
			break
		}
		s.noteRolled(k)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err == nil {
		for _, rm := range s.rooms[1:] {
			if len(rm.members) == 0 {
				d.fail("empty room %q", rm.name)
				break
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	for _, rm := range s.rooms {
		rm.recomputeClaimMin()
	}
	for _, ss := range s.sessions {
		if !ss.online {
			s.addGrace(ss.graceUntil)
		}
	}
	s.recomputeDue()
	if s.nextDue != 0 && s.nextDue < s.now {
		return nil, fmt.Errorf("%w: a deadline before the clock", ErrSnapshot)
	}
	return s, nil
}

func (s *State) decodeRoom(d *dec) *room {
	raw := d.str(MaxRoomNameLen)
	name, ok := NormalizeRoomName(raw)
	if d.err == nil && (!ok || name != raw) {
		d.fail("bad room name")
	}
	rm := &room{name: name, serial: d.u(), size: d.byte(), diff: Difficulty(d.byte()),
		scores: make(map[string]*score)}
	rm.g = geometryOf(rm.size)
	if d.err == nil && (rm.g == nil || rm.diff > Expert) {
		d.fail("room %q: bad puzzle kind", name)
	}
	if d.err != nil {
		return nil
	}
	g := rm.g
	rm.round = uint32(d.num(math.MaxUint32))
	rm.over = d.bool()
	rm.winner = d.optName()
	rm.nextAt = d.time(rm.over)
	rm.moves = d.u()
	if d.ver >= 4 {
		rm.startedAt = d.time(false)
		if rm.over {
			rm.endedAt = d.time(false)
		}
	}
	if d.err == nil && (rm.round == 0 || !rm.over && (rm.nextAt != 0 || rm.winner != "")) {
		d.fail("room %q: bad round", name)
	}
	if d.err == nil && (rm.startedAt > s.now || rm.endedAt > s.now || rm.over && rm.endedAt < rm.startedAt) {
		d.fail("room %q: bad round times", name)
	}
	p := &Puzzle{Size: rm.size, BoxRows: uint8(g.br), BoxCols: uint8(g.bc), Difficulty: rm.diff, Seed: d.fixed64()}
	p.Givens = append([]uint8(nil), d.bytes(g.cells)...)
	p.Solution = append([]uint8(nil), d.bytes(g.cells)...)
	if d.err != nil {
		return nil
	}
	if err := p.Check(); err != nil {
		d.fail("room %q: %v", name, err)
		return nil
	}
	rm.puzzle = p
	rm.digit = make([]uint8, g.cells)
	rm.owner = make([]string, g.cells)
	rm.holder = make([]*session, g.cells)
	for i := range rm.digit {
		if p.Givens[i] != 0 {
			rm.digit[i] = p.Givens[i]
			continue
		}
		v := d.byte()
		if v == 0 {
			continue
		}
		if v != p.Solution[i] {
			d.fail("room %q: wrong digit on the board", name)
			return nil
		}
		rm.digit[i] = v
		rm.owner[i] = d.name()
	}
	rm.recount()
	if d.err == nil && rm.over != (rm.filled == g.cells) {
		d.fail("room %q: round state does not match the board", name)
	}
	nscores := d.count(9, math.MaxInt32)
	var prev string
	for i := 0; i < nscores && d.err == nil; i++ {
		sc := &score{name: d.name()}
		sc.key = NameKey(sc.name)
		sc.round = d.i32()
		sc.total = d.i32()
		sc.right = uint32(d.num(math.MaxUint32))
		sc.wrong = uint32(d.num(math.MaxUint32))
		sc.wins = uint32(d.num(math.MaxUint32))
		sc.lastMove = d.u()
		sc.played = uint32(d.num(uint64(rm.round)))
		if d.ver >= 4 {
			sc.rright = uint32(d.num(uint64(sc.right)))
			sc.rwrong = uint32(d.num(uint64(sc.wrong)))
		}
		if d.err == nil && (i > 0 && sc.key <= prev || sc.lastMove > rm.moves ||
			sc.played != rm.round && (sc.rright != 0 || sc.rwrong != 0)) {
			d.fail("room %q: bad scores", name)
		}
		prev = sc.key
		rm.scores[sc.key] = sc
	}
	rm.nextLine = d.u()
	nlines := d.count(3, s.rules.ChatHistory)
	if d.err == nil && (rm.nextLine == 0 || uint64(nlines) > rm.nextLine-1) {
		d.fail("room %q: bad chat", name)
	}
	for i := 0; i < nlines && d.err == nil; i++ {
		ln := ChatLine{N: rm.nextLine - uint64(nlines) + uint64(i), Time: d.time(false)}
		ln.From = d.optName()
		ln.Text = d.str(maxLineLen)
		if d.err == nil && ln.Text == "" {
			d.fail("room %q: empty chat line", name)
		}
		rm.chat = append(rm.chat, ln)
	}
	return rm
}

func (s *State) decodeSession(d *dec, last *SessionID) {
	ss := &session{id: SessionID(d.u()), claim: -1}
	if d.err == nil && (ss.id <= *last || ss.id > s.lastSID) {
		d.fail("bad session id %d", ss.id)
	}
	*last = ss.id
	ss.name = d.name()
	ss.key = NameKey(ss.name)
	ss.token = d.str(MaxTokenLen)
	ri := d.num(uint64(len(s.rooms) - 1))
	ss.online = d.bool()
	ss.graceUntil = d.time(!ss.online)
	claim := d.num(maxCells)
	if d.err != nil {
		return
	}
	if ss.online && ss.graceUntil != 0 {
		d.fail("session %d: grace while online", ss.id)
		return
	}
	if s.byName[ss.key] != nil || ss.token != "" && s.byToken[ss.token] != nil {
		d.fail("session %d: name or token held twice", ss.id)
		return
	}
	rm := s.rooms[ri]
	ss.room = rm
	if claim > 0 {
		c := int(claim - 1)
		ss.claimUntil = d.time(true)
		if d.err == nil && (c >= rm.g.cells || rm.over || rm.digit[c] != 0 || rm.holder[c] != nil) {
			d.fail("session %d: bad claim", ss.id)
		}
		if d.err != nil {
			return
		}
		ss.claim = c
		rm.holder[c] = ss
		rm.claims++
	}
	if d.ver >= 4 {
		s.decodeNotes(d, ss)
		if d.err != nil {
			return
		}
	}
	if d.bool() {
		w := uint64(s.rules.DedupeWindow)
		hi := d.u()
		n := d.count(3, s.rules.DedupeWindow)
		if d.err == nil && n == 0 {
			d.fail("session %d: no result for seq %d", ss.id, hi)
		}
		ss.done = make([]dedupe, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			e := dedupe{seq: d.u(), points: d.i32()}
			if d.err == nil && (i > 0 && e.seq <= ss.done[i-1].seq || e.seq > hi || hi-e.seq >= w || i == n-1 && e.seq != hi) {
				d.fail("session %d: bad dedupe entry", ss.id)
			}
			if code := Code(d.byte()); code != OK {
				e.err = &Error{Code: code, Who: d.str(4 * MaxNameRunes), Room: d.str(4 * MaxNameRunes)}
			}
			ss.done = append(ss.done, e)
		}
	}
	if d.err != nil {
		return
	}
	s.sessions[ss.id] = ss
	s.byName[ss.key] = ss
	if ss.token != "" {
		s.byToken[ss.token] = ss
	}
	rm.addMember(ss)
}

// decodeNotes reads a session's kind and notes: cells in order, each empty
// and with candidates of the board's digits only.
func (s *State) decodeNotes(d *dec, ss *session) {
	rm := ss.room
	ss.watch = d.bool()
	if d.err == nil && ss.watch && ss.claim >= 0 {
		d.fail("session %d: a spectator with a claim", ss.id)
	}
	n := d.count(2, rm.g.cells)
	if d.err == nil && n > 0 && rm.over {
		d.fail("session %d: notes on a finished board", ss.id)
	}
	prev := -1
	for k := 0; k < n && d.err == nil; k++ {
		i := int(d.num(uint64(rm.g.cells - 1)))
		m := uint16(d.num(uint64(rm.g.full)))
		if d.err == nil && (i <= prev || m == 0 || rm.digit[i] != 0) {
			d.fail("session %d: bad notes", ss.id)
			return
		}
		prev = i
		ss.setNote(i, m)
	}
}
