package node

import (
	"context"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// A connection that sends its HELLO and closes before the session opens
// leaves a session that no connection holds. It must be disconnected, so
// that its grace runs out and its name is freed, not left online for good
// (a player whose app died at that moment could never take the name again
// with a new token, and strangers could fill the game with such sessions).
func TestAHelloWhoseConnectionClosedLeavesNoSessionOnline(t *testing.T) {
	n, m := loneNode(t)
	players := m.NewHost()

	// Hold the loop, so that the HELLO and the connection's end are taken
	// in one turn, before the session's opening commits.
	held, release := make(chan struct{}), make(chan struct{})
	n.inbox <- input{kind: inCall, call: func() { close(held); <-release }}
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := players.Dial(ctx, n.ClientAddr())
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	err = wire.WriteFrame(conn, &wire.Hello{Version: wire.Version, Name: "ghost", Token: "ghost-token-0123456789"})
	conn.Close()
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	// The connection, its HELLO and its end wait for the loop.
	deadline := time.Now().Add(5 * time.Second)
	for len(n.svc.in) < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := len(n.svc.in)
	close(release)
	if got < 3 {
		t.Fatalf("%d inputs from the connection, want 3 (new, hello, gone)", got)
	}

	waitFor(t, 10*time.Second, "the closed connection's session to be disconnected", func() bool {
		return onLoop(t, n, func() bool {
			v, _ := n.core.State().RoomView(game.MainRoom)
			for _, mv := range v.Members {
				if mv.Name == "ghost" {
					return !mv.Online
				}
			}
			return false
		})
	}, n.Watch())
	if held := onLoop(t, n, func() int { return len(n.svc.bySession) }); held != 0 {
		t.Fatalf("%d sessions held by connections, want 0: the closed one was given its session", held)
	}
}
