package replica

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Scenario scripts (testdata/scenarios/*.txt) drive the simulation one
// line at a time:
//
//	nodes N [quorum|quorumK] [durable]
//	                        start N nodes (in quorum mode: a majority of the
//	                        voters; quorumK is the old --quorum K, which now
//	                        means quorum mode whatever K); durable: each
//	                        keeps a disk (Config.Durable); reads: a reader
//	                        reads cells at whoever believes it leads
//	mixed nX                nX runs with the other quorum setting: its peers
//	                        refuse it, as the handshake does
//	clients N               start N players
//	route cK nX             player K reaches node X only: dials elsewhere are refused
//	run D                   let D of simulated time pass (e.g. 300ms)
//	play N                  run until N more commands are answered (at most
//	                        5 s: a cluster that cannot serve, as both halves
//	                        of an even split in quorum mode, answers fewer)
//	crash nX [silent]       kill a node (silent: no broken-link signal); with
//	                        a disk, what it had not synced is lost
//	crash all               kill every node at once
//	restart nX [memory|wiped] bring a node back: from its disk (durable),
//	                        else empty; or with its memory; or with its
//	                        disk lost
//	join                    start a node with the next new id
//	leave nX                shut a node down gracefully, for good
//	clock nX D              step nX's wall clock by D (e.g. -2s)
//	clock nX rate R         nX's clock runs at R seconds a second from now
//	quit cK                 player K closes its session and stops playing
//	pause nX / resume nX    stop and continue a node
//	partition n1,n2 | n3    cut the network into groups
//	cut nX -> nY            drop everything X sends to Y
//	heal                    end every network fault
//	stop                    players finish what is in flight and stop
//	expect primary nX [epoch E]
//	expect role nX ROLE     (primary, backup, no quorum, ...)
//	                        (heal and stop also end every route)
//	expect view nX n1,n2    the primary's view: exactly these backups
//	expect said nX TEXT     a recent notice of nX holds TEXT
//	expect settled          one primary, all nodes at its last index
//	expect stalled          no node serves as primary
//	expect lost 0           every acknowledged move on the final board
//	expect answered N       at least N commands answered since the start
//	expect rolledback N|>0  rollback events reported (count of moves)
//	expect no violations
//
// A line's failure names the file and line.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runScenario(t, f)
		})
	}
}

// scenarioT is what a scenario needs of its test (the mutation suite runs
// scenarios with a recorder instead).
type scenarioT interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

type scenario struct {
	t      scenarioT
	file   string
	line   int
	s      *sim
	routes map[int]wire.NodeID
}

func runScenario(t scenarioT, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	sc := &scenario{t: t, file: file, routes: map[int]wire.NodeID{}}
	in := bufio.NewScanner(f)
	for in.Scan() {
		sc.line++
		text := strings.TrimSpace(in.Text())
		if i := strings.Index(text, "#"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		sc.exec(strings.Fields(text))
		if t.Failed() {
			if sc.s != nil {
				t.Logf("%s", sc.s.describe())
			}
			return
		}
	}
	if sc.s != nil && len(sc.s.check.failed) > 0 {
		t.Errorf("%s: violations:\n%s", file, strings.Join(sc.s.check.failed, "\n"))
	}
}

func (sc *scenario) fatalf(format string, args ...any) {
	sc.t.Helper()
	if sc.s != nil {
		sc.t.Logf("%s", sc.s.describe())
	}
	sc.t.Fatalf("%s:%d: %s", sc.file, sc.line, fmt.Sprintf(format, args...))
}

func (sc *scenario) node(arg string) *simNode {
	id, err := strconv.Atoi(strings.TrimPrefix(arg, "n"))
	if err != nil || id < 1 || id > len(sc.s.nodes) {
		sc.fatalf("no node %q", arg)
	}
	return sc.s.node(wire.NodeID(id))
}

func (sc *scenario) nodes(arg string) []wire.NodeID {
	var out []wire.NodeID
	for _, part := range strings.Split(arg, ",") {
		if part != "" {
			out = append(out, sc.node(part).id)
		}
	}
	slices.Sort(out)
	return out
}

func (sc *scenario) duration(arg string) int64 {
	d, err := time.ParseDuration(arg)
	if err != nil {
		sc.fatalf("bad duration %q", arg)
	}
	return int64(d)
}

// number parses a count or an index; a typo fails the test.
func (sc *scenario) number(arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		sc.fatalf("bad number %q", arg)
	}
	return n
}

func (sc *scenario) exec(f []string) {
	switch f[0] {
	case "nodes":
		n := sc.number(f[1])
		o := simOpts{nodes: n}
		for _, w := range f[2:] {
			k, err := strconv.Atoi(strings.TrimPrefix(w, "quorum"))
			switch {
			case w == "quorum":
				o.quorum = true
			case strings.HasPrefix(w, "quorum") && err == nil && k > 0:
				o.quorum, o.quorumN = true, k
			case w == "durable":
				o.durable = true
			case w == "reads":
				o.reads = true
			default:
				sc.fatalf("nodes N [quorum|quorumK] [durable] [reads]")
			}
		}
		o.syncMax = 200
		sc.s = newSim(1, o)
	case "mixed":
		sc.s.setMixed(sc.node(f[1]))
	case "clients":
		n := sc.number(f[1])
		for i := 0; i < n; i++ {
			sc.s.clients = append(sc.s.clients, newSimPlayer(sc.s, len(sc.s.clients)))
		}
	case "route":
		k := sc.number(strings.TrimPrefix(f[1], "c"))
		if k >= len(sc.s.clients) {
			sc.fatalf("no client %s", f[1])
		}
		sc.s.clients[k].pin = sc.node(f[2]).id
	case "run":
		sc.s.run(sc.s.now + sc.duration(f[1]))
	case "play":
		n := sc.number(f[1])
		want := len(sc.s.check.acked) + n
		deadline := sc.s.now + int64(5*time.Second)
		for len(sc.s.check.acked) < want && sc.s.now < deadline {
			sc.s.run(sc.s.now + int64(time.Millisecond))
		}
		if len(sc.s.check.acked) < want {
			sc.t.Logf("%s:%d: only %d of %d commands answered in 5s", sc.file, sc.line, len(sc.s.check.acked)-(want-n), n)
		}
	case "crash":
		if f[1] == "all" {
			for _, n := range sc.s.nodes {
				if n.up {
					sc.s.crash(n, true)
				}
			}
			return
		}
		sc.s.crash(sc.node(f[1]), !(len(f) > 2 && f[2] == "silent"))
	case "restart":
		n := sc.node(f[1])
		n.wipe = len(f) > 2 && f[2] == "wiped"
		sc.s.restart(n, len(f) > 2 && f[2] == "memory")
	case "join":
		sc.s.join()
	case "leave":
		sc.s.leave(sc.node(f[1]))
	case "clock":
		n := sc.node(f[1])
		if f[2] == "rate" {
			r, err := strconv.ParseFloat(f[3], 64)
			if err != nil || r <= 0 {
				sc.fatalf("clock nX rate R")
			}
			n.clock.origin, n.clock.from, n.clock.rate = sc.s.mono(n), sc.s.now, r
			return
		}
		sc.s.stepClock(n, time.Duration(sc.duration(strings.TrimPrefix(f[2], "+"))))
	case "quit":
		k := sc.number(strings.TrimPrefix(f[1], "c"))
		if k >= len(sc.s.clients) {
			sc.fatalf("no client %s", f[1])
		}
		p := sc.s.clients[k]
		p.quitting = true
		if p.next == never && p.op == nil {
			p.next = sc.s.now
		}
		deadline := sc.s.now + int64(3*time.Second)
		for !p.quit && sc.s.now < deadline {
			sc.s.run(sc.s.now + int64(time.Millisecond))
		}
		if !p.quit {
			sc.fatalf("client %s did not close its session in 3s", f[1])
		}
	case "pause":
		sc.s.pause(sc.node(f[1]))
	case "resume":
		sc.s.resume(sc.node(f[1]))
	case "partition":
		groups := make([]int, len(sc.s.nodes))
		g := 0
		for _, part := range f[1:] {
			if part == "|" {
				g++
				continue
			}
			for _, id := range sc.nodes(part) {
				groups[id-1] = g
			}
		}
		sc.s.partition(groups, false)
	case "cut":
		if len(f) != 4 || f[2] != "->" {
			sc.fatalf("cut nX -> nY")
		}
		sc.s.oneWay[[2]wire.NodeID{sc.node(f[1]).id, sc.node(f[3]).id}] = true
		sc.s.check.partitioned = true
	case "heal":
		sc.s.heal()
		for _, p := range sc.s.clients {
			p.pin = 0
		}
	case "stop":
		for _, p := range sc.s.clients {
			p.stop = true
			p.pin = 0
		}
		deadline := sc.s.now + int64(3*time.Second)
		for sc.s.now < deadline {
			busy := false
			for _, c := range sc.s.clients {
				busy = busy || c.op != nil
			}
			if !busy {
				break
			}
			sc.s.run(sc.s.now + int64(time.Millisecond))
		}
	case "expect":
		sc.expect(f[1:])
	default:
		sc.fatalf("unknown command %q", f[0])
	}
}

func (sc *scenario) expect(f []string) {
	s := sc.s
	switch f[0] {
	case "primary":
		want := sc.node(f[1])
		p := s.primary()
		if p == nil || p.id != want.id || !p.core.Serving() {
			sc.fatalf("expected n%d serving as primary; cluster:\n%s", want.id, sc.roles())
		}
		for _, n := range s.nodes {
			if n.up && !n.paused && n != p && n.core.Role() == wire.RolePrimary {
				sc.fatalf("n%d is primary too:\n%s", n.id, sc.roles())
			}
		}
		if len(f) > 3 && f[2] == "epoch" {
			e := sc.number(f[3])
			if p.core.Epoch().Term() != uint64(e) {
				sc.fatalf("expected epoch %d, got %d", e, p.core.Epoch().Term())
			}
		}
	case "said":
		// A notice of node nX in the recent trace holds the text.
		want := fmt.Sprintf("n%d: ", sc.node(f[1]).id)
		text := strings.Join(f[2:], " ")
		if !slices.ContainsFunc(s.trace, func(l string) bool { return strings.Contains(l, want) && strings.Contains(l, text) }) {
			sc.fatalf("n%d said nothing with %q lately", sc.node(f[1]).id, text)
		}
	case "role":
		n := sc.node(f[1])
		want := strings.Join(f[2:], " ")
		if got := n.core.Role().String(); got != want {
			sc.fatalf("n%d is %s, expected %s", n.id, got, want)
		}
	case "view":
		p := sc.node(f[1])
		want := sc.nodes(strings.Join(f[2:], ""))
		if got := p.core.InView(); !slices.Equal(got, want) {
			sc.fatalf("n%d's view holds %v, expected %v", p.id, got, want)
		}
	case "settled", "lost":
		if f[0] == "lost" && (len(f) != 2 || sc.number(f[1]) != 0) {
			sc.fatalf("expect lost 0: a lost move is a violation, no other count can pass")
		}
		deadline := s.now + int64(2*time.Second)
		for !s.settled() && s.now < deadline {
			s.run(s.now + int64(time.Millisecond))
		}
		if !s.settled() {
			sc.fatalf("not settled:\n%s", sc.roles())
		}
		if f[0] == "settled" {
			return
		}
		s.check.final()
		if len(s.check.failed) > 0 {
			sc.fatalf("violations:\n%s", strings.Join(s.check.failed, "\n"))
		}
	case "rolledback":
		moves := 0
		for _, it := range s.check.rollback {
			if it.Kind == game.CmdPlace {
				moves++
			}
		}
		if f[1] == ">0" {
			if moves == 0 {
				sc.fatalf("expected rolled-back moves to be reported, got none")
			}
			for _, it := range s.check.rollback {
				if it.Name == "" || (it.Kind == game.CmdPlace && it.Digit == 0) {
					sc.fatalf("a rollback does not name the player and the cell: %+v", it)
				}
			}
			return
		}
		n := sc.number(f[1])
		if moves != n {
			sc.fatalf("expected %d rolled-back moves, got %d", n, moves)
		}
	case "stalled":
		for _, n := range s.nodes {
			if n.up && !n.paused && n.core.Serving() {
				sc.fatalf("n%d serves as primary:\n%s", n.id, sc.roles())
			}
		}
	case "answered":
		if n := sc.number(f[1]); len(s.check.acked) < n {
			sc.fatalf("%d commands answered, expected at least %d", len(s.check.acked), n)
		}
	case "no":
		if len(s.check.failed) > 0 {
			sc.fatalf("violations:\n%s", strings.Join(s.check.failed, "\n"))
		}
	default:
		sc.fatalf("unknown expectation %q", f[0])
	}
}

func (sc *scenario) roles() string {
	var b strings.Builder
	for _, n := range sc.s.nodes {
		fmt.Fprintf(&b, "  %s up=%v paused=%v\n", n.core, n.up, n.paused)
	}
	return b.String()
}
