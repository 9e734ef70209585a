package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the app knows. Board keys work while the board has the
// focus; chat keys while the chat line has it.
type keyMap struct {
	Up, Down, Left, Right key.Binding
	Place                 key.Binding
	Claim                 key.Binding
	Notes, Erase          key.Binding
	EraseAll              key.Binding
	Chat                  key.Binding
	Slash                 key.Binding
	Rooms                 key.Binding
	Back                  key.Binding
	Help                  key.Binding
	Quit                  key.Binding
	ForceQuit             key.Binding

	Send, Complete, Scroll key.Binding
	Select, Join           key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		Place:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "place")),
		Claim:     key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "claim")),
		Notes:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "notes")),
		Erase:     key.NewBinding(key.WithKeys("backspace", "delete", "x"), key.WithHelp("⌫/x", "clear notes")),
		EraseAll:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "clear all notes")),
		Chat:      key.NewBinding(key.WithKeys("tab", "enter"), key.WithHelp("tab", "chat")),
		Slash:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "command")),
		Rooms:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rooms")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
		Scroll:   key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "scroll")),
		Select:   key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑↓", "select")),
		Join:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "join")),
	}
}

// setSize shows the digits of the board's size in the help.
func (k *keyMap) setSize(n int) {
	if n < 1 || n > 9 {
		n = 9
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = string(rune('1' + i))
	}
	k.Place.SetKeys(keys...)
	k.Place.SetHelp("1-"+string(rune('0'+n)), "place")
}

// boardHelp is the short help while the board has the focus; in notes
// mode the digits note and n leaves it.
func (k keyMap) boardHelp(notes bool) []key.Binding {
	move := key.NewBinding(key.WithKeys("up"), key.WithHelp("←↑↓→", "move"))
	if notes {
		note := key.NewBinding(key.WithKeys("1"), key.WithHelp(k.Place.Help().Key, "note"))
		erase := key.NewBinding(key.WithKeys("backspace"), key.WithHelp("⌫", "clear"))
		done := key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "place"))
		return []key.Binding{move, note, erase, done, k.Chat, k.Help, k.Quit}
	}
	return []key.Binding{move, k.Place, k.Notes, k.Claim, k.Chat, k.Help, k.Quit}
}

// chatHelp is the short help while the chat line has the focus.
func (k keyMap) chatHelp() []key.Binding {
	back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "board"))
	return []key.Binding{k.Send, k.Complete, back, k.Scroll, k.ForceQuit}
}

// roomsHelp is the short help of the room list.
func (k keyMap) roomsHelp() []key.Binding {
	shut := key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "close"))
	return []key.Binding{k.Select, k.Join, shut, k.ForceQuit}
}

// fullHelp is every key, for the help (short words: it fits two columns
// at 80×24).
func (k keyMap) fullHelp() []key.Binding {
	h := func(keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
	}
	return []key.Binding{
		h("←↑↓→", "move (or hjkl)"),
		h("click", "cell / candidate"),
		h(k.Place.Help().Key, "place a digit"),
		h("n", "notes mode"),
		h("⌫ x", "clear cell notes"),
		h("N", "clear all notes"),
		h("space", "claim / release"),
		h("tab", "chat"),
		h("/", "a command"),
		h("r", "rooms"),
		h("esc", "back / board"),
		h("?", "this help"),
		h("q", "quit"),
	}
}

func newHelp(t *theme) help.Model {
	h := help.New()
	h.ShortSeparator = " · "
	h.FullSeparator = "   "
	h.Styles = help.Styles{
		ShortKey: t.keyStyle, ShortDesc: t.descStyle, ShortSeparator: t.sepStyle, Ellipsis: t.sepStyle,
		FullKey: t.keyStyle, FullDesc: t.descStyle, FullSeparator: t.sepStyle,
	}
	return h
}
