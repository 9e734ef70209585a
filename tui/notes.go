package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/game"
)

// Pencil marks. In notes mode (n) a digit adds or takes away a candidate
// of the cursor's cell instead of placing it; backspace clears the cell's
// notes and N every note. The notes are the player's own: the cluster keeps
// them in the player's session and shows them to nobody else. A note sent
// and not answered yet shows at once (notesModel.notePending).

// notesModel is the notes' own state.
type notesModel struct {
	notesMode bool
	// notePending: board index -> the notes the cell will have once the
	// command sent last for it (seq) is answered.
	notePending map[int]pendingNote
	// where the candidate bar was drawn (left pane columns; palN 0: not
	// drawn), for clicks
	palX, palN int
}

type pendingNote struct {
	seq  uint64
	mask uint16
}

// notesAt is the candidates the board shows in cell i: the room's, or the
// ones a command on the way will make.
func (m *Model) notesAt(i int) uint16 {
	if p, ok := m.notePending[i]; ok {
		return p.mask
	}
	if r := m.room; r != nil && i < len(r.Notes) {
		return r.Notes[i]
	}
	return 0
}

func (m *Model) toggleNotes() {
	if m.watching() {
		m.refuseWatching()
		return
	}
	m.notesMode = !m.notesMode
}

// toggleNote adds or takes away candidate d of the cursor's cell.
func (m *Model) toggleNote(d int) {
	n := m.size()
	if n == 0 || d < 1 || d > n {
		return
	}
	if why := m.checkCell(); why != "" {
		m.setFlash(m.row, m.col, 0, why, false)
		return
	}
	i := m.row*n + m.col
	bit := uint16(1) << (d - 1)
	mask := m.notesAt(i)
	on := mask&bit == 0
	if on {
		mask |= bit
	} else {
		mask &^= bit
	}
	seq := m.send(game.Note{Row: uint8(m.row), Col: uint8(m.col), Digit: uint8(d), On: on}, m.row, m.col)
	m.setPending(i, seq, mask)
}

// clearNotes clears the cursor's cell's notes, or all of them.
func (m *Model) clearNotes(all bool) {
	n := m.size()
	if n == 0 {
		return
	}
	if m.watching() {
		m.refuseWatching()
		return
	}
	if all {
		seq := m.send(game.ClearNotes{All: true}, m.row, m.col)
		for i := 0; i < n*n; i++ {
			if m.notesAt(i) != 0 {
				m.setPending(i, seq, 0)
			}
		}
		return
	}
	i := m.row*n + m.col
	if m.notesAt(i) == 0 {
		return
	}
	seq := m.send(game.ClearNotes{Row: uint8(m.row), Col: uint8(m.col)}, m.row, m.col)
	m.setPending(i, seq, 0)
}

func (m *Model) setPending(i int, seq uint64, mask uint16) {
	if m.notePending == nil {
		m.notePending = map[int]pendingNote{}
	}
	m.notePending[i] = pendingNote{seq: seq, mask: mask}
}

// noteAnswered forgets what an answered notes command made pending: the
// room says how the notes stand now.
func (m *Model) noteAnswered(seq uint64) {
	for i, p := range m.notePending {
		if p.seq == seq {
			delete(m.notePending, i)
		}
	}
}

// forgetNotes drops what is pending (a new board).
func (m *Model) forgetNotes() { clear(m.notePending) }

// Drawing. A cell three columns wide shows up to three candidates as small
// digits; more as a map of dots in braille, a candidate d where d sits in
// the box's grid of digits (1 top left; on a 9×9 board, 5 in the middle).
// Where no line parts two cells (tight), small digits never touch the next
// cell: two at most, then the map, whose dots keep to the left of each
// column. The info line lists the cursor cell's candidates in full. A
// larger cell draws the candidates' grid itself, a dot where a digit is
// not noted: a lone 5 in the middle must not pass for a placed 5.

var supDigits = [10]string{"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"}

// braille dots 1, 2 and 3: the left column of a braille cell, top down.
var brailleRow = [3]rune{0x01, 0x02, 0x04}

// notesText is a cell's candidates in three columns; cols is how many
// digits a row of the candidates' grid holds (the box's width).
func notesText(mask uint16, cols int, tight bool) string {
	var ds []int
	for d := 1; d <= 9; d++ {
		if mask&(1<<(d-1)) != 0 {
			ds = append(ds, d)
		}
	}
	switch {
	case len(ds) == 0:
		return ""
	case len(ds) == 1:
		return " " + supDigits[ds[0]] + " "
	case len(ds) == 2 && tight:
		return supDigits[ds[0]] + supDigits[ds[1]] + " "
	case len(ds) == 2:
		return supDigits[ds[0]] + " " + supDigits[ds[1]]
	case len(ds) == 3 && !tight:
		return supDigits[ds[0]] + supDigits[ds[1]] + supDigits[ds[2]]
	}
	b := [3]rune{0x2800, 0x2800, 0x2800}
	for _, d := range ds {
		r, c := (d-1)/cols, (d-1)%cols
		if r < 3 && c < 3 {
			b[c] |= brailleRow[r]
		}
	}
	return string(b[:])
}

// notesLine is line li of a large cell (w columns, h lines) with the
// candidates in a grid of cols digits a row, n digits in all.
func notesLine(mask uint16, n, cols, w, h, li int) string {
	rows := (n + cols - 1) / cols
	r := li - (h-rows)/2
	if r < 0 || r >= rows {
		return spaces(w)
	}
	var b strings.Builder
	lead := (w - (2*cols - 1)) / 2
	b.WriteString(spaces(lead))
	for c := 0; c < cols; c++ {
		if c > 0 {
			b.WriteByte(' ')
		}
		d := r*cols + c + 1
		switch {
		case d > n:
			b.WriteByte(' ')
		case mask&(1<<(d-1)) != 0:
			b.WriteByte(byte('0' + d))
		default:
			b.WriteString("·")
		}
	}
	b.WriteString(spaces(w - lead - (2*cols - 1)))
	return b.String()
}

// noteAt is the candidate at (ox, oy) inside a large cell, if any.
func noteAt(n, cols, w, h, ox, oy int) (int, bool) {
	rows := (n + cols - 1) / cols
	r := oy - (h-rows)/2
	lead := (w - (2*cols - 1)) / 2
	x := ox - lead
	if r < 0 || r >= rows || x < 0 || x%2 != 0 || x/2 >= cols {
		return 0, false
	}
	d := r*cols + x/2 + 1
	return d, d <= n
}

// digitsOf lists a mask's candidates: "2 5 8".
func digitsOf(mask uint16) string {
	var ds []string
	for d := 1; d <= 9; d++ {
		if mask&(1<<(d-1)) != 0 {
			ds = append(ds, fmt.Sprint(d))
		}
	}
	return strings.Join(ds, " ")
}

// candidateBar is the info line's notes part in notes mode: the cursor
// cell's name and every digit, the candidates lit. It is clickable.
func (m *Model) candidateBar() []seg {
	th := m.th
	n := m.size()
	mask := m.notesAt(m.row*n + m.col)
	ss := []seg{{th.key, "notes " + cellName(m.row, m.col) + " "}}
	for d := 1; d <= n; d++ {
		p := th.notes
		if mask&(1<<(d-1)) != 0 {
			p = th.notesOn
		}
		ss = append(ss, seg{p, fmt.Sprint(d)})
		if d < n {
			ss = append(ss, seg{paint{}, " "})
		}
	}
	return ss
}

// candidateBarLead is the width before the bar's first digit.
func (m *Model) candidateBarLead() int { return width("notes "+cellName(m.row, m.col)) + 1 }

// clickNote handles a click that may be on a candidate: on the bar, or in
// a large cell's grid of candidates (notes mode only).
func (m *Model) clickNote(msg tea.MouseMsg) bool {
	if !m.notesMode || m.size() == 0 || m.overlay != ovNone {
		return false
	}
	L := m.lay
	if m.palN > 0 && msg.Y == 1 {
		x := msg.X - 1 - m.palX
		if x >= 0 && x%2 == 0 && x/2 < m.palN {
			if m.focus != focusBoard {
				m.setFocus(focusBoard)
			}
			m.toggleNote(x/2 + 1)
			return true
		}
	}
	g := L.geom
	if g.mode != modeLarge {
		return false
	}
	r, c, ok := L.cellAt(msg.X, msg.Y)
	if !ok || m.room.Board[r*g.n+c].Digit != 0 {
		return false // a filled cell is selected, as ever
	}
	ox, oy := msg.X-1-L.boardX-g.cellX[c], msg.Y-1-L.boardY-g.cellY[r]
	d, ok := noteAt(g.n, g.bc, g.cw, g.ch, ox, oy)
	if !ok {
		return false
	}
	m.row, m.col = r, c
	if m.focus != focusBoard {
		m.setFocus(focusBoard)
	}
	m.toggleNote(d)
	return true
}
