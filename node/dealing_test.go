package node

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// A new room's first puzzle is made by the primary and travels in the
// entry: no replica asks for it in Apply. The creator's next command,
// sent with the creation, waits behind it and lands in the new room.
func TestPrimaryDealsANewRoomsPuzzle(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary", func() bool { return primaryOf(nodes) == 3 }, nodes[2].Watch())
	cl := memClient(t, m.NewHost(), "ann", nodes[2].ClientAddr())
	before := puzzles.gets.Load()
	cl.SendAll([]game.Command{
		game.CreateRoom{Name: "dealt", Size: 9, Difficulty: game.Hard},
		game.Chat{Text: "first words"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a, err := cl.Do(ctx, game.Chat{Text: "and more"}); err != nil || a.Result.Err != nil {
		t.Fatalf("chat: %v %v", err, a.Result.Err)
	}
	v, _, _ := cl.Room()
	if v.Name != "dealt" || !slices.ContainsFunc(v.Chat, func(l game.ChatLine) bool { return l.Text == "first words" }) {
		t.Fatalf("in room %q with chat %v: the line sent with the creation went elsewhere", v.Name, v.Chat)
	}
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "the room on every replica", func() bool {
			return onLoop(t, n, func() bool { _, ok := n.core.State().RoomView("dealt"); return ok })
		})
	}
	if got := puzzles.gets.Load() - before; got != 0 {
		t.Fatalf("replicas asked for %d puzzles in Apply, want none", got)
	}
	p, err := game.GenerateSeed(9, game.Hard, v.Puzzle.Seed)
	if err != nil || !slices.Equal(p.Givens, v.Puzzle.Givens) {
		t.Fatalf("the dealt puzzle is not the seed's (%v)", err)
	}
}

// A player may not deal a room's puzzle: the node refuses the command.
func TestPlayerMayNotDealAPuzzle(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1}, nil)
	waitFor(t, 10*time.Second, "n1 primary", func() bool { return primaryOf(nodes) == 1 }, nodes[0].Watch())
	conn, err := m.NewHost().Dial(context.Background(), nodes[0].ClientAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(conn, wire.ClientLimits.MaxFrame)
	if err := wire.WriteFrame(conn, &wire.Hello{Version: wire.Version, Name: "eve", Token: "0123456789abcdef0123"}); err != nil {
		t.Fatal(err)
	}
	// next reads until a message that stop takes.
	next := func(what string, stop func(wire.Message) bool) {
		t.Helper()
		for {
			m, err := r.ReadMessage(wire.ClientLimits)
			if err != nil {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			if stop(m) {
				return
			}
		}
	}
	next("the welcome", func(m wire.Message) bool { _, ok := m.(*wire.Welcome); return ok })
	p, _ := game.GenerateSeed(4, game.Easy, 1)
	if err := wire.WriteFrame(conn, &wire.Command{Seq: 1, Cmd: game.CreateRoom{Name: "mine", Size: 4, Dealt: p}}); err != nil {
		t.Fatal(err)
	}
	next("an error", func(m wire.Message) bool {
		e, ok := m.(*wire.Error)
		if ok && (e.Code != wire.ErrUnexpected || !strings.Contains(e.Text, "deal")) {
			t.Fatalf("got %+v", e)
		}
		return ok
	})
	if onLoop(t, nodes[0], func() bool { _, ok := nodes[0].core.State().RoomView("mine"); return ok }) {
		t.Fatalf("the room was made")
	}
}
