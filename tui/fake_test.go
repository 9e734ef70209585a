package tui

import (
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// The client library is a Cluster.
var _ Cluster = (*client.Client)(nil)

// fakeCluster is a Cluster that records what the app sends and hands it the
// events a test pushes.
type fakeCluster struct {
	mu      sync.Mutex
	notify  chan struct{}
	events  []client.Event
	seq     uint64
	sent    []sentCmd
	queries []sentQuery
	closed  bool
}

type sentCmd struct {
	seq uint64
	cmd game.Command
}

type sentQuery struct {
	seq  uint64
	kind wire.QueryKind
	room string
}

func newFake() *fakeCluster { return &fakeCluster{notify: make(chan struct{}, 1)} }

func (f *fakeCluster) Notify() <-chan struct{} { return f.notify }

func (f *fakeCluster) Drain() []client.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := f.events
	f.events = nil
	return evs
}

func (f *fakeCluster) Send(cmd game.Command) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.sent = append(f.sent, sentCmd{f.seq, cmd})
	return f.seq
}

func (f *fakeCluster) Query(kind wire.QueryKind, room string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.queries = append(f.queries, sentQuery{f.seq, kind, room})
	return f.seq
}

func (f *fakeCluster) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
}

// push queues events and signals Notify.
func (f *fakeCluster) push(evs ...client.Event) {
	f.mu.Lock()
	f.events = append(f.events, evs...)
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

func (f *fakeCluster) lastSent(t *testing.T) sentCmd {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return f.sent[len(f.sent)-1]
}

func (f *fakeCluster) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func (f *fakeCluster) lastQuery(t *testing.T) sentQuery {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		t.Fatal("no query was sent")
	}
	return f.queries[len(f.queries)-1]
}

// t0 is the tests' wall clock: 12:00:00 UTC.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

// world is a real game state that tests play on, to get real RoomViews.
type world struct {
	t    testing.TB
	s    *game.State
	now  int64
	sid  map[string]game.SessionID
	seq  map[string]uint64
	last []game.Event
}

func newWorld(t testing.TB) *world {
	w := &world{t: t, s: game.New(game.DefaultRules()), now: t0.UnixNano(), sid: map[string]game.SessionID{}, seq: map[string]uint64{}}
	w.sys(game.Genesis{Seed: 7, Rules: game.DefaultRules()})
	return w
}

func (w *world) sys(c game.Command) game.Result {
	res, evs := w.s.Apply(game.Entry{Time: w.now, Cmd: c}, nil)
	w.last = evs
	return res
}

// join opens a session for name.
func (w *world) join(name string) {
	res := w.sys(game.OpenSession{Name: name, Token: "token-" + name + "-0123456789abcdef"})
	if res.Err != nil {
		w.t.Fatalf("open %s: %v", name, res.Err)
	}
	w.sid[name] = res.Session
}

func (w *world) do(name string, c game.Command) game.Result {
	w.seq[name]++
	res, evs := w.s.Apply(game.Entry{Time: w.now, Session: w.sid[name], Seq: w.seq[name], Cmd: c}, nil)
	w.last = evs
	return res
}

// solution of a room's current puzzle.
func (w *world) solution(room string) []uint8 {
	p, ok := w.s.Puzzle(room)
	if !ok {
		w.t.Fatalf("no room %s", room)
	}
	return p.Solution
}

// fill has name place k right digits in empty cells, scanning from cell from.
func (w *world) fill(name, room string, from, k int) {
	sol := w.solution(room)
	v := w.room(room)
	n := int(v.Puzzle.Size)
	for i := from; i < len(v.Board) && k > 0; i++ {
		if v.Board[i].Digit != 0 {
			continue
		}
		if res := w.do(name, game.Place{Row: uint8(i / n), Col: uint8(i % n), Digit: sol[i]}); res.Err == nil {
			k--
			v = w.room(room)
		}
	}
}

// emptyCell is the first empty cell from index from.
func (w *world) emptyCell(room string, from int) (row, col int) {
	v := w.room(room)
	n := int(v.Puzzle.Size)
	for i := from; i < len(v.Board); i++ {
		if v.Board[i].Digit == 0 {
			return i / n, i % n
		}
	}
	w.t.Fatal("no empty cell")
	return 0, 0
}

func (w *world) room(name string) *game.RoomView {
	v, ok := w.s.RoomView(name)
	if !ok {
		w.t.Fatalf("no room %s", name)
	}
	return &v
}

// cluster is a view of n nodes with primary p in epoch term.
func cluster(n int, p wire.NodeID, term uint64) *wire.ClusterView {
	v := &wire.ClusterView{Self: p, Primary: p, Epoch: wire.MakeEpoch(term, p)}
	for i := n; i >= 1; i-- {
		id := wire.NodeID(i)
		role := wire.RoleBackup
		if id == p {
			role = wire.RolePrimary
		}
		v.Nodes = append(v.Nodes, wire.NodeInfo{ID: id, Role: role, Epoch: v.Epoch, Alive: true, InView: true})
	}
	return v
}

func connected(p wire.NodeID, term uint64, since time.Time) client.Status {
	return client.Status{State: client.Connected, Node: p, Epoch: wire.MakeEpoch(term, p), Since: since, Name: "alice", RTT: 200 * time.Microsecond}
}

func roomEvent(v *game.RoomView, st client.Status, at time.Time, evs ...game.Event) client.Event {
	return client.RoomChanged{EventInfo: evInfo(at, st), Room: v, Events: evs, Replaced: len(evs) == 0}
}

// evInfo is what an event carries: when, and the status then.
func evInfo(at time.Time, st client.Status) client.EventInfo {
	return client.EventInfo{Time: at, Status: st}
}

// harness is a model under test with its fake cluster and clock.
type harness struct {
	t   *testing.T
	f   *fakeCluster
	clk *clock
	m   *Model
}

func newHarness(t *testing.T, w, h int) *harness {
	t.Helper()
	f := newFake()
	clk := &clock{t: t0}
	m := New(f, Options{Name: "alice", Self: 2, Now: clk.now})
	hs := &harness{t: t, f: f, clk: clk, m: m}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// send hands msg to Update and returns the command it gave.
func (h *harness) send(msg tea.Msg) tea.Cmd {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	return cmd
}

// deliver pushes events and lets the model drain them.
func (h *harness) deliver(evs ...client.Event) {
	h.t.Helper()
	h.f.push(evs...)
	h.send(clusterMsg{})
}

func (h *harness) key(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "space", " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}
