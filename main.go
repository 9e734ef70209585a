// Command gridlock is a multiplayer number puzzle for the terminal in which
// every player's app is also a replica of the game cluster.
//
// The package is wiring only: main.go holds the command table (play,
// connect, watch, serve, status, bot, demo, generate, version), each
// cmd_*.go parses one command's flags and puts the parts together (a node
// from package node, a client from package client, the app from package
// tui, bots from package bot), and flags.go the flags that several
// commands share.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// A command of the gridlock binary. Each one's code is in cmd_NAME.go
// (connect's with play's), and the flags they share are in flags.go.
type command struct {
	name, summary string
	run           func(args []string) error
}

var commands = []command{
	{"play", "play in this terminal; the app is also a replica of the cluster (the default)", cmdPlay},
	{"connect", "play as a client of a cluster elsewhere: gridlock connect HOST:PORT", cmdConnect},
	{"watch", "watch as a spectator: the board, scores and chat, on no scoreboard", cmdWatch},
	{"serve", "run a headless replica (for servers and Docker)", cmdServe},
	{"status", "print the cluster: nodes, roles, epoch, leader, commit index", cmdStatus},
	{"bot", "automated players for load, demos and tests; checks nothing was lost", cmdBot},
	{"demo", "a local cluster, bots and the app, with keys to kill, pause and cut off the primary", cmdDemo},
	{"generate", "print a puzzle (and its solution)", cmdGenerate},
	{"version", "print the build: its commit, protocol and Go release (also --version)", cmdVersion},
}

func main() {
	args := os.Args[1:]
	name := "play"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || (len(args) == 1 && name == "play" && (args[0] == "-h" || args[0] == "--help") && len(os.Args) == 2) {
		usage(os.Stdout)
		return
	}
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		printVersion(os.Stdout)
		return
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(args); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return
				}
				var ue usageError
				if errors.As(err, &ue) {
					if ue.msg != "" {
						fmt.Fprintf(os.Stderr, "gridlock %s: %s\n", name, ue.msg)
					}
					os.Exit(2)
				}
				fmt.Fprintf(os.Stderr, "gridlock %s: %v\n", name, err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "gridlock: unknown command %q\n\n", name)
	usage(os.Stderr)
	os.Exit(2)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "gridlock — a multiplayer number puzzle where every player's app is a replica of the game.\n\n")
	fmt.Fprintf(w, "Usage: gridlock [command] [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'gridlock COMMAND --help' for a command's flags and an example.\n")
}
