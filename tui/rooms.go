package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/game"
)

// roomsEvery is the least time between two silent rooms queries (the
// list that completes /join).
const roomsEvery = 2 * time.Second

// roomsModel is the room list: the last one the cluster sent, the room
// selected in it, and when it was asked for.
type roomsModel struct {
	rooms    []game.RoomSummary
	roomsSel int
	roomsAt  time.Time
}

func closeRooms(o overlay) overlay {
	if o == ovRooms {
		return ovNone
	}
	return o
}

func (m *Model) roomsKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Rooms, k.Quit):
		m.overlay = ovNone // q too: the list is left, not the game
	case key.Matches(msg, k.Up):
		m.roomsSel = max(m.roomsSel-1, 0)
	case key.Matches(msg, k.Down):
		m.roomsSel = max(min(m.roomsSel+1, len(m.rooms)-1), 0)
	case key.Matches(msg, k.Join):
		m.overlay = ovNone
		if m.roomsSel < len(m.rooms) {
			name := m.rooms[m.roomsSel].Name
			if m.room == nil || name != m.room.Name {
				m.send(game.JoinRoom{Name: name}, 0, 0)
			}
		}
		return m.setFocus(focusBoard), true
	default:
		m.overlay = ovNone
		return nil, false
	}
	return nil, true
}

func (m *Model) roomsPane(lines []string) {
	th := m.th
	w := m.lay.leftW
	if len(lines) < 3 {
		return
	}
	var l line
	l.addW(paint{}, " ", 1)
	l.add(th.titleOn, "rooms")
	keys := "↑↓ select · enter join · esc/q close"
	l.pad(w - 1 - width(keys))
	l.addMax(th.dim, keys, w)
	lines[0] = fit(l.String(), w)
	nameW := 6
	for _, r := range m.rooms {
		nameW = max(nameW, width(r.Name)+1)
	}
	nameW = min(nameW, 16)
	head := fmt.Sprintf("   %-*s %-10s %5s %7s  %s", nameW, "room", "board", "round", "filled", "players")
	lines[1] = fit(th.dim.r(head), w)
	rows := lines[2:]
	if len(m.rooms) == 0 {
		rows[0] = fit("   "+th.hint.r("no rooms yet"), w)
		return
	}
	first := max(m.roomsSel-len(rows)+1, 0)
	for i := range rows {
		k := first + i
		if k >= len(m.rooms) {
			break
		}
		r := m.rooms[k]
		mark := "  "
		if m.room != nil && r.Name == m.room.Name {
			mark = "• "
		}
		board := fmt.Sprintf("%d×%d %s", r.Size, r.Size, r.Difficulty)
		filled := fmt.Sprintf("%d/%d", r.Filled, r.Cells)
		text := fmt.Sprintf(" %s%-*s %-10s %5d %7s  %s", mark, nameW, "#"+truncate(r.Name, nameW-1), board, r.Round, filled, withWatchers(r.Players, r.Watchers))
		text = truncate(text, w)
		if k == m.roomsSel {
			rows[i] = th.selected.r(text + spaces(w-width(text)))
		} else {
			rows[i] = fit(th.text.r(text), w)
		}
	}
}
