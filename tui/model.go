package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// recoveredFor is how long the status line says "failover took …" (and
// "resumed").
const recoveredFor = 10 * time.Second

type focus uint8

const (
	focusBoard focus = iota
	focusChat
)

type overlay uint8

const (
	ovNone overlay = iota
	ovHelp
	ovRooms
)

// Messages of the app's own commands.
type (
	clusterMsg       struct{}               // events are waiting
	clusterClosedMsg struct{}               // Notify was closed
	tickMsg          struct{ at time.Time } // time passed
)

// sent is a command waiting for its Ack.
type sent struct {
	cmd      game.Command
	row, col int
}

// query is what a Query was for.
type query struct {
	kind wire.QueryKind
	show bool   // the player asked (else: completion refresh)
	room string // QueryWho: the room asked about
}

// Model is the app: a tea.Model. What the cluster said (room, view, status)
// is the model's own and changes only in apply.go; each part of the screen
// keeps its state in a struct of its own, embedded here.
type Model struct {
	common
	c    Cluster
	o    Options
	done <-chan struct{}

	room   *game.RoomView
	view   *wire.ClusterView
	status client.Status
	fatal  error
	closed bool

	// the failover under way, or the last one, for the status line
	failSince time.Time
	recovered time.Time
	failTook  time.Duration
	handover  bool        // the last failover was a handover: no primary was lost
	failFrom  wire.NodeID // the primary when it began
	same      bool        // it ended on that primary: nothing failed or moved
	resumedAt time.Time   // when the session was last resumed (shown as long as "failover took")

	throttledAt time.Time // when the chat last said the cluster throttles us

	focus   focus
	overlay overlay

	pending map[uint64]sent
	queries map[uint64]query

	boardModel
	notesModel
	resultsModel
	chatModel
	roomsModel
	eventLog
	presenterModel

	tickAt time.Time // when the tick under way is due (zero: none)
	cache  viewCache
}

func newModel(c Cluster, o Options, r *lipgloss.Renderer, dark bool) *Model {
	cm := newCommon(o, r, dark)
	m := &Model{
		common:     cm,
		c:          c,
		o:          o,
		pending:    map[uint64]sent{},
		queries:    map[uint64]query{},
		boardModel: boardModel{placing: map[int]uint8{}},
		chatModel:  newChatModel(cm.th),
		eventLog:   eventLog{logSeen: map[string]bool{}},
	}
	m.pkeys = newPresenterKeys()
	return m
}

// Init starts listening to the cluster.
func (m *Model) Init() tea.Cmd {
	cmd := func() tea.Msg { return clusterMsg{} }
	if m.presenter() != nil {
		return tea.Batch(cmd, func() tea.Msg { return presenterMsg{} })
	}
	return cmd
}

// wait returns when the cluster has events (or the app is done).
func (m *Model) wait() tea.Cmd {
	ch, done := m.c.Notify(), m.done
	return func() tea.Msg {
		select {
		case _, ok := <-ch:
			if !ok {
				return clusterClosedMsg{}
			}
			return clusterMsg{}
		case <-done:
			return nil
		}
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.relayout()
	case clusterMsg:
		for _, ev := range m.c.Drain() {
			m.apply(ev)
		}
		cmds = append(cmds, m.wait())
	case presenterMsg:
		cmds = append(cmds, m.onPresenter())
	case clusterClosedMsg:
		for _, ev := range m.c.Drain() {
			m.apply(ev)
		}
		m.closed = true
	case tickMsg:
		if msg.at.Equal(m.tickAt) || !m.now().Before(m.tickAt) {
			m.tickAt = time.Time{}
		}
	case tea.KeyMsg:
		cmd, quit := m.onKey(msg)
		if quit {
			return m, tea.Quit
		}
		cmds = append(cmds, cmd)
	case tea.MouseMsg:
		m.onMouse(msg)
	default:
		if m.focus == focusChat {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			cmds = append(cmds, cmd)
		}
	}
	if m.fatal != nil && m.o.QuitOnRefusal {
		return m, tea.Quit
	}
	m.expire()
	m.relayout()
	cmds = append(cmds, m.tick())
	return m, tea.Batch(cmds...)
}

// expire forgets what is no longer shown.
func (m *Model) expire() {
	now := m.now()
	if !m.flash.until.IsZero() && !now.Before(m.flash.until) {
		m.flash = flash{}
	}
	if !m.recovered.IsZero() && now.Sub(m.recovered) >= recoveredFor {
		m.recovered = time.Time{}
	}
	if !m.resumedAt.IsZero() && now.Sub(m.resumedAt) >= recoveredFor {
		m.resumedAt = time.Time{}
	}
}

// tick schedules a tickMsg for the next moment something on screen changes
// with time, and nothing while nothing does: an idle app sleeps.
func (m *Model) tick() tea.Cmd {
	now := m.now()
	var next time.Duration
	soonest := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	// A count of whole seconds left until t changes when the time left
	// passes a whole second.
	secondsLeft := func(t time.Time) {
		if left := t.Sub(now); left > 0 {
			if d := left % time.Second; d > 0 {
				soonest(d)
			} else {
				soonest(time.Second)
			}
		}
	}
	if m.status.State == client.Failover {
		soonest(100 * time.Millisecond) // the seconds since, in tenths
	}
	if !m.flash.until.IsZero() {
		soonest(m.flash.until.Sub(now))
	}
	if !m.recovered.IsZero() {
		soonest(m.recovered.Add(recoveredFor).Sub(now))
	}
	if !m.resumedAt.IsZero() {
		soonest(m.resumedAt.Add(recoveredFor).Sub(now))
	}
	if m.room != nil && m.room.State == game.RoundOver && m.room.NextRoundAt != 0 {
		secondsLeft(time.Unix(0, m.room.NextRoundAt))
	}
	if until, ok := m.myClaimUntil(); ok {
		secondsLeft(until)
	}
	soonest(m.nextClockTick()) // the round's clock in the title
	soonest(m.presenterNext())
	if next == 0 {
		return nil
	}
	at := now.Add(next)
	if m.tickAt.After(now) && !at.Before(m.tickAt) {
		return nil // one is due sooner
	}
	m.tickAt = at
	return tea.Tick(next, func(time.Time) tea.Msg { return tickMsg{at: at} })
}

func (m *Model) me() string {
	if m.status.Name != "" {
		return m.status.Name
	}
	return m.o.Name
}

func (m *Model) isMe(name string) bool {
	return name != "" && game.NameKey(name) == game.NameKey(m.me())
}

func (m *Model) send(cmd game.Command, row, col int) uint64 {
	if len(m.pending) >= 4096 {
		clear(m.pending) // answers that never came
	}
	seq := m.c.Send(cmd)
	m.pending[seq] = sent{cmd: cmd, row: row, col: col}
	return seq
}

func (m *Model) query(kind wire.QueryKind, room string, show bool) {
	seq := m.c.Query(kind, room)
	m.queries[seq] = query{kind: kind, show: show, room: room}
	if kind == wire.QueryRooms {
		m.roomsAt = m.now()
	}
}

func (m *Model) onKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	if m.fatal != nil {
		return nil, true
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed faster than they are read arrive as one message, whose
		// name may be "left", "up" or "enter": take them one at a time.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmd, quit := m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
			cmds = append(cmds, cmd)
			if quit {
				return tea.Batch(cmds...), true
			}
		}
		return tea.Batch(cmds...), false
	}
	if key.Matches(msg, m.keys.ForceQuit) {
		return nil, true
	}
	if m.lay.tooSmall {
		// Nothing of the game is on screen: a key typed blind acts on none of it.
		return nil, key.Matches(msg, m.keys.Quit)
	}
	switch m.overlay {
	case ovHelp:
		m.overlay = ovNone
		if m.focus != focusChat || key.Matches(msg, m.keys.Back) {
			// Over the board the key only closes: a space or a digit typed
			// to close it would claim or place blind.
			return nil, false
		}
	case ovRooms:
		if cmd, done := m.roomsKey(msg); done {
			return cmd, false
		}
	}
	if m.focus == focusChat {
		return m.chatKey(msg), false
	}
	if m.overlay == ovNone && m.presenterKey(msg) {
		return nil, false
	}
	return m.boardKey(msg)
}

func (m *Model) setFocus(f focus) tea.Cmd {
	m.focus = f
	m.hint = ""
	if f == focusChat {
		if m.roomsAt.IsZero() || m.now().Sub(m.roomsAt) >= roomsEvery {
			m.query(wire.QueryRooms, "", false)
		}
		return m.input.Focus()
	}
	m.input.Blur()
	return nil
}

func (m *Model) onMouse(msg tea.MouseMsg) {
	if m.fatal != nil || m.lay.tooSmall {
		return
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.scrollBy(1)
		return
	case tea.MouseButtonWheelDown:
		m.scrollBy(-1)
		return
	}
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft {
		return
	}
	if m.overlay != ovNone {
		m.overlay = ovNone
	}
	if m.clickNote(msg) {
		return
	}
	if r, c, ok := m.lay.cellAt(msg.X, msg.Y); ok && m.size() > 0 {
		m.row, m.col = r, c
		if m.focus != focusBoard {
			m.setFocus(focusBoard)
		}
		return
	}
	if m.lay.inInput(msg.X, msg.Y) && m.focus != focusChat {
		m.setFocus(focusChat)
	}
}
