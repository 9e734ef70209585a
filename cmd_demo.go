package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/demo"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/tui"
)

func cmdDemo(args []string) error {
	fs := newFlags("demo", "gridlock demo [--nodes N] [--bots M] [flags]", "gridlock demo    (then K kills the primary, P pauses it, X cuts it off, ? lists the keys)")
	nodes := fs.Int("nodes", 3, fmt.Sprintf("nodes to start, 1..%d", demo.MaxNodes))
	bots := fs.Int("bots", 4, "automated players (0: none)")
	rate := fs.Float64("bot-rate", 0.5, "commands a second per bot")
	restart := fs.Duration("restart-after", 2*time.Second, "a killed node comes back from its data after this long, as under a supervisor (0: only when R is pressed)")
	name := fs.String("name", "presenter", "your name in the game")
	logFile := fs.String("log-file", defaultLogFile(), "where the demo and the app log (never to the screen)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if *name, err = checkName("name", *name); err != nil {
		return err
	}
	switch {
	case *bots > 0 && isBotName(*name, *bots):
		return usagef("--name %q: the bots are bot1 to bot%d: choose another", *name, *bots)
	case *nodes < 1 || *nodes > demo.MaxNodes:
		return usagef("--nodes %d: 1 to %d", *nodes, demo.MaxNodes)
	case *bots < 0:
		return usagef("--bots %d: 0 or more", *bots)
	case !(*rate > 0 && *rate <= 1e6): // NaN fails both
		return usagef("--bot-rate %v: more than 0, at most 1000000", *rate)
	case *restart < 0:
		return usagef("--restart-after %v: 0 or more", *restart)
	}
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return errors.New("the demo needs a terminal (stdin and stdout)")
	}
	log, closer, err := openLog(*logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprintf(os.Stderr, "gridlock demo: starting %s and %s…\n", plural(*nodes, "node"), plural(*bots, "bot"))
	// Until the nodes are stopped and the directory is gone, a signal
	// ends the demo in order rather than at once: during the start (the
	// start is given up), and while it ends (a second ctrl+c, or the
	// SIGHUP of a closed terminal, would leave the directory behind).
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stopSignals()
	d, err := demo.Start(sigCtx, demo.Options{Nodes: *nodes, Bots: *bots, BotRate: *rate, RestartAfter: *restart, Logger: log})
	if err != nil {
		return err
	}
	c := client.Dial(context.Background(), client.ClientOptions{Name: *name, Addrs: d.Addrs(), Logger: log})
	err = runApp(c, tui.Options{Name: *name, NoColor: os.Getenv("NO_COLOR") != "", Presenter: presenter{d}}, log)
	c.Leave(context.Background())
	if *bots > 0 {
		fmt.Fprintln(os.Stderr, "gridlock demo: the bots check what they were told, then the nodes stop…")
	} else {
		fmt.Fprintln(os.Stderr, "gridlock demo: the nodes stop…")
	}
	sum := d.Close()
	printSummary(os.Stdout, sum)
	if err != nil {
		return err
	}
	return demoResult(sum)
}

// demoResult is how a demo ends: as a bot run does, when there were bots.
func demoResult(s demo.Summary) error {
	if s.BotsErr != nil {
		return fmt.Errorf("bots: %w", s.BotsErr)
	}
	if s.Bots.Players > 0 {
		if err := botResult(s.Bots); err != nil {
			return err
		}
	}
	return s.Err
}

// isBotName says whether name is one of the demo's bots' (bot1 to botN),
// as the game compares names: the presenter would be refused it.
func isBotName(name string, bots int) bool {
	key := game.NameKey(name)
	n, err := strconv.Atoi(strings.TrimPrefix(key, "bot"))
	return strings.HasPrefix(key, "bot") && err == nil && n >= 1 && n <= bots && key == fmt.Sprintf("bot%d", n)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// printSummary tells what the demo saw, once the screen is back.
func printSummary(w io.Writer, s demo.Summary) {
	fmt.Fprintf(w, "gridlock demo: %s", plural(len(s.Failovers), "failover"))
	if len(s.Failovers) > 0 {
		fmt.Fprintf(w, " (times from the fault):")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(s.Failovers) > 0 {
		fmt.Fprintln(tw, "\tfault\t\tsuspected\tnew primary\tfirst move\t")
	}
	ms := func(d time.Duration) string {
		switch {
		case d == 0:
			return "—"
		case d < 50*time.Microsecond:
			return "<0.1ms" // a killed primary's links close at once: not "0s"
		case d >= time.Second:
			return d.Round(10 * time.Millisecond).String() // 1.97s, as the panel says, not 1.9668s
		}
		return d.Round(100 * time.Microsecond).String()
	}
	for i, f := range s.Failovers {
		to := "none"
		if f.To != 0 {
			to = f.To.String()
		}
		fmt.Fprintf(tw, "%d\t%s n%d\t→ %s\t%s\t%s\t%s\t\n", i+1, f.Cause, f.From, to, ms(f.Suspected()), ms(f.Elected()), ms(f.Moved()))
	}
	tw.Flush()
	r := s.Bots
	switch {
	case r.Players > 0 && r.Checked:
		fmt.Fprintf(w, "bots: %d acknowledged, %d lost (checked against the primary's room at the end)\n", r.Acked, r.Lost)
	case r.Players > 0:
		fmt.Fprintf(w, "bots: %d acknowledged; nothing was checked: the final room could not be fetched\n", r.Acked)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if s.BotsErr != nil {
		fmt.Fprintf(w, "bots: %v\n", s.BotsErr)
	}
	fmt.Fprintf(w, "nodes stopped; %s removed\n", s.Dir)
}

// presenter shows a demo in the app's presenter panel.
type presenter struct{ d *demo.Demo }

func (p presenter) Changed() <-chan struct{} { return p.d.Changed() }

func (p presenter) Act(a tui.Action) string {
	switch a {
	case tui.ActKill:
		return p.d.Kill()
	case tui.ActPause:
		return p.d.Pause()
	case tui.ActCut:
		return p.d.Cut()
	case tui.ActRestart:
		return p.d.Restart()
	case tui.ActAdd:
		return p.d.Add()
	}
	return ""
}

func (p presenter) Panel() tui.Panel {
	s := p.d.State()
	out := tui.Panel{Primary: s.Primary, Majority: s.Majority, Bots: s.Bots, Acked: s.Progress.Acked, Lost: s.Progress.Lost}
	if s.BotsErr != nil {
		out.BotsErr = "stopped"
	}
	for _, n := range s.Nodes {
		out.Nodes = append(out.Nodes, tui.PanelNode{ID: n.ID, PID: n.PID, Alive: n.Alive, Paused: n.Paused, Cut: n.Cut, RestartAt: n.RestartAt})
	}
	for _, f := range s.Failovers {
		out.Failovers = append(out.Failovers, tui.PanelFailover{Cause: f.Cause.String(), From: f.From, To: f.To, At: f.At,
			Suspected: f.Suspected(), Elected: f.Elected(), Moved: f.Moved(), Over: f.Over})
	}
	return out
}
