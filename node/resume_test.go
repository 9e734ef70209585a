package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
)

// An app killed and started again resumes its session with the token it
// kept. The session has answered the numbers the first run's commands
// had; the second run's commands must take effect all the same, not be
// answered with those old results or refused as stale.
func TestASessionResumedByAnotherRunTakesItsCommands(t *testing.T) {
	n, m := loneNode(t)
	players := m.NewHost()
	token := client.NewToken()
	dial := func() *client.Client {
		cl := client.Dial(context.Background(), client.ClientOptions{Name: "alice", Token: token,
			Addrs: []string{n.ClientAddr()}, Dial: players.Dial})
		t.Cleanup(cl.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cl.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	first := dial()
	session := first.Status().Session
	// More lines than the session remembers answers for (64).
	for i := range 70 {
		say(t, first, fmt.Sprintf("line %d", i))
	}
	first.Close() // no CloseSession: as a kill -9 leaves it

	again := dial()
	if got := again.Status().Session; got != session {
		t.Fatalf("session %d after the restart, want %d (resumed by its token)", got, session)
	}
	for _, text := range []string{"back", "and again"} {
		say(t, again, text)
		if lines := chatOf(again); !slices.Contains(lines, "alice: "+text) {
			t.Fatalf("%q acknowledged but not in the chat: %q", text, lines[max(0, len(lines)-3):])
		}
	}
}
