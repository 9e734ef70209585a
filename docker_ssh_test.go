package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/sshd"
)

// TestDockerSSH: every server's SSH port is published on the host, and
// players join with nothing but ssh, as the README says (ssh -p 2222
// alice@localhost). When server3, the primary, stops, its SSH player is
// told to go to another server and the player on server1 follows the new
// primary; with the cluster's secret a key resumes its session on any
// server; and a server restarted keeps its host key (in its volume), so
// known_hosts still holds.
func TestDockerSSH(t *testing.T) {
	needSSHClient(t)
	c := dkStart(t, "on")
	c.waitLeader(1, 3, 30*time.Second)
	dir := t.TempDir()

	// known_hosts of the test's own, from the host keys in the volumes.
	kh := filepath.Join(dir, "known_hosts")
	var hosts strings.Builder
	for i := 1; i <= 3; i++ {
		f := filepath.Join(dir, fmt.Sprintf("host%d", i))
		c.mustDocker("cp", c.cid(fmt.Sprintf("server%d", i))+":/data/"+sshd.HostKeyFile, f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := gossh.ParsePrivateKey(b)
		if err != nil {
			t.Fatalf("server%d's host key: %v", i, err)
		}
		fmt.Fprintf(&hosts, "[localhost]:%d %s", c.sshPorts[i-1], gossh.MarshalAuthorizedKey(signer.PublicKey()))
	}
	if err := os.WriteFile(kh, []byte(hosts.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := func(name string, server int) string {
		return strings.Replace(sshCommand(filepath.Join(dir, name), kh, c.sshPorts[server-1], name), "@127.0.0.1", "@localhost", 1)
	}
	writeSSHKey(t, filepath.Join(dir, "alice"))
	writeSSHKey(t, filepath.Join(dir, "bob"))

	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-dkssh-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	open := func(session, cmd string) {
		tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
	}
	inGame := func(session, primary string) {
		waitScreen(t, tm, session, 20*time.Second, session+" in the game, "+primary+" primary", func(sc string) bool {
			if strings.Contains(sc, "is taken") || strings.Contains(sc, "ssh exited") {
				t.Fatalf("%s is not in the game:\n%s", session, sc)
			}
			return strings.Contains(sc, primary+" is primary") && len(boardOf(sc, 9)) == 9
		})
	}
	open("alice", ssh("alice", 1))
	open("bob", ssh("bob", 3))
	inGame("alice", "n3")
	inGame("bob", "n3")
	player("bob", tm).say("hello from bob in docker")
	waitScreen(t, tm, "alice", 10*time.Second, "bob's line on alice's screen", func(sc string) bool {
		return strings.Contains(sc, "bob: hello from bob in docker")
	})
	obs := dkClient(t, "observer", c.hostAddrs(1, 2, 3))

	// server3 stops: its player is told where to go; alice, on server1,
	// follows the new primary and plays on.
	c.mustCompose("stop", "server3")
	waitScreen(t, tm, "bob", 15*time.Second, "bob told that server3 stopped", func(sc string) bool {
		return strings.Contains(sc, "server n3: this server is shutting down") && strings.Contains(sc, "connect to another server") &&
			strings.Contains(sc, "ssh exited 1")
	})
	inGame("alice", "n2")
	player("alice", tm).say("alice after the stop")
	waitFor(t, 10*time.Second, "alice's line in the game", func() (bool, string) {
		r, _, _ := obs.Room()
		return lastChat(r) == "alice after the stop", lastChat(r)
	})

	// bob, with the same key, on server2: his session, not "taken".
	open("bob2", ssh("bob", 2))
	inGame("bob2", "n2")
	waitFor(t, 10*time.Second, "bob online once", func() (bool, string) {
		r, _, _ := obs.Room()
		n, on := 0, false
		for _, m := range r.Members {
			if strings.EqualFold(m.Name, "bob") {
				n++
				on = m.Online
			}
		}
		return n == 1 && on, fmt.Sprint(r.Members)
	})

	// server1 restarts: alice is told, and comes back to the same host key.
	c.mustCompose("restart", "server1")
	waitScreen(t, tm, "alice", 15*time.Second, "alice told that server1 stopped", func(sc string) bool {
		return strings.Contains(sc, "server n1: this server is shutting down") && strings.Contains(sc, "ssh exited 1")
	})
	c.waitStatus(2, 30*time.Second, "server1 back in n2's view", func(s *statusJSON) bool {
		for _, n := range s.Nodes {
			if n.ID == 1 && n.Alive {
				return true
			}
		}
		return false
	})
	open("alice2", ssh("alice", 1))
	inGame("alice2", "n2")
}

func player(session string, tm *tmuxServer) screenPlayer {
	return screenPlayer{tm: tm, session: session, size: 9}
}

func lastChat(r game.RoomView) string {
	if len(r.Chat) == 0 {
		return ""
	}
	return r.Chat[len(r.Chat)-1].Text
}
