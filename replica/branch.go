package replica

import "github.com/gridlock-game/gridlock/wire"

// pickBest chooses the log a new primary keeps. A log that contains
// another wins over it. Between logs that part ways: the branch that holds
// committed entries past the parting wins (in a run without partitions only
// one can); if both do, a partition let two primaries commit, and the branch
// that held more nodes wins; then the branch with the newer epoch, the
// longer log, the higher id.
//
// beats weighs whole branches (every log on one, not just the two it
// compares), so that it ranks the logs as the branches do at each fork, and
// the order it meets them in does not matter. Breaking a tie by each log's
// own last epoch did not: A tied at their fork with B and C (which part
// later), beat B on its newer epoch and lost to C on C's, though B held more
// nodes than C past their fork: C was kept (seed 1037793).
func pickBest(cs []candidate) candidate {
	best := cs[0]
	for _, x := range cs[1:] {
		if beats(x, best, cs) {
			best = x
		}
	}
	return best
}

func beats(x, y candidate, all []candidate) bool {
	d := common(x.shape, y.shape)
	switch {
	case d == x.shape.last && d == y.shape.last:
		return x.commit > y.commit || (x.commit == y.commit && x.id > y.id)
	case d == y.shape.last:
		return true
	case d == x.shape.last:
		return false
	}
	cx, sx, ex := branchWeight(x, d, all)
	cy, sy, ey := branchWeight(y, d, all)
	if cx != cy {
		return cx
	}
	if sx != sy && !mutant("nobranchweight") {
		return sx > sy
	}
	if ex != ey {
		return ex.After(ey)
	}
	if x.shape.last != y.shape.last {
		return x.shape.last > y.shape.last
	}
	return x.id > y.id
}

// branchWeight says whether the branch of x past index d holds committed
// entries, and the most nodes that a primary of the branch held in its view
// when it took office there. (A primary takes office anew whenever its view
// shrinks, so an epoch's support is the view that committed its entries.)
// newest is the epoch of the newest last entry among the branch's logs.
func branchWeight(x candidate, d uint64, all []candidate) (committed bool, support uint8, newest wire.Epoch) {
	e := x.shape.epochAt(d + 1)
	for _, z := range all {
		if z.shape.last <= d || z.shape.epochAt(d+1) != e {
			continue // not on this branch
		}
		if last := z.shape.epochAt(z.shape.last); last.After(newest) {
			newest = last
		}
		if z.commit <= d {
			continue
		}
		committed = true
		// The epochs of z's entries in (d, z.commit].
		for k, r := range z.shape.history {
			ends := z.shape.last
			if k+1 < len(z.shape.history) {
				ends = z.shape.history[k+1].Index - 1
			}
			if r.Index <= z.commit && ends > d && r.Committed > d {
				support = max(support, r.Support)
			}
		}
	}
	return committed, support, newest
}
