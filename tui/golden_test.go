package tui

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Golden screens: go test ./tui/ -run Golden -update rewrites them.

// busyWorld is room main with four players at work, chat and a claim by bob.
func busyWorld(t testing.TB) *world {
	w := newWorld(t)
	for _, p := range []string{"alice", "bob", "carol", "dave"} {
		w.join(p)
	}
	w.fill("alice", "main", 0, 7)
	w.fill("bob", "main", 18, 6)
	w.fill("carol", "main", 36, 5)
	w.fill("dave", "main", 54, 3)
	w.do("carol", game.Place{Row: 8, Col: 8, Digit: wrongDigit(w, 8, 8)})
	w.do("bob", game.Chat{Text: "the 7 is yours"})
	w.do("alice", game.Chat{Text: "thanks! taking the middle box"})
	w.do("carol", game.Chat{Text: "careful, bob's on r5 — someone keeps missing the 8s"})
	r, c := w.emptyCell("main", 40)
	w.do("bob", game.Claim{Row: uint8(r), Col: uint8(c)})
	return w
}

// wrongDigit is a digit that is not the solution at (row, col).
func wrongDigit(w *world, row, col int) uint8 {
	s := w.solution("main")[row*9+col]
	return s%9 + 1
}

// scene is a model with the busy room at w×h and a log of events.
func scene(t *testing.T, width, height int, o ...func(*Options)) (*harness, *world) {
	t.Helper()
	f := newFake()
	clk := &clock{t: t0}
	opts := Options{Name: "alice", Self: 2, Now: clk.now}
	for _, fn := range o {
		fn(&opts)
	}
	h := &harness{t: t, f: f, clk: clk, m: New(f, opts)}
	h.send(tea.WindowSizeMsg{Width: width, Height: height})
	w := busyWorld(t)
	st := connected(3, 4, t0)
	h.deliver(
		client.StatusChanged{EventInfo: evInfo(t0, st)},
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		roomEvent(w.room("main"), st, t0.Add(2*time.Second), game.Event{Kind: game.EvJoined, Room: "main", Name: "dave"}),
	)
	h.clk.t = t0.Add(5 * time.Second)
	h.moveTo(4, 6)
	return h, w
}

var goldenSizes = [][2]int{{80, 24}, {120, 40}}

func TestGolden(t *testing.T) {
	scenes := []struct {
		name  string
		setup func(t *testing.T, w, h int) *harness
	}{
		{"normal", func(t *testing.T, width, height int) *harness {
			h, _ := scene(t, width, height)
			return h
		}},
		{"claim_and_rejected_move", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			r, c := w.emptyCell("main", 60)
			w.do("alice", game.Claim{Row: uint8(r), Col: uint8(c)})
			h.deliver(roomEvent(w.room("main"), h.m.status, h.clk.t, w.last...))
			// a move on bob's claim, refused
			var bob game.ClaimView
			for _, cl := range w.room("main").Claims {
				if cl.Owner == "bob" {
					bob = cl
				}
			}
			h.moveTo(int(bob.Row), int(bob.Col))
			h.key("4")
			s := h.f.lastSent(t)
			h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
				Result: game.Result{Err: &game.Error{Code: game.ErrClaimed, Who: "bob"}}}})
			return h
		}},
		{"wrong_move", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			r, c := w.emptyCell("main", 30)
			h.moveTo(r, c)
			h.key("9")
			s := h.f.lastSent(t)
			h.deliver(client.Answered{EventInfo: evInfo(h.clk.t, h.m.status), Ack: client.Ack{Seq: s.seq, Cmd: s.cmd,
				Result: game.Result{Err: &game.Error{Code: game.ErrWrong}, Points: -3}}})
			return h
		}},
		{"failover", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			at := t0.Add(7 * time.Second)
			lost := client.Status{State: client.Failover, Lost: 3, Epoch: wire.MakeEpoch(4, 3), Since: at, Name: "alice", Pending: 1}
			h.deliver(
				client.Noticed{EventInfo: evInfo(at, h.m.status), Notice: wire.Notice{Time: at.UnixNano(), Kind: wire.NoticeSuspected, Node: 3, Text: "n3 suspected (link closed)"}},
				client.Noticed{EventInfo: evInfo(at, h.m.status), Notice: wire.Notice{Time: at.UnixNano(), Kind: wire.NoticeElection, Node: 2, Text: "election: primary n3 lost (link closed)"}},
				client.StatusChanged{EventInfo: evInfo(at, lost)},
			)
			h.clk.t = at.Add(140 * time.Millisecond)
			r, c := w.emptyCell("main", 30)
			h.moveTo(r, c)
			h.key("5") // a move while the cluster elects: it waits
			return h
		}},
		{"failover_over", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			at := t0.Add(7 * time.Second)
			lost := client.Status{State: client.Failover, Lost: 3, Epoch: wire.MakeEpoch(4, 3), Since: at, Name: "alice"}
			h.deliver(client.StatusChanged{EventInfo: evInfo(at, lost)})
			back := client.Status{State: client.Connected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Since: at.Add(183 * time.Millisecond), Name: "alice", Resumed: true, RTT: 310 * time.Microsecond}
			v := cluster(3, 2, 5)
			v.Nodes[0].Alive, v.Nodes[0].Role = false, wire.RolePrimary
			w.now = back.Since.UnixNano()
			w.sys(game.ViewChange{Epoch: 5, Primary: 2, PrevPrimary: 3})
			h.deliver(
				client.StatusChanged{EventInfo: evInfo(back.Since, back)},
				client.ViewChanged{EventInfo: evInfo(back.Since, back), View: *v},
				roomEvent(w.room("main"), back, back.Since, w.last...),
			)
			h.clk.t = at.Add(2 * time.Second)
			return h
		}},
		{"round_won", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			w.now = t0.Add(6 * time.Second).UnixNano()
			w.fill("bob", "main", 0, 81)
			if w.room("main").State != game.RoundOver {
				t.Fatal("the round is not over")
			}
			h.deliver(roomEvent(w.room("main"), h.m.status, t0.Add(6*time.Second), w.last...))
			h.clk.t = t0.Add(7 * time.Second)
			return h
		}},
		{"rooms", func(t *testing.T, width, height int) *harness {
			h, _ := scene(t, width, height)
			h.key("r")
			q := h.f.lastQuery(t)
			h.deliver(client.Replied{EventInfo: evInfo(h.clk.t, h.m.status), Reply: &wire.QueryReply{Seq: q.seq, Rooms: sampleRooms()}})
			h.key("down")
			return h
		}},
		{"chat", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			w.sys(game.ViewChange{Epoch: 5, Primary: 2, PrevPrimary: 3})
			w.join("erin")
			w.do("erin", game.Chat{Text: "hello! which room is the fast one?"})
			h.deliver(roomEvent(w.room("main"), h.m.status, h.clk.t, w.last...))
			h.key("tab")
			h.typeText("/wh")
			h.key("tab")
			return h
		}},
		{"error_line", func(t *testing.T, width, height int) *harness {
			h, _ := scene(t, width, height)
			h.key("tab")
			h.typeText("/teleport r5")
			h.key("enter")
			h.typeText("/create my room 7")
			h.key("enter")
			h.typeText("/whereami")
			h.key("enter")
			return h
		}},
		{"help", func(t *testing.T, width, height int) *harness {
			h, _ := scene(t, width, height)
			h.key("?")
			return h
		}},
		{"no_color", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height, func(o *Options) { o.NoColor = true })
			r, c := w.emptyCell("main", 60)
			w.do("alice", game.Claim{Row: uint8(r), Col: uint8(c)})
			h.deliver(roomEvent(w.room("main"), h.m.status, h.clk.t, w.last...))
			return h
		}},
		{"board6", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			w.do("alice", game.CreateRoom{Name: "hexes", Size: 6, Difficulty: game.Hard})
			w.join("bob2")
			w.do("bob2", game.JoinRoom{Name: "hexes"})
			w.fill("alice", "hexes", 0, 4)
			w.fill("bob2", "hexes", 12, 4)
			h.deliver(roomEvent(w.room("hexes"), h.m.status, h.clk.t))
			return h
		}},
		{"board4", func(t *testing.T, width, height int) *harness {
			h, w := scene(t, width, height)
			w.do("alice", game.CreateRoom{Name: "speedy", Size: 4, Difficulty: game.Easy})
			w.fill("alice", "speedy", 0, 2)
			h.deliver(roomEvent(w.room("speedy"), h.m.status, h.clk.t))
			h.moveTo(2, 1)
			return h
		}},
	}
	for _, sc := range scenes {
		for _, sz := range goldenSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				h := sc.setup(t, sz[0], sz[1])
				golden.RequireEqualEscape(t, []byte(h.m.View()), true)
			})
		}
	}
	t.Run("too_small_50x15", func(t *testing.T) {
		h, _ := scene(t, 80, 24)
		h.send(tea.WindowSizeMsg{Width: 50, Height: 15})
		golden.RequireEqualEscape(t, []byte(h.m.View()), true)
	})
	t.Run("fatal_80x24", func(t *testing.T) {
		h := newHarness(t, 80, 24)
		h.deliver(client.Refused{EventInfo: evInfo(t0, client.Status{State: client.Closed}),
			Err: &game.Error{Code: game.ErrNameTaken, Who: "alice"}})
		golden.RequireEqualEscape(t, []byte(h.m.View()), true)
	})
}

// startProgram runs the app as a Bubble Tea program at 80×24, connected to
// n3 of a busy world; wait waits until the screen shows a text.
func startProgram(t *testing.T, f *fakeCluster, o Options) (*teatest.TestModel, *world, func(string)) {
	t.Helper()
	tm := teatest.NewTestModel(t, New(f, o), teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { close(f.notify) })
	w := busyWorld(t)
	st := connected(3, 4, t0)
	f.push(
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		roomEvent(w.room("main"), st, t0),
	)
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	return tm, w, wait
}

// TestProgram runs the app as a real Bubble Tea program: it draws what the
// cluster sends, sends what the keys say, shows a failover and quits on q.
func TestProgram(t *testing.T) {
	f := newFake()
	clk := &clock{t: t0.Add(5 * time.Second)}
	tm, w, wait := startProgram(t, f, Options{Name: "alice", Self: 2, Now: clk.now})
	wait("n3 is primary, epoch 4")
	r, c := w.emptyCell("main", 0)
	for range r {
		tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	}
	for range c {
		tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	}
	tm.Type("3")
	lost := client.Status{State: client.Failover, Lost: 3, Since: t0.Add(5 * time.Second), Name: "alice", Pending: 1}
	f.push(client.StatusChanged{EventInfo: evInfo(lost.Since, lost)})
	wait("electing")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(*Model)
	if got := f.lastSent(t).cmd; got != (game.Place{Row: uint8(r), Col: uint8(c), Digit: 3}) {
		t.Fatalf("sent %#v", got)
	}
	golden.RequireEqualEscape(t, []byte(final.View()), true)
}
