package tui

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

// fakePresenter is a demo that records the keys and shows a set panel.
type fakePresenter struct {
	mu      sync.Mutex
	changed chan struct{}
	panel   Panel
	acts    []Action
}

func newFakePresenter(p Panel) *fakePresenter {
	return &fakePresenter{changed: make(chan struct{}, 1), panel: p}
}

func (f *fakePresenter) Changed() <-chan struct{} { return f.changed }

func (f *fakePresenter) Panel() Panel {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.panel
}

func (f *fakePresenter) Act(a Action) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, a)
	if a == ActKill {
		return "kill -9 n3, pid 4242"
	}
	return "done"
}

func (f *fakePresenter) set(p Panel) {
	f.mu.Lock()
	f.panel = p
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakePresenter) actions() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Action(nil), f.acts...)
}

func demoNodes() []PanelNode {
	return []PanelNode{{ID: 1, PID: 4101, Alive: true}, {ID: 2, PID: 4102, Alive: true}, {ID: 3, PID: 4103, Alive: true}}
}

// midFailover is the panel a second after the primary's third fault,
// a kill: n2 leads, n3 is dead and comes back in 1.2 s.
func midFailover(at time.Time) Panel {
	nodes := demoNodes()
	nodes[2] = PanelNode{ID: 3, RestartAt: at.Add(time.Second + 200*time.Millisecond)}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	return Panel{
		Primary: 2, Majority: 2, Nodes: nodes, Bots: 4, Acked: 1204,
		Failovers: []PanelFailover{
			{Cause: "kill", From: 3, To: 2, At: at.Add(-40 * time.Second), Suspected: ms(1.1), Elected: ms(6.3), Moved: ms(9.8), Over: true},
			{Cause: "pause", From: 3, To: 2, At: at.Add(-25 * time.Second), Suspected: ms(463), Elected: ms(468), Moved: ms(611), Over: true},
			{Cause: "cut", From: 3, To: 2, At: at.Add(-12 * time.Second), Suspected: ms(98), Elected: ms(104), Moved: ms(115), Over: true},
			{Cause: "kill", From: 3, To: 2, At: at.Add(-time.Second), Suspected: ms(0.9), Elected: ms(5.2), Moved: ms(12.4), Over: true},
		},
	}
}

// demoScene is the busy room with a presenter panel.
func demoScene(t *testing.T, width, height int, p Panel) (*harness, *fakePresenter) {
	t.Helper()
	fp := newFakePresenter(p)
	h, _ := scene(t, width, height, func(o *Options) { o.Presenter = fp; o.Self = 0 })
	h.send(presenterMsg{})
	return h, fp
}

func TestGoldenDemo(t *testing.T) {
	at := t0.Add(5 * time.Second)
	scenes := []struct {
		name  string
		setup func(t *testing.T, w, h int) *harness
	}{
		{"start", func(t *testing.T, w, h int) *harness {
			hs, _ := demoScene(t, w, h, Panel{Primary: 3, Majority: 2, Nodes: demoNodes(), Bots: 4, Acked: 37})
			return hs
		}},
		{"mid_failover", func(t *testing.T, w, h int) *harness {
			hs, _ := demoScene(t, w, h, midFailover(at))
			lost := client.Status{State: client.Connected, Node: 2, Epoch: wire.MakeEpoch(5, 2), Since: at, Name: "alice", Resumed: true}
			v := cluster(3, 2, 5)
			v.Nodes[0].Alive, v.Nodes[0].Role = false, wire.RoleDown
			hs.deliver(client.StatusChanged{EventInfo: evInfo(at, lost)}, client.ViewChanged{EventInfo: evInfo(at, lost), View: *v})
			hs.key("K") // logs what the demo did
			return hs
		}},
		{"electing", func(t *testing.T, w, h int) *harness {
			p := midFailover(at)
			p.Primary = 0
			p.Nodes[2] = PanelNode{ID: 3, PID: 4103, Alive: true, Paused: true}
			p.Failovers = append(p.Failovers, PanelFailover{Cause: "pause", From: 3, At: at.Add(-300 * time.Millisecond)})
			hs, _ := demoScene(t, w, h, p)
			return hs
		}},
		{"no_majority", func(t *testing.T, w, h int) *harness {
			p := midFailover(at)
			p.Primary = 0
			p.Nodes[1] = PanelNode{ID: 2}
			p.Failovers = append(p.Failovers, PanelFailover{Cause: "kill", From: 2, At: at.Add(-2 * time.Second), Suspected: time.Millisecond})
			hs, _ := demoScene(t, w, h, p)
			return hs
		}},
		{"help", func(t *testing.T, w, h int) *harness {
			hs, _ := demoScene(t, w, h, midFailover(at))
			hs.key("?")
			return hs
		}},
	}
	for _, sc := range scenes {
		for _, sz := range goldenSizes {
			t.Run(sc.name+"_"+sizeName(sz), func(t *testing.T) {
				h := sc.setup(t, sz[0], sz[1])
				golden.RequireEqualEscape(t, []byte(h.m.View()), true)
			})
		}
	}
}

func sizeName(sz [2]int) string {
	return fmt.Sprintf("%dx%d", sz[0], sz[1])
}

// The presenter keys act while the board has the focus, and are text in
// the chat; what the demo did goes to the event log.
func TestPresenterKeys(t *testing.T) {
	h, fp := demoScene(t, 120, 40, midFailover(t0))
	h.key("K", "P", "X", "R", "A")
	want := []Action{ActKill, ActPause, ActCut, ActRestart, ActAdd}
	if got := fp.actions(); !equalActions(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if s := ansi.Strip(h.m.View()); !strings.Contains(s, "kill -9 n3, pid 4242") {
		t.Errorf("the event log does not say what K did:\n%s", s)
	}
	h.key("tab")
	h.typeText("KPXRA")
	if got := fp.actions(); len(got) != len(want) {
		t.Errorf("keys typed in the chat acted: %v", got)
	}
	if v := h.m.input.Value(); v != "KPXRA" {
		t.Errorf("the chat line holds %q, want KPXRA", v)
	}
	// Without a presenter, the keys do nothing of the kind.
	plain, _ := scene(t, 120, 40)
	plain.key("K", "X")
	if s := ansi.Strip(plain.m.View()); strings.Contains(s, "presenter") {
		t.Errorf("an app without a presenter shows the panel:\n%s", s)
	}
}

func equalActions(a, b []Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The panel follows the demo, and ticks while a failover is under way.
func TestPresenterFollowsTheDemo(t *testing.T) {
	h, fp := demoScene(t, 120, 40, Panel{Primary: 3, Majority: 2, Nodes: demoNodes(), Bots: 4})
	if s := ansi.Strip(h.m.View()); !strings.Contains(s, "no failover yet") {
		t.Fatalf("before any fault:\n%s", s)
	}
	p := midFailover(h.clk.t)
	p.Failovers = append(p.Failovers, PanelFailover{Cause: "kill", From: 3, At: h.clk.t})
	fp.set(p)
	if cmd := h.send(presenterMsg{}); cmd == nil {
		t.Fatal("no command after a change: the panel would stop listening")
	}
	if h.m.tickAt.IsZero() {
		t.Error("no tick while a failover is under way")
	}
	h.clk.add(300 * time.Millisecond)
	h.send(tickMsg{at: h.m.tickAt})
	s := ansi.Strip(h.m.View())
	for _, want := range []string{"presenter · 5 failovers", "n3 killed · electing 0.3s", "bots 1204 acked · 0 lost"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q on screen:\n%s", want, s)
		}
	}
	p.Lost = 2
	fp.set(p)
	h.send(presenterMsg{})
	if s := ansi.Strip(h.m.View()); !strings.Contains(s, "2 LOST") {
		t.Errorf("lost moves do not show:\n%s", s)
	}
}

// Every screen with the panel is exactly the terminal's size, and the
// panel's keys are on it wherever the sidebar has room.
func TestPresenterFitsTheTerminal(t *testing.T) {
	p := midFailover(t0.Add(5 * time.Second))
	p.Nodes[1] = PanelNode{ID: 2, PID: 4102, Alive: true, Cut: true}
	h, _ := demoScene(t, 80, 24, p)
	for _, W := range []int{64, 65, 80, 97, 120, 170} {
		for _, H := range []int{22, 23, 24, 31, 40, 60} {
			h.send(tea.WindowSizeMsg{Width: W, Height: H})
			lines := strings.Split(h.m.View(), "\n")
			if len(lines) != H {
				t.Fatalf("%d×%d: %d lines", W, H, len(lines))
			}
			for i, l := range lines {
				if got := ansi.StringWidth(l); got != W {
					t.Fatalf("%d×%d: line %d is %d wide:\n%s", W, H, i, got, ansi.Strip(strings.Join(lines, "\n")))
				}
			}
			s := ansi.Strip(strings.Join(lines, "\n"))
			if !strings.Contains(s, "0 lost") || !(strings.Contains(s, "K kill") || strings.Contains(s, "K P X R A")) {
				t.Errorf("%d×%d: the bots' count or the keys are missing:\n%s", W, H, s)
			}
		}
	}
}

// TestDemoProgram runs the app with a presenter as a real Bubble Tea
// program: the panel shows, K reaches the demo, and a change of the demo
// is drawn.
func TestDemoProgram(t *testing.T) {
	f := newFake()
	clk := &clock{t: t0.Add(5 * time.Second)}
	fp := newFakePresenter(Panel{Primary: 3, Majority: 2, Nodes: demoNodes(), Bots: 4, Acked: 12})
	tm, _, wait := startProgram(t, f, Options{Name: "presenter", Now: clk.now, Presenter: fp})
	wait("no failover yet")
	tm.Type("K")
	wait("kill -9 n3")
	fp.set(midFailover(clk.t))
	wait("4 failovers")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if got := fp.actions(); !equalActions(got, []Action{ActKill}) {
		t.Errorf("actions %v, want K's alone", got)
	}
	golden.RequireEqualEscape(t, []byte(tm.FinalModel(t).(*Model).View()), true)
}

// No presenter key is a key of the app's own: the board would never see it.
func TestPresenterKeysAreFree(t *testing.T) {
	own := map[string]string{}
	km := reflect.ValueOf(newKeyMap())
	for i := 0; i < km.NumField(); i++ {
		if b, ok := km.Field(i).Interface().(key.Binding); ok {
			for _, k := range b.Keys() {
				own[k] = km.Type().Field(i).Name
			}
		}
	}
	for _, b := range newPresenterKeys().all() {
		for _, k := range b.Keys() {
			if name, ok := own[k]; ok {
				t.Errorf("presenter key %q (%s) is the app's %s key too", k, b.Help().Desc, name)
			}
		}
	}
}
