package game

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Puzzle is a generated grid with its unique solution. Cells are row-major,
// Size*Size of them, 0 = empty.
type Puzzle struct {
	Size       uint8
	BoxRows    uint8
	BoxCols    uint8
	Difficulty Difficulty
	Seed       uint64
	Givens     []uint8
	Solution   []uint8
}

// maxSize and maxCells bound every board this package handles.
const (
	maxSize  = 9
	maxCells = maxSize * maxSize
	maxPeers = 20
)

// geometry holds the fixed shape tables of one board size.
type geometry struct {
	n, br, bc, cells int
	full             uint16 // all digit bits of the size
	row, col, box    [maxCells]uint8
	units            [3 * maxSize][maxSize]uint8 // rows, then columns, then boxes
	peers            [maxCells][maxPeers]uint8
	npeers           int
}

// Read-only after package initialisation.
var (
	geom4 = newGeometry(4, 2, 2)
	geom6 = newGeometry(6, 2, 3)
	geom9 = newGeometry(9, 3, 3)
)

// geometryOf returns the tables of a supported size, or nil.
func geometryOf(size uint8) *geometry {
	switch size {
	case 4:
		return geom4
	case 6:
		return geom6
	case 9:
		return geom9
	}
	return nil
}

// BoxShape returns the box rows and columns of a supported size (4: 2×2,
// 6: 2×3, 9: 3×3), and false for any other size.
func BoxShape(size uint8) (rows, cols uint8, ok bool) {
	g := geometryOf(size)
	if g == nil {
		return 0, 0, false
	}
	return uint8(g.br), uint8(g.bc), true
}

func newGeometry(n, br, bc int) *geometry {
	g := &geometry{n: n, br: br, bc: bc, cells: n * n, full: uint16(1)<<n - 1}
	boxesPerRow := n / bc
	for c := 0; c < g.cells; c++ {
		r, k := c/n, c%n
		b := (r/br)*boxesPerRow + k/bc
		g.row[c], g.col[c], g.box[c] = uint8(r), uint8(k), uint8(b)
	}
	fill := make([]int, 3*n)
	for c := 0; c < g.cells; c++ {
		for _, u := range [3]int{int(g.row[c]), n + int(g.col[c]), 2*n + int(g.box[c])} {
			g.units[u][fill[u]] = uint8(c)
			fill[u]++
		}
	}
	for c := 0; c < g.cells; c++ {
		np := 0
		for p := 0; p < g.cells; p++ {
			if p != c && (g.row[p] == g.row[c] || g.col[p] == g.col[c] || g.box[p] == g.box[c]) {
				g.peers[c][np] = uint8(p)
				np++
			}
		}
		g.npeers = np
	}
	return g
}

// View returns the puzzle as clients see it: no solution. Givens are copied.
func (p *Puzzle) View() PuzzleView {
	return PuzzleView{
		Size:       p.Size,
		BoxRows:    p.BoxRows,
		BoxCols:    p.BoxCols,
		Difficulty: p.Difficulty,
		Seed:       p.Seed,
		Givens:     append([]uint8(nil), p.Givens...),
	}
}

// Check reports whether p is consistent: a supported size with its box shape,
// a complete solution that keeps the Sudoku rules, and givens that agree with
// it. It does not check that the solution is unique (see CountSolutions).
func (p *Puzzle) Check() error {
	g := geometryOf(p.Size)
	if g == nil {
		return fmt.Errorf("unsupported size %d", p.Size)
	}
	if int(p.BoxRows) != g.br || int(p.BoxCols) != g.bc {
		return fmt.Errorf("size %d needs %d×%d boxes", p.Size, g.br, g.bc)
	}
	if p.Difficulty > Expert {
		return fmt.Errorf("unknown difficulty %d", p.Difficulty)
	}
	if len(p.Givens) != g.cells || len(p.Solution) != g.cells {
		return fmt.Errorf("a %d×%d puzzle has %d cells", g.n, g.n, g.cells)
	}
	if !validSolution(g, p.Solution) {
		return errors.New("solution breaks the rules")
	}
	for i, d := range p.Givens {
		if d != 0 && d != p.Solution[i] {
			return fmt.Errorf("given at r%dc%d disagrees with the solution", i/g.n+1, i%g.n+1)
		}
	}
	return nil
}

// validSolution reports whether cells is a full grid keeping the rules.
func validSolution(g *geometry, cells []uint8) bool {
	if len(cells) != g.cells {
		return false
	}
	for u := 0; u < 3*g.n; u++ {
		var seen uint16
		for _, c := range g.units[u][:g.n] {
			d := cells[c]
			if d < 1 || int(d) > g.n {
				return false
			}
			seen |= 1 << (d - 1)
		}
		if seen != g.full {
			return false
		}
	}
	return true
}

type puzzleJSON struct {
	Size       uint8      `json:"size"`
	BoxRows    uint8      `json:"box_rows"`
	BoxCols    uint8      `json:"box_cols"`
	Difficulty Difficulty `json:"difficulty"`
	Seed       uint64     `json:"seed"`
	Givens     []int      `json:"givens"`
	Solution   []int      `json:"solution"`
}

// MarshalJSON writes the puzzle with snake_case keys, the difficulty as its
// name and the cells as arrays of numbers (not base64).
func (p Puzzle) MarshalJSON() ([]byte, error) {
	j := puzzleJSON{Size: p.Size, BoxRows: p.BoxRows, BoxCols: p.BoxCols,
		Difficulty: p.Difficulty, Seed: p.Seed,
		Givens: make([]int, len(p.Givens)), Solution: make([]int, len(p.Solution))}
	for i, d := range p.Givens {
		j.Givens[i] = int(d)
	}
	for i, d := range p.Solution {
		j.Solution[i] = int(d)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Puzzle) UnmarshalJSON(b []byte) error {
	var j puzzleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	cells := func(in []int) ([]uint8, error) {
		out := make([]uint8, len(in))
		for i, v := range in {
			if v < 0 || v > maxSize {
				return nil, fmt.Errorf("cell value %d out of range", v)
			}
			out[i] = uint8(v)
		}
		return out, nil
	}
	givens, err := cells(j.Givens)
	if err != nil {
		return err
	}
	solution, err := cells(j.Solution)
	if err != nil {
		return err
	}
	*p = Puzzle{Size: j.Size, BoxRows: j.BoxRows, BoxCols: j.BoxCols,
		Difficulty: j.Difficulty, Seed: j.Seed, Givens: givens, Solution: solution}
	return nil
}

// FormatGrid renders cells as lines of digits with box separators and "·"
// for empty cells, e.g. for 4×4:
//
//	1 · │ · 4
//	· 4 │ 1 ·
//	────┼────
//	…
//
// Missing cells print as empty; box separators are left out when the box
// shape does not divide the size.
func FormatGrid(size, boxRows, boxCols uint8, cells []uint8) string {
	n, br, bc := int(size), int(boxRows), int(boxCols)
	if n == 0 {
		return ""
	}
	boxes := br > 0 && bc > 0 && n%br == 0 && n%bc == 0 && br*bc == n
	var sb strings.Builder
	digit := func(d uint8) string {
		switch {
		case d == 0:
			return "·"
		case d < 10:
			return string(rune('0' + d))
		case d < 36:
			return string(rune('A' + d - 10))
		}
		return "?"
	}
	var sep string
	if boxes {
		seg := strings.Repeat("─", 2*bc-1)
		parts := make([]string, n/bc)
		for i := range parts {
			parts[i] = seg
		}
		sep = strings.Join(parts, "─┼─") + "\n"
	}
	for r := 0; r < n; r++ {
		if boxes && r > 0 && r%br == 0 {
			sb.WriteString(sep)
		}
		for c := 0; c < n; c++ {
			if c > 0 {
				if boxes && c%bc == 0 {
					sb.WriteString(" │ ")
				} else {
					sb.WriteByte(' ')
				}
			}
			var d uint8
			if i := r*n + c; i < len(cells) {
				d = cells[i]
			}
			sb.WriteString(digit(d))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
