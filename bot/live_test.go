package bot

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// While bots play, every acknowledgement and every room that comes whole
// (a reconnect) is in the running tally: a right placement that the new
// primary's room does not hold counts as lost at once, and once only.
func TestProgressCountsAcksAndLosses(t *testing.T) {
	var got []Progress
	tl := newTally(func(p Progress) { got = append(got, p) })
	c := &fakeConn{}
	p := &botPlayer{
		o: &Options{Room: game.MainRoom, Logger: slog.New(slog.DiscardHandler)}, t: tl, name: "b1", c: c,
		inflight:    map[uint64]sentCmd{7: {cmd: game.Place{Row: 0, Col: 1, Digit: 5}, round: 1, room: game.MainRoom}},
		rightPlaced: map[cellKey]placed{}, rolled: map[string]bool{}, chatSent: map[string]bool{}, chatSeen: map[string]uint64{},
	}
	board := make([]game.CellView, 16)
	c.room = game.RoomView{Name: game.MainRoom, Round: 1, Puzzle: game.PuzzleView{Size: 4}, Board: board,
		Scores: []game.ScoreView{{Name: "b1", Right: 1}}}
	at := time.Unix(100, 0)
	st := client.Status{State: client.Connected, Node: 3}
	c.events = []client.Event{
		client.Answered{EventInfo: client.EventInfo{Time: at, Status: st}, Ack: client.Ack{Seq: 7, Cmd: game.Place{Row: 0, Col: 1, Digit: 5}, Index: 12}},
		client.Answered{EventInfo: client.EventInfo{Time: at, Status: st}, Ack: client.Ack{Seq: 99}}, // not this bot's
		client.RoomChanged{Replaced: true}, // the new primary's room: r1c2 is empty
		client.RoomChanged{Replaced: true}, // and again
	}
	p.drain()
	if len(got) != 3 {
		t.Fatalf("%d progress reports, want 3 (an ack, two checks): %+v", len(got), got)
	}
	if a := got[0]; a.Acked != 1 || a.Node != 3 || !a.At.Equal(at) || a.Lost != 0 {
		t.Errorf("after the ack: %+v", a)
	}
	if l := got[2]; l.Lost != 1 || l.Checks != 2 {
		t.Errorf("after two checks of a room without the move: %+v, want lost 1 after 2 checks", l)
	}

	// A room that holds it: nothing lost.
	got = nil
	tl2 := newTally(func(p Progress) { got = append(got, p) })
	p.t = tl2
	board[1] = game.CellView{Digit: 5, Owner: "b1"}
	c.events = []client.Event{client.RoomChanged{Replaced: true}}
	p.drain()
	if len(got) != 1 || got[0].Lost != 0 {
		t.Errorf("a room with the move: %+v, want lost 0", got)
	}
}

// hurryConn is a fakeConn that can notify and takes commands.
type hurryConn struct {
	fakeConn
	notify chan struct{}
	mu     sync.Mutex
	sent   []game.Command
}

func (h *hurryConn) Notify() <-chan struct{} { return h.notify }

func (h *hurryConn) Send(cmd game.Command) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, cmd)
	return uint64(len(h.sent))
}

func (h *hurryConn) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent)
}

// With MoveOnFailover, a bot whose next tick is far off moves as soon as
// it sees its primary lost (with a chat line between rounds, when there is
// no move to make); without, it waits for its tick.
func TestMoveOnFailover(t *testing.T) {
	for _, tc := range []struct{ on, over bool }{{true, false}, {true, true}, {false, false}} {
		on := tc.on
		c := &hurryConn{notify: make(chan struct{}, 1)}
		c.room = game.RoomView{Name: game.MainRoom, Round: 1, Puzzle: game.PuzzleView{Size: 4, BoxRows: 2, BoxCols: 2, Givens: make([]uint8, 16)},
			Board: make([]game.CellView, 16)}
		if tc.over {
			c.room.State = game.RoundOver
		}
		p := &botPlayer{
			o:   &Options{Room: game.MainRoom, Rate: 0.01, MoveOnFailover: on, Logger: slog.New(slog.DiscardHandler)},
			rng: rand.New(rand.NewPCG(1, 2)), name: "b1", c: c, solved: map[string][]uint8{},
			inflight: map[uint64]sentCmd{}, rightPlaced: map[cellKey]placed{}, rolled: map[string]bool{},
			chatSent: map[string]bool{}, chatSeen: map[string]uint64{}, lastState: client.Connected,
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.play(ctx)
		}()
		c.mu.Lock()
		c.events = append(c.events, client.StatusChanged{EventInfo: client.EventInfo{Status: client.Status{State: client.Failover, Lost: 3}}})
		c.mu.Unlock()
		// The second notice is taken only once the loop is back from the
		// first: what the first made it send is sent by then.
		deadline := time.Now().Add(5 * time.Second)
		for range 2 {
			c.notify <- struct{}{}
			for len(c.notify) > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		cancel()
		<-done
		if got := c.count(); (got == 1) != on || got > 1 {
			t.Errorf("MoveOnFailover %v, round over %v: %d commands sent after the primary was lost", on, tc.over, got)
		} else if tc.over {
			if _, chat := c.sent[0].(game.Chat); !chat {
				t.Errorf("between rounds the bot sent %#v, want a chat line", c.sent[0])
			}
		}
	}
}
