package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/gridlock-game/gridlock/client"
)

// viewCache keeps what rarely changes between frames.
type viewCache struct {
	helpKey string
	help    string
}

// statusSegs is the status line; room is the width it may take.
func (m *Model) statusSegs(room int) []seg {
	th := m.th
	s := m.status
	now := m.now()
	if m.closed && s.State != client.Closed {
		return []seg{{th.err, "○ disconnected"}}
	}
	switch s.State {
	case 0:
		return []seg{{th.warn, "◌ "}, {th.text, "starting…"}}
	case client.Connecting:
		return []seg{{th.warn, "◌ "}, {th.text, s.Line()}}
	case client.Failover:
		ss := []seg{{th.warn, "◌ " + s.Line()}}
		since := s.Since
		if since.IsZero() {
			since = m.failSince
		}
		if !since.IsZero() {
			ss = append(ss, seg{th.dim, fmt.Sprintf(" %.1fs", now.Sub(since).Seconds())})
		}
		if s.Pending > 0 {
			ss = append(ss, seg{th.dim, " · "}, seg{th.text, plural(s.Pending, "move", "moves") + " waiting"})
		}
		return ss
	case client.Closed:
		return []seg{{th.err, "○ " + s.Line()}}
	}
	quiet := s
	quiet.RTT = 0
	quiet.Resumed = s.Resumed && !m.resumedAt.IsZero() // news for a while, not for good
	ss := []seg{{th.ok, "● "}, {th.text, quiet.Line()}}
	if !m.recovered.IsZero() {
		took := "failover took "
		switch {
		case m.same:
			took = "reconnected in " // e.g. the primary renewed its office when a backup left
		case m.handover:
			took = "handover took " // the primary stepped down: nothing failed
		}
		ss = append(ss, seg{th.dim, " · "}, seg{th.ok, took + shortDur(m.failTook)})
	}
	if s.RTT > 0 && segsWidth(ss)+width(rtt(s.RTT))+3 <= room {
		ss = append(ss, seg{th.dim, " · " + rtt(s.RTT)})
	}
	return ss
}

// rtt is how Status.Line shows the round trip.
func rtt(d time.Duration) string {
	line := client.Status{State: client.Connected, RTT: d}.Line()
	if i := strings.LastIndex(line, " · "); i >= 0 {
		return line[i+len(" · "):]
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func shortDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func (m *Model) statusRow(b *strings.Builder) {
	th := m.th
	W := m.width
	bp := th.border
	right := []seg{{th.player(m.me(), true), m.me()}}
	if m.watching() {
		right = append(right, seg{th.info, " (watching)"})
	}
	if m.self() != 0 {
		right = append(right, seg{th.dim, fmt.Sprintf(" · n%d", m.self())})
	}
	if m.o.PID != 0 {
		right = append(right, seg{th.dim, fmt.Sprintf(" · pid %d", m.o.PID)})
	}
	rw := segsWidth(right) + 2
	var l line
	l.add(bp, "├─")
	l.addW(paint{}, " ", 1)
	l.segs(m.statusSegs(W-2-rw-4), W-2-rw-2)
	l.addW(paint{}, " ", 1)
	end := W - 1 - rw - 1
	j := m.lay.leftW + 1
	if l.w <= j && j < end {
		l.add(bp, repeat("─", j-l.w))
		l.add(bp, "┴")
	}
	l.add(bp, repeat("─", end-l.w))
	l.addW(paint{}, " ", 1)
	l.segs(right, W-2)
	l.addW(paint{}, " ", 1)
	l.add(bp, repeat("─", W-1-l.w))
	l.add(bp, "┤")
	b.WriteString(l.String())
}

func (m *Model) shortHelp() string {
	var bs []key.Binding
	k := fmt.Sprintf("%d/%d/%d/%v/%v", m.focus, m.overlay, m.size(), m.notesMode, m.watching())
	if k == m.cache.helpKey {
		return m.cache.help
	}
	switch {
	case m.overlay == ovRooms:
		bs = m.keys.roomsHelp()
	case m.overlay == ovHelp && m.focus == focusChat:
		bs = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
			key.NewBinding(key.WithKeys("a"), key.WithHelp("typing", "goes to the chat")), m.keys.ForceQuit}
	case m.overlay == ovHelp:
		bs = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("any key", "close")), m.keys.ForceQuit}
	case m.focus == focusChat:
		bs = m.keys.chatHelp()
	case m.watching():
		bs = m.keys.watchHelp()
	default:
		bs = m.keys.boardHelp(m.notesMode)
	}
	m.cache.helpKey, m.cache.help = k, m.help.ShortHelpView(bs)
	return m.cache.help
}

func (m *Model) bottomRow(b *strings.Builder) {
	th := m.th
	W := m.width
	h := m.shortHelp()
	b.WriteString(th.border.r("└"))
	b.WriteString(" ")
	hw := ansi.StringWidth(h)
	if hw > W-4 {
		h = ansi.Truncate(h, W-4, "…")
		hw = ansi.StringWidth(h)
	}
	b.WriteString(h)
	b.WriteString(" ")
	b.WriteString(th.border.r(repeat("─", W-3-hw-1)))
	b.WriteString(th.border.r("┘"))
}
