package game

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// pcgStream is the second PCG word for every generator made from a seed.
const pcgStream = 0x6772_6964_6c6f_636b // "gridlock"

// maxAttempts bounds the fresh grids one puzzle may take (see difficulty.go).
const maxAttempts = 400

// ErrUnsupported is returned (wrapped) for a size or difficulty that Generate
// does not know.
var ErrUnsupported = errors.New("unsupported puzzle")

// Generate returns a new puzzle of size (4, 6 or 9) and difficulty whose seed
// is drawn from r; the same seed with GenerateSeed gives the same puzzle.
func Generate(r *rand.Rand, size uint8, d Difficulty) (*Puzzle, error) {
	return GenerateSeed(size, d, r.Uint64())
}

// PuzzleSource gives rooms their puzzles: it must return what GenerateSeed
// returns for the same arguments, a puzzle the caller may keep.
type PuzzleSource func(size uint8, d Difficulty, seed uint64) (*Puzzle, error)

// source is where every State in the process takes its puzzles.
var source PuzzleSource = GenerateSeed

// UsePuzzleSource makes f the source of every State's puzzles in this
// process, for a runtime that generates them ahead of the round that deals
// them (see State.NextPuzzle). Call it before any State exists, from an
// init function: it is not synchronised.
func UsePuzzleSource(f PuzzleSource) { source = f }

// NextPuzzle says which puzzle room's next round will deal, once its round
// is over: generating it during the countdown spares the entry that starts
// the round (on every replica) the generation's 2–25 ms of a hard 9×9.
func (s *State) NextPuzzle(room string) (size uint8, d Difficulty, seed uint64, ok bool) {
	rm := s.room(room)
	if rm == nil || !rm.over {
		return 0, 0, 0, false
	}
	return rm.size, rm.diff, PuzzleSeed(s.seed, rm.name, rm.serial, rm.round+1), true
}

// RoomPuzzle says which puzzle c would deal if it were applied after ahead
// more rooms' creations, and false if it would fail now. The primary makes
// that puzzle off its loop and proposes c with it as Dealt.
func (s *State) RoomPuzzle(c CreateRoom, ahead uint64) (size uint8, d Difficulty, seed uint64, ok bool) {
	name, refused := s.roomRefused(c)
	if refused != nil {
		return 0, 0, 0, false
	}
	return c.Size, c.Difficulty, PuzzleSeed(s.seed, name, s.serial+1+ahead, 1), true
}

// dealtSpread is how far the serial a puzzle was dealt for may be from the
// room's own. The primary guesses it before the creations ahead of the
// entry are applied, and a guess is off by those it did not count (or
// counted but were refused). A guess is above every serial applied when it
// is made, so a room made again under an old name still gets a puzzle that
// the earlier rooms of that name did not have.
const dealtSpread = 32

// dealtFor returns a copy of p if p is a consistent puzzle of size and
// difficulty, dealt for the room name created near serial; nil otherwise.
func (p *Puzzle) dealtFor(clusterSeed uint64, name string, serial uint64, size uint8, d Difficulty) *Puzzle {
	if p == nil || p.Size != size || p.Difficulty != d || p.Check() != nil {
		return nil
	}
	named := splitmix64(clusterSeed ^ fnv64a(name))
	for j := max(serial, dealtSpread+1) - dealtSpread; j <= serial+dealtSpread; j++ {
		if roundSeed(named, j, 1) == p.Seed {
			q := *p
			q.Givens, q.Solution = slices.Clone(p.Givens), slices.Clone(p.Solution)
			return &q
		}
	}
	return nil
}

// GenerateSeed returns the puzzle of size, difficulty and seed: the same
// arguments give the same puzzle on every machine and Go release. The puzzle
// has exactly one solution. It fails only for an unsupported size or
// difficulty.
func GenerateSeed(size uint8, d Difficulty, seed uint64) (*Puzzle, error) {
	g := geometryOf(size)
	if g == nil {
		return nil, fmt.Errorf("%w: size %d (sizes are 4, 6 and 9)", ErrUnsupported, size)
	}
	if d > Expert {
		return nil, fmt.Errorf("%w: difficulty %d", ErrUnsupported, d)
	}
	spec := specFor(size, d)
	r := rand.New(rand.NewPCG(seed, pcgStream))
	var givens, solution []uint8
	for attempt := 0; ; attempt++ {
		var ok bool
		givens, solution, ok = spec.attempt(g, r)
		if ok || attempt+1 == maxAttempts {
			break
		}
	}
	return &Puzzle{
		Size:       size,
		BoxRows:    uint8(g.br),
		BoxCols:    uint8(g.bc),
		Difficulty: d,
		Seed:       seed,
		Givens:     givens,
		Solution:   solution,
	}, nil
}

// attempt makes a full grid and takes givens away in 180°-symmetric pairs,
// keeping each removal that leaves the puzzle within the spec, then says
// whether the result meets the spec.
func (s genSpec) attempt(g *geometry, r *rand.Rand) (givens, solution []uint8, ok bool) {
	solution = randomGrid(g, r)
	givens = append([]uint8(nil), solution...)
	var order [maxCells]uint8
	n := 0
	for c := 0; c < g.cells; c++ {
		if c <= g.cells-1-c {
			order[n] = uint8(c)
			n++
		}
	}
	shuffle(r, order[:n])
	count := g.cells
	for _, c8 := range order[:n] {
		c, p := int(c8), g.cells-1-int(c8)
		k := 2
		if c == p {
			k = 1
		}
		if count-k < s.minGivens {
			continue
		}
		givens[c], givens[p] = 0, 0
		// Singles are the cheapest proof of uniqueness; the search rules
		// out most removals before the slower techniques are tried.
		keep := grade(g, givens, min(s.maxTech, techHiddenSingle)) != techBeyond
		if !keep && s.maxTech > techHiddenSingle {
			keep = CountSolutions(uint8(g.n), givens, 2) == 1 &&
				(s.maxTech == techBeyond || grade(g, givens, s.maxTech) != techBeyond)
		}
		if keep {
			count -= k
		} else {
			givens[c], givens[p] = solution[c], solution[p]
		}
	}
	if s.maxGivens > 0 && count > s.maxGivens {
		return givens, solution, false
	}
	return givens, solution, grade(g, givens, techSubset) >= s.needTech
}
