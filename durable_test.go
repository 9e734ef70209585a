package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node/store"
)

// quorumCluster starts n1..n3 in quorum mode, each with a data directory
// of its own, and waits until n3 leads.
func quorumCluster(t *testing.T, extra ...string) (*cluster, string) {
	t.Helper()
	data := t.TempDir()
	c := newCluster(t, withFlags(append([]string{"--quorum=on", "--bootstrap=1,2,3", "--fsync=always"}, extra...)...))
	for id := 1; id <= 3; id++ {
		c.start(id, "--data-dir", filepath.Join(data, fmt.Sprintf("n%d", id)))
	}
	c.waitSettled(3, 15*time.Second)
	return c, data
}

// TestClusterRefusesOtherQuorumSetting: a fourth node started without
// quorum mode is refused by the cluster's nodes, with one clear line on
// both sides, and status lists it as refused; it never joins.
func TestClusterRefusesOtherQuorumSetting(t *testing.T) {
	c, _ := quorumCluster(t)
	c.start(4, "--quorum=off")
	waitFor(t, 10*time.Second, "the refusal in n3's log and n4's", func() (bool, string) {
		return c.logCount(3, "refused a node whose settings differ") > 0 && c.logCount(4, "refused a node whose settings differ") > 0,
			"n3: " + lastLines(c.logText(3), 3) + "\nn4: " + lastLines(c.logText(4), 3)
	})
	if !strings.Contains(c.logText(3), "it runs in availability mode (--quorum=off), this cluster in quorum mode") {
		t.Errorf("n3's log does not say why n4 is refused:\n%s", lastLines(c.logText(3), 5))
	}
	out, errOut, code := runGridlock(t, 10*time.Second, "status", "--group", c.group, "--cluster", c.name)
	if code != 0 || !strings.Contains(nodeLine(out, "n4"), "refused") {
		t.Errorf("status does not list n4 as refused (exit %d):\n%s%s", code, out, errOut)
	}
	v, err := c.view(3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range v.Nodes {
		if n.ID == 4 && (n.Voter || n.InView) {
			t.Errorf("n4 joined the cluster: %+v", n)
		}
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// TestClusterSurvivesKillingEveryNode: with data directories, every node is
// killed with SIGKILL at the same moment and started again, again and
// again, while bots play through the outages; nothing they were told was
// acknowledged is lost, and a player's session, room and score are back.
func TestClusterSurvivesKillingEveryNode(t *testing.T) {
	rounds := envInt("GRIDLOCK_KILL_ALL", 20)
	c, _ := quorumCluster(t)
	ctx := context.Background()
	obs := client.Dial(ctx, client.ClientOptions{Name: "keeper", Addrs: c.addrs()})
	t.Cleanup(obs.Close)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := obs.WaitConnected(cctx); err != nil {
		t.Fatal(err)
	}
	mustDo := func(cmd game.Command) game.Result {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		a, err := obs.Do(dctx, cmd)
		if err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		return a.Result
	}
	if r := mustDo(game.CreateRoom{Name: "kept", Size: 4, Difficulty: game.Easy}); r.Err != nil {
		t.Fatal(r.Err)
	}
	session := obs.Status().Session

	stop := make(chan struct{})
	wait := botLoop(t, c.addrs(), bot.Options{Players: 3, Rate: 20, Duration: 3 * time.Second,
		ErrorRate: 0.1, ClaimRate: 0.03, ChatRate: 0.2, Prefix: "ka", Settle: 30 * time.Second}, stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wait()
		}
	}()
	var lines []string
	for i := 1; i <= rounds; i++ {
		line := fmt.Sprintf("before kill %d", i)
		if r := mustDo(game.Chat{Text: line}); r.Err != nil {
			t.Fatal(r.Err)
		}
		lines = append(lines, line)
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		for id := 1; id <= 3; id++ {
			c.crash(id)
		}
		for id := 1; id <= 3; id++ {
			c.start(id)
		}
		v := c.waitSettled(3, 30*time.Second)
		t.Logf("kill %d: all three back, n%d leads epoch %d at commit %d", i, v.Primary, v.Epoch.Term(), v.Commit)
	}
	close(stop)
	checkBots(t, wait())

	// The keeper's session, room and chat are all there.
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if err := obs.Resync(rctx); err != nil {
		t.Fatal(err)
	}
	st := obs.Status()
	if st.Session != session {
		t.Errorf("the keeper's session is %d, was %d", st.Session, session)
	}
	room, _, _ := obs.Room()
	if room.Name != "kept" {
		t.Fatalf("the keeper is in room %q, not kept", room.Name)
	}
	have := map[string]bool{}
	for _, l := range room.Chat {
		have[l.Text] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("chat line %q is gone", l)
		}
	}
}

// TestNodeDataDamage: a data file cut short or with a byte changed either
// recovers (cut back to its last whole transaction, with a log line) or
// makes the node refuse to start with a message that names the file; it
// never serves from a file it could not verify.
func TestNodeDataDamage(t *testing.T) {
	c, data := quorumCluster(t)
	rep := runBots(t, c.addrs(), bot.Options{Players: 2, Rate: 40, Duration: time.Second, ChatRate: 0.3, Prefix: "dd"})
	if rep.Lost != 0 || rep.Acked == 0 {
		t.Fatalf("bots: %s", rep)
	}
	c.killAll()
	path := filepath.Join(data, "n1", store.FileName)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	try := func(what string, damage func([]byte) []byte) {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, store.FileName), damage(append([]byte(nil), orig...)), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		out, errOut, code, _ := runGridlockCtx(ctx, "serve", "--id", "1", "--bootstrap=1,2,3", "--cluster", c.name,
			"--group", fmt.Sprintf("224.1.1.1:%d", 20000+rand.IntN(20000)), "--data-dir", dir)
		switch {
		case code == 0 || ctx.Err() != nil:
			// It ran (until the deadline): it must have said what it cut.
			text := out + errOut
			if !strings.Contains(text, "store opened") {
				t.Errorf("%s: the node ran without opening its store:\n%s", what, lastLines(text, 5))
			}
		case !strings.Contains(errOut, filepath.Join(dir, store.FileName)):
			t.Errorf("%s: refused without naming the file (exit %d):\n%s", what, code, errOut)
		}
	}
	for i := 0; i < 5; i++ {
		at := rand.IntN(len(orig))
		try(fmt.Sprintf("cut at %d of %d", at, len(orig)), func(b []byte) []byte { return b[:at] })
		at = rand.IntN(len(orig))
		try(fmt.Sprintf("byte %d of %d flipped", at, len(orig)), func(b []byte) []byte { b[at] ^= 0x55; return b })
	}
}
