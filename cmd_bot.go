package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/game"
)

func cmdBot(args []string) error {
	fs := newFlags("bot", "gridlock bot --players N --rate R --duration D [flags]", "gridlock bot --players 5 --rate 10 --duration 30s --connect localhost:8000")
	players := fs.Int("players", 3, "number of players")
	rate := fs.Float64("rate", 5, "commands a second per player (0: as fast as they are answered)")
	duration := fs.Duration("duration", 10*time.Second, "how long to play (0: until interrupted; ctrl+c ends play, then the bots check and leave)")
	connect := fs.String("connect", "", "nodes to start from, host:port,… (default: discover on the multicast group)")
	room := fs.String("room", "main", "room to play in (created if needed)")
	size := fs.Int("size", 9, "puzzle size of a room the bots create")
	diff := fs.String("difficulty", "easy", "difficulty of a room the bots create: easy, medium, hard or expert")
	errRate := fs.Float64("error-rate", 0.1, "share of placements made wrong on purpose")
	claims := fs.Float64("claims", 0.1, "share of commands that are claims")
	chat := fs.Float64("chat", 0.05, "share of commands that are chat lines")
	prefix := fs.String("prefix", "bot", "player name prefix")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var gf groupFlags
	gf.register(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := gf.check(); err != nil {
		return err
	}
	if *duration < 0 {
		return usagef("--duration %v: 0 or more (0: until interrupted)", *duration)
	}
	level, err := game.ParseDifficulty(*diff)
	if err != nil {
		return usagef("--difficulty: %v", err)
	}
	if *players < 1 {
		return usagef("--players %d: 1 or more", *players)
	}
	if _, err := checkName("prefix", fmt.Sprintf("%s%d", *prefix, *players)); err != nil {
		return err
	}
	if !(*rate >= 0 && *rate <= 1e6) { // NaN fails both
		return usagef("--rate %v: 0 or more (0: as fast as they are answered), at most 1000000", *rate)
	}
	if *size != 4 && *size != 6 && *size != 9 {
		return usagef("--size %d: sizes are 4, 6 and 9", *size)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"error-rate", *errRate}, {"claims", *claims}, {"chat", *chat}} {
		if !(s.v >= 0 && s.v <= 1) { // NaN fails both
			return usagef("--%s %v: a share, from 0 to 1", s.name, s.v)
		}
	}
	var addrs []string
	if *connect != "" {
		var err error
		if addrs, err = splitAddrs("--connect", *connect); err != nil {
			return err
		}
	}
	onePlayerProcs(*players)
	// The first SIGINT or SIGTERM ends play: the bots then check what
	// they were told and close their sessions. A second one cuts that short.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		close(done)
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	if len(addrs) == 0 {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := gf.discover(dctx)
		cancel()
		if err != nil {
			return fmt.Errorf("no cluster found: %v (give --connect HOST:PORT)", err)
		}
		for _, n := range v.Nodes {
			addrs = append(addrs, clientAddr(n))
		}
	}
	rep, err := bot.Run(ctx, bot.Options{
		Players: *players, Rate: *rate, Duration: *duration, Room: *room, Size: uint8(*size), Difficulty: level,
		ErrorRate: *errRate, ClaimRate: *claims, ChatRate: *chat, Prefix: *prefix, Addrs: addrs, Done: done,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Println(rep)
	}
	return botResult(rep)
}

// botResult is how a bot run ends: an error when acknowledged moves are
// missing, or when the final room could not be fetched to look for them.
func botResult(rep bot.Report) error {
	if rep.Lost > 0 {
		return fmt.Errorf("lost=%d: acknowledged moves are missing", rep.Lost)
	}
	if !rep.Checked {
		return fmt.Errorf("nothing was checked: the final room could not be fetched (%d commands unanswered)", rep.Errors)
	}
	return nil
}
