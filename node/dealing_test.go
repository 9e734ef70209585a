package node

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
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
	waitMade(t, nodes)
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

// Rooms created at the same moment are all dealt: a creation held for its
// puzzle while another is applied keeps the puzzle dealt for the serial it
// guessed, and Apply takes it.
func TestRoomsCreatedTogetherAreDealt(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	prim := nodes[2]
	waitFor(t, 10*time.Second, "n3 primary", func() bool { return primaryOf(nodes) == 3 }, prim.Watch())
	ann := memClient(t, m.NewHost(), "ann", prim.ClientAddr())
	bob := memClient(t, m.NewHost(), "bob", prim.ClientAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, cl := range []*client.Client{ann, bob} {
		if _, err := cl.Do(ctx, game.Chat{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	// Bob's puzzle is made already; ann's is made only once bob's room is
	// applied: ann's creation is held meanwhile, its serial guessed.
	anns := game.CreateRoom{Name: "anns", Size: 9, Difficulty: game.Hard}
	bobs := game.CreateRoom{Name: "bobs", Size: 9, Difficulty: game.Hard}
	seeds := onLoop(t, prim, func() [2]uint64 {
		_, _, a, _ := prim.core.State().RoomPuzzle(anns, 0)
		_, _, b, _ := prim.core.State().RoomPuzzle(bobs, 0)
		return [2]uint64{a, b}
	})
	waitMade(t, nodes)
	<-puzzles.start(9, game.Hard, seeds[1]).done
	gate, mine := puzzles.entry(puzzleKey{9, game.Hard, seeds[0]})
	if !mine {
		t.Fatalf("ann's puzzle is made already")
	}
	before := puzzles.gets.Load()
	ann.SendAll([]game.Command{anns})
	waitFor(t, 10*time.Second, "ann's creation held", func() bool {
		return onLoop(t, prim, func() bool {
			for _, c := range prim.svc.clients {
				if len(c.held) > 0 {
					return true
				}
			}
			return false
		})
	})
	if a, err := bob.Do(ctx, bobs); err != nil || a.Result.Err != nil {
		t.Fatalf("bob's room: %v %v", err, a.Result.Err)
	}
	gate.p, gate.err = game.GenerateSeed(9, game.Hard, seeds[0])
	close(gate.done)
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "both rooms on every replica", func() bool {
			return onLoop(t, n, func() bool {
				_, a := n.core.State().RoomView("anns")
				_, b := n.core.State().RoomView("bobs")
				return a && b
			})
		})
	}
	if got := puzzles.gets.Load() - before; got != 0 {
		t.Fatalf("replicas asked for %d puzzles in Apply, want none", got)
	}

	// Two creations in one batch: the second's serial counts the first,
	// proposed but not applied, and its puzzle is its own serial's.
	two := []game.Command{
		game.CreateRoom{Name: "one", Size: 6, Difficulty: game.Hard},
		game.CreateRoom{Name: "two", Size: 6, Difficulty: game.Hard},
	}
	seeds = onLoop(t, prim, func() [2]uint64 {
		_, _, a, _ := prim.core.State().RoomPuzzle(two[0].(game.CreateRoom), 0)
		_, _, b, _ := prim.core.State().RoomPuzzle(two[1].(game.CreateRoom), 1)
		return [2]uint64{a, b}
	})
	for _, seed := range seeds {
		<-puzzles.start(6, game.Hard, seed).done
	}
	bob.SendAll(two)
	if _, err := bob.Do(ctx, game.Chat{Text: "in two"}); err != nil {
		t.Fatal(err)
	}
	p := onLoop(t, prim, func() *game.Puzzle { p, _ := prim.core.State().Puzzle("two"); return p })
	if p == nil || p.Seed != seeds[1] {
		t.Fatalf("room two: puzzle %v, want seed %x", p, seeds[1])
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

// waitMade waits until every replica has applied the cluster's first
// entry, whose #main asks for its puzzle in Apply.
func waitMade(t *testing.T, nodes []*Node) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "the cluster made on every replica", func() bool {
			return onLoop(t, n, func() bool { return n.core.Applied() > 0 })
		})
	}
}
