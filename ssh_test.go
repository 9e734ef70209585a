package main

// Playing over SSH with the real OpenSSH client, in tmux: players on a
// node's SSH port and one with `gridlock connect` see each other's moves
// and chat; the primary (not the SSH node) is killed with kill -9 and the
// SSH screens follow the new primary and play on, with bots alongside that
// lose nothing; a window resized over SSH is drawn again at its new size.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/sshd"
	"github.com/gridlock-game/gridlock/wire"
)

func needSSHClient(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"tmux", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs tmux and openssh-client)", tool)
		}
	}
}

// writeSSHKey writes a new ed25519 key where OpenSSH reads one (path, 0600).
func writeSSHKey(t testing.TB, path string) gossh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "test player")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// writeKnownHosts writes a known_hosts file of the test's own that holds
// the host key the server keeps in keyDir, for 127.0.0.1:port: OpenSSH
// then checks the server's key strictly.
func writeKnownHosts(t testing.TB, path, keyDir string, port int) {
	t.Helper()
	var b []byte
	waitFor(t, 10*time.Second, "the server's host key file", func() (bool, string) {
		var err error
		b, err = os.ReadFile(filepath.Join(keyDir, sshd.HostKeyFile))
		return err == nil, fmt.Sprint(err)
	})
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s", port, gossh.MarshalAuthorizedKey(signer.PublicKey()))
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

// sshCommand is what a player types, with the test's key and known hosts
// (no agent, no questions), in a pane whose terminal says 256 colours.
// The pane stays after ssh exits, to show its last words.
func sshCommand(key, knownHosts string, port int, user string) string {
	return fmt.Sprintf("env TERM=xterm-256color ssh -p %d -i %s -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes "+
		"-o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o LogLevel=ERROR %s@127.0.0.1; echo ssh exited $?; sleep 60",
		port, key, knownHosts, user)
}

// screenPlayer drives an app in a tmux session.
type screenPlayer struct {
	tm      *tmuxServer
	session string
	size    int
}

// place moves the cursor to (row, col) and types digit.
func (p screenPlayer) place(row, col int, digit uint8) {
	for i := 0; i < p.size; i++ {
		p.tm.keys(p.session, "k", "h")
	}
	for i := 0; i < row; i++ {
		p.tm.keys(p.session, "j")
	}
	for i := 0; i < col; i++ {
		p.tm.keys(p.session, "l")
	}
	p.tm.keys(p.session, strconv.Itoa(int(digit)))
}

// say sends a chat line and goes back to the board.
func (p screenPlayer) say(text string) {
	p.tm.keys(p.session, "Tab")
	p.tm.keys(p.session, "-l", text)
	p.tm.keys(p.session, "Enter")
	p.tm.keys(p.session, "Escape")
}

func TestSSHEndToEnd(t *testing.T) {
	needSSHClient(t)
	dir := t.TempDir()
	sshPort := uniquePort(t)
	keyDir := filepath.Join(dir, "n1-ssh")
	c := newCluster(t)
	// n1 serves SSH; n3, the highest id, will be primary, and is killed.
	c.start(1, "--ssh", fmt.Sprintf("127.0.0.1:%d", sshPort), "--ssh-key-dir", keyDir)
	c.start(2)
	c.start(3)
	c.waitSettled(3, 15*time.Second)

	kh := filepath.Join(dir, "known_hosts")
	writeKnownHosts(t, kh, keyDir, sshPort)
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-ssh-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	open := func(session, cmd string) {
		tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
	}
	for _, name := range []string{"alice", "bob"} {
		key := filepath.Join(dir, name)
		writeSSHKey(t, key)
		open(name, sshCommand(key, kh, sshPort, name))
	}
	open("carol", fmt.Sprintf("env XDG_CACHE_HOME=%s %s connect %s --name carol --log-file %s",
		filepath.Join(dir, "cache"), binPath, strings.Join(c.addrs(), ","), filepath.Join(dir, "carol.log")))
	all := []string{"alice", "bob", "carol"}
	for _, s := range all {
		waitScreen(t, tm, s, 15*time.Second, s+" in the game, n3 primary", func(sc string) bool {
			return strings.Contains(sc, "n3 is primary") && len(boardOf(sc, 9)) == 9 && strings.Contains(sc, s)
		})
	}
	if sc := tm.screen("alice"); !strings.Contains(sc, "you") {
		t.Errorf("alice's sidebar does not mark the node she plays through (n1):\n%s", sc)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	obs, room, sol := observeRoom(ctx, t, client.ClientOptions{Name: "observer", Addrs: c.addrs()})
	defer obs.Close()
	size := int(room.Puzzle.Size)
	used := map[int]bool{}
	nextEmpty := func() (int, int, uint8) {
		r, _, _ := obs.Room()
		for i, cell := range r.Board {
			if cell.Digit == 0 && !used[i] {
				used[i] = true
				return i / size, i % size, sol[i]
			}
		}
		t.Fatal("no empty cell")
		return 0, 0, 0
	}
	shows := func(row, col int, digit uint8) func(string) bool {
		return func(sc string) bool {
			b := boardOf(sc, size)
			return len(b) == size && b[row][col] == int(digit)
		}
	}
	player := func(s string) screenPlayer { return screenPlayer{tm, s, size} }
	ownerIs := func(row, col int, name string) {
		waitFor(t, 5*time.Second, fmt.Sprintf("%s's move at r%dc%d in the game", name, row+1, col+1), func() (bool, string) {
			r, _, _ := obs.Room()
			return r.Board[row*size+col].Owner == name, r.Board[row*size+col].Owner
		})
	}
	scoreOf := func(name string) int32 {
		r, _, _ := obs.Room()
		for _, s := range r.Scores {
			if s.Name == name {
				return s.Total
			}
		}
		return 0
	}
	seeMove := func(by string, row, col int, digit uint8) {
		for _, s := range all {
			if s != by {
				waitScreen(t, tm, s, 5*time.Second, fmt.Sprintf("%s's %d at r%dc%d on %s's screen", by, digit, row+1, col+1, s), shows(row, col, digit))
			}
		}
	}
	seeChat := func(line string) {
		for _, s := range all {
			waitScreen(t, tm, s, 5*time.Second, fmt.Sprintf("%q on %s's screen", line, s), func(sc string) bool { return strings.Contains(sc, line) })
		}
	}

	// Moves and chat, every way round.
	r1, c1, d1 := nextEmpty()
	player("alice").place(r1, c1, d1)
	ownerIs(r1, c1, "alice")
	seeMove("alice", r1, c1, d1)
	r2, c2, d2 := nextEmpty()
	player("carol").place(r2, c2, d2)
	ownerIs(r2, c2, "carol")
	seeMove("carol", r2, c2, d2)
	player("bob").say("hello from bob over ssh")
	seeChat("bob: hello from bob over ssh")
	player("carol").say("hi bob, carol here")
	seeChat("carol: hi bob, carol here")
	aliceScore, carolScore := scoreOf("alice"), scoreOf("carol")
	if aliceScore <= 0 || carolScore <= 0 {
		t.Fatalf("scores after right moves: alice %d, carol %d", aliceScore, carolScore)
	}

	// Bots play in a room of their own across the failover.
	bots := goBots(c.addrs(), bot.Options{Players: 3, Rate: 20, Duration: 5 * time.Second, Room: "bots", ChatRate: 0.2, Prefix: "bot"})
	waitFor(t, 10*time.Second, "the bots in their room", func() (bool, string) {
		r, err := obs.QueryWait(ctx, wire.QueryRooms, "")
		if err != nil {
			return false, err.Error()
		}
		for _, rs := range r.Rooms {
			if rs.Name == "bots" && rs.Filled > 0 {
				return true, ""
			}
		}
		return false, fmt.Sprint(r.Rooms)
	})

	// kill -9 the primary, n3; n1, the SSH node, survives.
	t0 := time.Now()
	c.crash(3)
	for _, s := range all {
		waitScreen(t, tm, s, 10*time.Second, s+" shows the new primary n2", func(sc string) bool {
			return strings.Contains(sc, "n2 is primary")
		})
		t.Logf("%s shows n2 primary (checked %v after the kill)", s, time.Since(t0).Round(time.Millisecond))
	}
	// The SSH players play on, and everyone sees it.
	r3, c3, d3 := nextEmpty()
	player("bob").place(r3, c3, d3)
	ownerIs(r3, c3, "bob")
	seeMove("bob", r3, c3, d3)
	r4, c4, d4 := nextEmpty()
	player("alice").place(r4, c4, d4)
	ownerIs(r4, c4, "alice")
	seeMove("alice", r4, c4, d4)
	player("alice").say("alice still here after the failover")
	seeChat("alice: alice still here after the failover")
	// Nothing from before is lost: the moves on every screen, the scores.
	for _, s := range all {
		waitScreen(t, tm, s, 5*time.Second, s+" still shows the moves from before the kill", func(sc string) bool {
			return shows(r1, c1, d1)(sc) && shows(r2, c2, d2)(sc)
		})
	}
	if got := scoreOf("carol"); got != carolScore {
		t.Errorf("carol's score went from %d to %d across the failover", carolScore, got)
	}
	if got := scoreOf("alice"); got <= aliceScore {
		t.Errorf("alice's score is %d after a right move past the failover, was %d", got, aliceScore)
	}
	checkBots(t, []bot.Report{bots(t)})

	// Resize alice's window: the app is drawn again, whole, at each size.
	// (At 80×24 the board is drawn compact, without its heavy lines.)
	for _, sz := range [][2]int{{100, 32}, {80, 24}, {130, 45}} {
		w, h := sz[0], sz[1]
		tm.must("resize-window", "-t", "alice", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h))
		waitScreen(t, tm, "alice", 5*time.Second, fmt.Sprintf("alice's app drawn at %d×%d", w, h), func(sc string) bool {
			board := shows(r1, c1, d1)(sc) && shows(r4, c4, d4)(sc)
			if w == 80 {
				board = strings.Contains(sc, "╭") && strings.Contains(sc, "╯")
			}
			return frameIs(sc, w, h) && board && strings.Contains(sc, "n2 is primary")
		})
	}

	// q: bye, and the session is over.
	tm.keys("alice", "q")
	waitScreen(t, tm, "alice", 5*time.Second, "alice's goodbye", func(sc string) bool {
		return strings.Contains(sc, "gridlock: bye, alice.") && strings.Contains(sc, "ssh exited 0")
	})
	if l := c.logText(1); !strings.Contains(l, `msg="ssh session ended" part=ssh user=alice`) {
		t.Errorf("n1's log does not tell of alice's session:\n%s", l)
	}
}

// frameIs reports whether a screen holds exactly one whole frame of w×h:
// its top border on the first line, its bottom border on line h, no line
// wider than w.
func frameIs(sc string, w, h int) bool {
	lines := strings.Split(strings.TrimRight(sc, "\n"), "\n")
	if len(lines) != h || !strings.HasPrefix(lines[0], "┌") || !strings.HasPrefix(lines[h-1], "└") {
		return false
	}
	for _, l := range lines {
		if ansi.StringWidth(l) > w {
			return false
		}
	}
	return ansi.StringWidth(strings.TrimRight(lines[h-1], " ")) == w
}
