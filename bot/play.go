package bot

import (
	"context"
	"time"

	"github.com/gridlock-game/gridlock/game"
)

// play sends commands until ctx ends.
func (p *botPlayer) play(ctx context.Context) {
	var tick *time.Ticker
	var every time.Duration
	if p.o.Rate > 0 {
		// Players are not in step: each has its first tick at a point of
		// the interval of its own, or all of them would send in the same
		// millisecond, every time.
		every = max(time.Duration(float64(time.Second)/p.o.Rate), 1) // over 1e9 a second: 0
		tick = time.NewTicker(time.Duration(1 + p.rng.Int64N(int64(every))))
		defer tick.Stop()
	}
	started := false
	for ctx.Err() == nil {
		if tick != nil {
			hurried := false
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !started {
					started = true
					tick.Reset(every)
				}
				p.takeHurry() // this move is the one
			case <-p.c.Notify():
				p.drain()
				if hurried = p.takeHurry(); !hurried {
					continue
				}
			}
			p.drain()
			cmd, inRoom := p.next()
			if cmd == nil && inRoom && (p.o.Steady || hurried) {
				cmd = p.chatLine()
			}
			if cmd != nil {
				p.send(cmd)
			}
			continue
		}
		// Closed loop: Window commands in flight, as fast as answered, the
		// free places filled in one write; with no move to make (the round
		// is over, every free cell is claimed) a chat line.
		var cmds []game.Command
		for range max(1, p.o.Window) - p.inFlight() {
			cmd, inRoom := p.next()
			if cmd == nil && inRoom {
				cmd = p.chatLine()
			}
			if cmd == nil {
				break
			}
			cmds = append(cmds, cmd)
		}
		if len(cmds) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.c.Notify():
				p.drain()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		p.sendAll(cmds)
		for ctx.Err() == nil && p.inFlight() >= max(1, p.o.Window) {
			select {
			case <-ctx.Done():
			case <-p.c.Notify():
				p.drain()
			}
		}
	}
}

func (p *botPlayer) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inflight)
}

func (p *botPlayer) send(cmd game.Command) uint64 {
	return p.sendAll([]game.Command{cmd})[0]
}

// sendAll sends commands in one write.
func (p *botPlayer) sendAll(cmds []game.Command) []uint64 {
	var round uint32
	var name string
	p.c.WithRoom(func(room *game.RoomView, _ bool) { round, name = room.Round, room.Name })
	p.mu.Lock()
	defer p.mu.Unlock()
	var seqs []uint64
	if len(cmds) == 1 {
		seqs = []uint64{p.c.Send(cmds[0])}
	} else {
		seqs = p.c.SendAll(cmds)
	}
	for i, seq := range seqs {
		p.sent++
		p.inflight[seq] = sentCmd{cmd: cmds[i], round: round, room: name}
	}
	return seqs
}
