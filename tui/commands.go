package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// slashCommand is one of the chat line's commands.
type slashCommand struct {
	name  string
	args  string // usage of the arguments
	about string
}

var slashCommands = []slashCommand{
	{"create", "NAME [4|6|9] [easy|medium|hard|expert]", "make a room"},
	{"join", "NAME", "go to a room"},
	{"leave", "", "back to #main"},
	{"rooms", "", "list the rooms"},
	{"who", "[ROOM]", "who is in a room"},
	{"whereami", "", "where you are"},
	{"help", "", "this help"},
}

var difficulties = []string{"easy", "medium", "hard", "expert"}

func usage(name string) string {
	for _, c := range slashCommands {
		if c.name == name {
			return strings.TrimSpace("usage: /" + c.name + " " + c.args)
		}
	}
	return ""
}

// command runs a slash command typed in the chat line.
func (m *Model) command(text string) {
	fields := strings.Fields(text)
	name := strings.ToLower(strings.TrimPrefix(fields[0], "/"))
	args := fields[1:]
	bad := func() { m.addLocal(lineError, usage(name)) }
	switch name {
	case "create":
		if len(args) < 1 || len(args) > 3 {
			bad()
			return
		}
		room, ok := game.NormalizeRoomName(args[0])
		if !ok {
			m.addLocal(lineError, (&game.Error{Code: game.ErrBadRoomName}).Error())
			return
		}
		size, diff := uint8(0), game.Difficulty(0)
		haveDiff := false
		for _, a := range args[1:] {
			switch a {
			case "4", "6", "9":
				if size != 0 {
					bad()
					return
				}
				size = a[0] - '0'
			default:
				d, err := game.ParseDifficulty(a)
				if err != nil {
					m.addLocal(lineError, fmt.Sprintf("%q is neither a size (4, 6, 9) nor a difficulty (easy, medium, hard, expert)", a))
					return
				}
				if haveDiff {
					m.addLocal(lineError, "a room has one difficulty: "+usage(name))
					return
				}
				diff, haveDiff = d, true
			}
		}
		if size == 0 {
			size = 9
		}
		if !haveDiff {
			diff = game.Medium
		}
		m.send(game.CreateRoom{Name: room, Size: size, Difficulty: diff}, 0, 0)
	case "join":
		if len(args) != 1 {
			bad()
			return
		}
		room, ok := game.NormalizeRoomName(strings.TrimPrefix(args[0], "#"))
		if !ok {
			m.addLocal(lineError, (&game.Error{Code: game.ErrBadRoomName}).Error())
			return
		}
		if m.room != nil && m.room.Name == room {
			m.addLocal(lineError, "you are already in #"+room)
			return
		}
		m.send(game.JoinRoom{Name: room}, 0, 0)
	case "leave":
		if len(args) != 0 {
			bad()
			return
		}
		if m.room != nil && m.room.Name == game.MainRoom {
			m.addLocal(lineError, "you are in #main already: /join a room to leave it")
			return
		}
		m.send(game.LeaveRoom{}, 0, 0)
	case "rooms":
		if len(args) != 0 {
			bad()
			return
		}
		m.query(wire.QueryRooms, "", true)
	case "who":
		if len(args) > 1 {
			bad()
			return
		}
		room := ""
		if len(args) == 1 {
			r, ok := game.NormalizeRoomName(strings.TrimPrefix(args[0], "#"))
			if !ok {
				m.addLocal(lineError, (&game.Error{Code: game.ErrBadRoomName}).Error())
				return
			}
			room = r
		}
		m.query(wire.QueryWho, room, true)
	case "whereami":
		if len(args) != 0 {
			bad()
			return
		}
		m.addLocal(lineInfo, m.whereami())
	case "help", "?":
		m.overlay = ovHelp
	default:
		m.addLocal(lineError, fmt.Sprintf("unknown command /%s: try /help", name))
	}
}

func (m *Model) whereami() string {
	var b strings.Builder
	b.WriteString("you are " + m.me())
	if m.room != nil {
		b.WriteString(" in #" + m.room.Name)
	}
	if m.self() != 0 {
		fmt.Fprintf(&b, " on n%d", m.self())
	}
	switch s := m.status; {
	case s.State == client.Connected && s.Node != 0:
		fmt.Fprintf(&b, "; primary n%d, epoch %d (%s)", s.Node, s.Epoch.Term(), s.State)
	case s.State == client.Failover && s.Lost != 0:
		fmt.Fprintf(&b, "; primary n%d lost, electing", s.Lost)
	case s.State != 0:
		fmt.Fprintf(&b, "; %s", s.State)
	}
	if m.status.Addr != "" {
		b.WriteString(" at " + m.status.Addr)
	}
	return b.String()
}

// complete completes the word before the cursor of a slash command: a
// command name, a room name or a difficulty. It reports whether there was a
// partial word to complete; if not, tab leaves the chat line.
func (m *Model) complete() bool {
	v := m.input.Value()
	if !strings.HasPrefix(v, "/") || m.input.Position() != len([]rune(v)) {
		return false
	}
	head, word := "", v
	if i := strings.LastIndexByte(v, ' '); i >= 0 {
		head, word = v[:i+1], v[i+1:]
	}
	fields := strings.Fields(strings.ToLower(head))
	var cands []string
	suffix := ""
	switch {
	case head == "":
		word = word[1:]
		head = "/"
		for _, c := range slashCommands {
			cands = append(cands, c.name)
		}
		suffix = " "
	case len(fields) == 1 && (fields[0] == "/join" || fields[0] == "/who"):
		cands = m.roomNames()
	case len(fields) >= 2 && fields[0] == "/create":
		cands = append(cands, difficulties...)
	default:
		return false
	}
	var match []string
	partial := false
	for _, c := range cands {
		if strings.HasPrefix(c, strings.ToLower(word)) {
			match = append(match, c)
			if c != strings.ToLower(word) {
				partial = true
			}
		}
	}
	if !partial {
		return false
	}
	if len(match) == 1 {
		end := ""
		if suffix != "" && usage(match[0]) != "usage: /"+match[0] {
			end = suffix
		}
		m.input.SetValue(head + match[0] + end)
		m.input.CursorEnd()
		m.hint = ""
		return true
	}
	p := commonPrefix(match)
	if len(p) > len(word) {
		m.input.SetValue(head + p)
		m.input.CursorEnd()
	}
	shown := make([]string, len(match))
	for i, c := range match {
		if head == "/" {
			c = "/" + c
		}
		shown[i] = c
	}
	m.hint = strings.Join(shown, "  ")
	return true
}

// roomNames are the rooms known from the last room list, and this one.
func (m *Model) roomNames() []string {
	names := []string{game.MainRoom}
	for _, r := range m.rooms {
		names = append(names, r.Name)
	}
	if m.room != nil {
		names = append(names, m.room.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func commonPrefix(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
