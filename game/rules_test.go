package game

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewHasMain(t *testing.T) {
	s := New(DefaultRules())
	v, ok := s.RoomView(MainRoom)
	if !ok {
		t.Fatal("no room main")
	}
	if v.Puzzle.Size != 9 || v.Puzzle.Difficulty != Medium || v.Round != 1 || v.State != RoundPlaying {
		t.Fatalf("main: %+v", v.Puzzle)
	}
	want, _ := GenerateSeed(9, Medium, PuzzleSeed(defaultSeed, MainRoom, 0, 1))
	if !equalBytes(v.Puzzle.Givens, want.Givens) {
		t.Fatal("main's first puzzle is not the default seed's")
	}
	if s.NextDeadline() != 0 || s.Applied() != 0 || s.Now() != 0 {
		t.Fatal("fresh state has a deadline, entries or time")
	}
	if rs := s.Rooms(); len(rs) != 1 || rs[0].Name != MainRoom || rs[0].Cells != 81 {
		t.Fatalf("rooms %+v", rs)
	}
}

func equalBytes(a, b []uint8) bool { return string(a) == string(b) }

func TestGenesis(t *testing.T) {
	r := testRules()
	r.ChatHistory = 7
	h := &harness{t: t, s: New(DefaultRules()), now: t0, seq: map[SessionID]uint64{}}
	wantErr(t, h.sys(Genesis{Seed: 99, Rules: r}), OK, "")
	if got := h.s.Rules(); got != r.Normalize() || got.ChatHistory != 7 {
		t.Fatalf("rules %+v", got)
	}
	p := h.puzzle(MainRoom)
	want, _ := GenerateSeed(4, Easy, PuzzleSeed(99, MainRoom, 0, 1))
	if p.Seed != want.Seed || !equalBytes(p.Givens, want.Givens) {
		t.Fatal("genesis did not regenerate main from its seed")
	}
	if h.s.Seed() != 99 {
		t.Fatal("seed not kept")
	}
	wantErr(t, h.sys(Genesis{Seed: 1}), ErrGenesis, "the game has already started")
	if h.s.Seed() != 99 {
		t.Fatal("a refused genesis changed the seed")
	}

	// Anything applied first, even a failure, closes the door.
	h2 := &harness{t: t, s: New(DefaultRules()), now: t0, seq: map[SessionID]uint64{}}
	h2.sys(Tick{})
	wantErr(t, h2.sys(Genesis{Seed: 5}), ErrGenesis, "the game has already started")
}

func TestRulesNormalize(t *testing.T) {
	got := Rules{ChatHistory: -1, MaxRooms: 5000, MainSize: 7, MainDifficulty: 9, ClaimLease: 48 * time.Hour}.Normalize()
	d := DefaultRules()
	if got.ChatHistory != d.ChatHistory || got.MaxRooms != 1000 || got.MainSize != 9 ||
		got.MainDifficulty != Medium || got.ClaimLease != 24*time.Hour || got.SessionGrace != d.SessionGrace {
		t.Fatalf("normalize: %+v", got)
	}
	if d.Normalize() != d {
		t.Fatal("default rules are not normal")
	}
}

func TestClock(t *testing.T) {
	h := newHarness(t, testRules())
	h.now = t0 + 100
	h.sys(Tick{})
	h.now = t0 + 50 // an older stamp never moves the clock back
	h.sys(Tick{})
	if h.s.Now() != t0+100 {
		t.Fatalf("now %d", h.s.Now()-t0)
	}
	if h.s.Applied() != 3 {
		t.Fatalf("applied %d", h.s.Applied())
	}
}

func TestOpenSession(t *testing.T) {
	r := testRules()
	r.MaxSessions = 2
	h := newHarness(t, r)
	res := h.sys(OpenSession{Name: "  alice  ", Token: "ta"})
	wantErr(t, res, OK, "")
	if res.Session != 1 {
		t.Fatalf("session %d", res.Session)
	}
	wantKinds(t, h, EvSessionOpened, EvJoined, EvChat)
	if h.evs[0].Name != "alice" || h.evs[1].Room != MainRoom || h.evs[2].Line.Text != "alice joined" ||
		h.evs[2].Line.From != "" || h.evs[2].Line.N != 1 {
		t.Fatalf("events %+v", h.evs)
	}
	sv, ok := h.s.Session(1)
	if !ok || sv != (SessionView{ID: 1, Name: "alice", Room: MainRoom, Online: true}) {
		t.Fatalf("session %+v", sv)
	}
	if sv, ok := h.s.SessionByToken("ta"); !ok || sv.ID != 1 {
		t.Fatal("token lookup")
	}
	if sv, ok := h.s.SessionByName("ALICE"); !ok || sv.ID != 1 {
		t.Fatal("name lookup")
	}

	for _, tc := range []struct {
		name string
		code Code
		text string
	}{
		{"ALICE", ErrNameTaken, `the name "alice" is taken (a name is held a while after its player drops)`},
		{"Alice", ErrNameTaken, `the name "alice" is taken (a name is held a while after its player drops)`},
		{"", ErrBadName, "a name is 1 to 24 printable characters"},
		{"   ", ErrBadName, "a name is 1 to 24 printable characters"},
		{strings.Repeat("x", 25), ErrBadName, "a name is 1 to 24 printable characters"},
		{"bo\x07b", ErrBadName, "a name is 1 to 24 printable characters"},
		{"bo\nb", ErrBadName, "a name is 1 to 24 printable characters"},
		{"b\xffb", ErrBadName, "a name is 1 to 24 printable characters"},
		{"tab\tbed", ErrBadName, "a name is 1 to 24 printable characters"},
		{"b\u200dob", ErrBadName, "a name is 1 to 24 printable characters"}, // no joiners in names
	} {
		res := h.sys(OpenSession{Name: tc.name, Token: "t-" + tc.name})
		wantErr(t, res, tc.code, tc.text)
		if len(h.evs) != 0 {
			t.Fatalf("%q: refused open made events %v", tc.name, h.kinds())
		}
	}
	// 24 runes of any script are fine.
	wantErr(t, h.sys(OpenSession{Name: strings.Repeat("é", 24), Token: "te"}), OK, "")
	wantErr(t, h.sys(OpenSession{Name: "carol", Token: "tc"}), ErrFull, "the game is full")
	// A resume needs no room.
	res = h.sys(OpenSession{Name: "whatever", Token: "ta"})
	wantErr(t, res, OK, "")
	if res.Session != 1 {
		t.Fatalf("resume gave %d", res.Session)
	}
	wantKinds(t, h, EvSessionResumed)
	wantErr(t, h.sys(OpenSession{Name: "dave", Token: strings.Repeat("t", MaxTokenLen+1)}),
		ErrNoSession, "no such session (it may have expired)")
	if len(h.s.Sessions()) != 2 {
		t.Fatalf("sessions %+v", h.s.Sessions())
	}
}

func TestNameKeyMatchesEqualFold(t *testing.T) {
	alphabet := []rune{'a', 'A', 'k', 'K', '\u212a', 's', 'S', '\u017f', 'i', 'I', '\u0130', '\u0131',
		'ß', 'ẞ', 'σ', 'Σ', 'ς', 'é', 'É', '1', ' '}
	var names []string
	var gen func(prefix []rune, n int)
	gen = func(prefix []rune, n int) {
		names = append(names, string(prefix))
		if n == 0 {
			return
		}
		for _, r := range alphabet {
			gen(append(prefix, r), n-1)
		}
	}
	gen(nil, 2)
	for _, a := range names {
		for _, b := range names {
			if (NameKey(a) == NameKey(b)) != strings.EqualFold(a, b) {
				t.Fatalf("%q %q: keys %q %q, EqualFold %v", a, b, NameKey(a), NameKey(b), strings.EqualFold(a, b))
			}
		}
	}
	if NameKey("Alice") != "alice" || NameKey("bob") != "bob" {
		t.Fatal("ASCII names key to lower case")
	}
}

func TestDisconnectAndGrace(t *testing.T) {
	r := testRules()
	h := newHarness(t, r)
	a := h.open("alice")
	h.open("bob")
	cell := h.empties(MainRoom)[0]
	pl := h.right(MainRoom, cell)
	wantErr(t, h.do(a, Claim{Row: pl.Row, Col: pl.Col}), OK, "")

	wantErr(t, h.sys(Disconnect{Session: a}), OK, "")
	wantKinds(t, h, EvDisconnected)
	graceEnd := h.now + int64(r.SessionGrace)
	if h.evs[0].Until != graceEnd || h.evs[0].Room != MainRoom {
		t.Fatalf("disconnect event %+v", h.evs[0])
	}
	if sv, _ := h.s.Session(a); sv.Online {
		t.Fatal("still online")
	}
	// A second disconnect keeps the first deadline.
	h.advance(time.Second)
	wantErr(t, h.sys(Disconnect{Session: a}), OK, "")
	wantKinds(t, h)
	wantErr(t, h.sys(Disconnect{Session: 99}), ErrNoSession, "no such session (it may have expired)")

	// The name stays taken during the grace period, and the claim holds.
	wantErr(t, h.sys(OpenSession{Name: "Alice", Token: "other"}), ErrNameTaken, `the name "alice" is taken (a name is held a while after its player drops)`)
	// Commands still work while disconnected.
	wantErr(t, h.do(a, Chat{Text: "still here"}), OK, "")
	if h.s.NextDeadline() != h.now-int64(time.Second)+int64(r.ClaimLease) {
		t.Fatalf("next deadline %d", h.s.NextDeadline()-t0)
	}
	// Let the claim lapse, then the grace.
	h.now = graceEnd - 1
	h.sys(Tick{})
	wantKinds(t, h, EvReleased)
	if h.evs[0].Reason != ReleasedByExpiry {
		t.Fatalf("reason %v", h.evs[0].Reason)
	}
	if h.s.NextDeadline() != graceEnd {
		t.Fatalf("next deadline %d, want grace end", h.s.NextDeadline()-t0)
	}
	h.now = graceEnd
	h.sys(Tick{})
	wantKinds(t, h, EvLeft, EvChat, EvSessionClosed)
	if h.evs[1].Line.Text != "alice left" {
		t.Fatalf("line %q", h.evs[1].Line.Text)
	}
	if _, ok := h.s.Session(a); ok {
		t.Fatal("session outlived its grace")
	}
	wantErr(t, h.do(a, Chat{Text: "hi"}), ErrNoSession, "no such session (it may have expired)")
	// Its token no longer resumes: a new session opens under it.
	res := h.sys(OpenSession{Name: "alice", Token: "tok-alice"})
	wantErr(t, res, OK, "")
	if res.Session == a {
		t.Fatal("expired session resumed")
	}
	if h.s.NextDeadline() != 0 {
		t.Fatalf("deadline left: %d", h.s.NextDeadline())
	}
}

func TestResumeWithinGrace(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	h.sys(Disconnect{Session: a})
	h.advance(30 * time.Second)
	res := h.sys(OpenSession{Token: "tok-alice"})
	wantErr(t, res, OK, "")
	if res.Session != a {
		t.Fatalf("resumed %d", res.Session)
	}
	wantKinds(t, h, EvSessionResumed)
	if sv, _ := h.s.Session(a); !sv.Online || sv.Room != MainRoom {
		t.Fatalf("%+v", sv)
	}
	if h.s.NextDeadline() != 0 {
		t.Fatal("grace deadline survived the resume")
	}
	h.advance(time.Hour)
	h.sys(Tick{})
	if _, ok := h.s.Session(a); !ok {
		t.Fatal("resumed session expired")
	}
}

func TestExpiryBeforeCommand(t *testing.T) {
	// What is due happens before the entry's command, even without a Tick.
	r := testRules()
	h := newHarness(t, r)
	a, b := h.open("alice"), h.open("bob")
	cell := h.empties(MainRoom)[0]
	pl := h.right(MainRoom, cell)
	h.do(a, Claim{Row: pl.Row, Col: pl.Col})
	h.advance(r.ClaimLease)
	res := h.do(b, pl)
	wantErr(t, res, OK, "")
	wantKinds(t, h, EvReleased, EvPlaced)
	if h.evs[0].Reason != ReleasedByExpiry || h.evs[0].Name != "alice" {
		t.Fatalf("%+v", h.evs[0])
	}
}

func TestCloseSession(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	pl := h.right(MainRoom, h.empties(MainRoom)[0])
	h.do(a, Claim{Row: pl.Row, Col: pl.Col})
	wantErr(t, h.do(a, CloseSession{}), OK, "")
	wantKinds(t, h, EvReleased, EvLeft, EvChat, EvSessionClosed)
	if h.evs[0].Reason != ReleasedByLeave || h.evs[3].Session != a {
		t.Fatalf("%+v", h.evs)
	}
	// The name is free at once.
	wantErr(t, h.sys(OpenSession{Name: "ALICE", Token: "x"}), OK, "")
	wantErr(t, h.do(a, Release{}), ErrNoSession, "no such session (it may have expired)")
}

func TestCommandChecks(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 1}), ErrUnknownCmd, "unknown command")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 2, Cmd: Tick{}}), ErrUnknownCmd, "unknown command")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 3, Cmd: OpenSession{Name: "x"}}), ErrUnknownCmd, "unknown command")
	wantErr(t, h.apply(Entry{Time: h.now, Cmd: Chat{Text: "hi"}}), ErrNoSession, "no such session (it may have expired)")
	wantErr(t, h.apply(Entry{Time: h.now, Session: 77, Seq: 1, Cmd: Chat{Text: "hi"}}), ErrNoSession, "no such session (it may have expired)")
	// Pointers to commands are the commands.
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 4, Cmd: &Chat{Text: "hi"}}), OK, "")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 5, Cmd: (*Chat)(nil)}), ErrUnknownCmd, "unknown command")
	wantErr(t, h.apply(Entry{Time: h.now, Cmd: &Tick{}}), OK, "")
}

func TestDedupe(t *testing.T) {
	r := testRules()
	r.DedupeWindow = 4
	h := newHarness(t, r)
	a := h.open("alice")
	cells := h.empties(MainRoom)
	wrong := h.wrong(MainRoom, cells[0])
	res := h.apply(Entry{Time: h.now, Session: a, Seq: 10, Cmd: wrong})
	wantErr(t, res, ErrWrong, "that digit is wrong here")
	before, _ := h.s.RoomView(MainRoom)
	// A retry answers the same and changes nothing.
	res2 := h.apply(Entry{Time: h.now, Session: a, Seq: 10, Cmd: wrong})
	wantErr(t, res2, ErrWrong, "that digit is wrong here")
	if res2.Points != -3 || len(h.evs) != 0 {
		t.Fatalf("retry: %+v, events %v", res2, h.kinds())
	}
	if res2.Err == res.Err {
		t.Fatal("retry shares the error value")
	}
	// Even if the retry carries another command: the sequence number rules.
	h.apply(Entry{Time: h.now, Session: a, Seq: 10, Cmd: h.right(MainRoom, cells[0])})
	after, _ := h.s.RoomView(MainRoom)
	if !before.Equal(&after) || len(h.evs) != 0 {
		t.Fatal("a retry changed the room")
	}
	if got, ok := h.s.Result(a, 10); !ok || got.Points != -3 || got.Err.Code != ErrWrong {
		t.Fatalf("Result(10) = %+v %v", got, ok)
	}
	// Gaps inside the window apply; older than the window is stale.
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 13, Cmd: Chat{Text: "13"}}), OK, "")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 11, Cmd: Chat{Text: "11"}}), OK, "")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 9, Cmd: Chat{Text: "9"}}), ErrStale, "command is too old to answer")
	if len(h.evs) != 0 {
		t.Fatal("stale command made events")
	}
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 10, Cmd: Chat{Text: "10"}}), ErrWrong, "that digit is wrong here")
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 14, Cmd: Chat{Text: "14"}}), OK, "")
	// 10 = 14-4 has now left the window.
	wantErr(t, h.apply(Entry{Time: h.now, Session: a, Seq: 10, Cmd: Chat{Text: "10"}}), ErrStale, "command is too old to answer")
	if _, ok := h.s.Result(a, 10); ok {
		t.Fatal("Result remembers past the window")
	}
	if _, ok := h.s.Result(a, 12); ok {
		t.Fatal("Result invents an answer")
	}
	v, _ := h.s.RoomView(MainRoom)
	var texts []string
	for _, ln := range v.Chat {
		if ln.From == "alice" {
			texts = append(texts, ln.Text)
		}
	}
	if strings.Join(texts, ",") != "13,11,14" {
		t.Fatalf("applied chat lines %v", texts)
	}
	// System commands are not deduplicated: the same entry twice acts twice.
	vc := Entry{Time: h.now, Cmd: ViewChange{Epoch: 7, Primary: 2}}
	for range 2 {
		h.apply(vc)
	}
	v, _ = h.s.RoomView(MainRoom)
	n := 0
	for _, ln := range v.Chat {
		if ln.Text == "n2 is primary (epoch 7)" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("a system command applied twice left %d lines", n)
	}
}

func TestPlaceRejections(t *testing.T) {
	h := newHarness(t, testRules())
	a, b := h.open("alice"), h.open("bob")
	p := h.puzzle(MainRoom)
	given := -1
	for i, d := range p.Givens {
		if d != 0 {
			given = i
			break
		}
	}
	empties := h.empties(MainRoom)
	filled, claimed := empties[0], empties[1]
	wantErr(t, h.do(a, h.right(MainRoom, filled)), OK, "")
	cl := h.right(MainRoom, claimed)
	wantErr(t, h.do(b, Claim{Row: cl.Row, Col: cl.Col}), OK, "")

	for _, tc := range []struct {
		name string
		cmd  Place
		code Code
		text string
	}{
		{"row", Place{Row: 4, Col: 0, Digit: 1}, ErrBadCell, "no such cell or digit on this board"},
		{"col", Place{Row: 0, Col: 200, Digit: 1}, ErrBadCell, "no such cell or digit on this board"},
		{"digit 0", Place{Row: 0, Col: 0, Digit: 0}, ErrBadCell, "no such cell or digit on this board"},
		{"digit 5", Place{Row: 0, Col: 0, Digit: 5}, ErrBadCell, "no such cell or digit on this board"},
		{"given", h.right(MainRoom, given), ErrGiven, "cell is a given"},
		{"filled", h.right(MainRoom, filled), ErrFilled, "cell is already filled"},
		{"filled wrong", h.wrong(MainRoom, filled), ErrFilled, "cell is already filled"},
		{"claimed", h.right(MainRoom, claimed), ErrClaimed, "cell is claimed by bob"},
		{"claimed wrong", h.wrong(MainRoom, claimed), ErrClaimed, "cell is claimed by bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := h.s.RoomView(MainRoom)
			res := h.do(a, tc.cmd)
			wantErr(t, res, tc.code, tc.text)
			if res.Points != 0 || len(h.evs) != 0 {
				t.Fatalf("refusal scored %d, events %v", res.Points, h.kinds())
			}
			if tc.code == ErrClaimed && res.Err.Who != "bob" {
				t.Fatalf("who %q", res.Err.Who)
			}
			after, _ := h.s.RoomView(MainRoom)
			if !before.Equal(&after) {
				t.Fatal("a refused move changed the room")
			}
		})
	}
	// The holder may place on its own claim, which ends it.
	res := h.do(b, cl)
	wantErr(t, res, OK, "")
	wantKinds(t, h, EvPlaced, EvReleased)
	if h.evs[1].Reason != ReleasedByPlace {
		t.Fatalf("reason %v", h.evs[1].Reason)
	}
}

func TestPlaceScoring(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	empties := h.empties(MainRoom)
	res := h.do(a, h.wrong(MainRoom, empties[0]))
	wantErr(t, res, ErrWrong, "that digit is wrong here")
	if res.Points != -3 {
		t.Fatalf("points %d", res.Points)
	}
	wantKinds(t, h, EvMissed)
	if ev := h.evs[0]; ev.Points != -3 || ev.Name != "alice" || ev.Digit != h.wrong(MainRoom, empties[0]).Digit {
		t.Fatalf("%+v", ev)
	}
	v, _ := h.s.RoomView(MainRoom)
	if v.Board[empties[0]].Digit != 0 {
		t.Fatal("a wrong digit stayed")
	}
	if len(v.Scores) != 1 || v.Scores[0] != (ScoreView{Name: "alice", Round: -3, Total: -3, Wrong: 1, RoundWrong: 1}) {
		t.Fatalf("scores %+v", v.Scores)
	}

	// Fill the board in order and check every placement's bonus against
	// the units it completes.
	p := h.puzzle(MainRoom)
	g := geometryOf(p.Size)
	board := append([]uint8(nil), p.Givens...)
	total := int32(-3)
	for _, i := range empties {
		board[i] = p.Solution[i]
		want := int32(10)
		for _, u := range [3]int{int(g.row[i]), g.n + int(g.col[i]), 2*g.n + int(g.box[i])} {
			full := true
			for _, c := range g.units[u][:g.n] {
				full = full && board[c] != 0
			}
			if full {
				want += 5
			}
		}
		res := h.do(a, h.right(MainRoom, i))
		wantErr(t, res, OK, "")
		if res.Points != want {
			t.Fatalf("cell %d: %d points, want %d", i, res.Points, want)
		}
		total += want
	}
	if last := h.evs; last[0].Kind != EvPlaced || last[0].Points != 25 {
		t.Fatalf("the last cell completes its row, column and box: %+v", last[0])
	}
	v, _ = h.s.RoomView(MainRoom)
	if v.Scores[0].Round != total || v.Scores[0].Total != total || v.Scores[0].Right != uint32(len(empties)) {
		t.Fatalf("score %+v, want %d", v.Scores[0], total)
	}
	for i, c := range v.Board {
		if c.Digit != p.Solution[i] || c.Given != (p.Givens[i] != 0) || (c.Owner == "alice") == c.Given {
			t.Fatalf("cell %d: %+v", i, c)
		}
	}
}

func TestRoundOverAndNext(t *testing.T) {
	r := testRules()
	h := newHarness(t, r)
	a, b, c := h.open("alice"), h.open("bob"), h.open("carol")
	empties := h.empties(MainRoom)
	// carol claims a cell she will not fill; bob misses once.
	h.do(b, h.wrong(MainRoom, empties[0]))
	last := empties[len(empties)-1]
	lp := h.right(MainRoom, last)
	for _, i := range empties[:len(empties)-1] {
		wantErr(t, h.do(a, h.right(MainRoom, i)), OK, "")
	}
	// alice claims the last cell: nobody else may place or claim it.
	wantErr(t, h.do(a, Claim{Row: lp.Row, Col: lp.Col}), OK, "")
	wantErr(t, h.do(b, lp), ErrClaimed, "cell is claimed by alice")
	wantErr(t, h.do(c, Claim{Row: lp.Row, Col: lp.Col}), ErrClaimed, "cell is claimed by alice")
	wantErr(t, h.do(a, Release{}), OK, "")
	wantErr(t, h.do(c, Claim{Row: lp.Row, Col: lp.Col}), OK, "")
	res := h.do(c, lp)
	wantErr(t, res, OK, "")
	wantKinds(t, h, EvPlaced, EvReleased, EvRoundOver, EvChat)
	over := h.evs[2]
	wantUntil := h.now + int64(r.RoundCountdown)
	if over.Name != "alice" || over.Round != 1 || over.Until != wantUntil {
		t.Fatalf("round over %+v", over)
	}
	if !strings.HasPrefix(h.evs[3].Line.Text, "alice won round 1 with ") {
		t.Fatalf("line %q", h.evs[3].Line.Text)
	}
	v, _ := h.s.RoomView(MainRoom)
	if v.State != RoundOver || v.Winner != "alice" || v.NextRoundAt != wantUntil {
		t.Fatalf("view %+v", v)
	}
	if h.s.NextDeadline() != wantUntil {
		t.Fatalf("deadline %d", h.s.NextDeadline()-t0)
	}
	wantErr(t, h.do(b, Place{Row: 0, Col: 0, Digit: 1}), ErrRoundOver, "the round is over; the next one starts soon")
	wantErr(t, h.do(b, Claim{Row: 0, Col: 0}), ErrRoundOver, "the round is over; the next one starts soon")
	wantErr(t, h.do(b, Release{}), ErrNotClaimed, "you hold no claim")
	wantErr(t, h.do(b, Place{Row: 9, Col: 0, Digit: 1}), ErrBadCell, "no such cell or digit on this board")

	h.now = wantUntil - 1
	h.sys(Tick{})
	wantKinds(t, h)
	h.now = wantUntil
	h.sys(Tick{})
	wantKinds(t, h, EvRoundStarted)
	ev := h.evs[0]
	want, _ := GenerateSeed(4, Easy, PuzzleSeed(42, MainRoom, 0, 2))
	if ev.Round != 2 || ev.Puzzle == nil || ev.Puzzle.Seed != want.Seed || !equalBytes(ev.Puzzle.Givens, want.Givens) {
		t.Fatalf("round started %+v", ev)
	}
	v, _ = h.s.RoomView(MainRoom)
	if v.Round != 2 || v.State != RoundPlaying || v.Winner != "" || v.NextRoundAt != 0 {
		t.Fatalf("view %+v", v)
	}
	for _, sc := range v.Scores {
		if sc.Round != 0 || sc.Total == 0 && sc.Name != "carol" {
			t.Fatalf("scores after the round %+v", v.Scores)
		}
		if (sc.Wins == 1) != (sc.Name == "alice") {
			t.Fatalf("wins %+v", v.Scores)
		}
	}
	if h.s.NextDeadline() != 0 {
		t.Fatal("deadline after the new round")
	}
}

func TestWinnerTieGoesToWhoReachedItFirst(t *testing.T) {
	h := newHarness(t, testRules())
	a, b := h.open("zed"), h.open("amy")
	empties := h.empties(MainRoom)
	// With an even split and no bonuses decided by order, craft a tie: zed
	// and amy alternate; whoever got the larger score wins, and if equal,
	// the one whose last move came first.
	for k, i := range empties {
		id := a
		if k%2 == 1 {
			id = b
		}
		h.do(id, h.right(MainRoom, i))
	}
	v, _ := h.s.RoomView(MainRoom)
	var zed, amy ScoreView
	for _, sc := range v.Scores {
		if sc.Name == "zed" {
			zed = sc
		} else {
			amy = sc
		}
	}
	want := "zed"
	switch {
	case amy.Round > zed.Round:
		want = "amy"
	case amy.Round == zed.Round && len(empties)%2 == 1:
		// zed made the last move, so amy got there first
		want = "amy"
	}
	if v.Winner != want {
		t.Fatalf("winner %q, want %q (zed %d, amy %d)", v.Winner, want, zed.Round, amy.Round)
	}

	// A direct tie, set up by hand: equal round scores go to the player
	// whose last move came first; players who did not move this round do
	// not count.
	s := New(testRules())
	rm := s.roomsBy[MainRoom]
	rm.scores["x"] = &score{key: "x", name: "x", round: 20, lastMove: 7, played: 1}
	rm.scores["y"] = &score{key: "y", name: "y", round: 20, lastMove: 5, played: 1}
	rm.scores["w"] = &score{key: "w", name: "w", round: 99, lastMove: 1, played: 0}
	evs := s.endRound(rm, nil)
	if evs[0].Kind != EvRoundOver || evs[0].Name != "y" || evs[0].Points != 20 {
		t.Fatalf("tie: %+v", evs[0])
	}
	if rm.scores["y"].wins != 1 || rm.scores["x"].wins != 0 {
		t.Fatal("wins")
	}
}

func TestClaims(t *testing.T) {
	r := testRules()
	h := newHarness(t, r)
	a, b := h.open("alice"), h.open("bob")
	p := h.puzzle(MainRoom)
	empties := h.empties(MainRoom)
	given := -1
	for i, d := range p.Givens {
		if d != 0 {
			given = i
			break
		}
	}
	n := int(p.Size)
	rc := func(i int) Claim { return Claim{Row: uint8(i / n), Col: uint8(i % n)} }
	wantErr(t, h.do(a, Release{}), ErrNotClaimed, "you hold no claim")
	wantErr(t, h.do(a, Claim{Row: 4, Col: 0}), ErrBadCell, "no such cell or digit on this board")
	wantErr(t, h.do(a, rc(given)), ErrGiven, "cell is a given")
	h.do(b, h.right(MainRoom, empties[0]))
	wantErr(t, h.do(a, rc(empties[0])), ErrFilled, "cell is already filled")

	wantErr(t, h.do(a, rc(empties[1])), OK, "")
	wantKinds(t, h, EvClaimed)
	if ev := h.evs[0]; ev.Until != h.now+int64(r.ClaimLease) || ev.Name != "alice" {
		t.Fatalf("%+v", ev)
	}
	wantErr(t, h.do(b, rc(empties[1])), ErrClaimed, "cell is claimed by alice")
	// Renewal.
	h.advance(3 * time.Second)
	wantErr(t, h.do(a, rc(empties[1])), OK, "")
	wantKinds(t, h, EvClaimed)
	if h.s.NextDeadline() != h.now+int64(r.ClaimLease) {
		t.Fatal("renewal did not move the deadline")
	}
	// Moving.
	wantErr(t, h.do(a, rc(empties[2])), OK, "")
	wantKinds(t, h, EvReleased, EvClaimed)
	if h.evs[0].Reason != ReleasedByMove || int(h.evs[0].Row)*n+int(h.evs[0].Col) != empties[1] {
		t.Fatalf("%+v", h.evs[0])
	}
	wantErr(t, h.do(b, rc(empties[1])), OK, "")
	v, _ := h.s.RoomView(MainRoom)
	if len(v.Claims) != 2 {
		t.Fatalf("claims %+v", v.Claims)
	}
	for k := 1; k < len(v.Claims); k++ {
		if int(v.Claims[k-1].Row)*n+int(v.Claims[k-1].Col) >= int(v.Claims[k].Row)*n+int(v.Claims[k].Col) {
			t.Fatal("claims not sorted by cell")
		}
	}
	// Release.
	wantErr(t, h.do(a, Release{}), OK, "")
	wantKinds(t, h, EvReleased)
	if h.evs[0].Reason != ReleasedByPlayer {
		t.Fatal(h.evs[0].Reason)
	}
	// Expiry exactly at the lease end.
	end := h.now + int64(r.ClaimLease)
	if h.s.NextDeadline() != end {
		t.Fatalf("deadline %d want %d", h.s.NextDeadline()-t0, end-t0)
	}
	h.now = end - 1
	h.sys(Tick{})
	wantKinds(t, h)
	h.now = end
	h.sys(Tick{})
	wantKinds(t, h, EvReleased)
	if h.evs[0].Reason != ReleasedByExpiry || h.evs[0].Name != "bob" {
		t.Fatalf("%+v", h.evs[0])
	}
	if h.s.NextDeadline() != 0 {
		t.Fatal("deadline left")
	}
}

func TestChat(t *testing.T) {
	r := testRules()
	r.ChatHistory = 3
	h := newHarness(t, r)
	a := h.open("alice") // line 1: "alice joined"
	for _, tc := range []struct {
		text string
		code Code
	}{
		{"", ErrBadText},
		{"   ", ErrBadText},
		{strings.Repeat("é", 501), ErrBadText},
		{"ring\x07", ErrBadText},
		{"two\nlines", ErrBadText},
		{"\xff", ErrBadText},
		{"\u200d", ErrBadText},                          // a joiner alone,
		{"a\u200d", ErrBadText},                         // at an end,
		{"a\u200d\u200db", ErrBadText},                  // beside another,
		{"a \u200db", ErrBadText},                       // or beside a space
		{"ring\u200d\x07", ErrBadText},                  // or beside a control
		{"\U000E0067\U000E007F", ErrBadText},            // tags without a flag,
		{"🏴\U000E0067\U000E0062", ErrBadText},           // not ended,
		{"🏴\U000E007F", ErrBadText},                     // or ended at once
		{"a\U000E0067\U000E0062\U000E007F", ErrBadText}, // after a letter
	} {
		wantErr(t, h.do(a, Chat{Text: tc.text}), tc.code, "a chat line is 1 to 500 printable characters")
		if len(h.evs) != 0 {
			t.Fatal("refused chat made events")
		}
	}
	wantErr(t, h.do(a, Chat{Text: strings.Repeat("é", 500)}), OK, "")
	for i := 0; i < 3; i++ {
		wantErr(t, h.do(a, Chat{Text: "  hi  "}), OK, "")
	}
	wantKinds(t, h, EvChat)
	if ln := h.evs[0].Line; ln.N != 5 || ln.From != "alice" || ln.Text != "hi" || ln.Time != h.now {
		t.Fatalf("line %+v", ln)
	}
	v, _ := h.s.RoomView(MainRoom)
	if len(v.Chat) != 3 || v.Chat[0].N != 3 || v.Chat[2].N != 5 || v.ChatHistory != 3 {
		t.Fatalf("chat %+v", v.Chat)
	}
	// The event's line is the event's own: changing it changes no state.
	h.evs[0].Line.Text = "changed"
	v2, _ := h.s.RoomView(MainRoom)
	if v2.Chat[2].Text != "hi" {
		t.Fatal("event line aliases the state")
	}
	// Emoji joined by zero width joiners are one picture: a family, a
	// rainbow flag.
	joined := "family 👨\u200d👩\u200d👧 flag 🏳\ufe0f\u200d🌈 and 🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"
	wantErr(t, h.do(a, Chat{Text: joined}), OK, "")
	if ln := h.evs[0].Line; ln.Text != joined {
		t.Fatalf("joined emoji: line %+v", ln)
	}
}

func TestRooms(t *testing.T) {
	r := testRules()
	r.MaxRooms = 3
	h := newHarness(t, r)
	a, b := h.open("alice"), h.open("bob")
	for _, tc := range []struct {
		cmd  CreateRoom
		code Code
		text string
	}{
		{CreateRoom{Name: "", Size: 4}, ErrBadRoomName, "a room name is 1 to 24 characters: a-z, 0-9, - and _"},
		{CreateRoom{Name: "has space", Size: 4}, ErrBadRoomName, "a room name is 1 to 24 characters: a-z, 0-9, - and _"},
		{CreateRoom{Name: strings.Repeat("r", 25), Size: 4}, ErrBadRoomName, "a room name is 1 to 24 characters: a-z, 0-9, - and _"},
		{CreateRoom{Name: "café", Size: 4}, ErrBadRoomName, "a room name is 1 to 24 characters: a-z, 0-9, - and _"},
		{CreateRoom{Name: "x", Size: 5}, ErrBadSize, "sizes are 4, 6 and 9; difficulties easy, medium, hard and expert"},
		{CreateRoom{Name: "x", Size: 4, Difficulty: 4}, ErrBadSize, "sizes are 4, 6 and 9; difficulties easy, medium, hard and expert"},
		{CreateRoom{Name: "MAIN", Size: 4}, ErrRoomExists, `room "main" already exists`},
	} {
		wantErr(t, h.do(a, tc.cmd), tc.code, tc.text)
		if len(h.evs) != 0 {
			t.Fatal("refused create made events")
		}
	}
	wantErr(t, h.do(a, CreateRoom{Name: "Duel_1", Size: 6, Difficulty: Hard}), OK, "")
	wantKinds(t, h, EvRoomCreated, EvLeft, EvChat, EvJoined, EvChat)
	if h.evs[0].Room != "duel_1" || h.evs[0].Puzzle == nil || h.evs[0].Puzzle.Size != 6 || h.evs[1].Room != MainRoom ||
		h.evs[2].Line.Text != "alice left" || h.evs[3].Room != "duel_1" || h.evs[4].Line.N != 1 {
		t.Fatalf("%+v", h.evs)
	}
	want, _ := GenerateSeed(6, Hard, PuzzleSeed(42, "duel_1", 1, 1))
	if p := h.puzzle("duel_1"); !equalBytes(p.Givens, want.Givens) || p.Difficulty != Hard {
		t.Fatal("room puzzle is not the derived seed's")
	}
	if sv, _ := h.s.Session(a); sv.Room != "duel_1" {
		t.Fatal(sv)
	}
	wantErr(t, h.do(b, CreateRoom{Name: "duel_1", Size: 4}), ErrRoomExists, `room "duel_1" already exists`)
	wantErr(t, h.do(b, CreateRoom{Name: "b", Size: 4}), OK, "")
	wantErr(t, h.do(b, CreateRoom{Name: "c", Size: 4}), ErrRoomLimit, "the limit of rooms is reached")
	if rs := h.s.Rooms(); len(rs) != 3 || rs[0].Name != MainRoom || rs[1].Name != "b" || rs[2].Name != "duel_1" ||
		rs[2].Players[0] != "alice" || rs[2].Size != 6 || rs[2].Cells != 36 {
		t.Fatalf("rooms %+v", rs)
	}

	wantErr(t, h.do(b, JoinRoom{Name: "nope"}), ErrNoRoom, `there is no room "nope"`)
	wantErr(t, h.do(b, JoinRoom{Name: "no pe"}), ErrBadRoomName, "a room name is 1 to 24 characters: a-z, 0-9, - and _")
	wantErr(t, h.do(b, JoinRoom{Name: "B"}), ErrInRoom, `you are already in "b"`)
	// bob leaves b for duel_1: b is empty and goes.
	wantErr(t, h.do(b, JoinRoom{Name: "DUEL_1"}), OK, "")
	wantKinds(t, h, EvLeft, EvChat, EvJoined, EvChat)
	if _, ok := h.s.RoomView("b"); ok {
		t.Fatal("empty room kept")
	}
	// Its name can be used again, with fresh puzzles.
	wantErr(t, h.do(b, CreateRoom{Name: "b", Size: 4}), OK, "")
	want, _ = GenerateSeed(4, Easy, PuzzleSeed(42, "b", 3, 1))
	if p := h.puzzle("b"); p.Seed != want.Seed {
		t.Fatal("a room made again replays its puzzles")
	}
	wantErr(t, h.do(b, LeaveRoom{}), OK, "")
	if sv, _ := h.s.Session(b); sv.Room != MainRoom {
		t.Fatal(sv)
	}
	wantErr(t, h.do(b, LeaveRoom{}), ErrInRoom, `you are already in "main"`)
	wantErr(t, h.do(b, JoinRoom{Name: "main"}), ErrInRoom, `you are already in "main"`)
	// A claim goes with its holder.
	e := h.empties("duel_1")[0]
	cl := h.right("duel_1", e)
	wantErr(t, h.do(a, Claim{Row: cl.Row, Col: cl.Col}), OK, "")
	wantErr(t, h.do(a, LeaveRoom{}), OK, "")
	wantKinds(t, h, EvReleased, EvLeft, EvChat, EvJoined, EvChat)
	if h.evs[0].Reason != ReleasedByLeave {
		t.Fatal(h.evs[0].Reason)
	}
	if _, ok := h.s.RoomView("duel_1"); ok {
		t.Fatal("room outlived its members")
	}
}

func TestRoomKeptDuringGrace(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	h.do(a, CreateRoom{Name: "solo", Size: 4})
	h.sys(Disconnect{Session: a})
	h.advance(time.Second)
	h.sys(Tick{})
	v, ok := h.s.RoomView("solo")
	if !ok || len(v.Members) != 1 || v.Members[0].Online {
		t.Fatalf("%+v", v.Members)
	}
	h.advance(time.Hour)
	h.sys(Tick{})
	if _, ok := h.s.RoomView("solo"); ok {
		t.Fatal("room outlived its last session")
	}
}

func TestViewChange(t *testing.T) {
	h := newHarness(t, testRules())
	a, b := h.open("alice"), h.open("bob")
	h.do(b, CreateRoom{Name: "side", Size: 4})
	h.sys(Disconnect{Session: b})
	h.advance(time.Second)
	res := h.sys(ViewChange{Epoch: 5, Primary: 3, PrevPrimary: 1})
	wantErr(t, res, OK, "")
	wantKinds(t, h, EvDisconnected, EvViewChange, EvChat, EvChat)
	if h.evs[0].Session != a || h.evs[1].Epoch != 5 || h.evs[1].Node != 3 || h.evs[1].PrevNode != 1 {
		t.Fatalf("%+v", h.evs)
	}
	if h.evs[2].Room != MainRoom || h.evs[3].Room != "side" || h.evs[2].Line.Text != "n3 is primary (epoch 5)" {
		t.Fatalf("%+v %+v", h.evs[2], h.evs[2].Line)
	}
	// The same primary taking office again (its view changed) says
	// nothing in the rooms' chat.
	h.evs = nil
	wantErr(t, h.sys(ViewChange{Epoch: 6, Primary: 3, PrevPrimary: 3}), OK, "")
	wantKinds(t, h, EvViewChange)
	for _, sv := range h.s.Sessions() {
		if sv.Online {
			t.Fatal("online after a view change")
		}
	}
}

func TestRollback(t *testing.T) {
	h := newHarness(t, testRules())
	a := h.open("alice")
	h.do(a, CreateRoom{Name: "side", Size: 4})
	before, _ := h.s.RoomView("side")
	res := h.sys(Rollback{Items: []RolledBack{
		{Room: "side", Name: "alice", Seq: 5, Kind: CmdPlace, Row: 2, Col: 3, Digit: 7},
		{Room: "gone", Name: "bob", Seq: 9, Kind: CmdChat, Text: "hello\x07"},
		{Room: "side", Name: "", Seq: 1, Kind: CmdCreateRoom},
		{Room: "side", Name: "alice", Seq: 6, Kind: CmdClaim, Row: 0, Col: 0},
		{Room: "side", Name: "Alice", Seq: 5, Kind: CmdPlace, Row: 2, Col: 3, Digit: 7}, // the same command again
	}})
	wantErr(t, res, OK, "")
	wantKinds(t, h, EvRollback, EvChat, EvRollback, EvChat, EvRollback, EvChat, EvRollback, EvChat)
	want := []struct{ room, text string }{
		{"side", "rolled back: alice's 7 at r3c4 (partition)"},
		{MainRoom, `rolled back: bob's message "hello?" (partition)`},
		{"side", "rolled back: someone's create room (partition)"},
		{"side", "rolled back: alice's claim on r1c1 (partition)"},
	}
	for i, w := range want {
		ev, ln := h.evs[2*i], h.evs[2*i+1]
		if ev.Room != w.room || ln.Room != w.room || ln.Line.Text != w.text || ln.Line.From != "" {
			t.Fatalf("item %d: %+v %q", i, ev, ln.Line.Text)
		}
	}
	if h.evs[0].Digit != 7 || h.evs[0].Cmd != CmdPlace || h.evs[2].Text != "hello\x07" {
		t.Fatalf("%+v", h.evs[0])
	}
	// Each command is reported once, and a restored state remembers it.
	r, err := Restore(h.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*State{h.s, r} {
		if !st.RolledBack("ALICE", 5) || !st.RolledBack("bob", 9) || st.RolledBack("alice", 7) {
			t.Fatal("RolledBack does not remember what was reported")
		}
	}
	after, _ := h.s.RoomView("side")
	after.Chat, before.Chat = nil, nil
	if !before.Equal(&after) {
		t.Fatal("rollback changed the board")
	}
}

func TestCommandKindsAndPointers(t *testing.T) {
	cmds := []Command{Genesis{}, OpenSession{}, CloseSession{}, Disconnect{}, Place{}, Claim{}, Release{}, Chat{},
		CreateRoom{}, JoinRoom{}, LeaveRoom{}, Tick{}, ViewChange{}, Rollback{}}
	ptrs := []Command{&Genesis{}, &OpenSession{}, &CloseSession{}, &Disconnect{}, &Place{}, &Claim{}, &Release{}, &Chat{},
		&CreateRoom{}, &JoinRoom{}, &LeaveRoom{}, &Tick{}, &ViewChange{}, &Rollback{}}
	for i, c := range cmds {
		if c.Kind() != CmdKind(i+1) || ptrs[i].Kind() != c.Kind() {
			t.Fatalf("%T: kind %d", c, c.Kind())
		}
		// A command and a pointer to it do the same, in the same place.
		var got [2]string
		for j, cmd := range []Command{c, ptrs[i]} {
			h := newHarness(t, testRules())
			a := h.open("alice")
			e := Entry{Time: h.now, Cmd: cmd}
			if c.Kind() != CmdGenesis && c.Kind() != CmdOpenSession && c.Kind() != CmdDisconnect &&
				c.Kind() != CmdTick && c.Kind() != CmdViewChange && c.Kind() != CmdRollback {
				e.Session, e.Seq = a, 1
			}
			res := h.apply(e)
			got[j] = fmt.Sprint(res.Err, h.kinds(), h.s.Digest())
		}
		if got[0] != got[1] {
			t.Fatalf("%T: %s vs %s", c, got[0], got[1])
		}
	}
}

func TestAfterSaturates(t *testing.T) {
	if after(math.MaxInt64-5, 10) != math.MaxInt64 || after(5, 10) != 15 {
		t.Fatal("after")
	}
}

// A refused chat line is told why, naming the character at fault: a line
// with a direction control looks printable to its writer.
func TestChatTroubleNamesTheFault(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"fine 👩\u200d💻", ""},
		{"  ", "this one is empty"},
		{strings.Repeat("é", 501), "at most 500 characters: this one has 501"},
		{"abc\u202edef", "U+202E is a control or formatting character"},
		{"ring\x07", "U+0007 is a control"},
		{"\xff", "not valid UTF-8"},
		{"a\u200d", "a joiner or a flag's tag stands alone"},
	} {
		got := ChatTrouble(tc.text)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("ChatTrouble(%q) = %q, want %q", tc.text, got, tc.want)
		}
		if _, ok := NormalizeChat(tc.text); ok != (got == "") {
			t.Errorf("ChatTrouble(%q) = %q disagrees with NormalizeChat (%v)", tc.text, got, ok)
		}
	}
}
