package bot

import (
	"context"
	"sync"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Progress is the bots' running tally, for a live display.
type Progress struct {
	Acked int // commands acknowledged so far
	// Lost counts acknowledged moves and chat lines found missing so far.
	// While the bots play, each checks its room whenever it comes whole
	// from a primary (at every reconnect, so after every failover) against
	// what it had been told; the last call gives the final check's count.
	Lost   int
	Checks int         // rooms checked so far
	Node   wire.NodeID // the node that answered the latest acknowledgement
	At     time.Time   // when it came
	Final  bool        // play is over and this is the final check's count
}

// tally adds up what every bot saw and tells Options.Progress.
type tally struct {
	mu     sync.Mutex
	p      Progress
	lost   map[*botPlayer]int // each bot's count at its last check
	report func(Progress)
}

func newTally(report func(Progress)) *tally {
	return &tally{lost: map[*botPlayer]int{}, report: report}
}

func (t *tally) acked(node wire.NodeID, at time.Time) {
	if t == nil || t.report == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.Acked++
	t.p.Node, t.p.At = node, at
	t.report(t.p)
}

// checked notes what one bot's check found. A loss stays in the count once
// seen: a later check that finds the move again (it cannot, with a correct
// cluster) does not hide it.
func (t *tally) checked(p *botPlayer, lost int) {
	if t == nil || t.report == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if lost > t.lost[p] {
		t.p.Lost += lost - t.lost[p]
		t.lost[p] = lost
	}
	t.p.Checks++
	t.report(t.p)
}

// final reports the final check's count.
func (t *tally) final(lost int) {
	if t == nil || t.report == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.Lost = max(t.p.Lost, lost)
	t.p.Final = true
	t.report(t.p)
}

// checkNow checks a room that came whole from a primary against what this
// bot had acknowledged before it (with p.mu held): every right placement
// of its round on the board, every one of all rounds in the score table.
// (Chat is checked at the end only: it needs every bot's lines at once.)
func (p *botPlayer) checkNow(room *game.RoomView) {
	if room.Name != p.o.Room {
		return
	}
	lost, problems := p.check(*room)
	for _, pr := range problems {
		p.o.Logger.Warn("bots: an acknowledged move is missing", "problem", pr)
	}
	p.t.checked(p, lost)
}

// leaveAll closes every bot's session at once, as a player who quits does,
// so that a next run with the same names gets them at once.
func leaveAll(players []*botPlayer) {
	var wg sync.WaitGroup
	for _, p := range players {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.c.Leave(context.Background())
		}()
	}
	wg.Wait()
}

// takeHurry reports (once) that the bot saw its primary lost and should
// move at once (Options.MoveOnFailover).
func (p *botPlayer) takeHurry() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hurry
	p.hurry = false
	return h
}
