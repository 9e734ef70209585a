package replica

import (
	"slices"
	"testing"

	"github.com/gridlock-game/gridlock/wire"
)

// TestPickBestWeighsForkByFork is seed 1037793's view change: n6's branch
// parts at 115 from n2, n4 and n5's, whose two twigs part at 275. At 115
// the two branches tie (3 nodes each); past 275, n2 and n4's twig held 2
// nodes and n5's 1. Weighed in turn, n6 beat n2 and n4 on its newer epoch
// and lost to n5 on n5's: n5's twig was kept over the heavier one.
func TestPickBestWeighsForkByFork(t *testing.T) {
	rec := func(term uint64, node wire.NodeID, at uint64, support uint8, committed uint64) wire.EpochStart {
		return wire.EpochStart{Epoch: wire.MakeEpoch(term, node), Index: at, Support: support, Committed: committed}
	}
	base := []wire.EpochStart{rec(1, 6, 1, 6, 70)}
	mine := append(slices.Clone(base), rec(2, 5, 72, 5, 114), rec(3, 3, 116, 3, 117), rec(4, 6, 118, 3, 125), rec(5, 6, 127, 1, 135))
	theirs := append(slices.Clone(base), rec(2, 5, 72, 5, 115), rec(3, 5, 119, 3, 275))
	heavy := append(slices.Clone(theirs), rec(4, 4, 276, 2, 276))
	light := append(slices.Clone(theirs), rec(6, 5, 276, 1, 288))
	cand := func(id wire.NodeID, h []wire.EpochStart, last uint64) candidate {
		return candidate{id: id, shape: logShape{history: h, last: last}, commit: last}
	}
	cs := []candidate{cand(6, mine, 135), cand(1, mine[:4], 125), cand(2, heavy, 276), cand(3, mine[:4], 125), cand(4, heavy, 276), cand(5, light, 288)}
	for range 2 {
		if got := pickBest(cs); got.id != 4 {
			t.Errorf("kept n%d's log (last %d); want n4's: its twig held 2 nodes past 275, n5's 1, and its branch (with n5's) ties n6's at 115 and holds the newest epoch", got.id, got.shape.last)
		}
		slices.Reverse(cs) // the order the answers came in does not matter
	}
}
