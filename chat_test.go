package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// chatter is a player who says numbered lines in a room and keeps every
// line it is shown, in the order shown.
type chatter struct {
	t    *testing.T
	name string
	c    *client.Client

	mu     sync.Mutex
	next   int             // its next line number
	acked  map[string]bool // its lines the cluster answered
	shown  []game.ChatLine // lines of the room, as shown, in order
	lastN  uint64
	faults []string
}

// watch follows the client's events: each room update shows the lines
// after the last one shown; they must follow on without a gap.
func (p *chatter) watch(ctx context.Context, room string) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.c.Notify():
		}
		for _, ev := range p.c.Drain() {
			p.mu.Lock()
			switch ev := ev.(type) {
			case client.Answered:
				if ch, ok := ev.Ack.Cmd.(game.Chat); ok && ev.Ack.Result.Err == nil {
					p.acked[ch.Text] = true
				}
			case client.RoomChanged:
				if ev.Room.Name != room {
					break
				}
				for _, l := range ev.Room.Chat {
					if l.N <= p.lastN {
						continue
					}
					if p.lastN != 0 && l.N != p.lastN+1 {
						p.faults = append(p.faults, fmt.Sprintf("%s: line %d after line %d", p.name, l.N, p.lastN))
					}
					p.lastN = l.N
					p.shown = append(p.shown, l)
				}
			}
			p.mu.Unlock()
		}
	}
}

// TestClusterChatAcrossFailovers: two players exchange numbered lines in a
// room while the primary is killed with kill -9 ten times. Every line
// answered is shown to both exactly once, in one order, without gaps, and
// both are still in the room under their names.
func TestClusterChatAcrossFailovers(t *testing.T) {
	kills := envInt("GRIDLOCK_CHAT_KILLS", 10)
	c := startThree(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const room = "parlour"

	var players []*chatter
	for _, name := range []string{"ann", "ben"} {
		p := &chatter{t: t, name: name, acked: map[string]bool{},
			c: client.Dial(ctx, client.ClientOptions{Name: name, Addrs: c.addrs()})}
		t.Cleanup(p.c.Close)
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		if err := p.c.WaitConnected(wctx); err != nil {
			wcancel()
			t.Fatalf("%s: %v", name, err)
		}
		a, err := p.c.Do(wctx, game.CreateRoom{Name: room, Size: 4})
		if err == nil && a.Result.Err != nil && a.Result.Err.Code == game.ErrRoomExists {
			a, err = p.c.Do(wctx, game.JoinRoom{Name: room})
		}
		wcancel()
		if err != nil || a.Result.Err != nil {
			t.Fatalf("%s could not enter %s: %v %v", name, room, err, a.Result.Err)
		}
		go p.watch(ctx, room)
		players = append(players, p)
	}

	// Both talk, twenty lines a second each, until the kills are over.
	stop := make(chan struct{})
	var talking sync.WaitGroup
	for _, p := range players {
		talking.Add(1)
		go func() {
			defer talking.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				p.mu.Lock()
				p.next++
				text := fmt.Sprintf("%s #%d", p.name, p.next)
				p.mu.Unlock()
				p.c.Send(game.Chat{Text: text})
			}
		}()
	}

	for i := 1; i <= kills; i++ {
		time.Sleep(300 * time.Millisecond)
		c.crash(3)
		c.waitPrimary(2, 5*time.Second)
		time.Sleep(200 * time.Millisecond)
		c.start(3)
		c.waitSettled(3, 15*time.Second)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	talking.Wait()

	// Every line sent is answered.
	waitFor(t, 20*time.Second, "every line answered", func() (bool, string) {
		for _, p := range players {
			p.mu.Lock()
			n, sent := len(p.acked), p.next
			p.mu.Unlock()
			if n < sent {
				return false, fmt.Sprintf("%s: %d of %d lines answered", p.name, n, sent)
			}
		}
		return true, ""
	})
	// And shown to both.
	want := map[string]bool{}
	for _, p := range players {
		p.mu.Lock()
		for text := range p.acked {
			want[text] = true
		}
		p.mu.Unlock()
	}
	waitFor(t, 10*time.Second, "every line shown to both", func() (bool, string) {
		for _, p := range players {
			p.mu.Lock()
			seen := map[string]int{}
			for _, l := range p.shown {
				seen[l.Text]++
			}
			p.mu.Unlock()
			for text := range want {
				if seen[text] == 0 {
					return false, fmt.Sprintf("%s was not shown %q", p.name, text)
				}
			}
		}
		return true, ""
	})

	byN := map[uint64]string{}
	for _, p := range players {
		p.mu.Lock()
		for _, f := range p.faults {
			t.Error(f)
		}
		seen := map[string]int{}
		for _, l := range p.shown {
			if l.From != "" {
				seen[l.Text]++
			}
			if prev, ok := byN[l.N]; ok && prev != l.Text {
				t.Errorf("line %d: %s was shown %q, the other %q", l.N, p.name, l.Text, prev)
			}
			byN[l.N] = l.Text
		}
		for text, n := range seen {
			if n > 1 {
				t.Errorf("%s was shown %q %d times", p.name, text, n)
			}
		}
		// Its own lines, in the order said.
		last := 0
		for _, l := range p.shown {
			var who string
			var k int
			if _, err := fmt.Sscanf(l.Text, "%s #%d", &who, &k); err == nil && who == p.name {
				if k <= last {
					t.Errorf("%s's line #%d shown after #%d", p.name, k, last)
				}
				last = k
			}
		}
		p.mu.Unlock()
	}

	// Both are still in the room, under their names.
	for _, p := range players {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		if err := p.c.Resync(rctx); err != nil {
			rcancel()
			t.Fatalf("%s: %v", p.name, err)
		}
		rcancel()
		r, _, _ := p.c.Room()
		st := p.c.Status()
		if r.Name != room || !strings.EqualFold(st.Name, p.name) {
			t.Errorf("%s ended in room %q as %q", p.name, r.Name, st.Name)
		}
		var names []string
		for _, m := range r.Members {
			names = append(names, m.Name)
		}
		for _, q := range players {
			found := false
			for _, n := range names {
				found = found || strings.EqualFold(n, q.name)
			}
			if !found {
				t.Errorf("%s is not among %s's members %v", q.name, room, names)
			}
		}
	}
	total := 0
	for _, p := range players {
		total += len(p.acked)
	}
	t.Logf("%d kills of the primary; %d lines said and shown to both, in one order, none twice", kills, total)
}
