package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/node"
)

func cmdServe(args []string) error {
	fs := newFlags("serve", "gridlock serve [flags]", "gridlock serve --id 3 --tcp-port 8002 --replication-port 8102")
	nf := nodeFlags{quorum: true}
	nf.register(fs)
	format := fs.String("log-format", "text", "log format on stderr: text or json")
	debug := fs.Bool("debug", false, "log at debug level")
	health := fs.String("health", "", "check that the node at this client address answers, and exit (for container health checks)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *health != "" {
		return healthCheck(*health)
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log, err := newLogger(os.Stderr, *format, level)
	if err != nil {
		return err
	}
	o, err := nf.options(log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(context.Background(), o)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("signal received: leaving the cluster")
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return n.Leave(lctx)
	case <-n.Done():
		return errors.New("node stopped")
	}
}

// healthCheck asks a node for its view: healthy if it answers.
func healthCheck(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := fetchStatus(ctx, addr)
	return err
}
