package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/tui"
)

// watchName is a spectator's default name.
func watchName() string {
	if n := userName(fmt.Sprintf("-watching-%d", 1+rand.IntN(99))); n != "" {
		return n
	}
	return fmt.Sprintf("spectator-%d", 1+rand.IntN(999))
}

// cmdWatch joins a cluster as a spectator: with an address, as connect
// does; without, on the multicast group, as play and status find it.
func cmdWatch(args []string) error {
	fs := newFlags("watch", "gridlock watch [HOST:PORT] [flags]",
		"gridlock watch    (the game on this machine's group; or: gridlock watch localhost:8000)")
	var af appFlags
	fs.StringVar(&af.name, "name", watchName(), "your name in the game's lists of spectators")
	fs.StringVar(&af.logFile, "log-file", defaultLogFile(), "where the app logs (never to the screen)")
	var gf groupFlags
	gf.register(fs)
	timeout := fs.Duration("timeout", 5*time.Second, "without an address: give up when no node is heard within this time")
	rest, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	var addr string
	if len(rest) > 0 {
		addr = rest[0]
		if _, err := parse(fs, rest[1:], 0); err != nil {
			return err
		}
	}
	if af.name, err = checkName("name", af.name); err != nil {
		return err
	}
	if err := gf.check(); err != nil {
		return err
	}
	var addrs []string
	if addr != "" {
		if addrs, err = splitAddrs("address", addr); err != nil {
			return err
		}
	} else if addrs, err = discoverAddrs(&gf, *timeout); err != nil {
		return err
	}
	return runWatch(af, addrs)
}

// discoverAddrs lists the client addresses of the nodes heard on the group.
func discoverAddrs(gf *groupFlags, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := fmt.Errorf("no node of cluster %q heard on %s (%s)", gf.cluster, gf.group, gf.iface)
	for {
		start := time.Now()
		v, err := gf.discover(ctx)
		if err == nil {
			var addrs []string
			for _, n := range v.Nodes {
				if n.Alive && n.DialAddr() != "" {
					addrs = append(addrs, n.DialAddr())
				}
			}
			if len(addrs) > 0 {
				return addrs, nil
			}
		} else {
			last = err
		}
		// An attempt that failed at once (no group to join yet) is tried
		// again after a listen's time, not in a busy loop.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%v within %v: give an address, e.g. gridlock watch localhost:8000", last, timeout)
		case <-time.After(discoverListen - time.Since(start)):
		}
	}
}

// runWatch shows the app as a spectator of the nodes at addrs.
// af.name has been checked (checkName).
func runWatch(af appFlags, addrs []string) error {
	onePlayerProcs(1)
	log, closer, err := openLog(af.logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	return runNamed(af.name, "watch-", log, tui.Options{Watch: true}, func(name, token string) *client.Client {
		return client.Dial(context.Background(), client.ClientOptions{Name: name, Token: token, Addrs: addrs, Logger: log, Watch: true})
	})
}
