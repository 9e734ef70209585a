package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"github.com/gridlock-game/gridlock/game"
)

// Watching: a spectator's app (gridlock watch, connect --watch) draws the
// room, the sidebar and the chat as a player's does, and moves its cursor
// to look, but a move gets a word that it cannot, rather than a command
// the cluster would refuse. It is on no scoreboard; the room list, /who and
// the scores' last line show spectators apart.

// watchingText is what the app says when a spectator tries to move.
const watchingText = "you are watching: spectators cannot move"

// watching reports whether this app's session is a spectator's: as the
// cluster's welcome said, or, before one came, as the app was started.
func (m *Model) watching() bool {
	if m.status.Session != 0 {
		return m.status.Watch
	}
	return m.o.Watch
}

// refuseWatching says so where a move's outcome shows.
func (m *Model) refuseWatching() {
	m.setFlash(m.row, m.col, 0, watchingText, false)
	m.flash.noCell = true
}

// watchers lists the spectators of the room.
func watchers(r *game.RoomView) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, mv := range r.Members {
		if mv.Watching {
			out = append(out, mv.Name)
		}
	}
	return out
}

// watchersLine is the scores' last line: who watches the room.
func (m *Model) watchersLine(w int) (string, bool) {
	ws := watchers(m.room)
	if len(ws) == 0 {
		return "", false
	}
	var l line
	l.addW(paint{}, " ", 1)
	l.add(m.th.dim, "watching: ")
	l.addMax(m.th.text, strings.Join(ws, ", "), w-1)
	l.pad(w)
	return fit(l.String(), w), true
}

// watchHelp is the short help of a spectator's board.
func (k keyMap) watchHelp() []key.Binding {
	look := key.NewBinding(key.WithKeys("up"), key.WithHelp("←↑↓→", "look"))
	return []key.Binding{look, k.Chat, k.Rooms, k.Help, k.Quit}
}

// withWatchers adds a room's spectators to a list of its players.
func withWatchers(players, watchers []string) string {
	s := strings.Join(players, ", ")
	if len(watchers) > 0 {
		if s != "" {
			s += " · "
		}
		s += "watching: " + strings.Join(watchers, ", ")
	}
	return s
}
