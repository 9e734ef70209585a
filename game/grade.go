package game

import "math/bits"

// technique is a human solving technique, in the order a person tries them.
type technique uint8

const (
	techNone         technique = iota // nothing to solve
	techNakedSingle                   // a cell with one candidate left
	techHiddenSingle                  // a digit with one place left in a row, column or box
	techLocked                        // locked candidates: pointing and claiming
	techSubset                        // naked and hidden pairs and triples
	techBeyond                        // none of the above gets any further
)

// grader solves like a person, with the easiest technique that makes
// progress, and records the hardest one it needed. Every technique here is
// sound without assuming uniqueness, so a grid it fills is uniquely solvable.
type grader struct {
	g      *geometry
	val    [maxCells]uint8
	cand   [maxCells]uint16 // 0 for filled cells
	left   int
	broken bool // an empty cell or a unit ran out of candidates
}

// reset loads cells (which must have a valid size) into the grader.
func (gr *grader) reset(g *geometry, cells []uint8) {
	gr.g, gr.left, gr.broken = g, 0, false
	var used [3 * maxSize]uint16
	for c := 0; c < g.cells; c++ {
		d := cells[c]
		gr.val[c] = d
		if d != 0 {
			bit := uint16(1) << (d - 1)
			used[g.row[c]] |= bit
			used[g.n+int(g.col[c])] |= bit
			used[2*g.n+int(g.box[c])] |= bit
		}
	}
	for c := 0; c < g.cells; c++ {
		if gr.val[c] != 0 {
			gr.cand[c] = 0
			continue
		}
		gr.left++
		m := g.full &^ (used[g.row[c]] | used[g.n+int(g.col[c])] | used[2*g.n+int(g.box[c])])
		gr.cand[c] = m
		if m == 0 {
			gr.broken = true
		}
	}
}

func (gr *grader) place(c int, bit uint16) {
	g := gr.g
	gr.val[c] = uint8(bits.TrailingZeros16(bit)) + 1
	gr.cand[c] = 0
	gr.left--
	for _, p := range g.peers[c][:g.npeers] {
		if gr.cand[p]&bit != 0 {
			gr.cand[p] &^= bit
			if gr.cand[p] == 0 {
				gr.broken = true
			}
		}
	}
}

// run solves with techniques up to max and returns the hardest one used, or
// techBeyond when it gets stuck.
func (gr *grader) run(max technique) technique {
	used := techNone
	for gr.left > 0 {
		if gr.broken {
			return techBeyond
		}
		var t technique
		switch {
		case gr.nakedSingles():
			t = techNakedSingle
		case max >= techHiddenSingle && gr.hiddenSingles():
			t = techHiddenSingle
		case max >= techLocked && gr.lockedCandidates():
			t = techLocked
		case max >= techSubset && gr.subsets():
			t = techSubset
		default:
			return techBeyond
		}
		used = maxTech(used, t)
	}
	if gr.broken {
		return techBeyond
	}
	return used
}

func maxTech(a, b technique) technique {
	if a > b {
		return a
	}
	return b
}

// grade returns the hardest technique up to max that solving cells needs, or
// techBeyond.
func grade(g *geometry, cells []uint8, max technique) technique {
	var gr grader
	gr.reset(g, cells)
	return gr.run(max)
}

func (gr *grader) nakedSingles() bool {
	any := false
	for c := 0; c < gr.g.cells; c++ {
		if m := gr.cand[c]; m != 0 && m&(m-1) == 0 {
			gr.place(c, m)
			any = true
		}
	}
	return any
}

func (gr *grader) hiddenSingles() bool {
	g := gr.g
	any := false
	for u := 0; u < 3*g.n; u++ {
		cells := g.units[u][:g.n]
		var once, twice, placed uint16
		for _, c := range cells {
			if d := gr.val[c]; d != 0 {
				placed |= 1 << (d - 1)
				continue
			}
			m := gr.cand[c]
			twice |= once & m
			once |= m
		}
		if once|placed != g.full {
			gr.broken = true
			return false
		}
		h := once &^ twice
		for h != 0 {
			bit := h & -h
			h &^= bit
			for _, c := range cells {
				if gr.cand[c]&bit != 0 {
					gr.place(int(c), bit)
					any = true
					break
				}
			}
		}
	}
	return any
}

// lockedCandidates eliminates a digit from a line when a box's candidates for
// it lie on that line (pointing), and from a box when a line's candidates for
// it lie in that box (claiming).
func (gr *grader) lockedCandidates() bool {
	g := gr.g
	n := g.n
	changed := false
	for u := 0; u < 3*n; u++ {
		cells := g.units[u][:n]
		for d := 0; d < n; d++ {
			bit := uint16(1) << d
			// Where in the other kinds of unit do this unit's candidates lie?
			first := -1
			sameRow, sameCol, sameBox := true, true, true
			for _, c := range cells {
				if gr.cand[c]&bit == 0 {
					continue
				}
				if first < 0 {
					first = int(c)
					continue
				}
				sameRow = sameRow && g.row[c] == g.row[first]
				sameCol = sameCol && g.col[c] == g.col[first]
				sameBox = sameBox && g.box[c] == g.box[first]
			}
			if first < 0 {
				continue
			}
			var targets [2]int
			nt := 0
			if u >= 2*n { // a box pointing along a line
				if sameRow {
					targets[nt] = int(g.row[first])
					nt++
				}
				if sameCol {
					targets[nt] = n + int(g.col[first])
					nt++
				}
			} else if sameBox { // a line claiming a box
				targets[nt] = 2*n + int(g.box[first])
				nt++
			}
			for _, t := range targets[:nt] {
				for _, c := range g.units[t][:n] {
					if gr.cand[c]&bit == 0 || inUnit(g, int(c), u) {
						continue
					}
					gr.cand[c] &^= bit
					if gr.cand[c] == 0 {
						gr.broken = true
					}
					changed = true
				}
			}
		}
	}
	return changed
}

// inUnit reports whether cell c belongs to unit u.
func inUnit(g *geometry, c, u int) bool {
	switch {
	case u < g.n:
		return int(g.row[c]) == u
	case u < 2*g.n:
		return int(g.col[c]) == u-g.n
	}
	return int(g.box[c]) == u-2*g.n
}

// subsets applies naked and hidden pairs and triples.
func (gr *grader) subsets() bool {
	g := gr.g
	n := g.n
	changed := false
	for u := 0; u < 3*n; u++ {
		cells := g.units[u][:n]
		// Naked: k cells whose candidates together are k digits.
		var empty [maxSize]int
		ne := 0
		for _, c := range cells {
			if gr.cand[c] != 0 {
				empty[ne] = int(c)
				ne++
			}
		}
		for k := 2; k <= 3; k++ {
			if ne <= k {
				continue
			}
			forSubsets(ne, k, func(idx []int) bool {
				var m uint16
				for _, i := range idx {
					m |= gr.cand[empty[i]]
				}
				if bits.OnesCount16(m) != k {
					return false
				}
				for j := 0; j < ne; j++ {
					if contains(idx, j) {
						continue
					}
					c := empty[j]
					if gr.cand[c]&m != 0 {
						gr.cand[c] &^= m
						if gr.cand[c] == 0 {
							gr.broken = true
						}
						changed = true
					}
				}
				return false
			})
		}
		// Hidden: k digits whose places together are k cells.
		var pos [maxSize]uint16 // per digit: bit i = empty[i] holds it
		var digits [maxSize]int
		nd := 0
		for d := 0; d < n; d++ {
			var p uint16
			for i := 0; i < ne; i++ {
				if gr.cand[empty[i]]&(1<<d) != 0 {
					p |= 1 << i
				}
			}
			if p != 0 {
				pos[d] = p
				digits[nd] = d
				nd++
			}
		}
		for k := 2; k <= 3; k++ {
			if nd <= k {
				continue
			}
			forSubsets(nd, k, func(idx []int) bool {
				var places, keep uint16
				for _, i := range idx {
					places |= pos[digits[i]]
					keep |= 1 << digits[i]
				}
				if bits.OnesCount16(places) != k {
					return false
				}
				for p := places; p != 0; p &= p - 1 {
					c := empty[bits.TrailingZeros16(p)]
					if gr.cand[c]&^keep != 0 {
						gr.cand[c] &= keep
						changed = true
					}
				}
				return false
			})
		}
	}
	return changed
}

// forSubsets calls f with every k-subset of [0, n) in lexicographic order
// until f returns true.
func forSubsets(n, k int, f func([]int) bool) {
	var idx [3]int
	s := idx[:k]
	for i := range s {
		s[i] = i
	}
	for {
		if f(s) {
			return
		}
		i := k - 1
		for i >= 0 && s[i] == n-k+i {
			i--
		}
		if i < 0 {
			return
		}
		s[i]++
		for j := i + 1; j < k; j++ {
			s[j] = s[j-1] + 1
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
