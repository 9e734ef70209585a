package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/wire"
)

// The presenter panel of `gridlock demo`: a section of the sidebar that
// tells the story of the failovers the presenter causes (each one's times,
// a chart of them all), the bots' count of acknowledged and lost moves,
// the nodes that are down, hung or cut off, and the presenter's keys,
// which work while the board has the focus (capitals the board does not
// use).

// Presenter is the demo behind the panel (Options.Presenter).
type Presenter interface {
	Changed() <-chan struct{} // receives (coalesced) when Panel may have changed
	Panel() Panel             // what the panel shows now
	// Act does what a presenter key says and returns what it did (or why
	// it did nothing), for the event log.
	Act(a Action) string
}

// Action is what a presenter key asks for.
type Action uint8

const (
	ActKill    Action = iota + 1 // kill -9 the primary
	ActPause                     // SIGSTOP the primary, or resume the paused
	ActCut                       // cut the primary off its peers, or heal
	ActRestart                   // start the dead nodes again
	ActAdd                       // add a node
)

// Panel is what the presenter panel shows.
type Panel struct {
	Primary   wire.NodeID // the node that leads now (0: none)
	Majority  int         // voters a primary needs (0: not known)
	Nodes     []PanelNode
	Failovers []PanelFailover // oldest first; the last may be under way
	Bots      int             // bots playing (0: no move is waited for)
	Acked     int             // commands the bots had acknowledged
	Lost      int             // acknowledged moves found missing
	BotsErr   string          // why the bots stopped, if they did
}

// PanelNode is one of the demo's nodes.
type PanelNode struct {
	ID        wire.NodeID
	PID       int
	Alive     bool
	Paused    bool
	Cut       bool
	RestartAt time.Time // dead: when it comes back (zero: when R is pressed)
}

// PanelFailover is one failover: the fault, then the times from it to
// the old primary's suspicion, the new primary, and the first move the
// new primary acknowledged (0: not yet).
type PanelFailover struct {
	Cause                     string // kill, pause or cut
	From, To                  wire.NodeID
	At                        time.Time
	Suspected, Elected, Moved time.Duration
	Over                      bool // measured, or cut short by the next fault
}

// total is how long the failover took, or has taken so far (running).
func (f PanelFailover) total(now time.Time) (d time.Duration, running bool) {
	switch {
	case f.Moved > 0:
		return f.Moved, false
	case f.Over && f.Elected > 0:
		return f.Elected, false
	case f.Over:
		return 0, false
	}
	return now.Sub(f.At), true
}

type presenterKeys struct {
	Kill, Pause, Cut, Restart, Add key.Binding
}

func newPresenterKeys() presenterKeys {
	return presenterKeys{
		Kill:    key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill -9 the primary")),
		Pause:   key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "pause the primary (SIGSTOP); again: resume")),
		Cut:     key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "cut the primary off its peers; again: heal")),
		Restart: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restart the dead nodes from their data")),
		Add:     key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "add a node")),
	}
}

func (k presenterKeys) all() []key.Binding {
	return []key.Binding{k.Kill, k.Pause, k.Cut, k.Restart, k.Add}
}

// presenterModel is the panel's state in the Model.
type presenterModel struct {
	panel Panel
	pkeys presenterKeys
}

// presenterMsg: the demo changed.
type presenterMsg struct{}

func (m *Model) presenter() Presenter { return m.o.Presenter }

// waitPresenter returns when the demo changed (or the app is done).
func (m *Model) waitPresenter() tea.Cmd {
	p := m.presenter()
	if p == nil {
		return nil
	}
	ch, done := p.Changed(), m.done
	return func() tea.Msg {
		select {
		case <-ch:
			return presenterMsg{}
		case <-done:
			return nil
		}
	}
}

func (m *Model) onPresenter() tea.Cmd {
	m.panel = m.presenter().Panel()
	return m.waitPresenter()
}

// presenterKey acts on a presenter key, if msg is one.
func (m *Model) presenterKey(msg tea.KeyMsg) bool {
	p := m.presenter()
	if p == nil {
		return false
	}
	k := m.pkeys
	var a Action
	switch {
	case key.Matches(msg, k.Kill):
		a = ActKill
	case key.Matches(msg, k.Pause):
		a = ActPause
	case key.Matches(msg, k.Cut):
		a = ActCut
	case key.Matches(msg, k.Restart):
		a = ActRestart
	case key.Matches(msg, k.Add):
		a = ActAdd
	default:
		return false
	}
	m.logAdd(m.now(), logWarn, p.Act(a))
	m.panel = p.Panel()
	return true
}

// presenterNext is when the panel changes with time: tenths of seconds
// while a failover is under way or a dead node is about to come back.
func (m *Model) presenterNext() time.Duration {
	if m.presenter() == nil {
		return 0
	}
	now := m.now()
	if n := len(m.panel.Failovers); n > 0 && !m.panel.Failovers[n-1].Over {
		return 100 * time.Millisecond
	}
	for _, nd := range m.panel.Nodes {
		if !nd.Alive && nd.RestartAt.After(now) {
			return 100 * time.Millisecond
		}
	}
	return 0
}

// presenterHelp adds the presenter keys to the help.
func (m *Model) presenterHelp(put func(string)) {
	if m.presenter() == nil {
		return
	}
	th := m.th
	put("")
	put(" " + th.titleOn.r("presenter") + th.dim.r("  (keys of the board)"))
	for _, b := range m.pkeys.all() {
		put("  " + th.key.r(b.Help().Key) + "  " + th.text.r(b.Help().Desc))
	}
}

// presenterLines is the panel, its title first, in at most max lines of
// width w (nil: no presenter). What does not fit goes in this order: the
// older failovers' bars, the phases of the last one, the nodes' lines.
func (m *Model) presenterLines(w, maxLines int) []string {
	if m.presenter() == nil || maxLines < 4 {
		return nil
	}
	th := m.th
	pn := m.panel
	now := m.now()
	u := w - 2
	row := func(ss ...seg) string {
		var l line
		l.addW(paint{}, " ", 1)
		l.segs(ss, w-1)
		l.pad(w)
		return l.String()
	}
	title := []seg{{th.title, "presenter"}}
	if n := len(pn.Failovers); n > 0 {
		title = append(title, seg{th.dim, " · " + plural(n, "failover", "failovers")})
	}
	var b strings.Builder
	m.titled(&b, w, title, th.border)

	var head, phases, bars, nodes []string
	if n := len(pn.Failovers); n == 0 {
		head = []string{row(seg{th.hint, "no failover yet: press K"})}
	} else {
		f := pn.Failovers[n-1]
		head = []string{row(m.failoverHead(f, now)...)}
		phases = m.phaseLines(f, u, row)
		bars = m.barLines(pn.Failovers, u, now, row)
	}
	up := 0
	for _, nd := range pn.Nodes {
		if s := m.nodeNote(nd, now, u); s != nil {
			nodes = append(nodes, row(s...))
		} else {
			up++
		}
	}
	if pn.Primary == 0 && pn.Majority > 0 && up < pn.Majority {
		// Why nobody leads: too few nodes to make a majority.
		nodes = append([]string{row(seg{th.warn, "no primary"}, seg{th.dim, fmt.Sprintf(": %d up, %d needed", up, pn.Majority)})}, nodes...)
	}
	bots := []string{row(m.botSegs(u)...)}
	k := m.pkeys
	keys := []string{
		row(m.keySegs([]key.Binding{k.Kill, k.Pause, k.Cut}, []string{"kill", "pause", "cut"})...),
		row(m.keySegs([]key.Binding{k.Restart, k.Add}, []string{"restart", "add node"})...),
	}
	if u < 24 {
		keys = []string{row(seg{th.key, "K P X R A"}, seg{th.dim, " · ? keys"})}
	}
	room := maxLines - 1 - len(head) - len(bots) - len(keys)
	if room < 0 {
		return nil
	}
	// The chart keeps the newest bar at least, then the phases come, then
	// the nodes, then the older bars.
	take := func(ls []string, n int) []string {
		n = max(min(n, len(ls)), 0)
		room -= n
		return ls[len(ls)-n:]
	}
	bars1 := take(bars, 1)
	phases = take(phases, room)
	if room < len(nodes) {
		nodes = nodes[:max(room, 0)]
	}
	room -= len(nodes)
	if len(bars) > 1 && room > 0 {
		bars1 = take(bars, 1+min(room, 7))
	}
	out := []string{b.String()}
	out = append(out, head...)
	out = append(out, phases...)
	out = append(out, bars1...)
	out = append(out, nodes...)
	out = append(out, bots...)
	return append(out, keys...)
}

// keySegs is a row of keys, each with a word of what it does.
func (m *Model) keySegs(bs []key.Binding, words []string) []seg {
	var ss []seg
	for i, b := range bs {
		if i > 0 {
			ss = append(ss, seg{paint{}, "  "})
		}
		ss = append(ss, seg{m.th.key, b.Help().Key}, seg{m.th.text, " " + words[i]})
	}
	return ss
}

// causeText is what happened to the primary, as the panel says it.
func causeText(cause string) string {
	switch cause {
	case "kill":
		return "killed"
	case "pause":
		return "paused"
	case "cut":
		return "cut off"
	}
	return cause
}

func (m *Model) failoverHead(f PanelFailover, now time.Time) []seg {
	th := m.th
	ss := []seg{{th.bold, f.From.String()}, {th.text, " " + causeText(f.Cause)}}
	d, running := f.total(now)
	switch {
	case running && f.Elected == 0:
		return append(ss, seg{th.dim, " · "}, seg{th.warn, "electing " + fmtTenths(d)})
	case running:
		return append(ss, seg{th.dim, " → "}, seg{th.gold, f.To.String()}, seg{th.dim, " · "}, seg{th.warn, "moving " + fmtTenths(d)})
	case f.To == 0:
		return append(ss, seg{th.dim, " · cut short"})
	}
	return append(ss, seg{th.dim, " → "}, seg{th.gold, f.To.String()}, seg{th.dim, " in "}, seg{th.ok, fmtMs(d)})
}

// phaseLines: the last failover's steps, each with its time from the fault.
func (m *Model) phaseLines(f PanelFailover, u int, row func(...seg) string) []string {
	th := m.th
	step := func(name string, d time.Duration) string {
		v, p := "…", th.dim
		if d > 0 {
			v, p = fmtMs(d), th.ok
		} else if f.Over {
			v = "—"
		}
		pad := max(u-2-width(name)-width(v), 1)
		return row(seg{th.text, "  " + name}, seg{paint{}, spaces(pad)}, seg{p, v})
	}
	primary := "new primary"
	if f.To != 0 {
		primary = fmt.Sprintf("n%d primary", f.To)
	}
	out := []string{step("suspected", f.Suspected), step(primary, f.Elected)}
	if m.panel.Bots > 0 {
		out = append(out, step("first move", f.Moved))
	}
	return out
}

// barLines: a bar for each failover, as long as its time against the
// longest's, oldest first.
func (m *Model) barLines(fs []PanelFailover, u int, now time.Time, row func(...seg) string) []string {
	th := m.th
	longest := 10 * time.Millisecond
	for _, f := range fs {
		d, _ := f.total(now)
		longest = max(longest, d)
	}
	numW := len(fmt.Sprint(len(fs)))
	const causeW, timeW = 5, 6
	barW := u - numW - 1 - causeW - 1 - 1 - timeW
	if barW < 3 {
		return nil
	}
	out := make([]string, 0, len(fs))
	for i, f := range fs {
		d, running := f.total(now)
		p := th.ok
		switch f.Cause {
		case "kill":
			p = th.err
		case "pause":
			p = th.warn
		case "cut":
			p = th.info
		}
		t, tp := fmtMs(d), th.text
		if running {
			t, tp = fmtTenths(d), th.dim
		} else if d == 0 {
			t, tp = "—", th.dim
		}
		bar := barOf(float64(d)/float64(longest), barW)
		out = append(out, row(
			seg{th.dim, fmt.Sprintf("%*d ", numW, i+1)},
			seg{th.text, fmt.Sprintf("%-*s ", causeW, f.Cause)},
			seg{p, bar}, seg{paint{}, spaces(barW - width(bar) + 1)},
			seg{tp, fmt.Sprintf("%*s", timeW, t)},
		))
	}
	return out
}

// barOf draws a share of w columns in eighths; anything above nothing
// shows.
func barOf(share float64, w int) string {
	eighths := int(share*float64(w*8) + 0.5)
	if share > 0 && eighths == 0 {
		eighths = 1
	}
	eighths = min(eighths, w*8)
	part := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + part[eighths%8]
}

// nodeNote is a line for a node that is not simply running (nil: none),
// in u columns if it can.
func (m *Model) nodeNote(nd PanelNode, now time.Time, u int) []seg {
	th := m.th
	id := seg{th.bold, fmt.Sprintf("n%d ", nd.ID)}
	var ss []seg
	switch {
	case !nd.Alive && nd.RestartAt.After(now):
		return []seg{id, {th.err, "dead"}, {th.dim, " · back in " + fmtTenths(nd.RestartAt.Sub(now))}}
	case !nd.Alive:
		return []seg{id, {th.err, "dead"}, {th.dim, " · R restarts it"}}
	case nd.Paused:
		ss = []seg{id, {th.warn, "paused"}, {th.dim, fmt.Sprintf(" · pid %d", nd.PID)}, {th.dim, " · P resumes"}}
	case nd.Cut:
		ss = []seg{id, {th.info, "cut off"}, {th.dim, fmt.Sprintf(" · pid %d", nd.PID)}, {th.dim, " · X heals"}}
	default:
		return nil
	}
	if segsWidth(ss) > u {
		ss = append(ss[:2], ss[3]) // the pid goes first
	}
	return ss
}

// botSegs is the bots' count, in u columns if it can.
func (m *Model) botSegs(u int) []seg {
	th := m.th
	pn := m.panel
	if pn.Bots == 0 {
		return []seg{{th.dim, "no bots"}}
	}
	lost := seg{th.ok, "0 lost"}
	if pn.Lost > 0 {
		lost = seg{th.err, fmt.Sprintf("%d LOST", pn.Lost)}
	}
	ss := []seg{{th.text, "bots "}, {th.bold, fmt.Sprint(pn.Acked)}, {th.text, " acked"}, {th.dim, " · "}, lost}
	if segsWidth(ss) > u {
		ss = ss[1:]
	}
	if pn.BotsErr != "" {
		ss = append(ss, seg{th.dim, " · "}, seg{th.err, pn.BotsErr})
	}
	return ss
}

// fmtMs is a failover's time: tenths of a millisecond below 10 ms.
func fmtMs(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// fmtTenths is a time that runs on screen, in tenths of a second.
func fmtTenths(d time.Duration) string {
	return fmt.Sprintf("%.1fs", max(d, 0).Seconds())
}
