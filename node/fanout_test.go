package node

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// rawPlayer opens a session on a plain connection and reads up to its
// Welcome.
func rawPlayer(t *testing.T, h *MemHost, addr, name string) (net.Conn, *wire.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := h.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := wire.WriteFrame(conn, &wire.Hello{Version: wire.Version, Name: name, Token: name + "-token-0123456789"}); err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(conn, wire.ServerLimits.MaxFrame)
	for {
		m := readFrame(t, conn, r)
		if _, ok := m.(*wire.Welcome); ok {
			return conn, r
		}
	}
}

func readFrame(t *testing.T, conn net.Conn, r *wire.Reader) wire.Message {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := r.ReadMessage(wire.ServerLimits)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if e, ok := m.(*wire.Error); ok {
		t.Fatalf("error frame: %v", e)
	}
	return m
}

func loneNode(t *testing.T) (*Node, *MemNetwork) {
	t.Helper()
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1}, nil)
	n := nodes[0]
	waitFor(t, 10*time.Second, "n1 serving", func() bool {
		return onLoop(t, n, func() bool { return n.core.Role() == wire.RolePrimary })
	}, n.Watch())
	return n, m
}

// A player whose connection falls behind is not dropped and holds nobody
// back: it is fed no more, and once it has read its backlog it gets its
// room whole, then the room's events again.
func TestSlowPlayerIsResynchronised(t *testing.T) {
	n, m := loneNode(t)
	players := m.NewHost()
	epoch := onLoop(t, n, func() wire.Epoch { return n.core.Epoch() })
	slow, r := rawPlayer(t, players, n.ClientAddr(), "slow")
	fast := memClient(t, players, "fast", n.ClientAddr())

	behind := func() bool {
		return onLoop(t, n, func() bool {
			for _, c := range n.svc.clients {
				if c.name == "slow" {
					return c.behind
				}
			}
			return false
		})
	}
	text := strings.Repeat("x", 400)
	last := ""
	for i := 0; i < 20000 && !behind(); i++ {
		last = fmt.Sprintf("%d %s", i, text)
		say(t, fast, last)
	}
	if !behind() {
		t.Fatal("the player that reads nothing never fell behind")
	}
	// Its backlog is read, then comes the room whole, with the last line.
	for {
		msg := readFrame(t, slow, r)
		if rs, ok := msg.(*wire.RoomState); ok {
			if l := rs.Room.Chat; len(l) == 0 || l[len(l)-1].Text != last {
				t.Fatalf("the room sent whole does not end with the last line")
			}
			break
		}
	}
	say(t, fast, "after")
	for got := false; !got; {
		if evs, ok := readFrame(t, slow, r).(*wire.Events); ok {
			for _, ev := range evs.Events {
				got = got || (ev.Line != nil && ev.Line.Text == "after")
			}
		}
	}
	if e := onLoop(t, n, func() wire.Epoch { return n.core.Epoch() }); e != epoch {
		t.Errorf("the epoch changed from %v to %v", epoch, e)
	}
}

// When a push leaves out chat lines, a player still sees each of its own
// lines, before the answer to it, and every system line.
func TestOwnLinesComeBeforeTheirAnswers(t *testing.T) {
	old := chatPerPush
	chatPerPush = 0 // minChatPerPush lines a push
	t.Cleanup(func() { chatPerPush = old })
	n, m := loneNode(t)
	players := m.NewHost()
	me, r := rawPlayer(t, players, n.ClientAddr(), "me")
	other := memClient(t, players, "other", n.ClientAddr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			other.Send(game.Chat{Text: fmt.Sprintf("other %d", i)})
		}
	}()
	const lines = 40
	for seq := uint64(1); seq <= lines; seq++ {
		if err := wire.WriteFrame(me, &wire.Command{Seq: seq, Cmd: game.Chat{Text: fmt.Sprintf("mine %d", seq)}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	others := 0
	for acked := 0; acked < lines; {
		switch msg := readFrame(t, me, r).(type) {
		case *wire.Events:
			for _, ev := range msg.Events {
				if ev.Line != nil {
					seen[ev.Line.Text] = true
					if strings.HasPrefix(ev.Line.Text, "other") {
						others++
					}
				}
			}
		case *wire.Ack:
			if msg.Code != game.OK {
				t.Fatalf("line %d refused: %v", msg.Seq, msg.Code)
			}
			if !seen[fmt.Sprintf("mine %d", msg.Seq)] {
				t.Fatalf("the answer to line %d came before the line", msg.Seq)
			}
			acked++
		}
	}
	<-done
	t.Logf("%d of the other player's lines seen meanwhile", others)
}

// Busy rooms are pushed to less often when, together, they have more
// members than the push budget feeds every pushDelay; a big room on its
// own account too; and quiet rooms do not count.
func TestPushesSlowDownWithTheMembersFed(t *testing.T) {
	feedOf := func(members int) *roomFeed {
		f := &roomFeed{members: map[*clientConn]struct{}{}, waiting: true}
		for range members {
			f.members[&clientConn{}] = struct{}{}
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		members []int // of the rooms with events waiting
		quiet   int   // members of a room with nothing waiting
		slower  int
	}{
		{"one room of 100", []int{100}, 0, 1},
		{"rooms within the budget", []int{100, 100, 100, 100, 100}, 5000, 1},
		{"1,000 players in rooms of 100", []int{100, 100, 100, 100, 100, 100, 100, 100, 100, 100}, 0, 2},
		{"a room of 600", []int{600}, 0, 2},
		{"a room of 1,000", []int{1000}, 0, 4},
		{"5,000 players", []int{1000, 1000, 1000, 1000, 1000}, 0, maxSlower},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &service{feeds: map[string]*roomFeed{"quiet": feedOf(tc.quiet)}}
			for i, m := range tc.members {
				f := feedOf(m)
				s.feeds[fmt.Sprint(i)] = f
				s.due = append(s.due, f)
			}
			// Phase 0 and events that came just after a point of every
			// grid: each room is pushed a whole period after them.
			since := time.Unix(0, int64(time.Hour)+1)
			period := pushDelay * time.Duration(tc.slower)
			for _, f := range s.due {
				f.since = since
			}
			s.pushFeeds(since.Add(period - time.Millisecond))
			if len(s.due) != len(tc.members) {
				t.Fatalf("%d of %d rooms pushed before %d×pushDelay", len(tc.members)-len(s.due), len(tc.members), tc.slower)
			}
			s.pushFeeds(since.Add(period))
			if len(s.due) != 0 {
				t.Fatalf("%d of %d rooms not pushed at %d×pushDelay", len(s.due), len(tc.members), tc.slower)
			}
		})
	}
}

// Busy rooms whose events came at the same moment are pushed at moments
// spread over the push period, each within a period of its events.
func TestRoomsPushesSpreadOverThePeriod(t *testing.T) {
	for _, rooms := range []int{2, 3, 10, 40} {
		s := &service{feeds: map[string]*roomFeed{}}
		since := time.Now()
		for i := range rooms {
			c := &clientConn{}
			s.joinRoom(c, fmt.Sprint("room", i))
			f := s.feeds[c.room]
			f.since, f.waiting = since, true // with no events: pushed is dropped from due
			s.due = append(s.due, f)
		}
		// A tenth of the period takes at most a tenth of the rooms, and
		// one more for where the grid falls.
		step := pushDelay / 10
		most := 0
		for at := since; !at.After(since.Add(pushDelay)); at = at.Add(step) {
			before := len(s.due)
			s.pushFeeds(at)
			most = max(most, before-len(s.due))
		}
		if len(s.due) != 0 {
			t.Fatalf("%d rooms: %d not pushed within pushDelay", rooms, len(s.due))
		}
		if most > rooms/10+1 {
			t.Fatalf("%d rooms: %d pushed in one tenth of the period", rooms, most)
		}
	}
}

// Options.ManyClients hears once when the clients reach ManyClientsAt, and
// once when they are down to half as many, not at every connection.
func TestManyClientsAtTheThresholds(t *testing.T) {
	type call struct {
		many bool
		at   int64
	}
	var calls []call
	var at int64
	s := &service{n: &Node{opts: Options{ManyClients: func(many bool) { calls = append(calls, call{many, at}) }}}}
	count := func(n int64) { at = n; s.counted(n) }
	for n := int64(1); n <= ManyClientsAt+10; n++ {
		count(n)
	}
	for n := int64(ManyClientsAt + 9); n >= ManyClientsAt/2-10; n-- {
		count(n)
	}
	count(ManyClientsAt - 1)
	want := []call{{true, ManyClientsAt}, {false, ManyClientsAt / 2}}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
}

// A session's first frame is its Welcome, even when the cluster's view is
// pushed in the turn that opened it (the Welcome carries the view):
// a client that is still waiting for its Welcome takes any other frame
// for a failed hello, and drops the connection.
func TestWelcomeComesBeforeAViewPush(t *testing.T) {
	n, m := loneNode(t)
	players := m.NewHost()
	conn, r := rawPlayer(t, players, n.ClientAddr(), "first")
	onLoop(t, n, func() bool {
		// As the turn that commits a session's opening leaves it: its
		// Welcome waits for the end of the turn, and the view is pushed.
		for _, c := range n.svc.clients {
			if c.name == "first" {
				c.welcome = true
				n.svc.touch(c)
			}
		}
		n.svc.viewChanged(n.View())
		n.svc.flush()
		return true
	})
	if msg := readFrame(t, conn, r); msg.Type() != wire.TWelcome {
		t.Fatalf("the first frame after the session opened is a %s, want a welcome", msg.Type())
	}
}
