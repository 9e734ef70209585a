package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// do sends a command and waits for its answer.
func do(t *testing.T, cl *client.Client, cmd game.Command) game.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := cl.Do(ctx, cmd)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	return a.Result
}

// notesEvents lists the EvNotes events a client was pushed.
func notesEvents(evs []client.Event) []game.Event {
	var out []game.Event
	for _, e := range evs {
		if rc, ok := e.(client.RoomChanged); ok {
			for _, ev := range rc.Events {
				if ev.Kind == game.EvNotes {
					out = append(out, ev)
				}
			}
		}
	}
	return out
}

func roomOf(cl *client.Client) game.RoomView {
	r, _, _ := cl.Room()
	return r
}

// A player's notes go to that player's session alone, survive a failover
// (the new primary's welcome brings them back), and a right placement by
// someone else takes its digit out of them. A spectator sees the room, is
// refused every move and is on no scoreboard.
func TestNotesAreTheirOwnersAlone(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())
	players := m.NewHost()
	alice := memClient(t, players, "alice", nodes[0].ClientAddr())
	bob := memClient(t, players, "bob", nodes[0].ClientAddr())
	watcher := client.Dial(context.Background(), client.ClientOptions{Name: "presenter", Addrs: []string{nodes[1].ClientAddr()},
		Dial: players.Dial, Watch: true})
	t.Cleanup(watcher.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := watcher.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if !watcher.Status().Watch || alice.Status().Watch {
		t.Fatalf("watch: presenter %v, alice %v", watcher.Status().Watch, alice.Status().Watch)
	}

	// Two empty cells in one row: i gets its right digit d later; alice
	// notes d and another digit on both.
	room := roomOf(alice)
	n := int(room.Puzzle.Size)
	sol, ok := game.Solve(room.Puzzle.Size, room.Puzzle.Givens)
	if !ok {
		t.Fatal("no solution")
	}
	i, j := -1, -1
	for k, c := range room.Board {
		if c.Digit != 0 {
			continue
		}
		if i < 0 {
			i = k
		} else if k/n == i/n {
			j = k
			break
		}
	}
	if j < 0 {
		t.Fatal("no two empty cells in a row")
	}
	d := sol[i]
	other := d%uint8(n) + 1
	for _, k := range []int{i, j} {
		for _, digit := range []uint8{d, other} {
			if res := do(t, alice, game.Note{Row: uint8(k / n), Col: uint8(k % n), Digit: digit, On: true}); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	both := uint16(1)<<(d-1) | uint16(1)<<(other-1)
	if got := roomOf(alice).Notes; len(got) != n*n || got[i] != both || got[j] != both {
		t.Fatalf("alice's notes %v", got)
	}
	bob.Drain()
	watcher.Drain()

	// The spectator cannot move; bob's right move goes through.
	if res := do(t, watcher, game.Place{Row: uint8(i / n), Col: uint8(i % n), Digit: d}); res.Err == nil || res.Err.Code != game.ErrSpectator {
		t.Fatalf("the spectator's move: %+v", res)
	}
	if res := do(t, bob, game.Place{Row: uint8(i / n), Col: uint8(i % n), Digit: d}); res.Err != nil {
		t.Fatal(res.Err)
	}
	say(t, watcher, "well played")
	for _, cl := range []*client.Client{bob, watcher} {
		if evs := notesEvents(cl.Drain()); len(evs) != 0 {
			t.Fatalf("%s was pushed alice's notes: %+v", cl.Status().Name, evs)
		}
		if notes := roomOf(cl).Notes; notes != nil {
			t.Fatalf("%s's room has notes %v", cl.Status().Name, notes)
		}
	}
	waitFor(t, 10*time.Second, "bob's move in alice's room", func() bool {
		return roomOf(alice).Board[i].Digit == d
	}, alice.Notify())
	if got := roomOf(alice).Notes; len(got) != n*n || got[i] != 0 || got[j] != uint16(1)<<(other-1) {
		t.Fatalf("alice's notes after bob's move: %#x at the cell, %#x in its row", got[i], got[j])
	}
	waitFor(t, 10*time.Second, "the spectator's line in bob's room", func() bool {
		return slices.Contains(chatOf(bob), "presenter: well played")
	}, bob.Notify())
	r := roomOf(bob)
	for _, sc := range r.Scores {
		if sc.Name == "presenter" {
			t.Fatalf("the spectator is on the scoreboard: %+v", r.Scores)
		}
	}
	if !slices.Contains(r.Members, game.MemberView{Name: "presenter", Online: true, Watching: true}) {
		t.Fatalf("members %+v", r.Members)
	}

	// The primary crashes: alice's welcome from n2 brings her notes back.
	welcomes := alice.Status()
	hosts[2].Crash()
	nodes[2].Close()
	waitFor(t, 10*time.Second, "alice on n2", func() bool {
		s := alice.Status()
		return s.State == client.Connected && s.Node == 2 && s.Epoch != welcomes.Epoch
	}, alice.Notify())
	alice.Drain()
	if got := roomOf(alice).Notes; len(got) != n*n || got[i] != 0 || got[j] != uint16(1)<<(other-1) {
		t.Fatalf("alice's notes after the failover: %v", got)
	}
	// And they are still hers alone: bob's welcome has none.
	waitFor(t, 10*time.Second, "bob on n2", func() bool { return bob.Status().Node == 2 }, bob.Notify())
	if notes := roomOf(bob).Notes; notes != nil {
		t.Fatalf("bob's room after the failover has notes %v", notes)
	}
	if !watcher.Status().Watch {
		t.Fatal("the spectator is a player after the failover")
	}
}
