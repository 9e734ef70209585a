package game

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// defaultSeed is the cluster seed before a Genesis entry sets one.
const defaultSeed uint64 = 0x5eed_0f_9a11_0c4d

// State is the whole game: rooms, sessions and the clock. It changes only
// through Apply. It is not safe for concurrent use; its read methods do not
// change it, so they may run concurrently with each other.
type State struct {
	rules   Rules
	seed    uint64
	now     int64
	applied uint64
	lastSID SessionID // the last session id given out
	serial  uint64    // rooms created so far; main is 0

	rooms    []*room // main first, then by name
	roomsBy  map[string]*room
	sessions map[SessionID]*session
	byToken  map[string]*session
	byName   map[string]*session // by NameKey

	// Deadlines. graceMin is the earliest grace end of a disconnected
	// session and graceCount how many end then; nextDue is the earliest of
	// every deadline (0: none). dueDirty asks for nextDue to be recomputed.
	graceMin   int64
	graceCount int
	nextDue    int64
	dueDirty   bool

	due []dueItem // scratch for expire

	// rolled remembers the commands Rollback entries named (player key and
	// sequence number), oldest first, so that each is reported once.
	rolled    []rolledKey
	rolledSet map[rolledKey]bool

	// The cluster: its id and its configuration (the voters, sorted).
	clusterID uint64
	voters    []uint16
}

// ClusterID is the id the cluster's genesis gave it (0 before genesis).
func (s *State) ClusterID() uint64 { return s.clusterID }

// Voters returns the configuration as committed: the nodes that vote.
func (s *State) Voters() []uint16 { return slices.Clone(s.voters) }

// ValidVoters reports whether v is a configuration: 1 to MaxVoters node
// ids, sorted, each once, none 0.
func ValidVoters(v []uint16) bool {
	if len(v) == 0 || len(v) > MaxVoters || v[0] == 0 {
		return false
	}
	for i := 1; i < len(v); i++ {
		if v[i] <= v[i-1] {
			return false
		}
	}
	return true
}

// rolledKey names a player's command: its name key and sequence number.
type rolledKey struct {
	name string
	seq  uint64
}

// maxRolled bounds how many reported rollbacks a state remembers.
const maxRolled = 4096

// RolledBack reports whether a Rollback entry already named the command
// with sequence number seq of player name.
func (s *State) RolledBack(name string, seq uint64) bool {
	return s.rolledSet[rolledKey{NameKey(name), seq}]
}

func (s *State) noteRolled(k rolledKey) {
	if s.rolledSet == nil {
		s.rolledSet = make(map[rolledKey]bool)
	}
	if len(s.rolled) >= maxRolled {
		delete(s.rolledSet, s.rolled[0])
		s.rolled = s.rolled[1:]
	}
	s.rolled = append(s.rolled, k)
	s.rolledSet[k] = true
}

type room struct {
	name   string
	serial uint64
	size   uint8
	diff   Difficulty
	g      *geometry
	puzzle *Puzzle
	round  uint32
	over   bool
	winner string
	nextAt int64 // next round start while over

	digit    []uint8 // placed digits, givens included
	owner    []string
	holder   []*session // claims
	claims   int
	claimMin int64 // earliest claim end (0: none)
	filled   int
	unit     [3 * maxSize]uint8 // filled cells per unit
	moves    uint64             // moves ever made here; orders ties
	noters   int                // members with notes

	startedAt int64 // when the round started
	endedAt   int64 // when it ended (while over)

	scores   map[string]*score // by NameKey
	members  []*session        // by NameKey
	chat     []ChatLine        // ring, oldest at chatHead once full
	chatHead int
	nextLine uint64 // N of the next line; lines start at 1
	gone     bool   // removed from the state
}

type score struct {
	key, name          string
	round, total       int32
	right, wrong, wins uint32
	rright, rwrong     uint32 // right and wrong moves this round
	lastMove           uint64 // room.moves at this player's last move
	played             uint32 // round of the last move; 0: none
}

type session struct {
	id         SessionID
	name, key  string
	token      string
	room       *room
	online     bool
	graceUntil int64 // while offline
	claim      int   // cell held in room, -1: none
	claimUntil int64
	score      *score // this player's score in room, once known
	gone       bool
	watch      bool // a spectator

	// notes are the session's candidates per cell of its room's board
	// (bit d-1: digit d), only on empty cells; nil when there are none.
	// noted counts the cells that have some.
	notes []uint16
	noted int

	// results by ascending seq; the last is the highest seq seen, and none
	// is DedupeWindow or more below it
	done []dedupe
}

type dedupe struct {
	seq    uint64
	err    *Error // a private copy
	points int32
}

// New returns the state of a fresh cluster: room main with its first puzzle
// (from a fixed seed until a Genesis entry sets the cluster's), no sessions,
// clock at 0. r is normalised (see Rules.Normalize).
func New(r Rules) *State {
	s := &State{}
	s.reset(r.Normalize(), defaultSeed)
	return s
}

func (s *State) reset(r Rules, seed uint64) {
	s.rules, s.seed = r, seed
	s.lastSID, s.serial = 0, 0
	s.rooms = nil
	s.roomsBy = make(map[string]*room)
	s.sessions = make(map[SessionID]*session)
	s.byToken = make(map[string]*session)
	s.byName = make(map[string]*session)
	s.graceMin, s.graceCount, s.nextDue, s.dueDirty = 0, 0, 0, false
	rm := s.newRoom(MainRoom, 0, r.MainSize, r.MainDifficulty, nil)
	s.addRoom(rm)
}

// Normalize returns r with every unset or out-of-range field replaced: zero
// or negative values take DefaultRules' value, too large ones are capped
// (durations at 24 h, the others at ChatHistoryCap and its kin), an
// unsupported MainSize or MainDifficulty takes the default.
func (r Rules) Normalize() Rules {
	d := DefaultRules()
	dur := func(v, def time.Duration) time.Duration {
		switch {
		case v <= 0:
			return def
		case v > 24*time.Hour:
			return 24 * time.Hour
		}
		return v
	}
	num := func(v, def, max int) int {
		switch {
		case v <= 0:
			return def
		case v > max:
			return max
		}
		return v
	}
	r.ClaimLease = dur(r.ClaimLease, d.ClaimLease)
	r.SessionGrace = dur(r.SessionGrace, d.SessionGrace)
	r.RoundCountdown = dur(r.RoundCountdown, d.RoundCountdown)
	r.ChatHistory = num(r.ChatHistory, d.ChatHistory, ChatHistoryCap)
	r.MaxRooms = num(r.MaxRooms, d.MaxRooms, MaxRoomsCap)
	r.MaxSessions = num(r.MaxSessions, d.MaxSessions, MaxSessionsCap)
	r.DedupeWindow = num(r.DedupeWindow, d.DedupeWindow, DedupeWindowCap)
	if geometryOf(r.MainSize) == nil {
		r.MainSize = d.MainSize
	}
	if r.MainDifficulty > Expert {
		r.MainDifficulty = d.MainDifficulty
	}
	return r
}

// ---- seeds ----

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// PuzzleSeed is the seed of a room's puzzle in a round: a function of the
// cluster seed, the room's name, its creation number (main is 0; a room made
// again under an old name gets fresh puzzles) and the round.
func PuzzleSeed(clusterSeed uint64, room string, serial uint64, round uint32) uint64 {
	return roundSeed(splitmix64(clusterSeed^fnv64a(room)), serial, round)
}

// roundSeed is PuzzleSeed from the part of it that the room's name makes.
func roundSeed(named, serial uint64, round uint32) uint64 {
	return splitmix64(splitmix64(named^serial) ^ uint64(round))
}

// ---- rooms ----

// newRoom deals dealt if it is the room's first puzzle, else generates it.
func (s *State) newRoom(name string, serial uint64, size uint8, d Difficulty, dealt *Puzzle) *room {
	rm := &room{name: name, serial: serial, size: size, diff: d, g: geometryOf(size),
		round: 1, scores: make(map[string]*score), nextLine: 1, startedAt: s.now}
	p := dealt.dealtFor(s.seed, name, serial, size, d)
	if p == nil {
		var err error
		if p, err = source(size, d, PuzzleSeed(s.seed, name, serial, 1)); err != nil {
			panic("game: room with unsupported puzzle: " + err.Error()) // callers check size and difficulty
		}
	}
	rm.setPuzzle(p)
	return rm
}

// setPuzzle starts a board on p. Claims must have been released.
func (rm *room) setPuzzle(p *Puzzle) {
	g := rm.g
	rm.puzzle = p
	if rm.digit == nil {
		rm.digit = make([]uint8, g.cells)
		rm.owner = make([]string, g.cells)
		rm.holder = make([]*session, g.cells)
	}
	copy(rm.digit, p.Givens)
	clear(rm.owner)
	rm.recount()
}

// recount derives the fill counts from digit.
func (rm *room) recount() {
	g := rm.g
	rm.filled = 0
	rm.unit = [3 * maxSize]uint8{}
	for c, d := range rm.digit {
		if d != 0 {
			rm.filled++
			rm.unit[g.row[c]]++
			rm.unit[g.n+int(g.col[c])]++
			rm.unit[2*g.n+int(g.box[c])]++
		}
	}
}

func (s *State) addRoom(rm *room) {
	s.roomsBy[rm.name] = rm
	i := 0
	if rm.name != MainRoom {
		i, _ = slices.BinarySearchFunc(s.rooms[1:], rm.name, func(r *room, name string) int {
			return strings.Compare(r.name, name)
		})
		i++
	}
	s.rooms = slices.Insert(s.rooms, i, rm)
}

func (s *State) removeRoom(rm *room) {
	delete(s.roomsBy, rm.name)
	s.rooms = slices.DeleteFunc(s.rooms, func(r *room) bool { return r == rm })
	rm.gone = true
	s.dueDirty = true
}

func (s *State) room(name string) *room {
	if rm := s.roomsBy[name]; rm != nil {
		return rm
	}
	if n, ok := NormalizeRoomName(name); ok {
		return s.roomsBy[n]
	}
	return nil
}

func (rm *room) addMember(ss *session) {
	i, _ := slices.BinarySearchFunc(rm.members, ss.key, func(m *session, key string) int {
		return strings.Compare(m.key, key)
	})
	rm.members = slices.Insert(rm.members, i, ss)
}

func (rm *room) removeMember(ss *session) {
	i, ok := slices.BinarySearchFunc(rm.members, ss.key, func(m *session, key string) int {
		return strings.Compare(m.key, key)
	})
	if ok && rm.members[i] == ss {
		rm.members = slices.Delete(rm.members, i, i+1)
	}
}

// recomputeClaimMin finds the room's earliest claim end.
func (rm *room) recomputeClaimMin() {
	rm.claimMin = 0
	if rm.claims == 0 {
		return
	}
	for _, h := range rm.holder {
		if h != nil && (rm.claimMin == 0 || h.claimUntil < rm.claimMin) {
			rm.claimMin = h.claimUntil
		}
	}
}

// addChat appends a line and returns a copy for an event.
func (s *State) addChat(rm *room, from, text string) *ChatLine {
	ln := ChatLine{N: rm.nextLine, Time: s.now, From: from, Text: text}
	rm.nextLine++
	if len(rm.chat) < s.rules.ChatHistory {
		rm.chat = append(rm.chat, ln)
	} else {
		rm.chat[rm.chatHead] = ln
		rm.chatHead = (rm.chatHead + 1) % len(rm.chat)
	}
	return &ln
}

// chatLines returns the kept lines, oldest first.
func (rm *room) chatLines() []ChatLine {
	if len(rm.chat) == 0 {
		return nil
	}
	out := make([]ChatLine, 0, len(rm.chat))
	out = append(out, rm.chat[rm.chatHead:]...)
	return append(out, rm.chat[:rm.chatHead]...)
}

// ---- reading ----

// Rules returns the rules in force.
func (s *State) Rules() Rules { return s.rules }

// Now returns the state's clock: the latest entry time seen (Unix ns).
func (s *State) Now() int64 { return s.now }

// Applied returns the number of entries applied, whatever their result.
func (s *State) Applied() uint64 { return s.applied }

// Seed returns the cluster seed.
func (s *State) Seed() uint64 { return s.seed }

// NextDeadline returns the earliest time (Unix ns) at which a Tick would
// change something: a claim's lease or a session's grace running out, or a
// round starting. 0 if nothing is pending.
func (s *State) NextDeadline() int64 { return s.nextDue }

// Session describes a live session.
func (s *State) Session(id SessionID) (SessionView, bool) {
	ss := s.sessions[id]
	if ss == nil {
		return SessionView{}, false
	}
	return ss.view(), true
}

// SessionByToken describes the live session that holds token.
func (s *State) SessionByToken(token string) (SessionView, bool) {
	if token == "" {
		return SessionView{}, false
	}
	ss := s.byToken[token]
	if ss == nil {
		return SessionView{}, false
	}
	return ss.view(), true
}

// SessionByName describes the live session that holds name (compared as by
// NameKey).
func (s *State) SessionByName(name string) (SessionView, bool) {
	ss := s.byName[NameKey(name)]
	if ss == nil {
		return SessionView{}, false
	}
	return ss.view(), true
}

// Sessions describes every live session, by id.
func (s *State) Sessions() []SessionView {
	out := make([]SessionView, 0, len(s.sessions))
	for _, ss := range s.sortedSessions() {
		out = append(out, ss.view())
	}
	return out
}

func (s *State) sortedSessions() []*session {
	out := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b *session) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return out
}

func (ss *session) view() SessionView {
	return SessionView{ID: ss.id, Name: ss.name, Room: ss.room.name, Online: ss.online, Watch: ss.watch}
}

// Result returns the remembered result of the session's command seq, for
// answering a retry without logging it again. False if the session is gone or
// the command is unknown or out of the dedupe window.
func (s *State) Result(id SessionID, seq uint64) (Result, bool) {
	ss := s.sessions[id]
	if ss == nil {
		return Result{}, false
	}
	d, ok := ss.remembered(seq)
	if !ok {
		return Result{}, false
	}
	return d.result(), true
}

// SeqResult is the outcome of one of a session's commands.
type SeqResult struct {
	Seq    uint64
	Code   Code
	Points int32
}

// Results returns the outcomes the session remembers (its dedupe window),
// by ascending sequence number, and the lowest sequence number the window
// covers: every command of the session from there on that the state
// applied is in the list.
func (s *State) Results(id SessionID) ([]SeqResult, uint64) {
	ss := s.sessions[id]
	if ss == nil {
		return nil, 0
	}
	from := uint64(1)
	if hi, ok := ss.hiSeq(); ok && hi >= uint64(s.rules.DedupeWindow) {
		from = hi - uint64(s.rules.DedupeWindow) + 1
	}
	out := make([]SeqResult, len(ss.done))
	for i, d := range ss.done {
		r := SeqResult{Seq: d.seq, Points: d.points}
		if d.err != nil {
			r.Code = d.err.Code
		}
		out[i] = r
	}
	return out, from
}

// hiSeq returns the highest seq the session has used.
func (ss *session) hiSeq() (uint64, bool) {
	if len(ss.done) == 0 {
		return 0, false
	}
	return ss.done[len(ss.done)-1].seq, true
}

// remembered finds seq in the dedupe window.
func (ss *session) remembered(seq uint64) (*dedupe, bool) {
	i, ok := ss.findSeq(seq)
	if !ok {
		return nil, false
	}
	return &ss.done[i], true
}

func (ss *session) findSeq(seq uint64) (int, bool) {
	if n := len(ss.done); n == 0 || seq > ss.done[n-1].seq {
		return n, false // a new command, the usual case
	}
	return slices.BinarySearchFunc(ss.done, seq, func(d dedupe, seq uint64) int {
		return cmp.Compare(d.seq, seq)
	})
}

func (d *dedupe) result() Result {
	r := Result{Points: d.points}
	if d.err != nil {
		e := *d.err
		r.Err = &e
	}
	return r
}

// Rooms summarises every room: main first, then by name.
func (s *State) Rooms() []RoomSummary {
	out := make([]RoomSummary, 0, len(s.rooms))
	for _, rm := range s.rooms {
		var players, watchers []string
		for _, m := range rm.members {
			if m.watch {
				watchers = append(watchers, m.name)
			} else {
				players = append(players, m.name)
			}
		}
		out = append(out, RoomSummary{
			Name:       rm.name,
			Size:       rm.size,
			Difficulty: rm.diff,
			Round:      rm.round,
			Filled:     rm.filled,
			Cells:      rm.g.cells,
			Players:    players,
			Watchers:   watchers,
		})
	}
	return out
}

// Puzzle returns a copy of a room's current puzzle, solution included (for
// tests, tools and the operator; never send it to a player).
func (s *State) Puzzle(room string) (*Puzzle, bool) {
	rm := s.room(room)
	if rm == nil {
		return nil, false
	}
	p := *rm.puzzle
	p.Givens = slices.Clone(p.Givens)
	p.Solution = slices.Clone(p.Solution)
	return &p, true
}
