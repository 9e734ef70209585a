package tui

import (
	"context"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/gridlock-game/gridlock/game"
)

// The name screen: a player who arrives without a usable name (over SSH,
// a user name that is taken or not a valid name) types one before the
// game starts.

// ErrLeft is AskName's error when the player left the screen (esc or
// ctrl+c) instead of giving a name.
var ErrLeft = errors.New("the player left")

// AskOptions configure AskName.
type AskOptions struct {
	Why      string    // what was wrong with the name before, shown above the input
	Name     string    // the input's first text
	Watch    bool      // the name is a spectator's: enter watches
	NoColor  bool      // NO_COLOR set
	Terminal *Terminal // nil: this process's terminal
}

// AskName asks for a player name on a screen of its own and returns it,
// trimmed and valid by the game's rules (game.NormalizeName). It returns
// ErrLeft if the player leaves instead, and ctx's error if ctx ends first.
func AskName(ctx context.Context, o AskOptions) (string, error) {
	r, dark := renderer(o.Terminal, &o.NoColor)
	m := newAskModel(newCommon(Options{NoColor: o.NoColor}, r, dark), o)
	if err := runOn(ctx, m, o.Terminal); err != nil {
		return "", err
	}
	if m.name == "" {
		return "", ErrLeft
	}
	return m.name, nil
}

// askModel is the name screen.
type askModel struct {
	common
	why   string // the reason the screen is shown, or what is wrong with the input
	input textinput.Model
	name  string // the name given (set when done)
	verb  string // what enter does: "play" or "watch"
}

func newAskModel(cm common, o AskOptions) *askModel {
	th := cm.th
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = game.MaxNameRunes
	ti.Width = game.MaxNameRunes + 1
	ti.Placeholder = "your name"
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.PlaceholderStyle = th.hintStyle
	ti.CompletionStyle = th.hintStyle
	ti.PromptStyle = th.plainStyle
	ti.TextStyle = th.textStyle
	ti.Cursor.Style = th.plainStyle
	ti.Cursor.TextStyle = th.textStyle
	ti.SetValue(strings.TrimSpace(o.Name))
	ti.CursorEnd()
	ti.Focus()
	verb := "play"
	if o.Watch {
		verb = "watch"
	}
	return &askModel{common: cm, why: o.Why, input: ti, verb: verb}
}

func (m *askModel) Init() tea.Cmd { return nil }

func (m *askModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyMsg:
		switch msg.Type {
		case tea.KeyEsc, tea.KeyCtrlC, tea.KeyCtrlD:
			return m, tea.Quit
		case tea.KeyEnter:
			name, ok := game.NormalizeName(m.input.Value())
			if !ok {
				m.why = "a name is 1 to 24 letters, digits, spaces or signs"
				return m, nil
			}
			m.name = name
			return m, tea.Quit
		}
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

// View draws a box in the middle of the screen:
//
//	╭ gridlock ──────────────────────────╮
//	│ the name "alice" is taken          │
//	│                                    │
//	│ your name  alice▌                  │
//	│                                    │
//	│ enter play · esc leave             │
//	╰────────────────────────────────────╯
func (m *askModel) View() string {
	W, H := m.width, m.height
	if W <= 0 || H <= 0 {
		return ""
	}
	th := m.th
	// The box is inner+4 wide: it stays within the screen.
	inner := max(min(max(40, width(m.why)+2), W-4), 1)
	var rows []string
	rowWith := func(fill func(l *line)) {
		var l line
		l.add(th.border, "│ ")
		fill(&l)
		l.pad(2 + inner)
		l.add(th.border, " │")
		rows = append(rows, l.String())
	}
	row := func(ss ...seg) { rowWith(func(l *line) { l.segs(ss, 2+inner) }) }
	top := line{}
	top.add(th.border, "╭ ")
	top.add(th.app, "gridlock")
	top.add(th.border, " "+repeat("─", max(inner-len("gridlock"), 0))+"╮")
	rows = append(rows, top.String())
	if m.why != "" {
		for _, l := range wrap(m.why, inner-2, inner-2) {
			row(seg{th.err, l})
		}
		row()
	}
	rowWith(func(l *line) {
		l.add(th.bold, "your name  ")
		// The input comes styled: its width is what the terminal shows.
		in := m.input.View()
		l.addW(paint{}, in, ansi.StringWidth(in))
	})
	row()
	row(seg{th.key, "enter"}, seg{th.dim, " " + m.verb + " · "}, seg{th.key, "esc"}, seg{th.dim, " leave"})
	rows = append(rows, th.border.r("╰"+repeat("─", inner+2)+"╯"))

	boxW := inner + 4
	left := max((W-boxW)/2, 0)
	first := max((H-len(rows))/2, 0)
	var b strings.Builder
	for y := 0; y < H; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		if k := y - first; k >= 0 && k < len(rows) {
			b.WriteString(spaces(left))
			b.WriteString(fit(rows[k], W-left))
			continue
		}
		b.WriteString(spaces(W))
	}
	return b.String()
}
