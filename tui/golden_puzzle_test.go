package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// Golden screens of what puzzle players expect: notes, highlights, a
// round's results and the spectator's view, in colour and with NO_COLOR
// (go test ./tui/ -run GoldenPuzzle -update rewrites them).

// mine is the room as name's own session sees it: with its notes.
func (w *world) mine(name string) *game.RoomView {
	v, ok := w.s.SessionRoomView(w.sid[name])
	if !ok {
		w.t.Fatalf("no session %s", name)
	}
	return &v
}

// noteAll has name note digits in the cell at board index i of room.
func (w *world) noteAll(name, room string, i int, digits ...uint8) {
	n := int(w.room(room).Puzzle.Size)
	for _, d := range digits {
		if res := w.do(name, game.Note{Row: uint8(i / n), Col: uint8(i % n), Digit: d, On: true}); res.Err != nil {
			w.t.Fatalf("note %d at %d: %v", d, i, res.Err)
		}
	}
}

// empties lists the first k empty cells of room from index from.
func (w *world) empties(room string, from, k int) []int {
	var out []int
	for i, c := range w.room(room).Board {
		if i >= from && c.Digit == 0 && len(out) < k {
			out = append(out, i)
		}
	}
	if len(out) < k {
		w.t.Fatalf("%d empty cells, want %d", len(out), k)
	}
	return out
}

func noColor(o *Options) { o.NoColor = true }

// notesScene: alice's notes in four cells (one, two and three candidates,
// and five), notes mode on with the cursor on the five.
func notesScene(t *testing.T, width, height int, o ...func(*Options)) *harness {
	h, w := scene(t, width, height, o...)
	cells := w.empties("main", 27, 4)
	w.noteAll("alice", "main", cells[0], 3)
	w.noteAll("alice", "main", cells[1], 1, 7)
	w.noteAll("alice", "main", cells[2], 2, 5, 8)
	w.noteAll("alice", "main", cells[3], 1, 2, 4, 6, 9)
	h.deliver(roomEvent(w.mine("alice"), h.m.status, h.clk.t))
	h.moveTo(cells[3]/9, cells[3]%9)
	h.key("n")
	return h
}

// notesBoardScene: notes on a smaller board, which big screens draw as a
// grid of candidates in each cell.
func notesBoardScene(t *testing.T, width, height int, size uint8) *harness {
	h, w := scene(t, width, height)
	w.do("alice", game.CreateRoom{Name: "notes", Size: size, Difficulty: game.Easy})
	cells := w.empties("notes", 0, 3)
	n := int(size)
	w.noteAll("alice", "notes", cells[0], 1)
	w.noteAll("alice", "notes", cells[1], 2, uint8(n))
	all := make([]uint8, n)
	for i := range all {
		all[i] = uint8(i + 1)
	}
	w.noteAll("alice", "notes", cells[2], all...)
	h.deliver(roomEvent(w.mine("alice"), h.m.status, h.clk.t))
	h.moveTo(cells[2]/n, cells[2]%n)
	return h
}

// highlightsScene: a wrong 7 clashes with a 7 in its row, and then the
// cursor rests on a filled cell: its row, column and box and every cell of
// its digit light up, and the clash still shows.
func highlightsScene(t *testing.T, width, height int, o ...func(*Options)) *harness {
	h, w := scene(t, width, height, o...)
	v := w.room("main")
	sol := w.solution("main")
	// an empty cell whose row holds a digit that is not its solution
	at, d := -1, uint8(0)
	for i, c := range v.Board {
		if c.Digit != 0 || at >= 0 {
			continue
		}
		for k := i / 9 * 9; k < i/9*9+9; k++ {
			if x := v.Board[k].Digit; x != 0 && x != sol[i] {
				at, d = i, x
				break
			}
		}
	}
	if at < 0 {
		t.Fatal("no clash to show")
	}
	h.moveTo(at/9, at%9)
	h.key(fmt.Sprint(d))
	s := h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrWrong}, Points: -3}}})
	// the cursor on a filled cell of another digit
	for i, c := range v.Board {
		if c.Digit != 0 && c.Digit != d && i/9 == 4 {
			h.moveTo(i/9, i%9)
			break
		}
	}
	return h
}

// resultsScene: bob fills the board; the results panel shows during the
// countdown.
func resultsScene(t *testing.T, width, height int, o ...func(*Options)) *harness {
	h, w := scene(t, width, height, o...)
	w.now = t0.Add(2*time.Minute + 37*time.Second).UnixNano()
	w.do("dave", game.Place{Row: 8, Col: 8, Digit: wrongDigit(w, 8, 8)})
	w.fill("bob", "main", 0, 40)
	w.fill("dave", "main", 0, 81)
	if w.room("main").State != game.RoundOver {
		t.Fatal("the round is not over")
	}
	h.deliver(roomEvent(w.room("main"), h.m.status, time.Unix(0, w.now)))
	h.clk.t = time.Unix(0, w.now).Add(1200 * time.Millisecond)
	return h
}

// spectatorScene: presenter watches main (gridlock watch) while the
// others play, and tries to move.
func spectatorScene(t *testing.T, width, height int, o ...func(*Options)) *harness {
	t.Helper()
	f := newFake()
	clk := &clock{t: t0}
	opts := Options{Name: "presenter", Watch: true, Now: clk.now}
	for _, fn := range o {
		fn(&opts)
	}
	h := &harness{t: t, f: f, clk: clk, m: New(f, opts)}
	h.send(tea.WindowSizeMsg{Width: width, Height: height})
	w := busyWorld(t)
	res := w.sys(game.OpenSession{Name: "presenter", Token: "token-presenter-0123456789abcdef", Watch: true})
	st := connected(3, 4, t0)
	st.Name, st.Session, st.Watch = "presenter", res.Session, true
	h.deliver(
		client.StatusChanged{EventInfo: evInfo(t0, st)},
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		roomEvent(w.room("main"), st, t0.Add(2*time.Second), w.last...),
	)
	w.fill("carol", "main", 60, 1)
	h.deliver(roomEvent(w.room("main"), st, t0.Add(3*time.Second), w.last...))
	h.clk.t = t0.Add(5 * time.Second)
	h.moveTo(4, 4)
	h.key("5")
	return h
}

func TestGoldenPuzzle(t *testing.T) {
	scenes := []struct {
		name  string
		setup func(t *testing.T, w, h int) *harness
	}{
		{"notes", func(t *testing.T, w, h int) *harness { return notesScene(t, w, h) }},
		{"notes_no_color", func(t *testing.T, w, h int) *harness { return notesScene(t, w, h, noColor) }},
		{"notes_board6", func(t *testing.T, w, h int) *harness { return notesBoardScene(t, w, h, 6) }},
		{"notes_board4", func(t *testing.T, w, h int) *harness { return notesBoardScene(t, w, h, 4) }},
		{"highlights", func(t *testing.T, w, h int) *harness { return highlightsScene(t, w, h) }},
		{"highlights_no_color", func(t *testing.T, w, h int) *harness { return highlightsScene(t, w, h, noColor) }},
		{"results", func(t *testing.T, w, h int) *harness { return resultsScene(t, w, h) }},
		{"results_no_color", func(t *testing.T, w, h int) *harness { return resultsScene(t, w, h, noColor) }},
		{"spectator", func(t *testing.T, w, h int) *harness { return spectatorScene(t, w, h) }},
		{"spectator_no_color", func(t *testing.T, w, h int) *harness { return spectatorScene(t, w, h, noColor) }},
	}
	for _, sc := range scenes {
		for _, sz := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				h := sc.setup(t, sz[0], sz[1])
				golden.RequireEqualEscape(t, []byte(h.m.View()), true)
			})
		}
	}
}
