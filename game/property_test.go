package game

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// sim plays random games: several players making a random mix of right and
// wrong moves, claims, chat, room changes, disconnects, retries and junk,
// with time passing. After every entry it checks the state's invariants,
// that a mirror of every room kept by ApplyEvent equals the server's view,
// and it checks each round's winner against the results it saw.
type sim struct {
	t       *testing.T
	r       *rand.Rand
	h       *harness
	names   []string
	mirrors map[string]*RoomView
	// mine follows each session's own view of its room (with its notes),
	// as a client does: whole when the session enters a room, then by the
	// room's events and the session's own notes events.
	mine map[SessionID]*RoomView
	// per room and round: each player's score and the index of their last
	// move, from the results alone
	moves  map[string]map[string]*simScore
	rounds int // rounds seen ending
	// notes made, and right placements that took others' notes away
	noted, cleared int
	lastRes        map[SessionID]Entry
}

type simScore struct {
	name  string
	round int32
	last  int
}

func newSim(t *testing.T, seed uint64) *sim {
	r := rand.New(rand.NewPCG(seed, 7))
	rules := DefaultRules()
	rules.MainSize = []uint8{4, 4, 6}[r.IntN(3)]
	rules.MainDifficulty = Difficulty(r.IntN(4))
	rules.ChatHistory = 1 + r.IntN(12)
	rules.MaxRooms = 2 + r.IntN(4)
	rules.MaxSessions = 3 + r.IntN(5)
	rules.DedupeWindow = 1 + r.IntN(8)
	rules.ClaimLease = time.Duration(1+r.IntN(10)) * time.Second
	rules.SessionGrace = time.Duration(5+r.IntN(60)) * time.Second
	rules.RoundCountdown = time.Duration(1+r.IntN(5)) * time.Second
	h := &harness{t: t, s: New(DefaultRules()), now: t0, seq: map[SessionID]uint64{}}
	h.apply(Entry{Time: t0, Cmd: Genesis{Seed: seed, Rules: rules}})
	sm := &sim{t: t, r: r, h: h, names: []string{"alice", "Bob", "carol", "dave", "Eve", "frank", "ALICE"},
		mirrors: map[string]*RoomView{}, mine: map[SessionID]*RoomView{}, moves: map[string]map[string]*simScore{}, lastRes: map[SessionID]Entry{}}
	v, _ := h.s.RoomView(MainRoom)
	sm.mirrors[MainRoom] = &v
	return sm
}

// live returns the live sessions.
func (sm *sim) live() []SessionView { return sm.h.s.Sessions() }

func (sm *sim) pick(n int) int { return sm.r.IntN(n) }

// step makes one random entry and checks everything after it.
func (sm *sim) step() {
	h, r := sm.h, sm.r
	if r.IntN(4) == 0 {
		h.advance(time.Duration(r.IntN(3000)) * time.Millisecond)
	}
	if r.IntN(60) == 0 {
		h.advance(time.Duration(r.IntN(90)) * time.Second)
	}
	live := sm.live()
	var e Entry
	roll := r.IntN(100)
	switch {
	case len(live) == 0 || roll < 4:
		name := sm.names[sm.pick(len(sm.names))]
		e = Entry{Cmd: OpenSession{Name: name, Token: "tok-" + name, Watch: r.IntN(5) == 0}}
	case roll < 6:
		e = Entry{Cmd: Disconnect{Session: live[sm.pick(len(live))].ID}}
	case roll < 7:
		e = Entry{Cmd: ViewChange{Epoch: uint64(r.IntN(9)), Primary: uint16(r.IntN(4))}}
	case roll < 8:
		e = Entry{Cmd: Rollback{Items: []RolledBack{{Room: MainRoom, Name: "x", Kind: CmdPlace, Digit: 3}}}}
	case roll < 12:
		e = Entry{Cmd: Tick{}}
	case roll < 15 && len(sm.lastRes) > 0:
		// a retry of some session's last command
		ids := make([]SessionID, 0, len(sm.lastRes))
		for id := range sm.lastRes {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		e = sm.lastRes[ids[sm.pick(len(ids))]]
	default:
		sv := live[sm.pick(len(live))]
		e = Entry{Session: sv.ID, Cmd: sm.playerCmd(sv)}
		h.seq[sv.ID]++
		e.Seq = h.seq[sv.ID]
		if r.IntN(10) == 0 {
			e.Seq += uint64(r.IntN(3)) // gaps
			h.seq[sv.ID] = e.Seq
		}
	}
	e.Time = h.now
	if r.IntN(20) == 0 {
		e.Time -= int64(time.Second) // a stamp from the past
	}
	sm.apply(e)
}

func (sm *sim) playerCmd(sv SessionView) Command {
	h, r := sm.h, sm.r
	v, _ := h.s.RoomView(sv.Room)
	var empties []int
	for i, c := range v.Board {
		if c.Digit == 0 {
			empties = append(empties, i)
		}
	}
	n := int(v.Puzzle.Size)
	roll := r.IntN(100)
	switch {
	case roll < 40 && len(empties) > 0:
		return h.right(sv.Room, empties[sm.pick(len(empties))])
	case roll < 47 && len(empties) > 0:
		i := empties[sm.pick(len(empties))]
		return Note{Row: uint8(i / n), Col: uint8(i % n), Digit: uint8(1 + r.IntN(n)), On: r.IntN(4) != 0}
	case roll < 48:
		return ClearNotes{Row: uint8(r.IntN(n + 1)), Col: uint8(r.IntN(n + 1)), All: r.IntN(2) == 0}
	case roll < 50:
		return Note{Row: uint8(r.IntN(n + 1)), Col: uint8(r.IntN(n + 1)), Digit: uint8(r.IntN(n + 2)), On: true}
	case roll < 58 && len(empties) > 0:
		return h.wrong(sv.Room, empties[sm.pick(len(empties))])
	case roll < 70 && len(empties) > 0:
		i := empties[sm.pick(len(empties))]
		return Claim{Row: uint8(i / n), Col: uint8(i % n)}
	case roll < 73:
		return Release{}
	case roll < 78:
		return Chat{Text: fmt.Sprintf("hello %d", r.IntN(100))}
	case roll < 80:
		return CreateRoom{Name: []string{"a", "b", "side", "Side"}[r.IntN(4)], Size: []uint8{4, 4, 6, 9}[r.IntN(4)], Difficulty: Difficulty(r.IntN(2))}
	case roll < 83:
		rooms := h.s.Rooms()
		return JoinRoom{Name: rooms[r.IntN(len(rooms))].Name}
	case roll < 85:
		return LeaveRoom{}
	case roll < 86:
		return CloseSession{}
	case roll < 90:
		return Place{Row: uint8(r.IntN(n + 1)), Col: uint8(r.IntN(n + 1)), Digit: uint8(r.IntN(n + 2))}
	case roll < 93:
		return Claim{Row: uint8(r.IntN(n + 1)), Col: uint8(r.IntN(n + 1))}
	case roll < 95:
		return Chat{Text: []string{"", " ", "\x00"}[r.IntN(3)]}
	}
	return JoinRoom{Name: "nowhere"}
}

// apply applies e and checks everything.
func (sm *sim) apply(e Entry) Result {
	t, h := sm.t, sm.h
	t.Helper()
	// What the entry's session sees before it runs.
	var before SessionView
	if e.Session != 0 {
		before, _ = h.s.Session(e.Session)
	}
	first, dup := h.s.Result(e.Session, e.Seq)
	bits := sm.noteBits()
	res := h.apply(e)
	if _, ok := e.Cmd.(Place); ok && res.Err == nil && sm.noteBits() < bits {
		sm.cleared++
	}
	for _, ev := range h.evs {
		if ev.Kind == EvNotes && ev.Notes != 0 {
			sm.noted++
		}
	}
	if _, live := h.s.Session(e.Session); !live {
		dup = false // it expired as the entry's time came
	}
	if dup && !sameResult(first, res) {
		t.Fatalf("a retry answered %+v, first %+v", res, first)
	}
	if e.Session != 0 && before.Name != "" {
		sm.lastRes[e.Session] = e
	}
	// Tally moves from results alone.
	if pl, ok := e.Cmd.(Place); ok && before.Name != "" && !dup &&
		(res.Err == nil || res.Err.Code == ErrWrong) {
		if res.Err == nil && res.Points < 10 || res.Err != nil && res.Points != -3 {
			t.Fatalf("place %+v gave %+v", pl, res)
		}
		// A round that was due started before the move: its round is the
		// room's round after the entry.
		v, _ := h.s.RoomView(before.Room)
		key := fmt.Sprintf("%s#%d", before.Room, v.Round)
		if sm.moves[key] == nil {
			sm.moves[key] = map[string]*simScore{}
		}
		sc := sm.moves[key][NameKey(before.Name)]
		if sc == nil {
			sc = &simScore{name: before.Name}
			sm.moves[key][NameKey(before.Name)] = sc
		}
		sc.name = before.Name // the latest spelling shows
		sc.round += res.Points
		sc.last = len(h.log)
	}
	if dup {
		// Only what time brought about: expiries and round starts.
		for _, ev := range h.evs {
			switch {
			case ev.Kind == EvReleased && (ev.Reason == ReleasedByExpiry || ev.Reason == ReleasedByLeave),
				ev.Kind == EvLeft, ev.Kind == EvSessionClosed, ev.Kind == EvRoundStarted,
				ev.Kind == EvChat && ev.Line.From == "":
			default:
				t.Fatalf("a retried entry made events: %v", h.kinds())
			}
		}
	}
	for _, ev := range h.evs {
		if ev.Kind == EvRoundOver {
			sm.checkWinner(ev)
		}
		if ev.Kind == EvRoomCreated {
			sm.mirrors[ev.Room] = &RoomView{ChatHistory: h.s.Rules().ChatHistory}
			for k := range sm.moves { // an old room of the same name
				if strings.HasPrefix(k, ev.Room+"#") {
					delete(sm.moves, k)
				}
			}
		}
		for _, m := range sm.mirrors {
			if ev.Kind != EvNotes {
				m.ApplyEvent(ev)
			}
		}
		for id, m := range sm.mine {
			if ev.Kind != EvNotes || ev.Session == id {
				m.ApplyEvent(ev)
			}
		}
	}
	if e.Session != 0 && res.Err != nil && res.Err.Code == ErrSpectator {
		if sv, _ := h.s.Session(e.Session); !sv.Watch {
			t.Fatalf("a player was refused as a spectator: %+v", e.Cmd)
		}
	}
	if _, live := h.s.Session(e.Session); live && before.Watch && playerMove(e.Cmd) && (res.Err == nil || res.Err.Code != ErrSpectator) {
		t.Fatalf("a spectator's %T %+v gave %+v", e.Cmd, e.Cmd, res)
	}
	sm.checkMine()
	if err := checkState(h.s); err != nil {
		t.Fatalf("after entry %d (%T %+v): %v", len(h.log), e.Cmd, e.Cmd, err)
	}
	rooms := h.s.Rooms()
	for name := range sm.mirrors {
		if _, ok := h.s.RoomView(name); !ok {
			delete(sm.mirrors, name)
		}
	}
	if len(rooms) != len(sm.mirrors) {
		t.Fatalf("%d rooms, %d mirrors", len(rooms), len(sm.mirrors))
	}
	for _, rs := range rooms {
		v, _ := h.s.RoomView(rs.Name)
		m := sm.mirrors[rs.Name]
		if m == nil || !m.Equal(&v) {
			t.Fatalf("after entry %d (%T %+v): mirror of %q differs\nmirror %+v\nserver %+v",
				len(h.log), e.Cmd, e.Cmd, rs.Name, m, v)
		}
	}
	return res
}

// noteBits counts every candidate of every session.
func (sm *sim) noteBits() int {
	n := 0
	for _, sv := range sm.h.s.Sessions() {
		for _, m := range sm.h.s.Notes(sv.ID) {
			n += bits.OnesCount16(m)
		}
	}
	return n
}

// playerMove reports whether c is a move, which a spectator may not make.
func playerMove(c Command) bool {
	switch c.(type) {
	case Place, Claim, Release, Note, ClearNotes:
		return true
	}
	return false
}

// checkMine checks each session's own view, notes included, against the
// server's; a session that changed rooms gets its new room whole.
func (sm *sim) checkMine() {
	t, s := sm.t, sm.h.s
	t.Helper()
	live := map[SessionID]bool{}
	for _, sv := range s.Sessions() {
		live[sv.ID] = true
		want, _ := s.SessionRoomView(sv.ID)
		m := sm.mine[sv.ID]
		if m == nil || m.Name != sv.Room {
			sm.mine[sv.ID] = &want
			continue
		}
		if !m.Equal(&want) {
			t.Fatalf("after entry %d: %s's own view of %q differs\nmirror %+v\nserver %+v", len(sm.h.log), sv.Name, sv.Room, m.Notes, want.Notes)
		}
	}
	for id := range sm.mine {
		if !live[id] {
			delete(sm.mine, id)
		}
	}
}

// checkWinner compares a round's winner with the results seen, and the
// board with the solution.
func (sm *sim) checkWinner(ev Event) {
	t := sm.t
	sm.rounds++
	v, _ := sm.h.s.RoomView(ev.Room)
	p := sm.h.puzzle(ev.Room)
	for i, c := range v.Board {
		if c.Digit != p.Solution[i] {
			t.Fatalf("round over on an unsolved board")
		}
	}
	var best *simScore
	for _, sc := range sm.moves[fmt.Sprintf("%s#%d", ev.Room, ev.Round)] {
		if best == nil || sc.round > best.round || sc.round == best.round && sc.last < best.last {
			best = sc
		}
	}
	if best == nil || ev.Name != best.name || ev.Points != best.round {
		t.Fatalf("round %d of %q: winner %q with %d, want %+v", ev.Round, ev.Room, ev.Name, ev.Points, best)
	}
}

// finish has a member of each room fill its board.
func (sm *sim) finish() {
	h := sm.h
	h.advance(time.Hour) // claims and countdowns run out; idle sessions go
	sm.apply(Entry{Time: h.now, Cmd: Tick{}})
	if len(sm.live()) == 0 {
		sm.apply(Entry{Time: h.now, Cmd: OpenSession{Name: "closer", Token: "closer"}})
	}
	for _, rs := range h.s.Rooms() {
		var who SessionID
		for _, sv := range sm.live() {
			if sv.Room == rs.Name && !sv.Watch {
				who = sv.ID
			}
		}
		if who == 0 {
			continue
		}
		for _, i := range h.empties(rs.Name) {
			h.seq[who]++
			res := sm.apply(Entry{Time: h.now, Session: who, Seq: h.seq[who], Cmd: h.right(rs.Name, i)})
			if res.Err != nil {
				t := sm.t
				t.Fatalf("finishing %q: %v", rs.Name, res.Err)
			}
		}
		if v, _ := h.s.RoomView(rs.Name); v.State != RoundOver {
			sm.t.Fatalf("room %q not over after filling", rs.Name)
		}
	}
}

func TestRandomPlay(t *testing.T) {
	n := seeds(40)
	rounds, noted, cleared := 0, 0, 0
	for seed := uint64(1); seed <= uint64(n); seed++ {
		sm := newSim(t, seed)
		for i := 0; i < 300; i++ {
			sm.step()
		}
		sm.finish()
		rounds += sm.rounds
		noted += sm.noted
		cleared += sm.cleared

		// Replicas fed the same log agree byte for byte.
		replica := New(DefaultRules())
		var evs []Event
		for _, e := range sm.h.log {
			_, evs = replica.Apply(e, evs[:0])
		}
		if !bytes.Equal(replica.Snapshot(), sm.h.s.Snapshot()) || replica.Digest() != sm.h.s.Digest() {
			t.Fatalf("seed %d: replicas differ", seed)
		}
		// Restoring at any point and applying the rest gives the same
		// state, results and events.
		checkRestoreAt(t, sm.h.log, int(sm.r.IntN(len(sm.h.log))+1))
	}
	if rounds < n {
		t.Fatalf("only %d rounds ended in %d games", rounds, n)
	}
	if noted < n || cleared == 0 {
		t.Fatalf("%d notes made, %d placements cleared some, in %d games", noted, cleared, n)
	}
}

// checkRestoreAt replays log, snapshots after k entries, and checks that the
// restored state follows the original through the rest of the log.
func checkRestoreAt(t *testing.T, log []Entry, k int) {
	t.Helper()
	a := New(DefaultRules())
	var evs []Event
	for _, e := range log[:k] {
		_, evs = a.Apply(e, evs[:0])
	}
	snap := a.Snapshot()
	b, err := Restore(snap)
	if err != nil {
		t.Fatalf("restore after %d entries: %v", k, err)
	}
	if err := checkState(b); err != nil {
		t.Fatalf("restored state: %v", err)
	}
	if !bytes.Equal(b.Snapshot(), snap) {
		t.Fatalf("snapshot of the restored state differs")
	}
	for _, rs := range a.Rooms() {
		va, _ := a.RoomView(rs.Name)
		vb, _ := b.RoomView(rs.Name)
		if !va.Equal(&vb) {
			t.Fatalf("room %q differs after restore", rs.Name)
		}
	}
	var evA, evB []Event
	for i, e := range log[k:] {
		var ra, rb Result
		ra, evA = a.Apply(e, evA[:0])
		rb, evB = b.Apply(e, evB[:0])
		if fmt.Sprint(ra) != fmt.Sprint(rb) || fmt.Sprintf("%+v", evA) != fmt.Sprintf("%+v", evB) {
			// Pointers differ; compare what they point at.
			if !sameResult(ra, rb) || !sameEvents(evA, evB) {
				t.Fatalf("entry %d after restore at %d: %+v %+v vs %+v %+v", k+i, k, ra, evA, rb, evB)
			}
		}
	}
	if !bytes.Equal(a.Snapshot(), b.Snapshot()) {
		t.Fatalf("restored at %d: final states differ", k)
	}
}

func sameResult(a, b Result) bool {
	if (a.Err == nil) != (b.Err == nil) || a.Points != b.Points || a.Session != b.Session {
		return false
	}
	return a.Err == nil || *a.Err == *b.Err
}

func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if (x.Line == nil) != (y.Line == nil) || x.Line != nil && *x.Line != *y.Line {
			return false
		}
		if (x.Puzzle == nil) != (y.Puzzle == nil) || x.Puzzle != nil && fmt.Sprint(*x.Puzzle) != fmt.Sprint(*y.Puzzle) {
			return false
		}
		x.Line, y.Line, x.Puzzle, y.Puzzle = nil, nil, nil, nil
		if x != y {
			return false
		}
	}
	return true
}

func TestSnapshotDeterministic(t *testing.T) {
	// Two states made by the same entries in different Go map orders must
	// encode the same; run the same log many times.
	sm := newSim(t, 99)
	for i := 0; i < 200; i++ {
		sm.step()
	}
	want := sm.h.s.Snapshot()
	for i := 0; i < 5; i++ {
		s := New(DefaultRules())
		var evs []Event
		for _, e := range sm.h.log {
			_, evs = s.Apply(e, evs[:0])
		}
		if !bytes.Equal(s.Snapshot(), want) {
			t.Fatal("snapshot differs between runs")
		}
	}
}
