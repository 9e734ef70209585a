package tui

// The smallest terminal the app draws in.
const (
	minWidth  = 64
	minHeight = 22
	minChat   = 3 // chat lines at the least
)

type boardMode uint8

const (
	modeLarge   boardMode = iota // big cells with a line between every two (small boards, big screens)
	modeGrid                     // a line between every two cells
	modeCompact                  // lines between boxes only
)

// boardGeom is where a board's cells are, relative to its top-left corner.
// A cell's inside is cw columns by ch rows.
type boardGeom struct {
	n, br, bc int
	mode      boardMode
	cw, ch    int
	w, h      int
	cellX     []int
	cellY     []int
}

func newBoardGeom(n, br, bc int, mode boardMode) boardGeom {
	g := boardGeom{n: n, br: br, bc: bc, mode: mode, cw: 3, ch: 1, cellX: make([]int, n), cellY: make([]int, n)}
	if mode == modeLarge {
		g.cw, g.ch = 7, 3
	}
	for i := 0; i < n; i++ {
		if mode == modeCompact {
			g.cellX[i] = 1 + 3*i + i/bc
			g.cellY[i] = 1 + i + i/br
		} else {
			g.cellX[i] = 1 + (g.cw+1)*i
			g.cellY[i] = 1 + (g.ch+1)*i
		}
	}
	if mode == modeCompact {
		g.w, g.h = 3*n+n/bc-1+2, n+n/br-1+2
	} else {
		g.w, g.h = (g.cw+1)*n+1, (g.ch+1)*n+1
	}
	return g
}

// layout is where everything goes on a screen of w×h. Rows of the body are
// counted from the row under the top border; x of the left pane from the
// column after the left border.
type layout struct {
	w, h     int
	tooSmall bool
	leftW    int // inner width of the left pane
	sideW    int // inner width of the sidebar
	body     int // rows between the top border and the status row

	geom   boardGeom
	boardX int // board's left column in the left pane
	boardY int // board's top row in the body
	chatY  int // separator row above the chat lines
	chatN  int // chat lines
	inputY int
}

func computeLayout(w, h, n, br, bc int) layout {
	l := layout{w: w, h: h}
	if w < minWidth || h < minHeight {
		l.tooSmall = true
		return l
	}
	l.sideW = max(min(24+(w-minWidth)/4, 34), 24)
	l.leftW = w - 3 - l.sideW
	l.body = h - 3
	if n == 0 {
		n, br, bc = 9, 3, 3
	}
	// info line, board, chat separator, chat lines, input line
	fixed := 1 + 1 + minChat + 1
	var g boardGeom
	for _, mode := range []boardMode{modeLarge, modeGrid, modeCompact} {
		g = newBoardGeom(n, br, bc, mode)
		roomy := 0
		if mode == modeLarge {
			roomy = 6 // only when the chat keeps a fair share
		}
		if g.w <= l.leftW-2 && g.h+fixed+roomy <= l.body {
			break
		}
	}
	l.geom = g
	extra := max(l.body-fixed-g.h, 0)
	pad := 0
	if extra >= 8 {
		pad = 1
	}
	l.boardX = max((l.leftW-g.w)/2, 0)
	l.boardY = 1 + pad
	l.chatY = l.boardY + g.h + pad
	l.inputY = l.body - 1
	l.chatN = max(l.inputY-l.chatY-1, 0)
	return l
}

// cellAt is the board cell at screen position (x, y).
func (l layout) cellAt(x, y int) (row, col int, ok bool) {
	if l.tooSmall || l.geom.n == 0 {
		return 0, 0, false
	}
	bx, by := x-1-l.boardX, y-1-l.boardY
	row, col = -1, -1
	for i, cy := range l.geom.cellY {
		if by >= cy && by < cy+l.geom.ch {
			row = i
		}
	}
	for i, cx := range l.geom.cellX {
		if bx >= cx && bx < cx+l.geom.cw {
			col = i
		}
	}
	return row, col, row >= 0 && col >= 0
}

// inInput reports whether (x, y) is on the chat input line.
func (l layout) inInput(x, y int) bool {
	return !l.tooSmall && y == 1+l.inputY && x >= 1 && x <= l.leftW
}

// relayout follows the terminal's size and the board's shape.
func (m *Model) relayout() {
	n, br, bc := 0, 0, 0
	if boardOK(m.room) {
		n, br, bc = int(m.room.Puzzle.Size), int(m.room.Puzzle.BoxRows), int(m.room.Puzzle.BoxCols)
	}
	if !m.setLayout(n, br, bc) {
		return
	}
	m.input.Width = max(m.lay.leftW-6, 1)
	m.cache = viewCache{}
}

type layoutKey struct{ w, h, n, br, bc int }
