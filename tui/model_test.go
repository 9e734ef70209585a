package tui

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// playing is a harness in room main (9×9) with bob, carol and a 3-node cluster.
func playing(t *testing.T, w, h int) (*harness, *world) {
	t.Helper()
	hs := newHarness(t, w, h)
	wd := newWorld(t)
	for _, p := range []string{"alice", "bob", "carol"} {
		wd.join(p)
	}
	st := connected(3, 4, t0)
	hs.deliver(
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		roomEvent(wd.room("main"), st, t0),
	)
	return hs, wd
}

// plain is the screen without escapes.
func (h *harness) plain() string { return ansi.Strip(h.m.View()) }

func (h *harness) wantScreen(sub string) {
	h.t.Helper()
	if s := h.plain(); !strings.Contains(s, sub) {
		h.t.Fatalf("screen lacks %q:\n%s", sub, s)
	}
}

func (h *harness) wantNoScreen(sub string) {
	h.t.Helper()
	if s := h.plain(); strings.Contains(s, sub) {
		h.t.Fatalf("screen shows %q:\n%s", sub, s)
	}
}

// moveTo puts the cursor on (row, col) with the arrow keys.
func (h *harness) moveTo(row, col int) {
	h.t.Helper()
	for range 9 {
		h.key("up", "left")
	}
	for range row {
		h.key("down")
	}
	for range col {
		h.key("right")
	}
	if h.m.row != row || h.m.col != col {
		h.t.Fatalf("cursor at %d,%d, want %d,%d", h.m.row, h.m.col, row, col)
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestCursorMovesAndStopsAtTheEdges(t *testing.T) {
	h, _ := playing(t, 120, 40)
	if h.m.row != 0 || h.m.col != 0 {
		t.Fatalf("cursor starts at %d,%d", h.m.row, h.m.col)
	}
	h.key("up", "left", "k", "h")
	if h.m.row != 0 || h.m.col != 0 {
		t.Fatalf("cursor left the board: %d,%d", h.m.row, h.m.col)
	}
	h.key("down", "down", "j", "right", "l")
	if h.m.row != 3 || h.m.col != 2 {
		t.Fatalf("cursor at %d,%d, want 3,2", h.m.row, h.m.col)
	}
	for range 20 {
		h.key("down", "right")
	}
	if h.m.row != 8 || h.m.col != 8 {
		t.Fatalf("cursor at %d,%d, want 8,8", h.m.row, h.m.col)
	}
	h.key("k", "h")
	if h.m.row != 7 || h.m.col != 7 {
		t.Fatalf("cursor at %d,%d, want 7,7", h.m.row, h.m.col)
	}
}

func TestCursorStaysOnASmallerBoard(t *testing.T) {
	h, w := playing(t, 80, 24)
	h.moveTo(8, 8)
	w.do("alice", game.CreateRoom{Name: "tiny", Size: 4, Difficulty: game.Easy})
	h.deliver(roomEvent(w.room("tiny"), h.m.status, t0))
	if h.m.row != 3 || h.m.col != 3 {
		t.Fatalf("cursor at %d,%d on a 4×4 board", h.m.row, h.m.col)
	}
	h.wantScreen("#tiny · round 1 · 0:00 · 4×4 easy")
}

func TestPlaceSendsThePlaceOfTheCursor(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 30)
	h.moveTo(r, c)
	h.key("7")
	got := h.f.lastSent(t)
	want := game.Place{Row: uint8(r), Col: uint8(c), Digit: 7}
	if got.cmd != want {
		t.Fatalf("sent %#v, want %#v", got.cmd, want)
	}
	if d := h.m.placing[r*9+c]; d != 7 {
		t.Fatalf("the move waits as %d, want 7", d)
	}
	// the answer clears the waiting move
	h.deliver(client.Answered{EventInfo: evInfo(t0, h.m.status),
		Ack: client.Ack{Seq: got.seq, Cmd: want, Result: game.Result{Points: 10}}})
	if _, ok := h.m.placing[r*9+c]; ok {
		t.Fatal("the move still waits after its answer")
	}
	h.wantScreen("+10")
}

func TestDigitsOutOfRangeAreIgnored(t *testing.T) {
	h, w := playing(t, 80, 24)
	w.do("alice", game.CreateRoom{Name: "tiny", Size: 4, Difficulty: game.Easy})
	h.deliver(roomEvent(w.room("tiny"), h.m.status, t0))
	r, c := w.emptyCell("tiny", 0)
	h.moveTo(r, c)
	before := h.f.sentCount()
	h.key("0", "5", "6", "9")
	if n := h.f.sentCount(); n != before {
		t.Fatalf("%d commands sent for digits outside 1-4", n-before)
	}
	h.key("4")
	if got := h.f.lastSent(t).cmd; got != (game.Place{Row: uint8(r), Col: uint8(c), Digit: 4}) {
		t.Fatalf("sent %#v", got)
	}
	h.wantScreen("1-4 place")
}

func TestPlaceOnAGivenFlashesWithoutSending(t *testing.T) {
	h, w := playing(t, 120, 40)
	v := w.room("main")
	given := -1
	for i, c := range v.Board {
		if c.Given {
			given = i
			break
		}
	}
	h.moveTo(given/9, given%9)
	h.key("3")
	if n := h.f.sentCount(); n != 0 {
		t.Fatalf("%d commands sent for a given cell", n)
	}
	h.wantScreen("cell is a given")
}

func TestClaimAndReleaseToggle(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 10)
	h.moveTo(r, c)
	h.key(" ")
	claim := h.f.lastSent(t)
	if claim.cmd != (game.Claim{Row: uint8(r), Col: uint8(c)}) {
		t.Fatalf("sent %#v, want a claim", claim.cmd)
	}
	// before the answer, space again releases what the app expects to hold
	h.key(" ")
	if got := h.f.lastSent(t).cmd; got != (game.Release{}) {
		t.Fatalf("sent %#v, want a release", got)
	}
	// the cluster's word wins: the claim went through, the release did not arrive yet
	w.do("alice", game.Claim{Row: uint8(r), Col: uint8(c)})
	h.m.claim = claimGuess{}
	h.deliver(roomEvent(w.room("main"), h.m.status, t0, w.last...))
	h.wantScreen("claim " + cellName(r, c))
	h.key(" ")
	if got := h.f.lastSent(t).cmd; got != (game.Release{}) {
		t.Fatalf("sent %#v, want a release of the held claim", got)
	}
	w.do("alice", game.Release{})
	h.deliver(client.Answered{EventInfo: evInfo(t0, h.m.status), Ack: client.Ack{Seq: h.f.lastSent(t).seq, Cmd: game.Release{}}},
		roomEvent(w.room("main"), h.m.status, t0, w.last...))
	h.key(" ")
	if got := h.f.lastSent(t).cmd; got != (game.Claim{Row: uint8(r), Col: uint8(c)}) {
		t.Fatalf("sent %#v, want a claim again", got)
	}
	// a claim elsewhere: space on another cell claims that one
	r2, c2 := w.emptyCell("main", r*9+c+1)
	h.m.claim = claimGuess{}
	h.moveTo(r2, c2)
	h.key(" ")
	if got := h.f.lastSent(t).cmd; got != (game.Claim{Row: uint8(r2), Col: uint8(c2)}) {
		t.Fatalf("sent %#v, want a claim of the new cell", got)
	}
}

// A claim that goes through shows at once, even while an older move's
// error still flashes.
func TestClaimClearsAnOlderError(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 10)
	h.moveTo(r, c)
	h.m.setFlash(0, 0, 5, "cell is already filled", false)
	h.wantScreen("✗ r1c1 cell is already filled")
	h.key(" ")
	claim := h.f.lastSent(t)
	w.do("alice", game.Claim{Row: uint8(r), Col: uint8(c)})
	h.deliver(client.Answered{EventInfo: evInfo(t0, h.m.status), Ack: client.Ack{Seq: claim.seq, Cmd: claim.cmd}},
		roomEvent(w.room("main"), h.m.status, t0, w.last...))
	h.wantNoScreen("already filled")
	h.wantScreen("claim " + cellName(r, c))
}

func TestTabAndEscMoveTheFocus(t *testing.T) {
	h, _ := playing(t, 80, 24)
	h.key("tab")
	if h.m.focus != focusChat {
		t.Fatal("tab did not focus the chat line")
	}
	if q := h.f.lastQuery(t); q.kind != wire.QueryRooms {
		t.Fatalf("opening the chat asked %v, want the rooms", q.kind)
	}
	h.typeText("q")
	if h.m.input.Value() != "q" {
		t.Fatalf("typed q, input holds %q", h.m.input.Value())
	}
	h.key("tab")
	if h.m.focus != focusBoard {
		t.Fatal("tab on a plain line did not go back to the board")
	}
	h.key("tab")
	h.key("esc")
	if h.m.focus != focusBoard {
		t.Fatal("esc did not go back to the board")
	}
	h.key("enter")
	if h.m.focus != focusChat {
		t.Fatal("enter did not focus the chat line")
	}
	h.key("esc", "/")
	if h.m.focus != focusChat || h.m.input.Value() != "/" {
		t.Fatalf("/ gave focus %v and input %q", h.m.focus, h.m.input.Value())
	}
}

func TestChatSendsALine(t *testing.T) {
	h, _ := playing(t, 80, 24)
	h.key("tab")
	h.typeText("  the 7 is yours  ")
	h.key("enter")
	if got := h.f.lastSent(t).cmd; got != (game.Chat{Text: "the 7 is yours"}) {
		t.Fatalf("sent %#v", got)
	}
	if h.m.input.Value() != "" {
		t.Fatalf("input kept %q", h.m.input.Value())
	}
	if h.m.focus != focusChat {
		t.Fatal("sending left the chat line")
	}
	// history
	h.key("up")
	if h.m.input.Value() != "the 7 is yours" {
		t.Fatalf("history gave %q", h.m.input.Value())
	}
}

// A chat pane scrolled back holds still while others chat: the lines it
// shows stay, and pgdn comes back to the newest.
func TestChatScrolledBackHoldsStill(t *testing.T) {
	h, w := playing(t, 80, 24)
	say := func(from, to int) {
		for i := from; i < to; i++ {
			w.do("bob", game.Chat{Text: fmt.Sprintf("line %d", i)})
		}
		h.deliver(roomEvent(w.room("main"), h.m.status, t0))
	}
	say(0, 40)
	h.key("tab", "pgup")
	before := h.m.chatLines(h.m.lay.leftW, h.m.lay.chatN)
	if s := ansi.Strip(strings.Join(before, "\n")); !strings.Contains(s, "line 34") || strings.Contains(s, "line 39") {
		t.Fatalf("pgup shows:\n%s", ansi.Strip(strings.Join(before, "\n")))
	}
	say(40, 45)
	if after := h.m.chatLines(h.m.lay.leftW, h.m.lay.chatN); !slices.Equal(after, before) {
		t.Fatalf("scrolled back, the pane moved as bob chatted:\n%s\nnow:\n%s",
			ansi.Strip(strings.Join(before, "\n")), ansi.Strip(strings.Join(after, "\n")))
	}
	h.key("pgdown")
	h.wantScreen("bob: line 44")
	h.wantNoScreen("earlier lines")
}

func TestChatLineLimit(t *testing.T) {
	h, _ := playing(t, 80, 24)
	h.key("tab")
	h.m.input.SetValue(strings.Repeat("x", 600))
	if n := len(h.m.input.Value()); n != game.MaxChatRunes {
		t.Fatalf("input holds %d characters, want %d", n, game.MaxChatRunes)
	}
}

func TestSlashCommands(t *testing.T) {
	cases := []struct {
		line  string
		room  string // room the player is in
		cmd   game.Command
		query *sentQuery
	}{
		{line: "/create foo", cmd: game.CreateRoom{Name: "foo", Size: 9, Difficulty: game.Medium}},
		{line: "/create Foo 6 hard", cmd: game.CreateRoom{Name: "foo", Size: 6, Difficulty: game.Hard}},
		{line: "/create bar expert 4", cmd: game.CreateRoom{Name: "bar", Size: 4, Difficulty: game.Expert}},
		{line: "/CREATE baz easy", cmd: game.CreateRoom{Name: "baz", Size: 9, Difficulty: game.Easy}},
		{line: "/join foo", cmd: game.JoinRoom{Name: "foo"}},
		{line: "/join #Foo", cmd: game.JoinRoom{Name: "foo"}},
		{line: "/leave", room: "foo", cmd: game.LeaveRoom{}},
		{line: "/rooms", query: &sentQuery{kind: wire.QueryRooms}},
		{line: "/who", query: &sentQuery{kind: wire.QueryWho}},
		{line: "/who foo", query: &sentQuery{kind: wire.QueryWho, room: "foo"}},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			h, w := playing(t, 80, 24)
			if tc.room != "" {
				w.do("alice", game.CreateRoom{Name: tc.room, Size: 9})
				h.deliver(roomEvent(w.room(tc.room), h.m.status, t0))
			}
			h.key("tab")
			queries := len(h.f.queries)
			h.typeText(tc.line)
			h.key("enter")
			if tc.cmd != nil {
				if got := h.f.lastSent(t).cmd; !reflect.DeepEqual(got, tc.cmd) {
					t.Fatalf("sent %#v, want %#v", got, tc.cmd)
				}
			} else if h.f.sentCount() != 0 {
				t.Fatalf("sent %#v", h.f.lastSent(t).cmd)
			}
			if tc.query != nil {
				if len(h.f.queries) != queries+1 {
					t.Fatal("no query sent")
				}
				q := h.f.lastQuery(t)
				if q.kind != tc.query.kind || q.room != tc.query.room {
					t.Fatalf("query %v %q, want %v %q", q.kind, q.room, tc.query.kind, tc.query.room)
				}
			}
			for _, l := range h.m.locals {
				if l.kind == lineError {
					t.Fatalf("error line %q", l.text)
				}
			}
		})
	}
}

func TestBadSlashCommandsSayWhy(t *testing.T) {
	cases := []struct{ line, want string }{
		{"/create", "usage: /create NAME [4|6|9] [easy|medium|hard|expert]"},
		{"/create a b c d", "usage: /create NAME"},
		{"/create foo 7", `"7" is neither a size`},
		{"/create foo 6 4", "usage: /create"},
		{"/create foo hard easy", "a room has one difficulty"},
		{"/create no!pe", "a room name is 1 to 24 characters"},
		{"/join", "usage: /join NAME"},
		{"/join main", "you are already in #main"},
		{"/leave", "you are in #main already"},
		{"/leave now", "usage: /leave"},
		{"/rooms all", "usage: /rooms"},
		{"/who a b", "usage: /who [ROOM]"},
		{"/bogus", "unknown command /bogus: try /help"},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			h, _ := playing(t, 120, 40)
			h.key("tab")
			h.typeText(tc.line)
			h.key("enter")
			if n := h.f.sentCount(); n != 0 {
				t.Fatalf("sent %#v", h.f.lastSent(t).cmd)
			}
			if len(h.m.locals) == 0 || h.m.locals[len(h.m.locals)-1].kind != lineError {
				t.Fatalf("no error line")
			}
			if got := h.m.locals[len(h.m.locals)-1].text; !strings.Contains(got, tc.want) {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
			h.wantScreen("✗ " + tc.want)
		})
	}
}

func TestWhereamiAndHelp(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	h.typeText("/whereami")
	h.key("enter")
	h.wantScreen("› you are alice in #main on n2; primary n3, epoch 4 (connected)")
	h.typeText("/help")
	h.key("enter")
	if h.m.overlay != ovHelp {
		t.Fatal("/help did not open the help")
	}
	h.wantScreen("/create NAME [SIZE] [LEVEL]")
	h.key("x")
	if h.m.overlay != ovNone {
		t.Fatal("a key did not close the help")
	}
}

// The help that /help opens closes at the next key, and that key goes on
// to the chat line: nothing typed is lost. Over the board a key only
// closes it (a space or a digit there would claim or place blind).
func TestHelpFromTheChatKeepsTheKey(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	h.typeText("/help")
	h.key("enter")
	h.wantScreen("esc close · typing goes to the chat")
	h.typeText("hi")
	if h.m.overlay != ovNone || h.m.focus != focusChat {
		t.Fatal("typing did not close the help into the chat")
	}
	if got := h.m.input.Value(); got != "hi" {
		t.Fatalf("the chat line holds %q, want \"hi\"", got)
	}
	h.key("enter")
	if got := h.f.lastSent(t).cmd; got != (game.Chat{Text: "hi"}) {
		t.Fatalf("sent %#v", got)
	}
	h.typeText("/help")
	h.key("enter", "esc")
	if h.m.overlay != ovNone || h.m.focus != focusChat || h.m.input.Value() != "" {
		t.Fatal("esc did more than close the help")
	}

	h.key("esc", "?")
	h.wantScreen("any key close")
	n := h.f.sentCount()
	h.key("5")
	if h.m.overlay != ovNone || h.f.sentCount() != n {
		t.Fatal("a digit that closed the help over the board did more")
	}
}

// The help names the chat line's keys too, which only the chat's footer
// showed.
func TestHelpNamesTheChatKeys(t *testing.T) {
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		h, _ := playing(t, sz[0], sz[1])
		h.key("tab")
		h.typeText("/help")
		h.key("enter")
		h.wantScreen("in the chat: enter send · tab complete")
		h.wantScreen("pgup/pgdn scroll")
	}
}

// At the smallest size the help still lists every command.
func TestHelpFitsTheSmallestTerminal(t *testing.T) {
	h, _ := playing(t, 64, 22)
	h.key("?")
	h.wantScreen("q     quit")
	h.wantScreen("/create NAME [SIZE] [LEVEL] ·")
	h.wantScreen("/who [ROOM] · /whereami · /help")
}

func TestWhoReplyIsListed(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	h.typeText("/who")
	h.key("enter")
	q := h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq,
		Members: []game.MemberView{{Name: "alice", Online: true}, {Name: "bob", Online: false}}}})
	h.wantScreen("› in #main: alice, bob (away)")
}

// /who of a room that is not there says so, even when the rooms list was
// fetched while it was (its last member left since, and it went); #main,
// which stays, is empty.
func TestWhoOfNoSuchRoom(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	q := h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq,
		Rooms: []game.RoomSummary{{Name: "main", Size: 9}, {Name: "quiet", Size: 4}}}})
	for _, c := range []struct{ line, want string }{
		{"/who nosuch", "✗ there is no room #nosuch (/rooms lists them)"},
		{"/who quiet", "✗ there is no room #quiet (/rooms lists them)"},
		{"/who main", "› #main is empty"},
	} {
		h.typeText(c.line)
		h.key("enter")
		q := h.f.lastQuery(t)
		h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq}})
		h.wantScreen(c.want)
	}
}

// The cluster's refusals name rooms as /who does.
func TestRoomRefusalsSayTheRoomAsWhoDoes(t *testing.T) {
	h, w := playing(t, 120, 40)
	w.do("bob", game.CreateRoom{Name: "taken", Size: 4, Difficulty: game.Easy})
	h.key("tab")
	for _, c := range []struct{ line, want string }{
		{"/join nosuch", "✗ there is no room #nosuch (/rooms lists them)"},
		{"/create taken", "✗ room #taken already exists"},
	} {
		h.typeText(c.line)
		h.key("enter")
		answer(h, w)
		h.wantScreen(c.want)
	}
}

func TestCompletion(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab") // opens the chat and asks for the rooms
	q := h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq,
		Rooms: []game.RoomSummary{{Name: "main", Size: 9}, {Name: "fast", Size: 4}, {Name: "fancy", Size: 6}, {Name: "zen", Size: 9}}}})
	if h.m.overlay != ovNone {
		t.Fatal("the silent rooms query opened the room list")
	}
	steps := []struct {
		typed, want string
		hint        string
	}{
		{"/cr", "/create ", ""},
		{"/wh", "/wh", "/who  /whereami"},
		{"/whe", "/whereami", ""},
		{"/le", "/leave", ""},
		{"/join z", "/join zen", ""},
		{"/join f", "/join fa", "fancy  fast"},
		{"/join fas", "/join fast", ""},
		{"/who m", "/who main", ""},
		{"/create x 6 ex", "/create x 6 expert", ""},
		{"/CR", "/create ", ""},
		{"/JOIN z", "/JOIN zen", ""},
	}
	for _, s := range steps {
		h.m.input.SetValue(s.typed)
		h.m.input.CursorEnd()
		h.key("tab")
		if h.m.focus != focusChat {
			t.Fatalf("%q: tab left the chat line", s.typed)
		}
		if got := h.m.input.Value(); got != s.want {
			t.Fatalf("%q completed to %q, want %q", s.typed, got, s.want)
		}
		if h.m.hint != s.hint {
			t.Fatalf("%q: hint %q, want %q", s.typed, h.m.hint, s.hint)
		}
		if s.hint != "" {
			h.wantScreen(s.hint)
		}
	}
	// nothing partial: tab goes back to the board
	for _, v := range []string{"/who", "/join zen", "hello", "/whereami"} {
		h.m.input.SetValue(v)
		h.m.input.CursorEnd()
		h.key("tab")
		if h.m.focus != focusBoard {
			t.Fatalf("%q: tab stayed in the chat line", v)
		}
		h.key("tab")
	}
}

func TestRoomsListOpensAndJoins(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	h.typeText("/rooms")
	h.key("enter")
	q := h.f.lastQuery(t)
	if q.kind != wire.QueryRooms {
		t.Fatalf("query %v", q.kind)
	}
	h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq, Rooms: sampleRooms()}})
	if h.m.overlay != ovRooms {
		t.Fatal("the room list is not shown")
	}
	h.wantScreen("#speedy")
	h.wantScreen("alice, bob, carol")
	h.key("down")
	h.key("enter")
	if got := h.f.lastSent(t).cmd; got != (game.JoinRoom{Name: "speedy"}) {
		t.Fatalf("sent %#v", got)
	}
	if h.m.overlay != ovNone || h.m.focus != focusBoard {
		t.Fatal("joining did not close the list")
	}
}

// q closes the room list, as esc does: the footer offers no other quit
// than ctrl+c there.
func TestQClosesTheRoomList(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("r")
	q := h.f.lastQuery(t)
	h.deliver(client.Replied{EventInfo: evInfo(t0, h.m.status), Reply: &wire.QueryReply{Seq: q.seq, Rooms: sampleRooms()}})
	if h.m.overlay != ovRooms {
		t.Fatal("the room list is not shown")
	}
	h.wantScreen("esc/q close")
	if isQuit(h.send(keyMsg("q"))) {
		t.Fatal("q in the room list quit the app")
	}
	if h.m.overlay != ovNone {
		t.Fatal("q did not close the room list")
	}
	if !isQuit(h.send(keyMsg("q"))) {
		t.Fatal("q on the board did not quit")
	}
}

func sampleRooms() []game.RoomSummary {
	return []game.RoomSummary{
		{Name: "main", Size: 9, Difficulty: game.Medium, Round: 3, Filled: 52, Cells: 81, Players: []string{"alice", "bob", "carol"}},
		{Name: "speedy", Size: 4, Difficulty: game.Easy, Round: 12, Filled: 9, Cells: 16, Players: []string{"dave"}},
		{Name: "hexes", Size: 6, Difficulty: game.Hard, Round: 1, Filled: 20, Cells: 36, Players: []string{"erin", "frank"}, Watchers: []string{"presenter"}},
		{Name: "night-owls", Size: 9, Difficulty: game.Expert, Round: 7, Filled: 30, Cells: 81, Players: nil},
	}
}

func TestRejectedMoveFlashesAndExpires(t *testing.T) {
	h, w := playing(t, 120, 40)
	r, c := w.emptyCell("main", 0)
	h.moveTo(r, c)
	h.key("5")
	s := h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(t0, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrClaimed, Who: "bob"}}}})
	h.wantScreen("✗ " + cellName(r, c) + " claimed by bob")
	h.clk.add(time.Second)
	h.send(tickMsg{})
	h.wantScreen("claimed by bob")
	h.clk.add(600 * time.Millisecond)
	h.send(tickMsg{})
	h.wantNoScreen("claimed by bob")

	// a wrong digit costs 3
	h.key("6")
	s = h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrWrong}, Points: -3}}})
	h.wantScreen("wrong: −3")
	// the Ack is matched by Seq even without its command
	h.clk.add(2 * time.Second)
	h.key("7")
	s = h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq,
		Result: game.Result{Err: &game.Error{Code: game.ErrFilled}}}})
	h.wantScreen("cell is already filled")
	// a move the client answered itself: its session was lost
	h.clk.add(2 * time.Second)
	h.key("8")
	s = h.f.lastSent(t)
	h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd, NotSent: true,
		Result: game.Result{Err: &game.Error{Code: game.ErrNoSession, Room: "main"}}}})
	h.wantScreen("✗ " + cellName(r, c) + " not sent: session lost")
	h.wantScreen("move not sent: the cluster lost your session")
}

// Back from a failover in a session the cluster opened anew: the log says
// the old one was lost; a resumed one says nothing of the kind.
func TestNewSessionAfterAFailoverIsLogged(t *testing.T) {
	for _, resumed := range []bool{true, false} {
		h, _ := playing(t, 120, 40)
		at := t0.Add(7 * time.Second)
		h.deliver(client.StatusChanged{EventInfo: evInfo(at, client.Status{State: client.Failover, Lost: 3, Epoch: wire.MakeEpoch(4, 3), Since: at, Name: "alice"})})
		back := client.Status{State: client.Connected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Since: at.Add(time.Second), Name: "alice", Resumed: resumed}
		h.deliver(client.StatusChanged{EventInfo: evInfo(back.Since, back)})
		if resumed {
			h.wantNoScreen("your session was lost")
		} else {
			h.wantScreen("your session was lost")
		}
	}
}

func TestTickIsScheduledWhileSomethingChanges(t *testing.T) {
	h, w := playing(t, 80, 24)
	// The round's clock in the title: a tick when it shows the next
	// second, none sooner.
	h.clk.t = time.Unix(0, h.m.room.RoundStart).Add(2*time.Second + 300*time.Millisecond)
	h.m.tickAt = time.Time{}
	h.send(tickMsg{})
	if want := h.clk.t.Add(700 * time.Millisecond); !h.m.tickAt.Equal(want) {
		t.Fatalf("tick in %v, want 700ms (the round's clock)", h.m.tickAt.Sub(h.clk.t))
	}
	h.wantScreen("round 1 · 0:02 ·")
	// Without a clock (a round whose start is unknown), nothing changes.
	h.m.room.RoundStart = 0
	h.m.tickAt = time.Time{}
	if cmd := h.m.tick(); cmd != nil {
		t.Fatal("a tick with nothing to count down")
	}
	r, c := w.emptyCell("main", 0)
	h.moveTo(r, c)
	h.key("5")
	s := h.f.lastSent(t)
	h.f.push(client.Answered{EventInfo: evInfo(t0, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
		Result: game.Result{Err: &game.Error{Code: game.ErrWrong}, Points: -3}}})
	h.send(clusterMsg{})
	if h.m.tickAt.IsZero() {
		t.Fatal("no tick while a move flashes")
	}
	// Not a tick every so often: one when the flash ends.
	if want := h.clk.t.Add(flashFor); !h.m.tickAt.Equal(want) {
		t.Fatalf("tick at %v, want %v (when the flash ends)", h.m.tickAt.Sub(h.clk.t), flashFor)
	}
	h.clk.add(2 * time.Second)
	h.send(tickMsg{})
	if !h.m.tickAt.IsZero() {
		t.Fatal("still ticking with nothing on screen that changes")
	}
}

func TestFailoverStatusAndLog(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.wantScreen("n3 is primary, epoch 4")
	lost := client.Status{State: client.Failover, Lost: 3, Epoch: wire.MakeEpoch(4, 3), Since: t0.Add(time.Second), Name: "alice", Pending: 2}
	h.clk.t = t0.Add(time.Second + 300*time.Millisecond)
	h.deliver(
		client.Noticed{EventInfo: evInfo(t0.Add(time.Second), lost), Notice: wire.Notice{Time: t0.Add(time.Second).UnixNano(), Kind: wire.NoticeSuspected, Node: 3, Text: "n3 suspected (link closed)"}},
		client.StatusChanged{EventInfo: evInfo(t0.Add(time.Second), lost)},
	)
	h.wantScreen("primary n3 lost — electing… 0.3s · 2 moves waiting")
	h.wantScreen("n3 suspected")
	h.wantNoScreen("n3 lost\n")
	// input keeps working
	h.key("down", "5")
	if h.f.sentCount() != 1 {
		t.Fatal("a move during the failover was not sent")
	}
	back := client.Status{State: client.Connected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Since: t0.Add(time.Second + 212*time.Millisecond), Name: "alice", Resumed: true}
	v := cluster(3, 2, 5)
	v.Nodes[0].Alive = false
	h.deliver(
		client.Noticed{EventInfo: evInfo(back.Since, lost), Notice: wire.Notice{Time: back.Since.UnixNano(), Kind: wire.NoticeElected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Text: "n2 is primary (epoch 5) with 1 backup"}},
		client.StatusChanged{EventInfo: evInfo(back.Since, back)},
		client.ViewChanged{EventInfo: evInfo(back.Since, back), View: *v},
		roomEvent(h.m.room, back, back.Since, game.Event{Kind: game.EvViewChange, Epoch: 5, Node: 2, PrevNode: 3}),
	)
	h.wantScreen("n2 is primary, epoch 5 — resumed · failover took 212ms")
	var elected, gone int
	for _, e := range h.m.log {
		switch e.text {
		case "n2 elected (epoch 5)":
			elected++
		case "n3 suspected", "n3 down", "n3 lost":
			gone++
		}
	}
	if elected != 1 || gone != 1 {
		t.Fatalf("logged the election %d times and the loss %d times: %+v", elected, gone, h.m.log)
	}
	h.wantScreen("12:00:01 n3 suspected")
	h.wantScreen("12:00:01 n2 elected (epoch 5)")
	h.wantScreen("★ n2 primary epoch 5")
	h.wantScreen("n3 down")
	h.wantScreen("○")
	h.clk.add(recoveredFor)
	h.send(tickMsg{})
	h.wantNoScreen("failover took")
	// "resumed" is news for as long: then the line says who leads.
	h.wantNoScreen("resumed")
	h.wantScreen("n2 is primary, epoch 5")
}

// A primary that steps down for a higher node (Bully) is a handover, and
// the status line says so: nothing failed. A handover in which the node
// is then lost is a failover.
func TestHandoverIsNotAFailover(t *testing.T) {
	for _, lostToo := range []bool{false, true} {
		h, _ := playing(t, 120, 40)
		h.wantScreen("n3 is primary, epoch 4")
		at := t0.Add(time.Second)
		moving := client.Status{State: client.Failover, Handover: 3, Successor: 4, Epoch: wire.MakeEpoch(4, 3), Since: at, Name: "alice"}
		h.clk.t = at
		h.deliver(client.StatusChanged{EventInfo: evInfo(at, moving)})
		h.wantScreen("n3 handed over to n4 — moving there…")
		if lostToo {
			lost := moving
			lost.Handover, lost.Lost = 0, 3
			h.deliver(client.StatusChanged{EventInfo: evInfo(at.Add(10*time.Millisecond), lost)})
		}
		back := client.Status{State: client.Connected, Node: 4, Epoch: wire.MakeEpoch(5, 4), Since: at.Add(42 * time.Millisecond), Name: "alice", Resumed: true}
		h.deliver(client.StatusChanged{EventInfo: evInfo(back.Since, back)})
		want, not := "handover took 42ms", "failover took"
		if lostToo {
			want, not = "failover took 42ms", "handover took"
		}
		h.wantScreen("n4 is primary, epoch 5 — resumed · " + want)
		h.wantNoScreen(not)
	}
}

// A primary that steps down naming no successor (the lone node left, or
// it renews its office when a backup leaves) has handed over to nobody;
// and when the session comes back to the same primary, nothing failed or
// was handed over.
func TestSteppedDownWithoutASuccessor(t *testing.T) {
	h, _ := playing(t, 120, 40)
	at := t0.Add(time.Second)
	down := client.Status{State: client.Failover, Node: 3, Handover: 3, Epoch: wire.MakeEpoch(4, 3), Since: at, Name: "alice"}
	h.clk.t = at
	h.deliver(client.StatusChanged{EventInfo: evInfo(at, down)})
	h.wantScreen("◌ n3 stepped down — looking for the cluster…")
	h.wantNoScreen("handed over")

	back := client.Status{State: client.Connected, Node: 3, Epoch: wire.MakeEpoch(5, 3), Since: at.Add(9 * time.Millisecond), Name: "alice", Resumed: true}
	h.deliver(client.StatusChanged{EventInfo: evInfo(back.Since, back)})
	h.wantScreen("n3 is primary, epoch 5 — resumed · reconnected in 9ms")
	h.wantNoScreen("handover took")
	h.wantNoScreen("failover took")
}

func TestLogKeepsTimeOrder(t *testing.T) {
	// An app that starts finds the primary, then gets its node's notices
	// of the election that made it: they go above it in the log.
	h, _ := playing(t, 120, 40)
	st := h.m.status
	at := t0.Add(-700 * time.Millisecond)
	h.deliver(
		client.Noticed{EventInfo: evInfo(t0, st), Notice: wire.Notice{Time: at.UnixNano(), Kind: wire.NoticeElection, Node: 1, Text: "election: no primary found"}},
		client.Noticed{EventInfo: evInfo(t0, st), Notice: wire.Notice{Time: at.Add(time.Millisecond).UnixNano(), Kind: wire.NoticeElected, Node: 3, Epoch: wire.MakeEpoch(4, 3), Text: "n3 is primary (epoch 4)"}},
	)
	h.clk.add(time.Second)
	h.deliver(client.Noticed{EventInfo: evInfo(t0.Add(time.Second), st), Notice: wire.Notice{Time: t0.Add(time.Second).UnixNano(), Kind: wire.NoticeSuspected, Node: 1, Text: "n1 suspected"}})
	var got []string
	for _, e := range h.m.log {
		got = append(got, e.text)
	}
	want := []string{"election: no primary found", "n3 is primary (epoch 4)", "n1 suspected"}
	if !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q", got, want)
	}
	sc := h.plain()
	if i, j := strings.Index(sc, "no primary found"), strings.Index(sc, "n3 is primary (e"); i < 0 || j < 0 || i > j {
		t.Fatalf("the election is not shown above its result:\n%s", sc)
	}
}

func TestFailoverInConnectMode(t *testing.T) {
	// no notices (gridlock connect): the status alone tells the story
	h, _ := playing(t, 80, 24)
	lost := client.Status{State: client.Failover, Lost: 3, Since: t0.Add(time.Second), Name: "alice"}
	h.deliver(client.StatusChanged{EventInfo: evInfo(t0.Add(time.Second), lost)})
	h.wantScreen("n3 lost")
	h.wantScreen("n3 lost")
	h.wantScreen("primary n3 lost — electing…")
	back := client.Status{State: client.Connected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Since: t0.Add(2 * time.Second), Name: "alice", Resumed: true}
	h.deliver(client.StatusChanged{EventInfo: evInfo(back.Since, back)})
	h.wantScreen("n2 elected (e5)")
	h.wantScreen("n2 is primary, epoch 5 — resumed")
}

func TestRollbackIsLogged(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.deliver(roomEvent(h.m.room, h.m.status, t0, game.Event{Kind: game.EvRollback, Room: "main", Name: "bob", Row: 2, Col: 3, Digit: 7, Cmd: game.CmdPlace}))
	h.wantScreen("rolled back bob's 7 at")
	if e := h.m.log[len(h.m.log)-1]; e.text != "rolled back bob's 7 at r3c4" || e.kind != logWarn {
		t.Fatalf("logged %+v", e)
	}
}

func TestJoinsAndLeavesAreLogged(t *testing.T) {
	h, w := playing(t, 120, 40)
	w.join("dave")
	evs := w.last
	h.clk.add(time.Minute)
	h.deliver(roomEvent(w.room("main"), h.m.status, t0.Add(63*time.Second), evs...))
	h.wantScreen("12:01:03 dave joined #main")
	w.do("dave", game.CloseSession{})
	h.deliver(roomEvent(w.room("main"), h.m.status, t0.Add(64*time.Second), w.last...))
	h.wantScreen("12:01:04 dave left #main")
}

func TestOwnRoomSwitchIsLogged(t *testing.T) {
	// The new room comes whole, without the join: the log has it once,
	// after the leave, whether or not the join event comes along.
	h, w := playing(t, 120, 40)
	w.do("alice", game.CreateRoom{Name: "fun", Size: 4, Difficulty: game.Easy})
	left := slices.DeleteFunc(slices.Clone(w.last), func(e game.Event) bool { return e.Kind != game.EvLeft })
	h.deliver(roomEvent(w.room("main"), h.m.status, t0.Add(time.Second), left...))
	h.deliver(roomEvent(w.room("fun"), h.m.status, t0.Add(time.Second)))
	w.do("alice", game.JoinRoom{Name: "main"})
	h.deliver(roomEvent(w.room("main"), h.m.status, t0.Add(2*time.Second), w.last...))
	var got []string
	for _, e := range h.m.log {
		if strings.Contains(e.text, "#") {
			got = append(got, e.text)
		}
	}
	want := []string{"alice left #main", "alice joined #fun", "alice left #fun", "alice joined #main"}
	if !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q", got, want)
	}
}

// cellOnScreen finds where cell (row, col) is drawn, from the screen alone:
// the board's corners, then the row-th line of cells and the col-th group of
// three columns between its bars.
func cellOnScreen(t *testing.T, screen string, row, col int) (x, y int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	bx, by, ex := -1, -1, -1
	for y, l := range lines {
		rs := []rune(l)
		for x, r := range rs {
			switch r {
			case '┏', '╭':
				bx, by = x, y
			case '┓', '╮':
				ex = x
			}
		}
		if bx >= 0 {
			break
		}
	}
	if bx < 0 || ex < 0 {
		t.Fatalf("no board on\n%s", screen)
	}
	k := -1
	for y := by + 1; y < len(lines); y++ {
		rs := []rune(lines[y])
		if rs[bx] != '┃' && rs[bx] != '│' {
			continue
		}
		if k++; k != row {
			continue
		}
		var xs []int
		for x := bx + 1; x < ex; x++ {
			if rs[x] != '┃' && rs[x] != '│' {
				xs = append(xs, x)
			}
		}
		if len(xs) <= 3*col+2 {
			t.Fatalf("row %d has %d cells", row, len(xs)/3)
		}
		return xs[3*col+1], y
	}
	t.Fatalf("cell %d,%d not found on\n%s", row, col, screen)
	return 0, 0
}

func TestMouseClickSelectsTheCell(t *testing.T) {
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		h, _ := playing(t, size[0], size[1])
		h.key("tab")
		for _, cell := range [][2]int{{0, 0}, {4, 7}, {8, 8}, {5, 2}} {
			x, y := cellOnScreen(t, h.plain(), cell[0], cell[1])
			h.send(tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
			if h.m.row != cell[0] || h.m.col != cell[1] {
				t.Fatalf("%dx%d: click at %d,%d selected %d,%d, want %v", size[0], size[1], x, y, h.m.row, h.m.col, cell)
			}
			if h.m.focus != focusBoard {
				t.Fatal("a click on the board did not focus it")
			}
		}
		// outside the board nothing changes
		h.send(tea.MouseMsg{X: size[0] - 3, Y: 3, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
		if h.m.row != 5 || h.m.col != 2 {
			t.Fatal("a click outside the board moved the cursor")
		}
	}
}

func TestMouseLayoutFollowsResize(t *testing.T) {
	h, _ := playing(t, 120, 40)
	x, y := cellOnScreen(t, h.plain(), 3, 3)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	x2, y2 := cellOnScreen(t, h.plain(), 3, 3)
	if x == x2 && y == y2 {
		t.Fatal("the board did not move on resize")
	}
	h.send(tea.MouseMsg{X: x2, Y: y2, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if h.m.row != 3 || h.m.col != 3 {
		t.Fatalf("selected %d,%d after a resize", h.m.row, h.m.col)
	}
}

func TestQuit(t *testing.T) {
	h, _ := playing(t, 80, 24)
	if !isQuit(h.send(keyMsg("q"))) {
		t.Fatal("q did not quit")
	}
	h.key("tab")
	if isQuit(h.send(keyMsg("q"))) {
		t.Fatal("q in the chat line quit")
	}
	if !isQuit(h.send(keyMsg("ctrl+c"))) {
		t.Fatal("ctrl+c in the chat line did not quit")
	}
}

func TestTooSmall(t *testing.T) {
	h, _ := playing(t, 50, 15)
	h.wantScreen("terminal too small: 50×15, need at least 64×22")
	h.send(tea.WindowSizeMsg{Width: 30, Height: 10})
	h.wantScreen("terminal too small: 30×10")
	h.wantScreen("need at least 64×22")
	// Keys typed blind act on nothing: no notes mode, no chat, no move.
	sent := len(h.f.sent)
	h.key("n", "tab", "5", "right", "q")
	h.send(tea.WindowSizeMsg{Width: 64, Height: 22})
	h.wantNoScreen("too small")
	h.wantScreen("#main")
	if h.m.notesMode || h.m.focus != focusBoard || len(h.f.sent) != sent {
		t.Fatalf("keys typed while too small acted: notes %v, focus %v, %d commands sent", h.m.notesMode, h.m.focus, len(h.f.sent)-sent)
	}
	h.send(tea.WindowSizeMsg{Width: 30, Height: 10})
	if !isQuit(h.send(keyMsg("q"))) {
		t.Fatal("q did not quit while too small")
	}
}

func TestFatalShowsTheReasonAndQuitsOnAnyKey(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.deliver(client.Refused{EventInfo: evInfo(t0, client.Status{State: client.Closed}),
		Err: &game.Error{Code: game.ErrNameTaken, Who: "alice"}})
	h.wantScreen(`the name "alice" is taken`)
	h.wantScreen("press any key to quit")
	if !isQuit(h.send(keyMsg("x"))) {
		t.Fatal("a key did not quit")
	}
}

func TestFatalWithoutError(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.deliver(client.Refused{EventInfo: evInfo(t0, client.Status{})})
	if h.m.fatal == nil || h.m.fatal.Error() != "the cluster refused this player" {
		t.Fatalf("the reason kept is %v, want the cluster's refusal", h.m.fatal)
	}
	h.wantScreen("refused")
}

func TestNoColor(t *testing.T) {
	f := newFake()
	clk := &clock{t: t0}
	m := New(f, Options{Name: "alice", Self: 2, NoColor: true, Now: clk.now})
	h := &harness{t: t, f: f, clk: clk, m: m}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	w := newWorld(t)
	w.join("alice")
	w.join("bob")
	w.fill("alice", "main", 0, 3)
	w.fill("bob", "main", 30, 3)
	st := connected(3, 4, t0)
	h.deliver(client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)}, roomEvent(w.room("main"), st, t0))
	s := h.m.View()
	if c := colourCode(s); c != "" {
		t.Fatalf("a colour escape %q with NO_COLOR", c)
	}
	if !hasSGR(s, "1") || !hasSGR(s, "4") {
		t.Fatal("no bold givens or underlined own cells without colour")
	}
}

// hasSGR reports whether an SGR sequence of s sets attribute p.
func hasSGR(s, p string) bool {
	for _, seq := range strings.Split(s, "\x1b[")[1:] {
		if end := strings.IndexByte(seq, 'm'); end >= 0 && slices.Contains(strings.Split(seq[:end], ";"), p) {
			return true
		}
	}
	return false
}

// colourCode is the first SGR sequence of s that sets a colour, or "".
func colourCode(s string) string {
	for _, seq := range strings.Split(s, "\x1b[")[1:] {
		end := strings.IndexByte(seq, 'm')
		if end < 0 {
			continue
		}
		for _, p := range strings.Split(seq[:end], ";") {
			n, err := strconv.Atoi(p)
			if err != nil || n >= 30 && n <= 49 || n >= 90 && n <= 107 {
				return seq[:end+1]
			}
		}
	}
	return ""
}

// Every screen is exactly the terminal's size, whatever the board.
func TestEveryLineFitsTheTerminal(t *testing.T) {
	h, w := playing(t, 80, 24)
	w.do("alice", game.CreateRoom{Name: "six", Size: 6, Difficulty: game.Easy})
	six := w.room("six")
	w.do("alice", game.CreateRoom{Name: "four", Size: 4, Difficulty: game.Easy})
	four := w.room("four")
	nine := w.room("main")
	rooms := []*game.RoomView{nine, six, four}
	h.deliver(client.ViewChanged{EventInfo: evInfo(t0, h.m.status), View: *cluster(7, 7, 12)})
	for _, r := range rooms {
		h.deliver(roomEvent(r, h.m.status, t0))
		for _, W := range []int{40, 63, 64, 65, 80, 81, 97, 120, 121, 170} {
			for _, H := range []int{12, 21, 22, 23, 24, 31, 40, 41, 60} {
				h.send(tea.WindowSizeMsg{Width: W, Height: H})
				for _, ov := range []overlay{ovNone, ovHelp, ovRooms} {
					h.m.overlay = ov
					lines := strings.Split(h.m.View(), "\n")
					if len(lines) != H {
						t.Fatalf("%d×%d %s: %d lines", W, H, r.Name, len(lines))
					}
					for i, l := range lines {
						if got := ansi.StringWidth(l); got != W {
							t.Fatalf("%d×%d %s overlay %d: line %d is %d wide:\n%s", W, H, r.Name, ov, i, got, ansi.Strip(strings.Join(lines, "\n")))
						}
					}
				}
				h.m.overlay = ovNone
			}
		}
	}
}

// Under NO_COLOR the colour profile is "none", yet the cursor, the givens
// and the player's own cells must still show.
func TestNoColorNeedsNoProfile(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	defer lipgloss.SetColorProfile(termenv.ANSI)
	h, _ := scene(t, 80, 24, func(o *Options) { o.NoColor = true })
	s := h.m.View()
	for _, attr := range []string{"1", "4", "7"} {
		if !hasSGR(s, attr) {
			t.Fatalf("no SGR %s without a colour profile", attr)
		}
	}
	if c := colourCode(s); c != "" {
		t.Fatalf("colour %q", c)
	}
}

// The countdown between rounds shows whole seconds: the app wakes when the
// number changes, not in between.
func TestTickFollowsTheCountdown(t *testing.T) {
	h, w := playing(t, 120, 40)
	w.now = t0.Add(6 * time.Second).UnixNano()
	w.fill("bob", "main", 0, 81)
	r := w.room("main")
	if r.State != game.RoundOver || r.NextRoundAt == 0 {
		t.Fatal("the round is not over, or no next round is set")
	}
	h.clk.t = time.Unix(0, r.NextRoundAt).Add(-2300 * time.Millisecond)
	h.deliver(roomEvent(r, h.m.status, h.clk.t, w.last...))
	h.wantScreen("next round in 3s")
	if got := h.m.tickAt.Sub(h.clk.t); got != 300*time.Millisecond {
		t.Fatalf("next tick in %v, want 300ms (when 3s turns to 2s)", got)
	}
	h.clk.t = h.m.tickAt
	h.send(tickMsg{at: h.m.tickAt})
	h.wantScreen("next round in 2s")
	if got := h.m.tickAt.Sub(h.clk.t); got != time.Second {
		t.Fatalf("next tick in %v, want 1s", got)
	}
}

// Characters typed faster than the app reads them arrive as one key
// message, whose name can be that of a key: "left", "up", "enter".
func TestTypedBurstIsText(t *testing.T) {
	h, _ := playing(t, 120, 40)
	h.key("tab")
	burst := func(s string) { h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }
	burst("top ")
	burst("left")
	burst(" up")
	burst(" enter")
	if got := h.m.input.Value(); got != "top left up enter" {
		t.Fatalf("chat input %q, want %q", got, "top left up enter")
	}
	// On the board a burst is the keys one by one: l moves right, then 7.
	h.key("esc")
	col := h.m.col
	burst("l7")
	if h.m.col != col+1 {
		t.Fatalf("cursor column %d, want %d", h.m.col, col+1)
	}
	if s := h.f.lastSent(t); s.cmd == nil {
		t.Fatal("the digit of the burst was not sent")
	}
}

func TestThrottlingIsSaid(t *testing.T) {
	h, _ := playing(t, 120, 40)
	text := "more than 2000 commands a second: slow down"
	h.deliver(client.Throttled{EventInfo: evInfo(t0, h.m.status), Text: text})
	h.wantScreen("the cluster says: " + text)
	// Said once in a while, not at every refusal.
	n := len(h.m.locals)
	h.deliver(client.Throttled{EventInfo: evInfo(t0.Add(time.Second), h.m.status), Text: text})
	if len(h.m.locals) != n {
		t.Fatalf("said again a second later")
	}
}

// A node of another release on the group: the sidebar's two lines cannot
// hold the warning, so the chat pane says it whole, once.
func TestAnotherReleaseIsToldWhole(t *testing.T) {
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		h, _ := playing(t, sz[0], sz[1])
		text := "a node of another gridlock release is on the group (from 127.0.0.1:5007): it cannot join this game; run the same release everywhere"
		nt := client.Noticed{EventInfo: evInfo(t0, h.m.status), Notice: wire.Notice{Time: t0.UnixNano(), Kind: wire.NoticeStranger, Node: 1, Text: text}}
		h.deliver(nt, nt)
		h.wantScreen("run the same release everywhere")
		h.wantScreen("another release:")
		if n := h.saidTimes(text); n != 1 {
			t.Fatalf("%dx%d: the chat says it %d times", sz[0], sz[1], n)
		}
	}
}

// An app that quit while others played on says so whole in the chat, and
// shortly in the sidebar.
func TestMayBeBehindIsToldWhole(t *testing.T) {
	h, _ := playing(t, 80, 24)
	text := "this app quit while n2 played on: until one of them is back this game may be behind theirs, and moves made meanwhile may be rolled back when they return"
	nt := client.Noticed{EventInfo: evInfo(t0, h.m.status), Notice: wire.Notice{Time: t0.UnixNano(), Kind: wire.NoticeBehind, Node: 1, Text: text}}
	h.deliver(nt)
	h.wantScreen("rolled back when they return")
	h.wantScreen("may be behind:")
}

// A node refused for its settings is listed as refused, not as down, and
// the chat says why, whole, once.
func TestRefusedNodeIsToldNotDown(t *testing.T) {
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		h, _ := playing(t, sz[0], sz[1])
		st := connected(3, 4, t0)
		v := cluster(3, 3, 4)
		v.Nodes = append(v.Nodes, wire.NodeInfo{ID: 4, Role: wire.RoleRefused})
		text := "n4 cannot join this game: it runs in availability mode (--quorum=off), this cluster in quorum mode (--quorum=on): every node of a cluster needs the same setting"
		nt := client.Noticed{EventInfo: evInfo(t0, st), Notice: wire.Notice{Time: t0.UnixNano(), Kind: wire.NoticeRefused, Node: 4, Text: text}}
		h.deliver(client.ViewChanged{EventInfo: evInfo(t0, st), View: *v}, nt, nt)
		h.wantScreen("n4 refused")
		h.wantNoScreen("n4 down")
		h.wantScreen("n4 cannot join this game")
		if n := h.saidTimes(text); n != 1 {
			t.Fatalf("%dx%d: the chat says it %d times", sz[0], sz[1], n)
		}
	}
}

// A warning heard while the node starts, before the app has a room, is
// still in the chat once the room comes: it is said only once.
func TestWarningBeforeTheRoomIsKept(t *testing.T) {
	h := newHarness(t, 120, 40)
	wd := newWorld(t)
	for _, p := range []string{"alice", "bob"} {
		wd.join(p)
	}
	st := connected(3, 4, t0)
	text := "a node of another gridlock release is on the group (from 127.0.0.1:5007): it cannot join this game; run the same release everywhere"
	h.deliver(
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		client.Noticed{EventInfo: evInfo(t0, st), Notice: wire.Notice{Time: t0.UnixNano(), Kind: wire.NoticeStranger, Node: 1, Text: text}},
		roomEvent(wd.room("main"), st, t0),
	)
	h.wantScreen("another release:")
	h.wantScreen("run the same release everywhere")
}

// The player's own node is marked "you" in the cluster list (n2 here) down to narrow
// screens: the epoch or lag is shortened first.
func TestOwnNodeMarkedOnNarrowScreens(t *testing.T) {
	for _, sz := range [][2]int{{120, 40}, {80, 24}, {70, 26}, {64, 22}} {
		h, _ := playing(t, sz[0], sz[1])
		found := false
		for _, l := range strings.Split(h.plain(), "\n") {
			if strings.Contains(l, "n2 backup") {
				found = true
				if !strings.Contains(l, "you") {
					t.Errorf("%dx%d: n2's line has no \"you\": %q", sz[0], sz[1], l)
				}
			}
		}
		if !found {
			t.Errorf("%dx%d: no line for n2:\n%s", sz[0], sz[1], h.plain())
		}
	}
}

// In quorum mode with too few voters up, the status line says so rather
// than count an election that cannot end.
func TestFailoverShortOfQuorumSaysSo(t *testing.T) {
	h, _ := playing(t, 120, 40)
	lost := client.Status{State: client.Failover, Lost: 3, Epoch: wire.MakeEpoch(4, 3), Since: t0.Add(time.Second), Name: "alice", VotersUp: 1, VotersNeeded: 2}
	h.clk.t = t0.Add(3 * time.Second)
	h.deliver(client.StatusChanged{EventInfo: evInfo(t0.Add(time.Second), lost)})
	h.wantScreen("no primary: 1 up, 2 needed 2.0s")
	h.wantNoScreen("electing")
	// With a majority up, it is an election.
	lost.VotersUp, lost.VotersNeeded = 0, 0
	h.deliver(client.StatusChanged{EventInfo: evInfo(t0.Add(time.Second), lost)})
	h.wantScreen("primary n3 lost — electing…")
}

// saidTimes is how many of the app's own chat lines are text.
func (h *harness) saidTimes(text string) int {
	n := 0
	for _, l := range h.m.locals {
		if l.text == text {
			n++
		}
	}
	return n
}
