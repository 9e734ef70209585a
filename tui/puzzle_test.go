package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// answer acknowledges the last command sent, as the cluster would, and
// delivers the room as alice's session sees it after it.
func answer(h *harness, w *world) client.Ack {
	h.t.Helper()
	s := h.f.lastSent(h.t)
	res := w.do("alice", s.cmd)
	a := client.Ack{Seq: s.seq, Cmd: s.cmd, Result: res}
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: a},
		roomEvent(w.mine("alice"), h.m.status, h.clk.t, w.last...))
	return a
}

func TestNotesMode(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 0)
	i := r*9 + c
	h.moveTo(r, c)
	h.key("n")
	h.wantScreen("notes " + cellName(r, c) + " 1 2 3 4 5 6 7 8 9")
	h.wantScreen("1-9 note")

	// A digit adds a candidate, at once and before the answer.
	h.key("4")
	if got := h.f.lastSent(t).cmd; got != (game.Note{Row: uint8(r), Col: uint8(c), Digit: 4, On: true}) {
		t.Fatalf("sent %#v", got)
	}
	if h.m.notesAt(i) != 1<<3 {
		t.Fatalf("shown notes %#x before the answer", h.m.notesAt(i))
	}
	h.wantScreen(" ⁴ ")
	answer(h, w)
	if len(h.m.notePending) != 0 || h.m.room.Notes[i] != 1<<3 {
		t.Fatalf("after the answer: pending %v, room %v", h.m.notePending, h.m.room.Notes)
	}
	// Two more; the same digit again takes it away.
	h.key("7")
	answer(h, w)
	h.key("1")
	answer(h, w)
	h.wantScreen("¹⁴⁷")
	h.key("4")
	if got := h.f.lastSent(t).cmd; got != (game.Note{Row: uint8(r), Col: uint8(c), Digit: 4}) {
		t.Fatalf("sent %#v", got)
	}
	answer(h, w)
	h.wantScreen("¹ ⁷")
	// Out of notes mode, the info line lists the cell's candidates.
	h.key("n")
	h.wantScreen("notes " + cellName(r, c) + " 1 7")
	// backspace clears the cell's notes, N every note.
	h.key("backspace")
	if got := h.f.lastSent(t).cmd; got != (game.ClearNotes{Row: uint8(r), Col: uint8(c)}) {
		t.Fatalf("sent %#v", got)
	}
	answer(h, w)
	if h.m.room.Notes != nil {
		t.Fatalf("notes after clearing: %v", h.m.room.Notes)
	}
	h.key("n", "2", "right")
	answer(h, w)
	h.key("N")
	if got := h.f.lastSent(t).cmd; got != (game.ClearNotes{All: true}) {
		t.Fatalf("sent %#v", got)
	}
	if h.m.notesAt(i) != 0 {
		t.Fatal("clearing all does not show at once")
	}
	answer(h, w)

	// A filled cell takes no notes: nothing is sent.
	for k, cv := range h.m.room.Board {
		if cv.Digit != 0 {
			h.moveTo(k/9, k%9)
			break
		}
	}
	sent := h.f.sentCount()
	h.key("3")
	if h.f.sentCount() != sent {
		t.Fatal("a note on a filled cell was sent")
	}
	h.wantScreen("cell is")
}

// Others' right moves take their digit out of the player's notes, as the
// game does.
func TestNotesFollowOthersMoves(t *testing.T) {
	h, w := playing(t, 120, 40)
	sol := w.solution("main")
	e := w.empties("main", 0, 2)
	i, j := e[0], e[1]
	w.noteAll("alice", "main", i, sol[i])
	w.noteAll("alice", "main", j, sol[i], sol[j]%9+1)
	h.deliver(roomEvent(w.mine("alice"), h.m.status, h.clk.t))
	w.do("bob", game.Place{Row: uint8(i / 9), Col: uint8(i % 9), Digit: sol[i]})
	v := w.mine("alice")
	h.deliver(roomEvent(v, h.m.status, h.clk.t, w.last...))
	if v.Notes[i] != 0 {
		t.Fatal("the placed cell keeps notes")
	}
	if same := i/9 == j/9 || i%9 == j%9; same && v.Notes[j]&(1<<(sol[i]-1)) != 0 {
		t.Fatal("the digit placed stays noted in its row or column")
	}
	if h.m.notesAt(j) != v.Notes[j] {
		t.Fatalf("shown %#x, the room has %#x", h.m.notesAt(j), v.Notes[j])
	}
}

// In notes mode a click on the candidate bar, or on a candidate of a large
// cell, toggles it.
func TestClickACandidate(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 0)
	h.moveTo(r, c)
	h.key("n")
	h.m.View()
	if h.m.palN != 9 {
		t.Fatalf("the candidate bar is not drawn: %d", h.m.palN)
	}
	// The bar's 5, where the screen shows it.
	scr := strings.Split(h.plain(), "\n")[1]
	x := strings.Index(scr, "notes "+cellName(r, c)+" ")
	x = len([]rune(scr[:x])) + len("notes "+cellName(r, c)+" ") + 2*4
	if got := []rune(scr)[x]; got != '5' {
		t.Fatalf("column %d shows %q", x, got)
	}
	h.send(tea.MouseMsg{X: x, Y: 1, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if got := h.f.lastSent(t).cmd; got != (game.Note{Row: uint8(r), Col: uint8(c), Digit: 5, On: true}) {
		t.Fatalf("a click on 5 sent %#v", got)
	}

	// A 4×4 board on a big screen: cells large enough for a grid of
	// candidates (1 2 on top, 3 4 under).
	w.do("alice", game.CreateRoom{Name: "tiny", Size: 4, Difficulty: game.Easy})
	h.deliver(roomEvent(w.mine("alice"), h.m.status, h.clk.t))
	h.m.View()
	L := h.m.lay
	if L.geom.mode != modeLarge {
		t.Skipf("a 4×4 board is not drawn large at 120×40 (mode %d)", L.geom.mode)
	}
	r, c = w.emptyCell("tiny", 0)
	g := L.geom
	lead := (g.cw - 3) / 2
	x = 1 + L.boardX + g.cellX[c] + lead + 2        // the right column: 2, 4
	y := 1 + L.boardY + g.cellY[r] + (g.ch-2)/2 + 1 // the lower row: 3, 4
	h.send(tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if got := h.f.lastSent(t).cmd; got != (game.Note{Row: uint8(r), Col: uint8(c), Digit: 4, On: true}) {
		t.Fatalf("a click on the cell's 4 sent %#v", got)
	}
	if h.m.row != r || h.m.col != c {
		t.Fatal("the click did not move the cursor")
	}
}

func TestHighlights(t *testing.T) {
	h, w := playing(t, 80, 24)
	v := w.room("main")
	// the cursor on a filled cell: its row, column and box, and the
	// cells of its digit
	var at int
	for i, c := range v.Board {
		if c.Digit != 0 {
			at = i
			break
		}
	}
	h.moveTo(at/9, at%9)
	bs := h.m.boardState()
	d := v.Board[at].Digit
	for i, c := range v.Board {
		want := hlNone
		switch {
		case c.Digit == d && i != at:
			want = hlSame
		case i/9 == at/9 || i%9 == at%9 || i/27 == at/27 && i%9/3 == at%9/3:
			want = hlPeer
		}
		if bs.hl[i] != want {
			t.Fatalf("cell %d: highlight %d, want %d", i, bs.hl[i], want)
		}
	}
	// In the chat, no highlights.
	h.key("tab")
	bs = h.m.boardState()
	if slices.ContainsFunc(bs.hl, func(x highlight) bool { return x != hlNone }) {
		t.Fatal("highlights while the chat has the focus")
	}
	h.key("esc")
	// A wrong digit lights up the cells it clashes with; a rejection of
	// another kind does not.
	r, c := w.emptyCell("main", 0)
	var clash uint8
	for k := r * 9; k < r*9+9; k++ {
		if x := v.Board[k].Digit; x != 0 && x != w.solution("main")[r*9+c] {
			clash = x
		}
	}
	if clash == 0 {
		t.Skip("no digit in the row to clash with")
	}
	h.moveTo(r, c)
	h.key(string(rune('0' + clash)))
	s := h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrWrong}, Points: -3}}})
	bs = h.m.boardState()
	n := 0
	for i, x := range bs.hl {
		if x == hlConflict {
			n++
			if v.Board[i].Digit != clash {
				t.Fatalf("cell %d lit as a clash", i)
			}
		}
	}
	if n == 0 {
		t.Fatal("no clash lit")
	}
	h.clk.add(2 * time.Second)
	h.key(string(rune('0' + clash)))
	s = h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrClaimed, Who: "bob"}}}})
	bs = h.m.boardState()
	if slices.Contains(bs.hl, hlConflict) {
		t.Fatal("a claimed cell's rejection lit clashes")
	}
}

func TestResultsPanel(t *testing.T) {
	h, w := playing(t, 80, 24)
	w.now = t0.Add(3*time.Minute + 5*time.Second).UnixNano()
	w.fill("bob", "main", 0, 81)
	h.deliver(roomEvent(w.room("main"), h.m.status, time.Unix(0, w.now), w.last...))
	h.clk.t = time.Unix(0, w.now).Add(time.Second)
	h.wantScreen("★ bob wins round 1")
	h.wantScreen("time 3:05 · next round in 4s")
	h.wantScreen("round 1 · 3:05 ·") // the title's clock stops
	h.wantScreen("100%")
	h.wantNoScreen("│ 8 ") // no board
	// esc shows the board; the next round's end shows the panel again.
	h.key("esc")
	h.wantNoScreen("wins round 1")
	if h.m.nextClockTick() != 0 {
		t.Fatal("the round's clock runs after its end")
	}
	w.now += int64(10 * time.Second)
	w.sys(game.Tick{})
	h.deliver(roomEvent(w.room("main"), h.m.status, time.Unix(0, w.now), w.last...))
	if h.m.resultsShown() {
		t.Fatal("results in a round that is played")
	}
	h.wantScreen("round 2 · 0:")
	w.fill("carol", "main", 0, 81)
	h.deliver(roomEvent(w.room("main"), h.m.status, time.Unix(0, w.now), w.last...))
	h.wantScreen("★ carol wins round 2")
	// Only those who played the round are in it.
	if rows := h.m.resultRows(); len(rows) != 1 || rows[0].Name != "carol" {
		t.Fatalf("results rows %+v", rows)
	}
}

func TestSpectatorCannotMove(t *testing.T) {
	h := spectatorScene(t, 120, 40)
	sent := h.f.sentCount()
	for _, k := range []string{"5", " ", "n", "backspace", "N"} {
		h.key(k)
	}
	if h.f.sentCount() != sent {
		t.Fatalf("a spectator sent %v", h.f.sent[sent:])
	}
	h.wantScreen(watchingText)
	h.wantScreen("watching: presenter")
	h.wantScreen("presenter (watching)")
	h.wantScreen("←↑↓→ look")
	// on no scoreboard
	for _, r := range h.m.scoreRows() {
		if r.name == "presenter" {
			t.Fatal("the spectator is on the scoreboard")
		}
	}
	// the room list and /who show spectators apart
	h.key("tab")
	h.typeText("/who")
	h.key("enter")
	q := h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(h.clk.t, h.m.status), Reply: &wire.QueryReply{Seq: q.seq,
		Members: []game.MemberView{{Name: "alice", Online: true}, {Name: "presenter", Online: true, Watching: true}}}})
	h.wantScreen("in #main: alice · watching: presenter")
	h.key("esc", "r")
	q = h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(h.clk.t, h.m.status), Reply: &wire.QueryReply{Seq: q.seq, Rooms: sampleRooms()}})
	h.wantScreen("erin, frank · watching: presenter")
}

// A player whose session the cluster says is a spectator's is one, even
// if the app was not started as one; and the other way round.
func TestWatchFollowsTheSession(t *testing.T) {
	h, _ := playing(t, 80, 24)
	st := h.m.status
	st.Session, st.Watch = 9, true
	h.deliver(client.StatusChanged{EventInfo: evInfo(h.clk.t, st)})
	if !h.m.watching() {
		t.Fatal("not watching with a spectator's session")
	}
	h.m.o.Watch = true
	st.Watch = false
	h.deliver(client.StatusChanged{EventInfo: evInfo(h.clk.t, st)})
	if h.m.watching() {
		t.Fatal("watching with a player's session")
	}
}

func TestNotesText(t *testing.T) {
	for _, tc := range []struct {
		mask  uint16
		cols  int
		tight bool
		want  string
	}{
		{1 << 2, 3, false, " ³ "},
		{1<<0 | 1<<6, 3, false, "¹ ⁷"},
		{1<<0 | 1<<6, 3, true, "¹⁷ "},
		{1<<1 | 1<<4 | 1<<7, 3, false, "²⁵⁸"},
		{1<<1 | 1<<4 | 1<<7, 3, true, "⠀⠇⠀"},         // 2 5 8: the middle column
		{0x1ff, 3, false, "⠇⠇⠇"},                     // all nine
		{1<<0 | 1<<1 | 1<<3 | 1<<5, 3, false, "⠃⠁⠂"}, // 1 2 4 6
		{0xf, 2, false, "⠃⠃⠀"},                       // a 4×4 board's four
	} {
		if got := notesText(tc.mask, tc.cols, tc.tight); got != tc.want || width(got) != 3 {
			t.Errorf("notesText(%#x, %d, %v) = %q (width %d), want %q", tc.mask, tc.cols, tc.tight, got, width(got), tc.want)
		}
	}
	if got := notesLine(1<<0|1<<8, 9, 3, 7, 3, 0) + "|" + notesLine(1<<0|1<<8, 9, 3, 7, 3, 2); got != " 1 · · | · · 9 " {
		t.Errorf("notesLine: %q", got)
	}
}

// In a large cell a lone candidate 5 sits where a placed 5 is drawn: the
// cell must still not look like one, with or without colour.
func TestLoneCandidateIsNotAPlacedDigit(t *testing.T) {
	for _, tc := range []struct {
		size          uint8
		width, height int
	}{{6, 120, 40}, {9, 200, 60}} {
		h, w := scene(t, tc.width, tc.height, noColor)
		w.do("alice", game.CreateRoom{Name: "lone", Size: tc.size, Difficulty: game.Easy})
		n := int(tc.size)
		v := w.room("lone")
		five := slices.IndexFunc(v.Board, func(c game.CellView) bool { return c.Digit == 5 })
		empty := w.empties("lone", 0, 1)[0]
		w.noteAll("alice", "lone", empty, 5)
		h.deliver(roomEvent(w.mine("alice"), h.m.status, h.clk.t))
		if five < 0 || h.m.lay.geom.mode != modeLarge {
			t.Fatalf("%d×%d: no 5 on the board, or cells not large (mode %d)", n, n, h.m.lay.geom.mode)
		}
		scr := strings.Split(h.plain(), "\n")
		L, g := h.m.lay, h.m.lay.geom
		cellText := func(i int) string {
			var b strings.Builder
			x, y := 1+L.boardX+g.cellX[i%n], 1+L.boardY+g.cellY[i/n]
			for li := range g.ch {
				b.WriteString(string([]rune(scr[y+li])[x:x+g.cw]) + "|")
			}
			return b.String()
		}
		placed, noted := cellText(five), cellText(empty)
		if !strings.Contains(noted, "5") || strings.Trim(noted, " |") == "5" || noted == placed {
			t.Errorf("%d×%d: a lone candidate 5 %q looks like the placed 5 %q", n, n, noted, placed)
		}
	}
}

// On a tie the winner is who reached the score first: the results panel
// lists the winner first, not the name that sorts first.
func TestResultsWinnerFirstOnATie(t *testing.T) {
	m := &Model{}
	m.room = &game.RoomView{Name: "r1", Winner: "bob", Scores: []game.ScoreView{
		{Name: "alice", Round: 60, RoundRight: 3},
		{Name: "bob", Round: 60, RoundRight: 3},
		{Name: "carol", Round: 10, RoundRight: 1},
	}}
	var got []string
	for _, sc := range m.resultRows() {
		got = append(got, sc.Name)
	}
	if want := []string{"bob", "alice", "carol"}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
}

// With more players than the panel has rows, the results end with how
// many more there are, and the hint to the board is still there.
func TestResultsPanelOfABigRoomKeepsItsHint(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		h, w := playing(t, sz[0], sz[1])
		w.now = t0.Add(time.Minute).UnixNano()
		for i := range 30 {
			p := fmt.Sprintf("p%02d", i)
			w.join(p)
			w.fill(p, "main", 0, 1)
		}
		w.fill("bob", "main", 0, 81)
		h.deliver(roomEvent(w.room("main"), h.m.status, time.Unix(0, w.now), w.last...))
		h.clk.t = time.Unix(0, w.now).Add(time.Second)
		h.wantScreen("wins round 1")
		h.wantScreen("more")
		h.wantScreen("esc: the board")
	}
}
