package tui

import (
	"fmt"
	"strings"

	"github.com/gridlock-game/gridlock/client"
)

// View draws the whole screen.
func (m *Model) View() string {
	if m.fatal != nil {
		return m.fatalView()
	}
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.lay.w != m.width || m.lay.h != m.height {
		m.relayout()
	}
	L := m.lay
	if L.tooSmall {
		size := fmt.Sprintf("terminal too small: %d×%d", m.width, m.height)
		need := fmt.Sprintf("need at least %d×%d", minWidth, minHeight)
		if width(size)+2+width(need) <= m.width {
			return m.centered([]seg{{m.th.warn, size + ", " + need}})
		}
		return m.centered([]seg{{m.th.warn, size}}, []seg{{m.th.text, need}})
	}
	left, lsep := m.leftPane()
	side, ssep := m.sidebar()
	bp := m.th.border
	var b strings.Builder
	b.Grow(m.width * m.height * 4)
	m.topRow(&b)
	for i := 0; i < L.body; i++ {
		b.WriteByte('\n')
		lc, mc, rc := "│", "│", "│"
		switch {
		case lsep[i] && ssep[i]:
			lc, mc, rc = "├", "┼", "┤"
		case lsep[i]:
			lc, mc = "├", "┤"
		case ssep[i]:
			mc, rc = "├", "┤"
		}
		b.WriteString(bp.r(lc))
		b.WriteString(left[i])
		b.WriteString(bp.r(mc))
		b.WriteString(side[i])
		b.WriteString(bp.r(rc))
	}
	b.WriteByte('\n')
	m.statusRow(&b)
	b.WriteByte('\n')
	m.bottomRow(&b)
	return b.String()
}

// titled draws a border segment of w columns with a title in it.
func (m *Model) titled(b *strings.Builder, w int, ss []seg, bp paint) {
	var l line
	if len(ss) > 0 && w >= 4 {
		l.addW(paint{}, " ", 1)
		l.segs(ss, w-2)
		l.addW(paint{}, " ", 1)
	}
	l.add(bp, repeat("─", w-l.w))
	b.WriteString(l.String())
}

func (m *Model) topRow(b *strings.Builder) {
	th := m.th
	b.WriteString(th.border.r("┌"))
	m.titled(b, m.lay.leftW, m.headerSegs(m.lay.leftW-2), th.border)
	b.WriteString(th.border.r("┬"))
	m.titled(b, m.lay.sideW, []seg{{th.title, "cluster"}}, th.border)
	b.WriteString(th.border.r("┐"))
}

func (m *Model) headerSegs(w int) []seg {
	th := m.th
	dot := seg{th.dim, " · "}
	app := []seg{{th.app, "gridlock"}, dot}
	if m.room == nil {
		return append(app, seg{th.dim, "joining…"})
	}
	r := m.room
	ss := []seg{{th.bold, "#" + r.Name}, dot, {th.text, fmt.Sprintf("round %d", r.Round)}}
	if d, ok := m.roundTime(); ok {
		ss = append(ss, dot, seg{th.text, clockText(d)})
	}
	if n := m.size(); n > 0 {
		ss = append(ss, dot, seg{th.text, fmt.Sprintf("%d×%d %s", n, n, r.Puzzle.Difficulty)})
	}
	if m.watching() {
		ss = append([]seg{{th.info, "watching"}, dot}, ss...)
	}
	if segsWidth(ss)+segsWidth(app) <= w {
		ss = append(app, ss...)
	}
	return ss
}

func (m *Model) leftPane() ([]string, []bool) {
	L := m.lay
	w := L.leftW
	lines := make([]string, L.body)
	sep := make([]bool, L.body)
	blank := spaces(w)
	for i := range lines {
		lines[i] = blank
	}
	if m.overlay == ovHelp {
		m.helpPane(lines)
		return lines, sep
	}
	lines[0] = m.infoLine()
	switch {
	case m.overlay == ovRooms:
		m.roomsPane(lines[1:L.chatY])
	case m.resultsShown():
		m.resultsPane(lines[1:L.chatY])
	case m.size() > 0:
		pre := spaces(L.boardX)
		post := spaces(w - L.boardX - L.geom.w)
		for i, s := range m.boardLines(L.geom) {
			if y := L.boardY + i; y < L.chatY {
				lines[y] = pre + s + post
			}
		}
	default:
		text := "looking for the cluster…"
		if m.status.State == client.Connected {
			text = "joining…"
		}
		lines[L.boardY+L.geom.h/2] = m.centerIn(w, []seg{{m.th.dim, text}})
	}
	lines[L.chatY] = m.chatSep()
	sep[L.chatY] = true
	for i, s := range m.chatLines(w, L.chatN) {
		lines[L.chatY+1+i] = s
	}
	lines[L.inputY] = m.inputLine()
	return lines, sep
}

func (m *Model) centerIn(w int, ss []seg) string {
	var l line
	sw := segsWidth(ss)
	l.addW(paint{}, spaces((w-sw)/2), max((w-sw)/2, 0))
	l.segs(ss, w)
	l.pad(w)
	return l.String()
}

// centered draws ss in the middle of the screen.
func (m *Model) centered(ss ...[]seg) string {
	W, H := m.width, m.height
	if W <= 0 || H <= 0 {
		var b strings.Builder
		for i, s := range ss {
			if i > 0 {
				b.WriteByte('\n')
			}
			var l line
			l.segs(s, 1<<20)
			b.WriteString(l.String())
		}
		return b.String()
	}
	top := max((H-len(ss))/2, 0)
	var b strings.Builder
	for y := 0; y < H; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		k := y - top
		if k < 0 || k >= len(ss) {
			b.WriteString(spaces(W))
			continue
		}
		b.WriteString(m.centerIn(W, ss[k]))
	}
	return b.String()
}

func (m *Model) fatalView() string {
	th := m.th
	return m.centered(
		[]seg{{th.err, "✗ " + m.fatal.Error()}},
		[]seg{},
		[]seg{{th.dim, "press any key to quit"}},
	)
}
