package tui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gridlock-game/gridlock/game"
)

var digitText = [10]string{" · ", " 1 ", " 2 ", " 3 ", " 4 ", " 5 ", " 6 ", " 7 ", " 8 ", " 9 "}

// runs joins adjacent pieces of the same paint into one escape sequence.
type runs struct {
	b    strings.Builder
	cur  paint
	open bool
}

func (r *runs) add(p paint, s string) {
	if !r.open || p != r.cur {
		r.close()
		r.b.WriteString(p.pre)
		r.cur, r.open = p, true
	}
	r.b.WriteString(s)
}

func (r *runs) close() {
	if r.open {
		r.b.WriteString(r.cur.suf)
		r.open = false
	}
}

// String returns the line so far and starts a new one.
func (r *runs) String() string {
	r.close()
	s := r.b.String()
	r.b = strings.Builder{}
	return s
}

// boardState is what drawing a board needs, gathered once per View.
type boardState struct {
	room    *game.RoomView
	n       int
	cols    int     // digits a row of the candidates' grid holds
	claimBy []int16 // board index -> index in room.Claims, or -1
	hl      []highlight
	notes   []uint16 // the candidates shown, nil: none
	me      string   // NameKey of this player
	myColor int
	cursor  cursorKind
	row     int
	col     int
	flash   *flash
	placing map[int]uint8
	marks   bool // owners by a letter (no colours to tell them)
	tight   bool // no line between two cells
}

func (m *Model) boardState() boardState {
	r := m.room
	n := int(r.Puzzle.Size)
	bs := boardState{room: r, n: n, cols: int(r.Puzzle.BoxCols), me: game.NameKey(m.me()), row: m.row, col: m.col,
		placing: m.placing, marks: m.th.noColor}
	bs.myColor = colorIndex(m.me(), len(m.th.palette))
	bs.claimBy = make([]int16, n*n)
	for i := range bs.claimBy {
		bs.claimBy[i] = -1
	}
	for i, c := range r.Claims {
		if int(c.Row) < n && int(c.Col) < n && i < 1<<15 {
			bs.claimBy[int(c.Row)*n+int(c.Col)] = int16(i)
		}
	}
	switch {
	case m.overlay != ovNone:
		bs.cursor = curNone
	case m.focus == focusBoard:
		bs.cursor = curFocused
	default:
		bs.cursor = curBlurred
	}
	if m.flashOn() {
		bs.flash = &m.flash
	}
	if len(r.Notes) == n*n || len(m.notePending) > 0 {
		bs.notes = make([]uint16, n*n)
		for i := range bs.notes {
			bs.notes[i] = m.notesAt(i)
		}
	}
	bs.hl = m.highlights(&bs)
	return bs
}

// highlights marks the cursor's row, column and box and every cell that
// holds the digit under the cursor (while the board has the focus), and
// the cells a wrong move clashed with (while it flashes).
func (m *Model) highlights(bs *boardState) []highlight {
	r := bs.room
	n := bs.n
	br, bc := int(r.Puzzle.BoxRows), int(r.Puzzle.BoxCols)
	hl := make([]highlight, n*n)
	if bs.cursor == curFocused {
		cur := bs.row*n + bs.col
		d := r.Board[cur].Digit
		for i, c := range r.Board {
			row, col := i/n, i%n
			switch {
			case d != 0 && c.Digit == d && i != cur:
				hl[i] = hlSame
			case row == bs.row || col == bs.col || row/br == bs.row/br && col/bc == bs.col/bc:
				hl[i] = hlPeer
			}
		}
	}
	if f := bs.flash; f != nil && f.clash && f.digit != 0 {
		for i, c := range r.Board {
			row, col := i/n, i%n
			if c.Digit == f.digit && (row == f.row || col == f.col || row/br == f.row/br && col/bc == f.col/bc) {
				hl[i] = hlConflict
			}
		}
	}
	return hl
}

// ownerMark is a player's mark where colours cannot tell players apart:
// the first letter of the name, lower case.
func ownerMark(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	s := string(unicode.ToLower(r))
	if r == utf8.RuneError || !unicode.IsPrint(r) || width(s) != 1 {
		return "?"
	}
	return s
}

// initial is a claim's mark: the first letter of its holder, upper case.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	s := string(unicode.ToUpper(r))
	if r == utf8.RuneError || !unicode.IsPrint(r) || width(s) != 1 {
		return "?"
	}
	return s
}

// cellLook is what a cell shows: three columns of text in a paint, and
// the candidates a large cell draws as a grid instead (0: none). mark is
// the owner's mark a large cell draws in its corner.
type cellLook struct {
	text  string
	p     paint
	notes uint16
	mark  string
}

// center is the text in the middle of a large cell (the mark goes in the
// corner there).
func (c cellLook) center() string {
	if c.mark != "" {
		return c.text[:2] + " "
	}
	return c.text
}

// cell is how one cell looks.
func (m *Model) cell(bs *boardState, r, c int) cellLook {
	th := m.th
	i := r*bs.n + c
	cur := curNone
	if r == bs.row && c == bs.col {
		cur = bs.cursor
	}
	hl := bs.hl[i]
	if f := bs.flash; f != nil && !f.noCell && f.row == r && f.col == c {
		k := ckFlash
		if f.ok {
			k = ckFlashOK
		}
		d := int(f.digit)
		if cv := bs.room.Board[i]; cv.Digit != 0 {
			d = int(cv.Digit)
		}
		return cellLook{text: digitText[min(d, 9)], p: th.cell(k, 0, cur, hlNone)}
	}
	cv := bs.room.Board[i]
	switch {
	case cv.Digit != 0 && cv.Given:
		return cellLook{text: digitText[min(int(cv.Digit), 9)], p: th.cell(ckGiven, 0, cur, hl)}
	case cv.Digit != 0:
		k := ckPlaced
		if game.NameKey(cv.Owner) == bs.me {
			k = ckMine
		}
		look := cellLook{text: digitText[min(int(cv.Digit), 9)], p: th.cell(k, colorIndex(cv.Owner, len(th.palette)), cur, hl)}
		if bs.marks {
			look.mark = ownerMark(cv.Owner)
			look.text = look.text[:2] + look.mark
		}
		return look
	}
	if d, ok := bs.placing[i]; ok {
		return cellLook{text: digitText[min(int(d), 9)], p: th.cell(ckPending, bs.myColor, cur, hl)}
	}
	var notes uint16
	if bs.notes != nil {
		notes = bs.notes[i]
	}
	if ci := bs.claimBy[i]; ci >= 0 {
		owner := bs.room.Claims[ci].Owner
		if game.NameKey(owner) == bs.me {
			p := th.cell(ckMyClaim, bs.myColor, cur, hl)
			if notes != 0 {
				return cellLook{text: notesText(notes, bs.cols, bs.tight), p: p, notes: notes}
			}
			return cellLook{text: "‹ ›", p: p}
		}
		return cellLook{text: "‹" + initial(owner) + "›", p: th.cell(ckClaim, colorIndex(owner, len(th.palette)), cur, hl)}
	}
	if notes != 0 {
		return cellLook{text: notesText(notes, bs.cols, bs.tight), p: th.cell(ckNotes, 0, cur, hl), notes: notes}
	}
	return cellLook{text: digitText[0], p: th.cell(ckEmpty, 0, cur, hl)}
}

// boardLines draws the board, each line g.w columns wide.
func (m *Model) boardLines(g boardGeom) []string {
	bs := m.boardState()
	bs.tight = g.mode == modeCompact
	if g.mode != modeCompact {
		return m.gridLines(g, &bs)
	}
	return m.compactLines(g, &bs)
}

func gridJunction(k, j, n int, hHeavy, vHeavy bool) string {
	top, bot, left, right := k == 0, k == n, j == 0, j == n
	switch {
	case top && left:
		return "┏"
	case top && right:
		return "┓"
	case bot && left:
		return "┗"
	case bot && right:
		return "┛"
	case top:
		if vHeavy {
			return "┳"
		}
		return "┯"
	case bot:
		if vHeavy {
			return "┻"
		}
		return "┷"
	case left:
		if hHeavy {
			return "┣"
		}
		return "┠"
	case right:
		if hHeavy {
			return "┫"
		}
		return "┨"
	case hHeavy && vHeavy:
		return "╋"
	case hHeavy:
		return "┿"
	case vHeavy:
		return "╂"
	}
	return "┼"
}

// gridLines: a thin line between every two cells, heavy lines around boxes.
func (m *Model) gridLines(g boardGeom, bs *boardState) []string {
	th := m.th
	n := g.n
	out := make([]string, 0, g.h)
	thinH, heavyH := repeat("─", g.cw), repeat("━", g.cw)
	pad := spaces(g.cw)
	padL, padR := spaces((g.cw-3)/2), spaces(g.cw-3-(g.cw-3)/2)
	var r runs
	for k := 0; k <= n; k++ {
		hHeavy := k == 0 || k == n || k%g.br == 0
		hp, hs := th.thin, thinH
		if hHeavy {
			hp, hs = th.heavy, heavyH
		}
		for j := 0; j <= n; j++ {
			vHeavy := j == 0 || j == n || j%g.bc == 0
			jp := th.thin
			if hHeavy || vHeavy {
				jp = th.heavy
			}
			r.add(jp, gridJunction(k, j, n, hHeavy, vHeavy))
			if j < n {
				r.add(hp, hs)
			}
		}
		out = append(out, r.String())
		if k == n {
			break
		}
		for li := 0; li < g.ch; li++ {
			for j := 0; j <= n; j++ {
				if j == 0 || j == n || j%g.bc == 0 {
					r.add(th.heavy, "┃")
				} else {
					r.add(th.thin, "│")
				}
				if j == n {
					break
				}
				c := m.cell(bs, k, j)
				switch {
				case c.notes != 0 && g.cw > 3:
					r.add(c.p, notesLine(c.notes, n, bs.cols, g.cw, g.ch, li))
				case li == g.ch-1 && c.mark != "" && g.cw > 3:
					r.add(c.p, pad[:g.cw-1]+c.mark)
				case li != g.ch/2:
					r.add(c.p, pad)
				case g.cw > 3:
					r.add(c.p, padL+c.center()+padR)
				default:
					r.add(c.p, c.text)
				}
			}
			out = append(out, r.String())
		}
	}
	return out
}

// compactLines: lines around boxes only.
func (m *Model) compactLines(g boardGeom, bs *boardState) []string {
	th := m.th
	n := g.n
	fp := th.heavy
	boxes := n / g.bc
	seg := repeat("─", 3*g.bc)
	rule := func(l, mid, r string) string {
		var b strings.Builder
		b.WriteString(l)
		for i := 0; i < boxes; i++ {
			b.WriteString(seg)
			if i < boxes-1 {
				b.WriteString(mid)
			}
		}
		b.WriteString(r)
		return fp.r(b.String())
	}
	out := make([]string, 0, g.h)
	out = append(out, rule("╭", "┬", "╮"))
	var rr runs
	for row := 0; row < n; row++ {
		if row > 0 && row%g.br == 0 {
			out = append(out, rule("├", "┼", "┤"))
		}
		rr.add(fp, "│")
		for c := 0; c < n; c++ {
			if c > 0 && c%g.bc == 0 {
				rr.add(fp, "│")
			}
			cl := m.cell(bs, row, c)
			rr.add(cl.p, cl.text)
		}
		rr.add(fp, "│")
		out = append(out, rr.String())
	}
	out = append(out, rule("╰", "┴", "╯"))
	return out
}

// infoLine is the line above the board: progress, or the winner and the
// countdown; the outcome of the last move; in notes mode the cursor's
// candidates (clickable); the player's claim, or the cursor cell's notes.
func (m *Model) infoLine() string {
	th := m.th
	L := m.lay
	w := L.leftW
	r := m.room
	m.palN = 0
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
	bar := false
	switch {
	case m.flashOn():
		f := m.flash
		switch {
		case f.ok:
			right = []seg{{th.ok, "✓ " + cellName(f.row, f.col) + " " + f.text}}
		case f.noCell:
			right = []seg{{th.warn, f.text}}
		default:
			right = []seg{{th.err, "✗ " + cellName(f.row, f.col) + " " + f.text}}
		}
	case m.notesMode && r.State != game.RoundOver:
		right, bar = m.candidateBar(), true
	default:
		notes := m.notesAt(m.row*m.size() + m.col)
		if cr, cc, ok := m.myClaim(); ok {
			text := "claim " + cellName(cr, cc)
			if until, ok := m.myClaimUntil(); ok {
				if left := until.Sub(now); left > 0 {
					text += fmt.Sprintf(" · %ds", int((left+time.Second-1)/time.Second))
				}
			}
			right = []seg{{th.player(m.me(), false), text}}
		} else if notes != 0 && r.State != game.RoundOver {
			right = []seg{{th.dim, "notes " + cellName(m.row, m.col) + " "}, {th.text, digitsOf(notes)}}
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
		m.markBar(bar, l.w, rw, start+span)
		l.segs(right, start+span)
	} else {
		l.segs(left, start+span)
		if rw > 0 {
			l.pad(start + span - rw)
			m.markBar(bar, l.w, rw, start+span)
			l.segs(right, start+span)
		}
	}
	l.pad(w)
	return fit(l.String(), w)
}

// markBar notes where the candidate bar is drawn (at column x, rw wide,
// in a line that ends at end), if it is and it fits whole.
func (m *Model) markBar(bar bool, x, rw, end int) {
	if bar && x+rw <= end {
		m.palX, m.palN = x+m.candidateBarLead(), m.size()
	}
}

func countdown(d time.Duration) string {
	if d <= 0 {
		return "next round starting…"
	}
	return fmt.Sprintf("next round in %ds", int((d+time.Second-1)/time.Second))
}
