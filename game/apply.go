package game

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Apply applies one committed entry, appends the events it caused to evs and
// returns the command's result and evs.
//
// The clock moves to max(Now, e.Time). Before the command runs, everything
// due by then happens, oldest deadline first, exactly as if a Tick had come
// first: claims expire, sessions whose grace ran out close, rounds whose
// countdown is over start.
//
// System commands (Genesis, OpenSession, Disconnect, Tick, ViewChange,
// Rollback) must carry Session 0, or they fail with ErrUnknownCmd. Player
// commands need a live session (ErrNoSession) and are deduplicated by
// (Session, Seq): a repeat returns the first result and changes nothing, and
// a Seq at or below the session's highest minus Rules.DedupeWindow that is not
// remembered fails with ErrStale. A disconnected session's commands work as
// usual; only OpenSession with its token brings it back online.
func (s *State) Apply(e Entry, evs []Event) (Result, []Event) {
	s.applied++
	if e.Time > s.now {
		s.now = e.Time
	}
	if s.nextDue != 0 && s.now >= s.nextDue {
		evs = s.expire(evs)
	}
	res, evs := s.dispatch(e, evs)
	if s.dueDirty {
		s.recomputeDue()
	}
	return res, evs
}

func fail(c Code) Result { return Result{Err: &Error{Code: c}} }

// normalize turns a pointer to a command into the command.
func normalize(c Command) Command {
	switch p := c.(type) {
	case *Genesis:
		if p != nil {
			return *p
		}
	case *OpenSession:
		if p != nil {
			return *p
		}
	case *CloseSession:
		if p != nil {
			return *p
		}
	case *Disconnect:
		if p != nil {
			return *p
		}
	case *Place:
		if p != nil {
			return *p
		}
	case *Claim:
		if p != nil {
			return *p
		}
	case *Release:
		if p != nil {
			return *p
		}
	case *Chat:
		if p != nil {
			return *p
		}
	case *CreateRoom:
		if p != nil {
			return *p
		}
	case *JoinRoom:
		if p != nil {
			return *p
		}
	case *LeaveRoom:
		if p != nil {
			return *p
		}
	case *Tick:
		if p != nil {
			return *p
		}
	case *ViewChange:
		if p != nil {
			return *p
		}
	case *Rollback:
		if p != nil {
			return *p
		}
	case *Membership:
		if p != nil {
			return *p
		}
	case *Note:
		if p != nil {
			return *p
		}
	case *ClearNotes:
		if p != nil {
			return *p
		}
	default:
		return c
	}
	return nil
}

func (s *State) dispatch(e Entry, evs []Event) (Result, []Event) {
	cmd := e.Cmd
	if cmd == nil {
		return fail(ErrUnknownCmd), evs
	}
	switch cmd.(type) {
	case Place, Claim, Release, Chat, CloseSession, CreateRoom, JoinRoom, LeaveRoom, Note, ClearNotes,
		Genesis, OpenSession, Disconnect, Tick, ViewChange, Rollback, Membership:
	default:
		if cmd = normalize(cmd); cmd == nil {
			return fail(ErrUnknownCmd), evs
		}
	}
	switch cmd.(type) {
	case Genesis, OpenSession, Disconnect, Tick, ViewChange, Rollback, Membership:
		if e.Session != 0 {
			return fail(ErrUnknownCmd), evs
		}
		return s.system(cmd, evs)
	}
	ss := s.sessions[e.Session]
	if ss == nil {
		return fail(ErrNoSession), evs
	}
	w := s.rules.DedupeWindow
	if d, ok := ss.remembered(e.Seq); ok {
		return d.result(), evs
	}
	if hi, ok := ss.hiSeq(); ok && e.Seq < hi && hi-e.Seq >= uint64(w) {
		return fail(ErrStale), evs
	}
	var res Result
	switch cmd.(type) {
	case Place, Claim, Release, Note, ClearNotes:
		if ss.watch {
			res = fail(ErrSpectator)
			ss.remember(e.Seq, res, w)
			return res, evs
		}
	}
	switch c := cmd.(type) {
	case Place:
		res, evs = s.place(ss, c, evs)
	case Note:
		res, evs = s.note(ss, c, evs)
	case ClearNotes:
		res, evs = s.clearNotes(ss, c, evs)
	case Claim:
		res, evs = s.claim(ss, c, evs)
	case Release:
		if ss.claim < 0 {
			res = fail(ErrNotClaimed)
		} else {
			evs = s.releaseClaim(ss, ReleasedByPlayer, evs)
		}
	case Chat:
		text, ok := NormalizeChat(c.Text)
		if !ok {
			res = fail(ErrBadText)
			break
		}
		rm := ss.room
		evs = append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, ss.name, text)})
	case CloseSession:
		evs = s.closeSession(ss, evs)
	case CreateRoom:
		res, evs = s.createRoom(ss, c, evs)
	case JoinRoom:
		name, ok := NormalizeRoomName(c.Name)
		switch rm := s.roomsBy[name]; {
		case !ok:
			res = fail(ErrBadRoomName)
		case rm == nil:
			res = Result{Err: &Error{Code: ErrNoRoom, Room: name}}
		case rm == ss.room:
			res = Result{Err: &Error{Code: ErrInRoom, Room: name}}
		default:
			evs = s.move(ss, rm, evs)
		}
	case LeaveRoom:
		if ss.room.name == MainRoom {
			res = Result{Err: &Error{Code: ErrInRoom, Room: MainRoom}}
		} else {
			evs = s.move(ss, s.roomsBy[MainRoom], evs)
		}
	default:
		res = fail(ErrUnknownCmd)
	}
	ss.remember(e.Seq, res, w)
	return res, evs
}

func (s *State) system(cmd Command, evs []Event) (Result, []Event) {
	switch c := cmd.(type) {
	case Genesis:
		return s.genesis(c), evs
	case OpenSession:
		return s.openSession(c, evs)
	case Disconnect:
		return s.disconnect(c, evs)
	case ViewChange:
		return Result{}, s.viewChange(c, evs)
	case Rollback:
		return Result{}, s.rollback(c, evs)
	case Membership:
		if !ValidVoters(c.Voters) {
			return fail(ErrBadConfig), evs
		}
		s.voters = slices.Clone(c.Voters)
		return Result{}, evs
	}
	return Result{}, evs // Tick: time has done its work already
}

// remember keeps res as the answer to seq.
func (ss *session) remember(seq uint64, res Result, w int) {
	if ss.gone {
		return
	}
	d := dedupe{seq: seq, points: res.Points}
	if res.Err != nil {
		e := *res.Err
		d.err = &e
	}
	i, ok := ss.findSeq(seq)
	switch {
	case ok:
		ss.done[i] = d
		return
	case ss.done == nil:
		ss.done = append(make([]dedupe, 0, min(w, 16)), d)
		return
	}
	ss.done = slices.Insert(ss.done, i, d)
	hi, _ := ss.hiSeq()
	i = 0
	for hi-ss.done[i].seq >= uint64(w) {
		i++
	}
	ss.done = ss.done[i:]
}

// ---- system commands ----

func (s *State) genesis(c Genesis) Result {
	if s.applied != 1 {
		return fail(ErrGenesis)
	}
	if c.Voters != nil && !ValidVoters(c.Voters) {
		return fail(ErrBadConfig)
	}
	s.reset(c.Rules.Normalize(), c.Seed)
	s.clusterID, s.voters = c.ClusterID, slices.Clone(c.Voters)
	return Result{}
}

func (s *State) openSession(c OpenSession, evs []Event) (Result, []Event) {
	if len(c.Token) > MaxTokenLen {
		return fail(ErrNoSession), evs
	}
	if c.Token != "" {
		if ss := s.byToken[c.Token]; ss != nil {
			if !ss.online {
				ss.online = true
				s.dropGrace(ss.graceUntil)
				ss.graceUntil = 0
			}
			evs = append(evs, Event{Kind: EvSessionResumed, Session: ss.id, Name: ss.name, Room: ss.room.name, Watch: ss.watch})
			return Result{Session: ss.id}, evs
		}
	}
	name, ok := NormalizeName(c.Name)
	if !ok {
		return fail(ErrBadName), evs
	}
	key := NameKey(name)
	if h := s.byName[key]; h != nil {
		return Result{Err: &Error{Code: ErrNameTaken, Who: h.name}}, evs
	}
	if len(s.sessions) >= s.rules.MaxSessions {
		return fail(ErrFull), evs
	}
	s.lastSID++
	ss := &session{id: s.lastSID, name: name, key: key, token: c.Token, online: true, claim: -1, watch: c.Watch}
	s.sessions[ss.id] = ss
	s.byName[key] = ss
	if c.Token != "" {
		s.byToken[c.Token] = ss
	}
	main := s.roomsBy[MainRoom]
	evs = append(evs, Event{Kind: EvSessionOpened, Session: ss.id, Name: name, Room: main.name, Watch: ss.watch})
	evs = s.enter(ss, main, evs)
	return Result{Session: ss.id}, evs
}

func (s *State) disconnect(c Disconnect, evs []Event) (Result, []Event) {
	ss := s.sessions[c.Session]
	if ss == nil {
		return fail(ErrNoSession), evs
	}
	return Result{}, s.goOffline(ss, evs)
}

// goOffline starts a session's grace period; an offline session keeps its
// first deadline.
func (s *State) goOffline(ss *session, evs []Event) []Event {
	if !ss.online {
		return evs
	}
	ss.online = false
	ss.graceUntil = after(s.now, s.rules.SessionGrace)
	s.addGrace(ss.graceUntil)
	return append(evs, Event{Kind: EvDisconnected, Session: ss.id, Name: ss.name, Room: ss.room.name, Until: ss.graceUntil})
}

func (s *State) viewChange(c ViewChange, evs []Event) []Event {
	for _, ss := range s.sortedSessions() {
		evs = s.goOffline(ss, evs)
	}
	evs = append(evs, Event{Kind: EvViewChange, Epoch: c.Epoch, Node: c.Primary, PrevNode: c.PrevPrimary})
	if c.Primary == c.PrevPrimary {
		// The same primary again (a node joined or left its view): every
		// app joining or quitting would else fill every room's chat.
		return evs
	}
	text := "n" + strconv.Itoa(int(c.Primary)) + " is primary (epoch " + strconv.FormatUint(c.Epoch, 10) + ")"
	for _, rm := range s.rooms {
		evs = append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, "", text)})
	}
	return evs
}

func (s *State) rollback(c Rollback, evs []Event) []Event {
	for _, it := range c.Items {
		k := rolledKey{NameKey(it.Name), it.Seq}
		if s.rolledSet[k] {
			continue // reported before
		}
		s.noteRolled(k)
		if it.Kind == CmdNote || it.Kind == CmdClearNotes {
			// Notes are the player's own: the room is not told. The
			// player's app learns of it when it resumes its session.
			continue
		}
		rm := s.room(it.Room)
		if rm == nil {
			rm = s.roomsBy[MainRoom]
		}
		evs = append(evs, Event{Kind: EvRollback, Room: rm.name, Name: it.Name, Row: it.Row, Col: it.Col,
			Digit: it.Digit, Text: it.Text, Cmd: it.Kind})
		evs = append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, "", RollbackLine(it))})
	}
	return evs
}

// RollbackLine is the system chat line that tells a room a command was
// rolled back. A player who was reconnecting when the Rollback entry was
// applied learns of it only from this line in the room's chat.
func RollbackLine(it RolledBack) string {
	who := clip(it.Name, MaxNameRunes)
	if who == "" {
		who = "someone"
	}
	var what string
	switch it.Kind {
	case CmdPlace:
		what = who + "'s " + strconv.Itoa(int(it.Digit)) + " at " + cellName(it.Row, it.Col)
	case CmdClaim:
		what = who + "'s claim on " + cellName(it.Row, it.Col)
	case CmdChat:
		what = who + "'s message " + strconv.Quote(clip(it.Text, 60))
	default:
		what = who + "'s " + it.Kind.String()
	}
	return "rolled back: " + what + " (partition)"
}

// cellName is a cell as players read it, 1-based: r3c4.
func cellName(row, col uint8) string {
	return "r" + strconv.Itoa(int(row)+1) + "c" + strconv.Itoa(int(col)+1)
}

// clip makes s printable (others become '?') and at most max runes ("…" ends
// a cut).
func clip(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// ---- sessions and rooms ----

// enter puts ss into rm.
func (s *State) enter(ss *session, rm *room, evs []Event) []Event {
	ss.room, ss.score = rm, nil
	rm.addMember(ss)
	ev := Event{Kind: EvJoined, Room: rm.name, Session: ss.id, Name: ss.name, Watch: ss.watch}
	if !ss.online {
		ev.Until = ss.graceUntil
	}
	evs = append(evs, ev)
	text := ss.name + " joined"
	if ss.watch {
		text = ss.name + " is watching"
	}
	return append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, "", text)})
}

// leave takes ss out of its room, releasing its claim; an emptied room other
// than main is removed.
func (s *State) leave(ss *session, evs []Event) []Event {
	if ss.claim >= 0 {
		evs = s.releaseClaim(ss, ReleasedByLeave, evs)
	}
	ss.dropNotes()
	rm := ss.room
	rm.removeMember(ss)
	evs = append(evs, Event{Kind: EvLeft, Room: rm.name, Session: ss.id, Name: ss.name})
	evs = append(evs, Event{Kind: EvChat, Room: rm.name, Line: s.addChat(rm, "", ss.name+" left")})
	if len(rm.members) == 0 && rm.name != MainRoom {
		s.removeRoom(rm)
	}
	ss.score = nil
	return evs
}

func (s *State) move(ss *session, to *room, evs []Event) []Event {
	evs = s.leave(ss, evs)
	return s.enter(ss, to, evs)
}

func (s *State) closeSession(ss *session, evs []Event) []Event {
	evs = s.leave(ss, evs)
	evs = append(evs, Event{Kind: EvSessionClosed, Session: ss.id, Name: ss.name, Room: ss.room.name})
	delete(s.sessions, ss.id)
	delete(s.byName, ss.key)
	if ss.token != "" && s.byToken[ss.token] == ss {
		delete(s.byToken, ss.token)
	}
	ss.gone = true
	if !ss.online {
		s.dropGrace(ss.graceUntil) // after the delete: it may rescan the sessions
	}
	return evs
}

// roomRefused says why c would not create a room now (nil: it would), and
// the room's name.
func (s *State) roomRefused(c CreateRoom) (string, *Error) {
	name, ok := NormalizeRoomName(c.Name)
	switch {
	case !ok:
		return name, &Error{Code: ErrBadRoomName}
	case geometryOf(c.Size) == nil || c.Difficulty > Expert:
		return name, &Error{Code: ErrBadSize}
	case s.roomsBy[name] != nil:
		return name, &Error{Code: ErrRoomExists, Room: name}
	case len(s.rooms) >= s.rules.MaxRooms:
		return name, &Error{Code: ErrRoomLimit}
	}
	return name, nil
}

func (s *State) createRoom(ss *session, c CreateRoom, evs []Event) (Result, []Event) {
	name, refused := s.roomRefused(c)
	if refused != nil {
		return Result{Err: refused}, evs
	}
	s.serial++
	rm := s.newRoom(name, s.serial, c.Size, c.Difficulty, c.Dealt)
	s.addRoom(rm)
	pv := rm.puzzle.View()
	evs = append(evs, Event{Kind: EvRoomCreated, Room: name, Round: rm.round, Puzzle: &pv, At: rm.startedAt})
	return Result{}, s.move(ss, rm, evs)
}
