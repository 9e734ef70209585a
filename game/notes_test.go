package game

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"time"
)

// cellOf is the (row, col) of cell i of a board of side n.
func cellOf(i, n int) (uint8, uint8) { return uint8(i / n), uint8(i % n) }

func TestNotesAreTheSessionsOwn(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	b := h.open("bob")
	i := h.empties(MainRoom)[0]
	r, c := cellOf(i, 4)

	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 2, On: true}), OK, "")
	wantKinds(t, h, EvNotes)
	if ev := h.evs[0]; ev.Session != a || ev.Room != MainRoom || ev.Row != r || ev.Col != c || ev.Notes != 1<<1 {
		t.Fatalf("event %+v", ev)
	}
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 4, On: true}), OK, "")
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 4, On: true}), OK, "") // again: no change
	if got := h.s.Notes(a); got[i] != 1<<1|1<<3 {
		t.Fatalf("alice's notes %v", got)
	}
	if h.evs[0].Notes != 1<<1|1<<3 {
		t.Fatalf("event %+v", h.evs[0])
	}
	// Nobody else sees them.
	if got := h.s.Notes(b); got != nil {
		t.Fatalf("bob has notes %v", got)
	}
	if v, _ := h.s.RoomView(MainRoom); v.Notes != nil {
		t.Fatalf("the room's view has notes %v", v.Notes)
	}
	if v, _ := h.s.SessionRoomView(b); v.Notes != nil {
		t.Fatalf("bob's view has notes %v", v.Notes)
	}
	if v, _ := h.s.SessionRoomView(a); v.Notes[i] != 1<<1|1<<3 {
		t.Fatalf("alice's view has notes %v", v.Notes)
	}
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 2}), OK, "")
	if got := h.s.Notes(a); got[i] != 1<<3 {
		t.Fatalf("after taking 2 out: %v", got)
	}
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 4}), OK, "")
	if got := h.s.Notes(a); got != nil {
		t.Fatalf("after taking every note out: %v", got)
	}

	// Bad notes.
	p := h.puzzle(MainRoom)
	given := slices.IndexFunc(p.Givens, func(d uint8) bool { return d != 0 })
	gr, gc := cellOf(given, 4)
	wantErr(t, h.do(a, Note{Row: 4, Col: 0, Digit: 1, On: true}), ErrBadCell, "no such cell or digit on this board")
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 0, On: true}), ErrBadCell, "no such cell or digit on this board")
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 5, On: true}), ErrBadCell, "no such cell or digit on this board")
	wantErr(t, h.do(a, Note{Row: gr, Col: gc, Digit: 1, On: true}), ErrGiven, "cell is a given")
	wantErr(t, h.do(b, h.right(MainRoom, i)), OK, "")
	wantErr(t, h.do(a, Note{Row: r, Col: c, Digit: 1, On: true}), ErrFilled, "cell is already filled")
	wantErr(t, h.do(a, ClearNotes{Row: 9, Col: 0}), ErrBadCell, "no such cell or digit on this board")
	if err := checkState(h.s); err != nil {
		t.Fatal(err)
	}
}

func TestRightPlacementClearsNotes(t *testing.T) {
	r := DefaultRules()
	r.MainSize = 9
	h := newHarness(t, r)
	a := h.open("alice")
	b := h.open("bob")
	c := h.open("carol")
	p := h.puzzle(MainRoom)
	empties := h.empties(MainRoom)
	i := empties[0]
	d := p.Solution[i]
	g := geometryOf(9)
	peers := g.peers[i][:g.npeers]
	// alice and carol note d (and another digit) on every empty cell.
	other := d%9 + 1
	for _, k := range empties {
		row, col := cellOf(k, 9)
		for _, who := range []SessionID{a, c} {
			h.do(who, Note{Row: row, Col: col, Digit: d, On: true})
			h.do(who, Note{Row: row, Col: col, Digit: other, On: true})
		}
	}
	// A wrong move clears nothing.
	before := h.s.Notes(a)
	h.do(b, h.wrong(MainRoom, i))
	if !slices.Equal(h.s.Notes(a), before) {
		t.Fatal("a wrong move changed notes")
	}
	// bob places d right at i.
	wantErr(t, h.do(b, h.right(MainRoom, i)), OK, "")
	for _, who := range []SessionID{a, c} {
		notes := h.s.Notes(who)
		for _, k := range empties {
			want := uint16(1)<<(d-1) | uint16(1)<<(other-1)
			switch {
			case k == i:
				want = 0
			case slices.Contains(peers, uint8(k)):
				want = uint16(1) << (other - 1)
			}
			if notes[k] != want {
				t.Fatalf("session %d, cell %d: notes %#x, want %#x", who, k, notes[k], want)
			}
		}
	}
	// It made no notes events: each client clears them by the same rule.
	for _, ev := range h.evs {
		if ev.Kind == EvNotes {
			t.Fatalf("a placement made %+v", ev)
		}
	}
	if err := checkState(h.s); err != nil {
		t.Fatal(err)
	}
}

func TestClearNotesAndLeaving(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	empties := h.empties(MainRoom)
	for _, k := range empties[:3] {
		row, col := cellOf(k, 4)
		h.do(a, Note{Row: row, Col: col, Digit: 1, On: true})
	}
	row, col := cellOf(empties[0], 4)
	wantErr(t, h.do(a, ClearNotes{Row: row, Col: col}), OK, "")
	wantKinds(t, h, EvNotes)
	if got := h.s.Notes(a); got[empties[0]] != 0 || got[empties[1]] == 0 {
		t.Fatalf("after clearing a cell: %v", got)
	}
	wantErr(t, h.do(a, ClearNotes{All: true}), OK, "")
	wantKinds(t, h, EvNotes, EvNotes)
	if got := h.s.Notes(a); got != nil {
		t.Fatalf("after clearing all: %v", got)
	}
	wantErr(t, h.do(a, ClearNotes{All: true}), OK, "")
	wantKinds(t, h)

	// Notes belong to the room's board: leaving drops them.
	h.do(a, Note{Row: row, Col: col, Digit: 2, On: true})
	h.do(a, CreateRoom{Name: "side", Size: 4})
	if got := h.s.Notes(a); got != nil {
		t.Fatalf("notes after moving: %v", got)
	}
	h.do(a, LeaveRoom{})
	if got := h.s.Notes(a); got != nil {
		t.Fatalf("notes after coming back: %v", got)
	}
	if err := checkState(h.s); err != nil {
		t.Fatal(err)
	}
}

// Notes are the session's: a failover (every session disconnected), a
// resumed session and a snapshot keep them.
func TestNotesSurviveFailoverAndRestore(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	i := h.empties(MainRoom)[1]
	row, col := cellOf(i, 4)
	h.do(a, Note{Row: row, Col: col, Digit: 3, On: true})
	h.sys(ViewChange{Epoch: 2, Primary: 2})
	h.advance(time.Second)
	res := h.sys(OpenSession{Name: "alice", Token: "tok-alice"})
	if res.Session != a {
		t.Fatalf("resumed %d, want %d", res.Session, a)
	}
	if got := h.s.Notes(a); got[i] != 1<<2 {
		t.Fatalf("notes after the failover: %v", got)
	}
	s2, err := Restore(h.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Notes(a); got[i] != 1<<2 {
		t.Fatalf("notes after a restore: %v", got)
	}
	// A session that expires takes its notes with it.
	h.sys(Disconnect{Session: a})
	h.advance(2 * testRules().SessionGrace)
	h.sys(Tick{})
	if got := h.s.Notes(a); got != nil {
		t.Fatalf("an expired session's notes: %v", got)
	}
}

func TestSpectator(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	res := h.sys(OpenSession{Name: "presenter", Token: "tok-presenter", Watch: true})
	wantErr(t, res, OK, "")
	w := res.Session
	if ev := h.evs[0]; ev.Kind != EvSessionOpened || !ev.Watch {
		t.Fatalf("opened %+v", ev)
	}
	if sv, _ := h.s.Session(w); !sv.Watch {
		t.Fatalf("session %+v", sv)
	}
	i := h.empties(MainRoom)[0]
	row, col := cellOf(i, 4)
	for _, c := range []Command{h.right(MainRoom, i), Claim{Row: row, Col: col}, Release{},
		Note{Row: row, Col: col, Digit: 1, On: true}, ClearNotes{All: true}} {
		wantErr(t, h.do(w, c), ErrSpectator, "you are watching: spectators cannot move")
		if len(h.evs) != 0 {
			t.Fatalf("%T made events %v", c, h.kinds())
		}
	}
	// A spectator chats and changes rooms.
	wantErr(t, h.do(w, Chat{Text: "nice move"}), OK, "")
	h.do(a, h.right(MainRoom, i))
	v, _ := h.s.RoomView(MainRoom)
	if len(v.Scores) != 1 || v.Scores[0].Name != "alice" {
		t.Fatalf("scores %+v", v.Scores)
	}
	var watching []string
	for _, m := range v.Members {
		if m.Watching {
			watching = append(watching, m.Name)
		}
	}
	if !slices.Equal(watching, []string{"presenter"}) {
		t.Fatalf("members %+v", v.Members)
	}
	rs := h.s.Rooms()
	if !slices.Equal(rs[0].Players, []string{"alice"}) || !slices.Equal(rs[0].Watchers, []string{"presenter"}) {
		t.Fatalf("room list %+v", rs[0])
	}
	// Resumed, with or without the flag, it stays what it was opened as.
	h.sys(Disconnect{Session: w})
	res = h.sys(OpenSession{Name: "presenter", Token: "tok-presenter"})
	if res.Session != w || !h.evs[0].Watch {
		t.Fatalf("resumed %+v, %+v", res, h.evs)
	}
	wantErr(t, h.do(w, h.right(MainRoom, h.empties(MainRoom)[0])), ErrSpectator, "you are watching: spectators cannot move")
	wantErr(t, h.do(w, CreateRoom{Name: "stage", Size: 4}), OK, "")
	if ev := h.evs[len(h.evs)-2]; ev.Kind != EvJoined || !ev.Watch {
		t.Fatalf("joined %+v", ev)
	}
	if err := checkState(h.s); err != nil {
		t.Fatal(err)
	}
}

// A spectator who takes the name of a player who left is not on the
// scoreboard the player left behind once a round starts.
func TestSpectatorNotScoredUnderAPlayersName(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	h.do(a, h.right(MainRoom, h.empties(MainRoom)[0]))
	h.do(a, CloseSession{})
	w := h.sys(OpenSession{Name: "alice", Token: "tok-w", Watch: true}).Session
	b := h.open("bob")
	for _, i := range h.empties(MainRoom) {
		h.do(b, h.right(MainRoom, i))
	}
	h.advance(time.Hour)
	h.sys(Tick{})
	v, _ := h.s.RoomView(MainRoom)
	for _, sc := range v.Scores {
		if sc.Name == "alice" {
			t.Fatalf("spectator %d scored: %+v", w, v.Scores)
		}
	}
	if err := checkState(h.s); err != nil {
		t.Fatal(err)
	}
}

func TestRoundResults(t *testing.T) {
	r := testRules()
	h := newHarness(t, r)
	start := h.now
	a := h.open("alice")
	b := h.open("bob")
	v, _ := h.s.RoomView(MainRoom)
	if v.RoundStart != start || v.RoundEnd != 0 {
		t.Fatalf("round times %d %d, want %d 0", v.RoundStart, v.RoundEnd, start)
	}
	empties := h.empties(MainRoom)
	h.do(a, h.wrong(MainRoom, empties[0]))
	for k, i := range empties {
		h.advance(time.Second)
		who := a
		if k%3 == 2 {
			who = b
		}
		h.do(who, h.right(MainRoom, i))
	}
	v, _ = h.s.RoomView(MainRoom)
	if v.State != RoundOver || v.RoundEnd != h.now || v.RoundStart != start {
		t.Fatalf("over: %v, times %d..%d, now %d", v.State, v.RoundStart, v.RoundEnd, h.now)
	}
	var over Event
	for _, ev := range h.evs {
		if ev.Kind == EvRoundOver {
			over = ev
		}
	}
	if over.At != h.now {
		t.Fatalf("round over event %+v", over)
	}
	got := map[string][2]uint32{}
	for _, sc := range v.Scores {
		got[sc.Name] = [2]uint32{sc.RoundRight, sc.RoundWrong}
	}
	nb := uint32(len(empties) / 3)
	if got["alice"] != [2]uint32{uint32(len(empties)) - nb, 1} || got["bob"] != [2]uint32{nb, 0} {
		t.Fatalf("round moves %v", got)
	}
	// The next round starts when the countdown said, whenever the tick
	// comes; this round's counts start again.
	next := v.NextRoundAt
	h.advance(r.RoundCountdown + 3*time.Second)
	h.sys(Tick{})
	v, _ = h.s.RoomView(MainRoom)
	if v.Round != 2 || v.RoundStart != next || v.RoundEnd != 0 {
		t.Fatalf("round %d, times %d..%d, want start %d", v.Round, v.RoundStart, v.RoundEnd, next)
	}
	if h.evs[0].Kind != EvRoundStarted || h.evs[0].At != next {
		t.Fatalf("started %+v", h.evs[0])
	}
	for _, sc := range v.Scores {
		if sc.RoundRight != 0 || sc.RoundWrong != 0 || sc.Right == 0 {
			t.Fatalf("after the round: %+v", sc)
		}
	}
}

// A data directory written by the build before notes keeps its game.
func TestRestoreReadsVersion3(t *testing.T) {
	old, err := os.ReadFile("testdata/snapshot-v3.bin")
	if err != nil {
		t.Fatal(err)
	}
	if old[len(snapMagic)] != 3 {
		t.Fatalf("the fixture is version %d", old[len(snapMagic)])
	}
	s, err := Restore(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkState(s); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if snap[len(snapMagic)] != snapVersion {
		t.Fatalf("re-snapshot as version %d", snap[len(snapMagic)])
	}
	s2, err := Restore(snap)
	if err != nil || !bytes.Equal(s2.Snapshot(), snap) {
		t.Fatalf("the upgraded snapshot: %v", err)
	}
	// The game is all there: players, rooms, boards, scores, chat.
	if len(s.Sessions()) != 2 || len(s.Rooms()) != 2 {
		t.Fatalf("sessions %+v rooms %+v", s.Sessions(), s.Rooms())
	}
	v, _ := s.RoomView(MainRoom)
	if v.State != RoundOver || v.Winner != "bob" || len(v.Scores) != 1 || v.Scores[0].Right == 0 {
		t.Fatalf("main %+v", v)
	}
	side, _ := s.RoomView("side")
	if len(side.Chat) != 2 || side.Scores[0].Wrong != 1 || side.Scores[0].Right != 1 {
		t.Fatalf("side %+v", side)
	}
	// And it plays on.
	a, _ := s.SessionByName("alice")
	var evs []Event
	res, _ := s.Apply(Entry{Time: s.Now() + 1, Session: a.ID, Seq: 1000, Cmd: Note{Row: 5, Col: 5, Digit: 1, On: true}}, evs)
	if res.Err != nil && res.Err.Code != ErrFilled && res.Err.Code != ErrGiven {
		t.Fatal(res.Err)
	}
}

// A rolled-back note is not announced to the room: notes are their
// player's alone.
func TestRolledBackNotesStayPrivate(t *testing.T) {
	h := newHarness(t, testRules())
	h.open("alice")
	h.sys(Rollback{Items: []RolledBack{
		{Room: MainRoom, Name: "alice", Seq: 4, Kind: CmdNote, Row: 1, Col: 1, Digit: 2},
		{Room: MainRoom, Name: "alice", Seq: 5, Kind: CmdClearNotes},
		{Room: MainRoom, Name: "alice", Seq: 6, Kind: CmdPlace, Row: 1, Col: 1, Digit: 2},
	}})
	wantKinds(t, h, EvRollback, EvChat)
	if h.evs[0].Cmd != CmdPlace || !h.s.RolledBack("alice", 4) || !h.s.RolledBack("alice", 5) {
		t.Fatalf("events %+v", h.evs)
	}
}
