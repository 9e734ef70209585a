package main

import (
	"io"
	"log/slog"
	"testing"
)

// An app started again with the same name gets the same session token (and
// so resumes its session); while one app holds it, a second gets none.
func TestSessionTokenIsKeptAndLocked(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, release := sessionToken("Alice", log)
	if len(first) < 16 {
		t.Fatalf("token %q", first)
	}
	if other, rel := sessionToken("alice", log); other != "" {
		rel()
		t.Fatalf("a second app with the name got token %q while the first runs", other)
	}
	if bob, rel := sessionToken("bob", log); bob == "" || bob == first {
		t.Fatalf("bob's token %q (alice's %q)", bob, first)
	} else {
		rel()
	}
	release()
	again, release := sessionToken("alice", log)
	defer release()
	if again != first {
		t.Fatalf("after a restart the token is %q, want %q", again, first)
	}
}
