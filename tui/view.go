package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// viewCache keeps what rarely changes between frames.
type viewCache struct {
	helpKey string
	help    string
}

// seg is a piece of text in a paint.
type seg struct {
	p paint
	s string
}

func segsWidth(ss []seg) int {
	w := 0
	for _, s := range ss {
		w += width(s.s)
	}
	return w
}

func (l *line) segs(ss []seg, max int) {
	for _, s := range ss {
		l.addMax(s.p, s.s, max)
	}
}

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
	if n := m.size(); n > 0 {
		ss = append(ss, dot, seg{th.text, fmt.Sprintf("%d×%d %s", n, n, r.Puzzle.Difficulty)})
	}
	if segsWidth(ss)+segsWidth(app) <= w {
		ss = append(app, ss...)
	}
	return ss
}

// ---- the left pane ----

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

// infoLine is the line above the board: progress, or the winner and the
// countdown; the outcome of the last move; the player's claim.
func (m *Model) infoLine() string {
	th := m.th
	L := m.lay
	w := L.leftW
	r := m.room
	if m.size() == 0 {
		return spaces(w)
	}
	now := m.now()
	var left, right []seg
	if r.State == game.RoundOver {
		left = append(left, seg{th.gold, "★ "})
		if r.Winner != "" {
			left = append(left, seg{th.player(r.Winner, true), r.Winner}, seg{th.gold, fmt.Sprintf(" won round %d", r.Round)})
		} else {
			left = append(left, seg{th.gold, fmt.Sprintf("round %d is over", r.Round)})
		}
		if r.NextRoundAt != 0 {
			left = append(left, seg{th.dim, " · "}, seg{th.text, countdown(time.Unix(0, r.NextRoundAt).Sub(now))})
		}
	} else {
		filled := 0
		for _, c := range r.Board {
			if c.Digit != 0 {
				filled++
			}
		}
		total := len(r.Board)
		const bar = 10
		done := filled * bar / max(total, 1)
		left = append(left, seg{th.progress, repeat("━", done)}, seg{th.thin, repeat("─", bar-done)},
			seg{th.text, fmt.Sprintf(" %d/%d", filled, total)})
	}
	switch {
	case m.flashOn():
		f := m.flash
		if f.ok {
			right = []seg{{th.ok, "✓ " + cellName(f.row, f.col) + " " + f.text}}
		} else {
			right = []seg{{th.err, "✗ " + cellName(f.row, f.col) + " " + f.text}}
		}
	default:
		if cr, cc, ok := m.myClaim(); ok {
			text := "claim " + cellName(cr, cc)
			if until, ok := m.myClaimUntil(); ok {
				if left := until.Sub(now); left > 0 {
					text += fmt.Sprintf(" · %ds", int((left+time.Second-1)/time.Second))
				}
			}
			right = []seg{{th.player(m.me(), false), text}}
		}
	}
	lw, rw := segsWidth(left), segsWidth(right)
	span := L.geom.w
	need := lw
	if rw > 0 {
		need += 2 + rw
	}
	span = min(max(span, need), w-2)
	start := max((w-span)/2, 1)
	if r.State == game.RoundOver && rw == 0 {
		start, span = max((w-lw)/2, 1), min(lw, w-2)
	}
	var l line
	l.addW(paint{}, spaces(start), start)
	if rw > 0 && lw+2+rw > span {
		// the outcome matters more than the progress bar
		l.segs(right, start+span)
	} else {
		l.segs(left, start+span)
		if rw > 0 {
			l.pad(start + span - rw)
			l.segs(right, start+span)
		}
	}
	l.pad(w)
	return fit(l.String(), w)
}

func countdown(d time.Duration) string {
	if d <= 0 {
		return "next round starting…"
	}
	return fmt.Sprintf("next round in %ds", int((d+time.Second-1)/time.Second))
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

// ---- overlays ----

func (m *Model) helpPane(lines []string) {
	th := m.th
	w := m.lay.leftW
	i := 0
	put := func(s string) {
		if i < len(lines) {
			lines[i] = fit(s, w)
			i++
		}
	}
	put(" " + th.titleOn.r("keys"))
	h := m.help
	h.Width = w - 2
	for _, s := range strings.Split(h.FullHelpView(m.keys.fullHelp()), "\n") {
		put("  " + s)
	}
	put("")
	put(" " + th.titleOn.r("commands"))
	cw := 0
	for _, c := range slashCommands {
		cw = max(cw, width(helpUsage(c)))
	}
	for _, c := range slashCommands {
		var l line
		l.addW(paint{}, "  ", 2)
		l.add(th.key, "/"+c.name)
		if c.args != "" {
			l.add(th.text, " "+helpArgs(c))
		}
		l.pad(2 + cw + 2)
		l.addMax(th.dim, c.about, w)
		put(l.String())
	}
	put("  " + th.dim.r(truncate("SIZE   4, 6 or 9 (default 9)", w-2)))
	put("  " + th.dim.r(truncate("LEVEL  easy medium hard expert (default medium)", w-2)))
}

func helpArgs(c slashCommand) string {
	if c.name == "create" {
		return "NAME [SIZE] [LEVEL]"
	}
	return c.args
}

func helpUsage(c slashCommand) string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + helpArgs(c)
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
	keys := "↑↓ select · enter join · esc close"
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
		text := fmt.Sprintf(" %s%-*s %-10s %5d %7s  %s", mark, nameW, "#"+truncate(r.Name, nameW-1), board, r.Round, filled, strings.Join(r.Players, ", "))
		text = truncate(text, w)
		if k == m.roomsSel {
			rows[i] = th.selected.r(text + spaces(w-width(text)))
		} else {
			rows[i] = fit(th.text.r(text), w)
		}
	}
}

// ---- the sidebar ----

func (m *Model) sidebar() ([]string, []bool) {
	L := m.lay
	w, rows := L.sideW, L.body
	lines := make([]string, 0, rows)
	sep := make([]bool, rows)
	cl := m.clusterLines(w)
	sc := m.scoreLines(w)
	nc := min(len(cl), max(rows/3, 1))
	ns := min(len(sc), max(rows-nc-2-4, 1))
	ne := rows - nc - ns - 2
	lines = append(lines, cl[:nc]...)
	var b strings.Builder
	m.titled(&b, w, []seg{{m.th.title, "scores"}}, m.th.border)
	sep[len(lines)] = true
	lines = append(lines, b.String())
	if ns < len(sc) {
		sc = m.trimScores(sc, ns)
	}
	lines = append(lines, sc[:ns]...)
	b.Reset()
	m.titled(&b, w, []seg{{m.th.title, "events"}}, m.th.border)
	sep[len(lines)] = true
	lines = append(lines, b.String())
	lines = append(lines, m.eventLines(w, ne)...)
	return lines, sep
}

func (m *Model) clusterLines(w int) []string {
	th := m.th
	v := m.view
	if v == nil || len(v.Nodes) == 0 {
		return []string{fit(" "+th.hint.r("waiting for the cluster…"), w)}
	}
	nodes := slices.Clone(v.Nodes)
	slices.SortFunc(nodes, func(a, b wire.NodeInfo) int { return int(b.ID) - int(a.ID) })
	var lost wire.NodeID
	if m.status.State == client.Failover {
		lost = m.status.Lost
	}
	idW, roleW := 2, 7
	for _, n := range nodes {
		idW = max(idW, width(fmt.Sprintf("n%d", n.ID)))
		roleW = max(roleW, width(n.Role.String()))
	}
	out := make([]string, 0, len(nodes))
	u := w - 2
	for _, n := range nodes {
		alive := n.Alive && n.ID != lost
		primary := alive && n.ID == v.Primary
		role, rp := n.Role.String(), th.text
		switch {
		case n.ID == lost:
			role, rp = "lost", th.err
		case !n.Alive:
			role, rp = "down", th.dim
		case primary || n.Role == wire.RolePrimary:
			rp = th.gold
		case n.Role == wire.RoleElecting || n.Role == wire.RoleSyncing:
			rp = th.warn
		case n.Role == wire.RoleNoQuorum:
			rp = th.err
		case n.Role == wire.RoleStarting || n.Role == wire.RoleLeaving:
			rp = th.dim
		}
		detail, dp, short := "", th.dim, ""
		switch {
		case primary || alive && n.Role == wire.RolePrimary:
			e := n.Epoch.Term()
			if n.ID == v.Primary && v.Epoch != 0 {
				e = v.Epoch.Term()
			}
			detail, short = fmt.Sprintf("epoch %d", e), fmt.Sprintf("e%d", e)
		case alive:
			detail, short = fmt.Sprintf("lag %d", n.Lag), fmt.Sprintf("lag%d", n.Lag)
			if n.Lag > 0 || !n.InView && n.Role == wire.RoleBackup {
				dp = th.warn
			}
		}
		star, sp := " ", paint{}
		if primary {
			star, sp = "★", th.gold
		}
		you := ""
		if m.self() != 0 && n.ID == m.self() {
			you = "you "
		}
		dot, dotp := "●", th.ok
		if !alive {
			dot, dotp = "○", th.dead
		}
		id := fmt.Sprintf("n%d", n.ID)
		idp := th.bold
		if !alive {
			idp = th.dim
		}
		if you != "" {
			idp = th.selected
		}
		// star id role detail … you dot
		base := 2 + idW + 1 + roleW
		if base+1+width(detail)+1+width(you)+1 > u {
			you = ""
		}
		if base+1+width(detail)+1+1 > u {
			detail = short
		}
		var l line
		l.addW(paint{}, " ", 1)
		l.addW(sp, star, 1)
		l.addW(paint{}, " ", 1)
		l.add(idp, id)
		l.pad(1 + 2 + idW + 1)
		l.addMax(rp, role, w-1)
		l.pad(1 + base + 1)
		l.addMax(dp, detail, w-1)
		l.pad(w - 1 - width(you) - 1)
		l.add(th.youTag, you)
		l.add(dotp, dot)
		l.pad(w)
		out = append(out, fit(l.String(), w))
	}
	return out
}

type scoreRow struct {
	name         string
	round, total int32
	right, wrong uint32
	online       bool
}

func (m *Model) scoreRows() []scoreRow {
	r := m.room
	if r == nil {
		return nil
	}
	online := make(map[string]bool, len(r.Members))
	for _, mv := range r.Members {
		online[game.NameKey(mv.Name)] = mv.Online
	}
	rows := make([]scoreRow, 0, len(r.Scores)+len(r.Members))
	seen := make(map[string]bool, len(r.Scores))
	for _, s := range r.Scores {
		k := game.NameKey(s.Name)
		seen[k] = true
		rows = append(rows, scoreRow{s.Name, s.Round, s.Total, s.Right, s.Wrong, online[k]})
	}
	for _, mv := range r.Members {
		if !seen[game.NameKey(mv.Name)] {
			rows = append(rows, scoreRow{name: mv.Name, online: mv.Online})
		}
	}
	return rows
}

func accuracy(right, wrong uint32) string {
	if right+wrong == 0 {
		return "–"
	}
	return fmt.Sprintf("%d%%", int(float64(right)*100/float64(right+wrong)+0.5))
}

// scoreLines: a header, then a line per player (ranked by this round).
func (m *Model) scoreLines(w int) []string {
	th := m.th
	rows := m.scoreRows()
	if len(rows) == 0 {
		return []string{fit(" "+th.hint.r("no players yet"), w)}
	}
	u := w - 2
	rankW := len(fmt.Sprint(len(rows)))
	rw, tw, aw := 4, 5, 4
	nameW := u - rankW - 1 - 1 - rw - 1 - tw - 1 - aw
	if nameW < 8 {
		rw, tw = 3, 4
		nameW += 2
	}
	out := make([]string, 0, len(rows)+1)
	head := fmt.Sprintf(" %*s %-*s %*s %*s %*s", rankW, "", nameW, "player", rw, "rnd", tw, "tot", aw, "acc")
	out = append(out, fit(th.dim.r(head), w))
	for i, r := range rows {
		mine := m.isMe(r.name)
		np := th.player(r.name, mine)
		txt := th.text
		if !r.online {
			np, txt = th.dim, th.dim
		}
		var l line
		l.addW(paint{}, " ", 1)
		l.add(th.dim, fmt.Sprintf("%*d ", rankW, i+1))
		l.addMax(np, r.name, 1+rankW+1+nameW)
		l.pad(1 + rankW + 1 + nameW)
		nums := fmt.Sprintf(" %*d %*d", rw, r.round, tw, r.total)
		if mine {
			l.add(th.bold, nums)
		} else {
			l.add(txt, nums)
		}
		l.add(th.dim, fmt.Sprintf(" %*s", aw, accuracy(r.right, r.wrong)))
		out = append(out, fit(l.String(), w))
	}
	return out
}

// trimScores keeps the header and the best, and this player's line.
func (m *Model) trimScores(sc []string, n int) []string {
	if n < 2 {
		return sc[:n]
	}
	out := slices.Clone(sc[:n])
	rows := m.scoreRows()
	for i, r := range rows {
		if m.isMe(r.name) && i+1 >= n {
			out[n-1] = sc[i+1]
		}
	}
	return out
}

func (m *Model) eventLines(w, n int) []string {
	th := m.th
	out := make([]string, n)
	blank := spaces(w)
	for i := range out {
		out[i] = blank
	}
	if n <= 0 {
		return out
	}
	if len(m.log) == 0 {
		out[0] = fit(" "+th.hint.r("no events yet"), w)
		return out
	}
	loc := m.now().Location()
	tw := w - 2 - 9
	var rev []string
	for i := len(m.log) - 1; i >= 0 && len(rev) < n; i-- {
		e := m.log[i]
		p := th.text
		switch e.kind {
		case logGood:
			p = th.ok
		case logBad:
			p = th.err
		case logWarn:
			p = th.warn
		case logLead:
			p = th.gold
		case logDim:
			p = th.dim
		}
		text := shorten(e.text, tw)
		ls := wrap(text, tw, tw)
		if len(ls) > 2 {
			ls = []string{ls[0], truncate(strings.Join(ls[1:], " "), tw)}
		}
		for j := len(ls) - 1; j >= 0; j-- {
			stamp := spaces(8)
			if j == 0 {
				stamp = th.dim.r(e.t.In(loc).Format("15:04:05"))
			}
			rev = append(rev, fit(" "+stamp+" "+p.r(ls[j]), w))
		}
	}
	k := min(len(rev), n)
	for i := 0; i < k; i++ {
		out[i] = rev[k-1-i]
	}
	return out
}

// shorten abbreviates a log line that does not fit in w columns.
func shorten(text string, w int) string {
	for _, r := range [][2]string{{"(epoch ", "(e"}, {" is primary ", " primary "}, {"election: ", ""}} {
		if width(text) <= w {
			break
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	return text
}

// ---- the status and help rows ----

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
	ss := []seg{{th.ok, "● "}, {th.text, quiet.Line()}}
	if !m.recovered.IsZero() {
		ss = append(ss, seg{th.dim, " · "}, seg{th.ok, "failover took " + shortDur(m.failTook)})
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
	k := fmt.Sprintf("%d/%d/%d", m.focus, m.overlay, m.size())
	if k == m.cache.helpKey {
		return m.cache.help
	}
	switch {
	case m.overlay == ovRooms:
		bs = m.keys.roomsHelp()
	case m.overlay == ovHelp:
		bs = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("any key", "close")), m.keys.ForceQuit}
	case m.focus == focusChat:
		bs = m.keys.chatHelp()
	default:
		bs = m.keys.boardHelp()
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

// ---- whole-screen messages ----

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
