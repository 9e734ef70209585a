package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/demo"
)

// serve's hidden flag comes out of the arguments in every form the flag
// package takes, and a bad one is a usage error.
func TestDemoChildFlag(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		rest   string
		parent int
		bad    bool
	}{
		{[]string{"--id", "2", "--demo-child=4242", "--quorum=on"}, "--id 2 --quorum=on", 4242, false},
		{[]string{"-demo-child", "77", "--id", "1"}, "--id 1", 77, false},
		{[]string{"--id", "1"}, "--id 1", 0, false},
		{[]string{"--", "--demo-child=5"}, "-- --demo-child=5", 0, false},
		{[]string{"--demo-child"}, "", 0, true},
		{[]string{"--demo-child=x"}, "", 0, true},
		{[]string{"--demo-child=1"}, "", 0, true},
	} {
		rest, parent, err := demoChildFlag(tc.args)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil || strings.Join(rest, " ") != tc.rest || parent != tc.parent {
			t.Errorf("%q: %q, %d, %v; want %q, %d", tc.args, rest, parent, err, tc.rest, tc.parent)
		}
	}
}

// The flag is in no help, and serve without it refuses nothing new.
func TestDemoChildFlagIsHidden(t *testing.T) {
	out, errOut, _ := runGridlock(t, 10*time.Second, "serve", "--help")
	if strings.Contains(out+errOut, "demo-child") {
		t.Errorf("serve --help shows the demo's flag:\n%s%s", out, errOut)
	}
	// A node told it is a demo's child whose parent is not the demo stops.
	_, errOut, code := runGridlock(t, 10*time.Second, "serve", "--demo-child=2", "--group=off", "--bootstrap=any")
	if code == 0 || !strings.Contains(errOut, "the demo that started this node is gone") {
		t.Errorf("serve --demo-child with another parent: exit %d\n%s", code, errOut)
	}
}

func TestDemoSummary(t *testing.T) {
	at := time.Now()
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	var b bytes.Buffer
	printSummary(&b, demo.Summary{
		Failovers: []demo.Failover{
			{Cause: demo.Kill, From: 3, To: 2, At: at, SuspectedAt: ms(1), ElectedAt: ms(6), MovedAt: ms(22), Over: true},
			{Cause: demo.Pause, From: 3, At: at, Over: true},
		},
		Bots: bot.Report{Players: 4, Acked: 1204, Checked: true},
		Dir:  "/tmp/gridlock-demo-1",
	})
	out := b.String()
	for _, want := range []string{"2 failovers", "kill n3", "→ n2", "22ms", "pause n3", "→ none", "bots: 1204 acknowledged, 0 lost", "/tmp/gridlock-demo-1 removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the summary:\n%s", want, out)
		}
	}
}

// A failover of seconds (a lone node killed, brought back with R) is
// given to the hundredth of a second, as the panel gives it, and one of
// milliseconds to the tenth of a millisecond.
func TestDemoSummaryRoundsSeconds(t *testing.T) {
	at := time.Now()
	var b bytes.Buffer
	printSummary(&b, demo.Summary{
		Failovers: []demo.Failover{
			{Cause: demo.Kill, From: 2, To: 3, At: at, SuspectedAt: at.Add(2700 * time.Microsecond),
				ElectedAt: at.Add(1966812 * time.Microsecond), MovedAt: at.Add(2122712 * time.Microsecond), Over: true},
			{Cause: demo.Kill, From: 3, To: 2, At: at, SuspectedAt: at.Add(30 * time.Microsecond),
				ElectedAt: at.Add(3100 * time.Microsecond), MovedAt: at.Add(16700 * time.Microsecond), Over: true},
		},
		Dir: "/tmp/gridlock-demo-1",
	})
	out := b.String()
	for _, want := range []string{"2.7ms", "1.97s", "2.12s", "<0.1ms", "3.1ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the summary:\n%s", want, out)
		}
	}
	if strings.Contains(out, "1.9668s") {
		t.Errorf("a time of seconds to the tenth of a millisecond:\n%s", out)
	}
}

// When the bots' final fetch failed, the summary claims no check, and the
// demo fails as `gridlock bot` does.
func TestDemoSummaryNothingChecked(t *testing.T) {
	var b bytes.Buffer
	sum := demo.Summary{
		Bots: bot.Report{Players: 4, Acked: 310, Errors: 2, Problems: []string{"could not fetch the final room: no primary"}},
		Dir:  "/tmp/gridlock-demo-1",
	}
	printSummary(&b, sum)
	out := b.String()
	if strings.Contains(out, "checked against") || !strings.Contains(out, "bots: 310 acknowledged; nothing was checked") ||
		!strings.Contains(out, "could not fetch the final room: no primary") {
		t.Errorf("summary of a run whose final fetch failed:\n%s", out)
	}
	if err := demoResult(sum); err == nil || !strings.Contains(err.Error(), "nothing was checked") {
		t.Errorf("demo result with nothing checked: %v", err)
	}
	sum.Bots.Checked, sum.Bots.Problems = true, nil
	if err := demoResult(sum); err != nil {
		t.Errorf("demo result with everything checked: %v", err)
	}
	if err := demoResult(demo.Summary{}); err != nil {
		t.Errorf("demo result without bots: %v", err)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	// Without a terminal it says so, and starts nothing.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, errOut, code := runGridlock(t, 10*time.Second, "demo", "--log-file", filepath.Join(tmp, "demo.log"))
	if left, _ := filepath.Glob(filepath.Join(tmp, "gridlock-demo-*")); code != 1 || !strings.Contains(errOut, "needs a terminal") || len(left) > 0 {
		t.Errorf("demo without a terminal: exit %d, left %v\n%s", code, left, errOut)
	}
	for _, args := range [][]string{{"--nodes", "0"}, {"--nodes", "10"}, {"--bots", "-1"}, {"--bot-rate", "0"}, {"--restart-after", "-1s"}, {"extra"}, {"--name", "bot1"}, {"--name", "BOT4"}} {
		_, errOut, code := runGridlock(t, 10*time.Second, append([]string{"demo"}, args...)...)
		if code != 2 {
			t.Errorf("demo %q: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}

// TestDemoKeys drives a demo without a terminal, through the calls its
// keys make: a kill with no restart until R, a node added, a pause and a
// cut of the primary undone, each failover timed; then Close leaves no
// process and no directory, and the bots lost nothing.
func TestDemoKeys(t *testing.T) {
	tmp := t.TempDir()
	d, err := demo.Start(context.Background(), demo.Options{Exe: binPath, Nodes: 3, Bots: 2, BotRate: 4, Dir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			d.Close()
		}
	})
	state := func(what string, ok func(demo.State) bool) demo.State {
		t.Helper()
		var s demo.State
		waitFor(t, 20*time.Second, what, func() (bool, string) {
			s = d.State()
			return ok(s), fmt.Sprintf("%+v", s)
		})
		return s
	}
	lastOver := func(s demo.State) bool {
		n := len(s.Failovers)
		return n > 0 && s.Failovers[n-1].Over && s.Failovers[n-1].Moved() > 0
	}
	s := state("n3 primary, bots playing", func(s demo.State) bool { return s.Primary == 3 && s.Progress.Acked > 0 })
	pids := map[int]bool{}
	for _, n := range s.Nodes {
		pids[n.PID] = true
	}

	if note := d.Kill(); !strings.Contains(note, "kill -9 n3") {
		t.Fatalf("Kill: %q", note)
	}
	s = state("a new primary and a first move after the kill", lastOver)
	if f := s.Failovers[0]; f.Cause != demo.Kill || f.From != 3 || f.To != 2 || f.Suspected() > f.Elected() || f.Elected() > f.Moved() {
		t.Errorf("the kill's failover: %+v", f)
	}
	if s.Nodes[2].Alive || !s.Nodes[2].RestartAt.IsZero() {
		t.Errorf("n3 after the kill, with no restart: %+v", s.Nodes[2])
	}
	if note := d.Restart(); !strings.Contains(note, "restarted n3") {
		t.Errorf("Restart: %q", note)
	}
	if note := d.Restart(); note != "no dead node to restart" {
		t.Errorf("Restart with none dead: %q", note)
	}
	if note := d.Add(); !strings.Contains(note, "added n4") {
		t.Fatalf("Add: %q", note)
	}
	s = state("n4 leads, caught up", func(s demo.State) bool { return s.Primary == 4 && s.Majority == 3 })
	for _, n := range s.Nodes {
		pids[n.PID] = true
	}

	if note := d.Pause(); !strings.Contains(note, "SIGSTOP n4") {
		t.Fatalf("Pause: %q", note)
	}
	s = state("a new primary after the pause", lastOver)
	if f := s.Failovers[1]; f.Cause != demo.Pause || f.From != 4 || f.To != 3 {
		t.Errorf("the pause's failover: %+v", f)
	}
	if note := d.Pause(); !strings.Contains(note, "SIGCONT n4") {
		t.Errorf("Pause again: %q", note)
	}
	state("n4 leads again", func(s demo.State) bool { return s.Primary == 4 && !s.Nodes[3].Paused })

	if note := d.Cut(); !strings.Contains(note, "n4 cut off") {
		t.Fatalf("Cut: %q", note)
	}
	s = state("a new primary after the cut", lastOver)
	if f := s.Failovers[2]; f.Cause != demo.Cut || f.From != 4 || f.To != 3 {
		t.Errorf("the cut's failover: %+v", f)
	}
	if note := d.Cut(); !strings.Contains(note, "n4 healed") {
		t.Errorf("Cut again: %q", note)
	}
	state("n4, healed, leads again", func(s demo.State) bool { return s.Primary == 4 && !s.Nodes[3].Cut })

	dir := d.State().Dir
	sum := d.Close()
	closed = true
	if sum.Err != nil || sum.BotsErr != nil || sum.Bots.Lost != 0 || sum.Bots.Acked == 0 || !sum.Bots.Checked || len(sum.Failovers) != 3 {
		t.Errorf("summary: %+v", sum)
	}
	var list []int
	for pid := range pids {
		list = append(list, pid)
	}
	waitGone(t, list, 5*time.Second, "every node of the demo gone after Close")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", dir, err)
	}
	t.Logf("bots: %s", sum.Bots)
}
