package main

// What puzzle players expect, in a real terminal: a player's notes outlive
// a kill -9 of its app (whose node was primary) and come back when the app
// is started again with the same name; a spectator (gridlock watch) sees
// the moves as they happen, cannot move, and is on no scoreboard.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
)

// observeRoom connects an observer and returns its room and the room's
// solution.
func observeRoom(ctx context.Context, t *testing.T, o client.ClientOptions) (*client.Client, game.RoomView, []uint8) {
	t.Helper()
	obs := client.Dial(ctx, o)
	if err := obs.WaitConnected(ctx); err != nil {
		obs.Close()
		t.Fatal(err)
	}
	room, _, _ := obs.Room()
	sol, ok := game.Solve(room.Puzzle.Size, room.Puzzle.Givens)
	if !ok {
		obs.Close()
		t.Fatal("the room's puzzle has no solution")
	}
	return obs, room, sol
}

// cellsOf reads the cells off a screen drawn in grid mode (a line between
// every two cells): each row of the board as its cells' three columns.
func cellsOf(screen string, size int) [][]string {
	var rows [][]string
	for _, line := range strings.Split(screen, "\n") {
		i, j := strings.Index(line, "┃"), strings.LastIndex(line, "┃")
		if i < 0 || j <= i {
			continue
		}
		inner := line[i+len("┃") : j]
		cells := strings.FieldsFunc(inner, func(r rune) bool { return r == '┃' || r == '│' })
		if len(cells) == size && len([]rune(cells[0])) == 3 {
			rows = append(rows, cells)
		}
	}
	return rows
}

var superscript = map[rune]int{'¹': 1, '²': 2, '³': 3, '⁴': 4, '⁵': 5, '⁶': 6, '⁷': 7, '⁸': 8, '⁹': 9}

// notesIn is the candidates a cell shows in small digits.
func notesIn(cell string) []int {
	var ds []int
	for _, r := range cell {
		if d, ok := superscript[r]; ok {
			ds = append(ds, d)
		}
	}
	return ds
}

// digitIn is the digit a cell holds (0: none).
func digitIn(cell string) int {
	for _, r := range cell {
		if r >= '1' && r <= '9' {
			return int(r - '0')
		}
	}
	return 0
}

// scoreRow matches a player's line of the scores: rank, then the name.
var scoreRow = regexp.MustCompile(`^\s*\d+ (\S+)\s+-?\d+\s+-?\d+\s`)

// scoredNames lists the names on a screen's scoreboard (the sidebar).
func scoredNames(screen string) []string {
	var names []string
	for _, line := range strings.Split(screen, "\n") {
		parts := strings.Split(line, "│")
		if len(parts) < 3 {
			continue
		}
		if m := scoreRow.FindStringSubmatch(parts[len(parts)-2]); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

func TestTerminalNotesAndWatching(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	group, name := fmt.Sprintf("224.1.1.1:%d", uniquePort(t)), uniqueCluster()
	tm := &tmuxServer{t: t, sock: fmt.Sprintf("gridlock-notes-%d", os.Getpid())}
	t.Cleanup(func() { tm.run("kill-server") })
	env := fmt.Sprintf("env XDG_CACHE_HOME=%s XDG_STATE_HOME=%[1]s", filepath.Join(dir, "cache"))
	app := func(session string, i int) {
		cmd := fmt.Sprintf("%s %s --id %d --name p%d --group %s --cluster %s --log-file %s",
			env, binPath, i, i, group, name, filepath.Join(dir, session+".log"))
		tm.must("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
		tm.must("set-option", "-t", session, "remain-on-exit", "on")
	}
	for i := 1; i <= 3; i++ {
		app(fmt.Sprintf("p%d", i), i)
	}
	for i := 1; i <= 3; i++ {
		waitScreen(t, tm, fmt.Sprintf("p%d", i), 10*time.Second, fmt.Sprintf("p%d sees n3 as primary with three nodes", i), func(sc string) bool {
			return strings.Contains(sc, "n3 is primary") && strings.Contains(sc, "n1") && strings.Contains(sc, "n2")
		})
	}
	// A spectator finds the game on the group, as play does.
	tm.must("new-session", "-d", "-s", "watch", "-x", "120", "-y", "40",
		fmt.Sprintf("%s %s watch --name presenter --group %s --cluster %s --log-file %s", env, binPath, group, name, filepath.Join(dir, "watch.log")))
	tm.must("set-option", "-t", "watch", "remain-on-exit", "on")
	waitScreen(t, tm, "watch", 10*time.Second, "the spectator watching the board", func(sc string) bool {
		return strings.Contains(sc, "watching") && strings.Contains(sc, "is primary") && len(cellsOf(sc, 9)) == 9
	})

	// An observer, itself a spectator, reads the room.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := node.Discover(ctx, node.DiscoverOptions{Cluster: name, Group: group, Iface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, n := range v.Nodes {
		addrs = append(addrs, n.ClientAddr)
	}
	obs, room, sol := observeRoom(ctx, t, client.ClientOptions{Name: "observer", Addrs: addrs, Watch: true})
	defer obs.Close()
	size := int(room.Puzzle.Size)
	var empties []int
	for i, c := range room.Board {
		if c.Digit == 0 {
			empties = append(empties, i)
		}
	}
	if len(empties) < 2 {
		t.Fatal("no empty cells")
	}
	goTo := func(session string, i int) {
		for k := 0; k < size; k++ {
			tm.keys(session, "k", "h")
		}
		for k := 0; k < i/size; k++ {
			tm.keys(session, "j")
		}
		for k := 0; k < i%size; k++ {
			tm.keys(session, "l")
		}
	}

	// p3, whose node is primary, notes two candidates (not the digit that
	// goes there, so that no move takes them away).
	noted := empties[0]
	d := int(sol[noted])
	want := []int{d%9 + 1, (d+1)%9 + 1}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	goTo("p3", noted)
	tm.keys("p3", "n", strconv.Itoa(want[0]), strconv.Itoa(want[1]), "n")
	showsNotes := func(sc string) bool {
		rows := cellsOf(sc, size)
		return len(rows) == size && fmt.Sprint(notesIn(rows[noted/size][noted%size])) == fmt.Sprint(want)
	}
	waitScreen(t, tm, "p3", 5*time.Second, fmt.Sprintf("p3's notes %v in r%dc%d", want, noted/size+1, noted%size+1), showsNotes)
	// The screen shows notes before the cluster has them; a chat line
	// sent after them and seen by p1 says they are committed too.
	tm.keys("p3", "Tab")
	tm.keys("p3", "-l", "noted")
	tm.keys("p3", "Enter", "Escape")
	waitScreen(t, tm, "p1", 5*time.Second, "p3's chat line after its notes", func(sc string) bool {
		return strings.Contains(sc, "p3: noted")
	})
	for _, s := range []string{"p1", "watch"} {
		if sc := tm.screen(s); len(notesIn(strings.Join(cellsOf(sc, size)[noted/size], ""))) > 0 {
			t.Fatalf("%s sees p3's notes:\n%s", s, sc)
		}
	}

	// kill -9 the app whose node is primary.
	pid, err := strconv.Atoi(strings.TrimSpace(tm.must("list-panes", "-t", "p3", "-F", "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, "p1", 10*time.Second, "p1 shows the new primary n2", func(sc string) bool { return strings.Contains(sc, "n2 is primary") })

	// p1 moves; the spectator sees the move at once.
	moved := empties[1]
	goTo("p1", moved)
	tm.keys("p1", strconv.Itoa(int(sol[moved])))
	for _, s := range []string{"watch", "p2"} {
		waitScreen(t, tm, s, 5*time.Second, fmt.Sprintf("p1's %d at r%dc%d on %s's board", sol[moved], moved/size+1, moved%size+1, s), func(sc string) bool {
			rows := cellsOf(sc, size)
			return len(rows) == size && digitIn(rows[moved/size][moved%size]) == int(sol[moved])
		})
	}

	// p3 starts its app again with the same name: its notes are back,
	// but for the digit p1 placed, if it was placed in the noted cell's
	// row, column or box.
	if peer := noted/size == moved/size || noted%size == moved%size || noted/27 == moved/27 && noted%9/3 == moved%9/3; peer {
		want = slices.DeleteFunc(want, func(d int) bool { return d == int(sol[moved]) })
	}
	app("p3again", 3)
	waitScreen(t, tm, "p3again", 15*time.Second, "p3's notes after its app came back", func(sc string) bool {
		if strings.Contains(sc, "is taken") {
			t.Fatalf("p3's name is taken after a restart:\n%s", sc)
		}
		return strings.Contains(sc, "is primary") && showsNotes(sc)
	})

	// The spectator cannot move, and is on no scoreboard: not its own,
	// not a player's, not in the room the cluster keeps.
	goTo("watch", empties[2%len(empties)])
	tm.keys("watch", "5")
	waitScreen(t, tm, "watch", 5*time.Second, "the spectator told it cannot move", func(sc string) bool {
		return strings.Contains(sc, "spectators cannot move")
	})
	waitScreen(t, tm, "p1", 5*time.Second, "p1's sidebar naming the spectators", func(sc string) bool {
		return strings.Contains(sc, "watching: ") && strings.Contains(sc, "presenter")
	})
	for _, s := range []string{"watch", "p1", "p3again"} {
		sc := tm.screen(s)
		names := scoredNames(sc)
		if len(names) == 0 {
			t.Fatalf("no scoreboard read off %s's screen:\n%s", s, sc)
		}
		for _, n := range names {
			if n == "presenter" || n == "observer" {
				t.Fatalf("%s's scoreboard lists the spectator %s:\n%s", s, n, sc)
			}
		}
	}
	waitFor(t, 5*time.Second, "p1's move in the observer's room", func() (bool, string) {
		r, _, _ := obs.Room()
		return r.Board[moved].Digit != 0, ""
	})
	r, _, _ := obs.Room()
	for _, sc := range r.Scores {
		if sc.Name == "presenter" || sc.Name == "observer" {
			t.Fatalf("the room's scores list a spectator: %+v", r.Scores)
		}
	}
	watching := 0
	for _, m := range r.Members {
		if m.Watching {
			watching++
		}
	}
	if watching != 2 {
		t.Fatalf("members %+v: want 2 spectators", r.Members)
	}
}

// TestWatchWithoutACluster: gridlock watch with no address and nothing on
// the group says so and exits, rather than waiting forever; connect
// --watch, like connect, asks for a terminal.
func TestWatchWithoutACluster(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("XDG_STATE_HOME", dir)
	group := fmt.Sprintf("224.1.1.1:%d", uniquePort(t))
	_, stderr, code := runGridlock(t, 20*time.Second, "watch", "--group", group, "--cluster", uniqueCluster(), "--timeout", "500ms",
		"--log-file", filepath.Join(dir, "watch.log"))
	if code != 1 || !strings.Contains(stderr, "heard on "+group) || !strings.Contains(stderr, "give an address") {
		t.Errorf("exit %d, want 1 and no node heard:\n%s", code, stderr)
	}
	_, stderr, code = runGridlock(t, 10*time.Second, "connect", "--watch", "127.0.0.1:1", "--log-file", filepath.Join(dir, "c.log"))
	if code != 1 || !strings.Contains(stderr, "needs a terminal") {
		t.Errorf("connect --watch: exit %d, want 1 and the app asking for a terminal:\n%s", code, stderr)
	}
}
