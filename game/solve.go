package game

import (
	"math/bits"
	"math/rand/v2"
)

// pboard is a search node: candidate bits per cell (a solved cell keeps just
// its digit's bit) and the digits placed so far.
type pboard struct {
	cand [maxCells]uint16
	val  [maxCells]uint8
	left int
}

// solver counts solutions by constraint propagation (naked and hidden singles)
// and depth-first search on the cell with the fewest candidates.
type solver struct {
	g     *geometry
	limit int
	count int
	first [maxCells]uint8 // the first solution found
	rng   *rand.Rand      // when set, candidates are tried in random order
	stack [maxCells*2 + 2]uint8
}

// CountSolutions returns the number of solutions of grid (row-major,
// size*size, 0 = empty), counting no further than limit. A grid is uniquely
// solvable exactly when CountSolutions(size, grid, 2) == 1. An unsupported
// size, a grid of the wrong length, a digit out of range or givens that break
// the rules give 0.
func CountSolutions(size uint8, grid []uint8, limit int) int {
	if limit <= 0 {
		return 0
	}
	s, b, ok := newSolver(size, grid)
	if !ok {
		return 0
	}
	s.limit = limit
	s.search(b)
	return s.count
}

// Solve returns a solution of grid (the first found; see CountSolutions for
// uniqueness) and true, or nil and false when it has none or is malformed.
func Solve(size uint8, grid []uint8) ([]uint8, bool) {
	s, b, ok := newSolver(size, grid)
	if !ok {
		return nil, false
	}
	s.limit = 1
	s.search(b)
	if s.count == 0 {
		return nil, false
	}
	return append([]uint8(nil), s.first[:s.g.cells]...), true
}

// newSolver checks grid and propagates its givens.
func newSolver(size uint8, grid []uint8) (*solver, *pboard, bool) {
	g := geometryOf(size)
	if g == nil || len(grid) != g.cells {
		return nil, nil, false
	}
	s := &solver{g: g}
	b := s.emptyBoard()
	for c, d := range grid {
		if d == 0 {
			continue
		}
		if int(d) > g.n || !s.assign(b, c, 1<<(d-1)) {
			return nil, nil, false
		}
	}
	return s, b, true
}

func (s *solver) emptyBoard() *pboard {
	b := &pboard{left: s.g.cells}
	for c := 0; c < s.g.cells; c++ {
		b.cand[c] = s.g.full
	}
	return b
}

// assign places bit at cell c and propagates naked singles. It reports false
// on a contradiction.
func (s *solver) assign(b *pboard, c int, bit uint16) bool {
	g := s.g
	s.stack[0], s.stack[1] = uint8(c), uint8(bits.TrailingZeros16(bit))
	sp := 2
	for sp > 0 {
		sp -= 2
		c, d := int(s.stack[sp]), s.stack[sp+1]
		bit := uint16(1) << d
		if b.val[c] != 0 {
			if b.val[c] != d+1 {
				return false
			}
			continue
		}
		if b.cand[c]&bit == 0 {
			return false
		}
		b.cand[c] = bit
		b.val[c] = d + 1
		b.left--
		for _, p := range g.peers[c][:g.npeers] {
			m := b.cand[p]
			if m&bit == 0 {
				continue
			}
			if b.val[p] != 0 {
				return false
			}
			m &^= bit
			if m == 0 {
				return false
			}
			b.cand[p] = m
			if m&(m-1) == 0 {
				if sp+2 > len(s.stack) {
					return false // cannot happen: each cell is queued at most once per bit
				}
				s.stack[sp], s.stack[sp+1] = p, uint8(bits.TrailingZeros16(m))
				sp += 2
			}
		}
	}
	return true
}

// hiddenSingles places every digit that has one place left in a unit, until
// none is left. It reports false on a contradiction.
func (s *solver) hiddenSingles(b *pboard) bool {
	g := s.g
	for changed := true; changed; {
		changed = false
		for u := 0; u < 3*g.n; u++ {
			cells := g.units[u][:g.n]
			var once, twice, solved uint16
			for _, c := range cells {
				m := b.cand[c]
				if b.val[c] != 0 {
					solved |= m
				}
				twice |= once & m
				once |= m
			}
			if once != g.full {
				return false
			}
			h := once &^ twice &^ solved
			for h != 0 {
				bit := h & -h
				h &^= bit
				for _, c := range cells {
					if b.cand[c]&bit != 0 {
						if !s.assign(b, int(c), bit) {
							return false
						}
						break
					}
				}
				changed = true
			}
		}
	}
	return true
}

// search explores b (which it may change) and counts solutions up to limit.
func (s *solver) search(b *pboard) {
	if !s.hiddenSingles(b) {
		return
	}
	if b.left == 0 {
		if s.count == 0 {
			s.first = b.val
		}
		s.count++
		return
	}
	g := s.g
	best, bestN := -1, 99
	for c := 0; c < g.cells; c++ {
		if b.val[c] != 0 {
			continue
		}
		if n := bits.OnesCount16(b.cand[c]); n < bestN {
			best, bestN = c, n
			if n == 2 {
				break
			}
		}
	}
	m := b.cand[best]
	var order [maxSize]uint16
	k := 0
	for m != 0 {
		bit := m & -m
		m &^= bit
		order[k] = bit
		k++
	}
	if s.rng != nil {
		shuffle(s.rng, order[:k])
	}
	for _, bit := range order[:k] {
		nb := *b
		if s.assign(&nb, best, bit) {
			s.search(&nb)
			if s.count >= s.limit {
				return
			}
		}
	}
}

// randomGrid returns a random complete grid of g's size.
func randomGrid(g *geometry, r *rand.Rand) []uint8 {
	s := &solver{g: g, limit: 1, rng: r}
	b := s.emptyBoard()
	// A random first row removes most of the search's bias to small digits.
	var row [maxSize]uint8
	for i := 0; i < g.n; i++ {
		row[i] = uint8(i)
	}
	shuffle(r, row[:g.n])
	for c := 0; c < g.n; c++ {
		s.assign(b, c, 1<<row[c])
	}
	s.search(b)
	return append([]uint8(nil), s.first[:g.cells]...)
}

// randN returns a number in [0, n). It uses only the generator's raw output so
// that the sequence is fixed whatever the Go release.
func randN(r *rand.Rand, n int) int {
	return int(r.Uint64() % uint64(n))
}

// shuffle permutes xs (Fisher–Yates) with randN.
func shuffle[T any](r *rand.Rand, xs []T) {
	for i := len(xs) - 1; i > 0; i-- {
		j := randN(r, i+1)
		xs[i], xs[j] = xs[j], xs[i]
	}
}
