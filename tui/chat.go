package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/game"
)

const (
	maxLocal   = 100 // local chat lines kept
	maxHistory = 50  // chat input history
)

// chatModel is the chat pane's own state: the line being typed and those
// sent before, the completion hint, the lines only this app shows, and how
// far the pane is scrolled back.
type chatModel struct {
	input   textinput.Model
	history []string
	histPos int
	hint    string
	locals  []localLine
	scroll  int
	// scrollAt is the newest chat line when the pane was scrolled back:
	// lines said since stay below the view, which then holds still.
	scrollAt uint64
}

func newChatModel(th *theme) chatModel {
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = game.MaxChatRunes
	ti.Placeholder = "say something, or /help"
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.PlaceholderStyle = th.hintStyle
	ti.CompletionStyle = th.hintStyle
	ti.PromptStyle = th.plainStyle
	ti.TextStyle = th.textStyle
	ti.Cursor.Style = th.plainStyle
	ti.Cursor.TextStyle = th.textStyle
	return chatModel{input: ti}
}

type lineKind uint8

const (
	lineInfo lineKind = iota
	lineError
)

// localLine is a line of the chat pane that only this app shows (errors,
// answers to /who and /whereami). It follows chat line `after` of its room.
type localLine struct {
	room  string
	after uint64
	kind  lineKind
	text  string
}

// addLocal adds a line to the chat pane of the current room.
func (m *Model) addLocal(k lineKind, text string) {
	l := localLine{kind: k, text: text}
	if m.room != nil {
		l.room = m.room.Name
		if n := len(m.room.Chat); n > 0 {
			l.after = m.room.Chat[n-1].N
		}
	}
	m.locals = append(m.locals, l)
	if len(m.locals) > maxLocal {
		m.locals = append(m.locals[:0], m.locals[len(m.locals)-maxLocal:]...)
	}
	m.scroll = 0
}

// homeLocals gives the lines said before the app had a room (a warning
// heard while the node started) to room r, after its chat so far: the
// pane shows only a room's own lines, and they would never be seen.
func (m *Model) homeLocals(r *game.RoomView) {
	var after uint64
	if n := len(r.Chat); n > 0 {
		after = r.Chat[n-1].N
	}
	for i := range m.locals {
		if m.locals[i].room == "" {
			m.locals[i].room, m.locals[i].after = r.Name, after
		}
	}
}

func (m *Model) chatKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		return m.setFocus(focusBoard)
	case "tab":
		if m.complete() {
			return nil
		}
		return m.setFocus(focusBoard)
	case "enter":
		m.hint = ""
		m.submit()
		return nil
	case "up":
		m.recall(-1)
		return nil
	case "down":
		m.recall(1)
		return nil
	case "pgup":
		m.scrollBy(max(m.lay.chatN-1, 1))
		return nil
	case "pgdown":
		m.scrollBy(-max(m.lay.chatN-1, 1))
		return nil
	}
	m.hint = ""
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// scrollBy scrolls the chat pane back by d lines (forward if negative).
// Scrolled back, the pane holds the lines it shows while others are said.
func (m *Model) scrollBy(d int) {
	if m.scroll == 0 && d > 0 && m.room != nil {
		if n := len(m.room.Chat); n > 0 {
			m.scrollAt = m.room.Chat[n-1].N
		}
	}
	m.scroll = max(m.scroll+d, 0)
}

// recall steps through the lines sent before.
func (c *chatModel) recall(d int) {
	if len(c.history) == 0 {
		return
	}
	c.histPos = max(min(c.histPos+d, len(c.history)), 0)
	if c.histPos == len(c.history) {
		c.input.SetValue("")
	} else {
		c.input.SetValue(c.history[c.histPos])
	}
	c.input.CursorEnd()
}

func (m *Model) submit() {
	text := strings.TrimSpace(m.input.Value())
	m.input.Reset()
	if text == "" {
		return
	}
	if len(m.history) == 0 || m.history[len(m.history)-1] != text {
		m.history = append(m.history, text)
		if len(m.history) > maxHistory {
			m.history = m.history[1:]
		}
	}
	m.histPos = len(m.history)
	m.scroll = 0
	if strings.HasPrefix(text, "/") {
		m.command(text)
		return
	}
	line, ok := game.NormalizeChat(text)
	if !ok {
		m.addLocal(lineError, game.ChatTrouble(text))
		return
	}
	m.send(game.Chat{Text: line}, 0, 0)
}

func (m *Model) chatSep() string {
	th := m.th
	tp, bp := th.title, th.border
	if m.focus == focusChat && m.overlay == ovNone {
		tp, bp = th.titleOn, th.borderFocus
	}
	name := "chat"
	if m.room != nil {
		name += " #" + m.room.Name
	}
	ss := []seg{{tp, name}}
	if m.scroll > 0 {
		ss = append(ss, seg{th.dim, " · ↑ earlier lines (pgdn)"})
	}
	var b strings.Builder
	m.titled(&b, m.lay.leftW, ss, bp)
	return b.String()
}

// chatItem is a line of the chat pane before wrapping.
type chatItem struct {
	kind lineKind
	sys  bool
	user bool
	from string
	text string
}

// chatLines draws the last n lines of the chat pane (minus the scroll).
func (m *Model) chatLines(w, n int) []string {
	th := m.th
	if n <= 0 {
		return nil
	}
	tw := w - 2 // one column of margin on each side
	var chat []game.ChatLine
	room := ""
	if m.room != nil {
		chat, room = m.room.Chat, m.room.Name
	}
	hint := m.hint != "" && m.focus == focusChat
	want := n + m.scroll
	if hint {
		want--
	}
	var rev []string // visual lines, newest first
	li, ci := len(m.locals)-1, len(chat)-1
	for m.scroll > 0 && ci >= 0 && chat[ci].N > m.scrollAt {
		ci-- // said since the pane was scrolled back
	}
	for len(rev) < want && (li >= 0 || ci >= 0) {
		if li >= 0 && m.locals[li].room != room {
			li--
			continue
		}
		var it chatItem
		if li >= 0 && (ci < 0 || m.locals[li].after >= chat[ci].N) {
			it = chatItem{kind: m.locals[li].kind, text: m.locals[li].text}
			li--
		} else {
			c := chat[ci]
			it = chatItem{user: c.From != "", sys: c.From == "", from: c.From, text: c.Text}
			ci--
		}
		ls := m.chatItemLines(it, tw)
		for i := len(ls) - 1; i >= 0; i-- {
			rev = append(rev, " "+ls[i])
		}
	}
	// the scroll cannot go past the oldest line
	if m.scroll > 0 && len(rev) < want {
		m.scroll = max(len(rev)-(want-m.scroll), 0)
	}
	out := make([]string, n)
	blank := spaces(w)
	for i := range out {
		out[i] = blank
	}
	if len(rev) == 0 && !hint {
		if room != "" {
			out[n-1] = fit(" "+th.hint.r("no messages yet: tab to chat"), w)
		}
		return out
	}
	top := n
	if hint {
		top = n - 1
		out[n-1] = fit(" "+th.hint.r(truncate(m.hint, tw)), w)
	}
	skip := m.scroll
	for i := top - 1; i >= 0; i-- {
		j := top - 1 - i + skip
		if j >= len(rev) {
			break
		}
		out[i] = fit(rev[j], w)
	}
	return out
}

func (m *Model) chatItemLines(it chatItem, w int) []string {
	th := m.th
	switch {
	case it.user:
		prefix := it.from + ": "
		ls := wrap(prefix+it.text, w, w-2)
		out := make([]string, len(ls))
		for i, s := range ls {
			if i == 0 && strings.HasPrefix(s, prefix) {
				out[i] = th.player(it.from, true).r(it.from) + th.dim.r(":") + th.text.r(s[len(it.from)+1:])
				continue
			}
			if i > 0 {
				s = "  " + s
			}
			out[i] = th.text.r(s)
		}
		return out
	case it.sys:
		return paintLines(th.system, "· ", it.text, w)
	case it.kind == lineError:
		return paintLines(th.err, "✗ ", it.text, w)
	}
	return paintLines(th.info, "› ", it.text, w)
}

func paintLines(p paint, mark, text string, w int) []string {
	ls := wrap(mark+text, w, w-2)
	for i := range ls {
		if i > 0 {
			ls[i] = "  " + ls[i]
		}
		ls[i] = p.r(ls[i])
	}
	return ls
}

func (m *Model) inputLine() string {
	th := m.th
	w := m.lay.leftW
	var l line
	l.addW(paint{}, " ", 1)
	if m.focus == focusChat && m.overlay == ovNone {
		l.addW(th.titleOn, "> ", 2)
		return fit(l.String()+m.input.View(), w)
	}
	l.addW(th.dim, "> ", 2)
	if v := m.input.Value(); v != "" {
		l.addMax(th.dim, v, w-1)
	} else {
		l.addMax(th.hint, "tab to chat · / for commands", w-1)
	}
	l.pad(w)
	return l.String()
}
