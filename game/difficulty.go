package game

import (
	"fmt"
	"strings"
)

// What the levels mean. A puzzle is graded by solving it as a person would,
// always with the easiest technique that makes progress:
//
//	naked single   a cell with one candidate left
//	hidden single  a digit with one place left in a row, column or box
//	locked         locked candidates (pointing and claiming)
//	subsets        naked and hidden pairs and triples
//
// 9×9:
//
//	easy    naked singles alone solve it; 36 or 37 givens
//	medium  needs hidden singles, singles solve it; 30 or 31 givens
//	hard    needs locked candidates or subsets, and they solve it; 24 givens
//	        or more (as few as those techniques allow: mostly 26 to 30)
//	expert  all of the above get stuck: it takes fish, chains or trial and
//	        error; minimal (no given can go), mostly 26 to 28 givens
//
// 6×6 (locked candidates and subsets are rarely needed on this size, so the
// levels shift down):
//
//	easy    naked singles alone; 20 givens
//	medium  needs hidden singles; 14 or 15 givens
//	hard    needs hidden singles; minimal, mostly 10 to 12 givens
//	expert  singles get stuck (nearly always subsets do too); minimal, mostly
//	        10 to 12 givens
//
// 4×4 (naked singles solve every 4×4 puzzle, so only the number of givens
// differs):
//
//	easy 10 givens, medium 8, hard 6, expert minimal (4, sometimes 6)
//
// Generation fills a random grid from the seed, then takes givens away in
// 180°-symmetric pairs in random order, keeping each removal after which the
// puzzle is still uniquely solvable, still within the level's techniques and
// not below its givens. A result that misses the level is dropped and a new
// grid is drawn from the same random stream. After maxAttempts grids (never
// reached in the tests; the rarest level, 6×6 medium, succeeds about one try
// in twenty) the last candidate is kept: still with exactly one solution.

// genSpec is what generation aims at for one size and level.
type genSpec struct {
	maxTech   technique // every removal must keep it solvable with these; techBeyond: any unique puzzle
	needTech  technique // the result must need at least this
	minGivens int       // never go below
	maxGivens int       // the result must not have more (0: no bound)
}

func specFor(size uint8, d Difficulty) genSpec {
	switch size {
	case 4:
		return [...]genSpec{
			Easy:   {techNakedSingle, techNone, 10, 11},
			Medium: {techNakedSingle, techNone, 8, 9},
			Hard:   {techNakedSingle, techNone, 6, 7},
			Expert: {techBeyond, techNone, 0, 0},
		}[d]
	case 6:
		return [...]genSpec{
			Easy:   {techNakedSingle, techNone, 20, 21},
			Medium: {techHiddenSingle, techHiddenSingle, 14, 15},
			Hard:   {techHiddenSingle, techHiddenSingle, 0, 0},
			Expert: {techBeyond, techLocked, 0, 0},
		}[d]
	}
	return [...]genSpec{
		Easy:   {techNakedSingle, techNone, 36, 37},
		Medium: {techHiddenSingle, techHiddenSingle, 30, 31},
		Hard:   {techSubset, techLocked, 24, 0},
		Expert: {techBeyond, techBeyond, 0, 0},
	}[d]
}

var difficultyNames = [...]string{Easy: "easy", Medium: "medium", Hard: "hard", Expert: "expert"}

// String returns "easy", "medium", "hard" or "expert".
func (d Difficulty) String() string {
	if int(d) < len(difficultyNames) {
		return difficultyNames[d]
	}
	return fmt.Sprintf("difficulty(%d)", uint8(d))
}

// ParseDifficulty reads a level's name, in any case.
func ParseDifficulty(s string) (Difficulty, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, name := range difficultyNames {
		if t == name {
			return Difficulty(i), nil
		}
	}
	return 0, fmt.Errorf("unknown difficulty %q (easy, medium, hard or expert)", s)
}

// MarshalText makes JSON and other text encodings use the level's name. An
// unknown level encodes as String gives it (and does not decode).
func (d Difficulty) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText reads a level's name.
func (d *Difficulty) UnmarshalText(b []byte) error {
	v, err := ParseDifficulty(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
