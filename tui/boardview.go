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
	claimBy []int16 // board index -> index in room.Claims, or -1
	me      string  // NameKey of this player
	myColor int
	cursor  cursorKind
	row     int
	col     int
	flash   *flash
	placing map[int]uint8
}

func (m *Model) boardState() boardState {
	r := m.room
	n := int(r.Puzzle.Size)
	bs := boardState{room: r, n: n, me: game.NameKey(m.me()), row: m.row, col: m.col, placing: m.placing}
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
	return bs
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

// cell is the text (three columns) and paint of one cell.
func (m *Model) cell(bs *boardState, r, c int) (string, paint) {
	th := m.th
	i := r*bs.n + c
	cur := curNone
	if r == bs.row && c == bs.col {
		cur = bs.cursor
	}
	if f := bs.flash; f != nil && f.row == r && f.col == c {
		k := ckFlash
		if f.ok {
			k = ckFlashOK
		}
		d := int(f.digit)
		if cv := bs.room.Board[i]; cv.Digit != 0 {
			d = int(cv.Digit)
		}
		return digitText[min(d, 9)], th.cell(k, 0, cur)
	}
	cv := bs.room.Board[i]
	switch {
	case cv.Digit != 0 && cv.Given:
		return digitText[min(int(cv.Digit), 9)], th.cell(ckGiven, 0, cur)
	case cv.Digit != 0:
		k := ckPlaced
		if game.NameKey(cv.Owner) == bs.me {
			k = ckMine
		}
		return digitText[min(int(cv.Digit), 9)], th.cell(k, colorIndex(cv.Owner, len(th.palette)), cur)
	}
	if d, ok := bs.placing[i]; ok {
		return digitText[min(int(d), 9)], th.cell(ckPending, bs.myColor, cur)
	}
	if ci := bs.claimBy[i]; ci >= 0 {
		owner := bs.room.Claims[ci].Owner
		if game.NameKey(owner) == bs.me {
			return "‹ ›", th.cell(ckMyClaim, bs.myColor, cur)
		}
		return "‹" + initial(owner) + "›", th.cell(ckClaim, colorIndex(owner, len(th.palette)), cur)
	}
	return digitText[0], th.cell(ckEmpty, 0, cur)
}

// boardLines draws the board, each line g.w columns wide.
func (m *Model) boardLines(g boardGeom) []string {
	bs := m.boardState()
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
				s, p := m.cell(bs, k, j)
				switch {
				case li != g.ch/2:
					r.add(p, pad)
				case g.cw > 3:
					r.add(p, padL+s+padR)
				default:
					r.add(p, s)
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
			s, p := m.cell(bs, row, c)
			rr.add(p, s)
		}
		rr.add(fp, "│")
		out = append(out, rr.String())
	}
	out = append(out, rule("╰", "┴", "╯"))
	return out
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
