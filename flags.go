package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// usageError is a mistake on the command line (exit status 2). An empty msg
// means it has been reported already, with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string {
	if e.msg == "" {
		return "usage"
	}
	return e.msg
}

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// parse parses args, which may hold at most maxArgs arguments besides the
// flags (any number if maxArgs < 0), and returns them.
func parse(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{} // the flag package printed it and the usage
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(maxArgs))
		fs.Usage()
		return nil, usageError{}
	}
	return fs.Args(), nil
}

func newFlags(name, usageLine, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nExample:\n  %s\n", usageLine, example)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(fs.Output(), "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// groupFlags say where a cluster is found and how it is recognised.
type groupFlags struct {
	cluster, group, iface, secret string
}

func (f *groupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cluster, "cluster", "gridlock", "cluster name: games with other names on the same group ignore this one")
	fs.StringVar(&f.group, "group", "224.1.1.1:5007", "multicast group for discovery and heartbeats (off: none)")
	fs.StringVar(&f.iface, "iface", "lo", "network interface for multicast")
	fs.StringVar(&f.secret, "secret", "", "cluster secret: beacons and peer links are authenticated (or GRIDLOCK_SECRET)")
}

// secretBytes is --secret, or else GRIDLOCK_SECRET.
func (f *groupFlags) secretBytes() []byte {
	if f.secret != "" {
		return []byte(f.secret)
	}
	return []byte(os.Getenv("GRIDLOCK_SECRET"))
}

// discoverListen is how long discover listens to beacons: a few of every
// node's. A shorter listen (ctx ending) may miss nodes.
const discoverListen = 350 * time.Millisecond

// check refuses what would leave a node or client deaf to its cluster.
func (f *groupFlags) check() error {
	if f.cluster == "" {
		return usagef("--cluster '': a cluster needs a name (the default is gridlock)")
	}
	if len(f.cluster) > wire.PeerLimits.MaxCluster {
		// Its beacons would be refused by every node, this one included.
		return usagef("--cluster %q: at most %d bytes", f.cluster, wire.PeerLimits.MaxCluster)
	}
	if f.group == "" || f.group == "off" {
		return nil
	}
	host, port, err := net.SplitHostPort(f.group)
	ip := net.ParseIP(host)
	p, perr := strconv.Atoi(port)
	if err != nil || ip.To4() == nil || !ip.IsMulticast() || perr != nil || p < 1 || p > 65535 {
		return usagef("--group %q: an IPv4 multicast address and port, e.g. 224.1.1.1:5007, or off", f.group)
	}
	return nil
}

// discover builds the cluster's view from the beacons heard on the group.
func (f *groupFlags) discover(ctx context.Context) (*wire.ClusterView, error) {
	return node.Discover(ctx, node.DiscoverOptions{Cluster: f.cluster, Group: f.group, Iface: f.iface, Secret: f.secretBytes(),
		Listen: discoverListen})
}

// nodeFlags are the flags of a replica (play and serve).
type nodeFlags struct {
	groupFlags
	id, tcpPort, replPort, hbPort                  int
	quorum                                         quorumFlag
	bootstrap                                      string
	dataDir, fsync                                 string
	peers, advertise, listen                       string
	heartbeat, suspicion, election, ack, countdown time.Duration
	procs                                          int
	procsAuto                                      bool // no --procs, no $GOMAXPROCS
}

func (f *nodeFlags) register(fs *flag.FlagSet) {
	d := replica.DefaultConfig(1)
	f.groupFlags.register(fs)
	fs.IntVar(&f.id, "id", 0, "node id, 0..65535 (0: the next free one; Bully makes the highest id primary)")
	fs.IntVar(&f.tcpPort, "tcp-port", 0, "client port (0: any free port, found through discovery)")
	fs.IntVar(&f.replPort, "replication-port", 0, "peer port (0: any free port)")
	fs.StringVar(&f.peers, "peers", "", "static peers' heartbeat addresses, host:port,… (where multicast is not available)")
	fs.IntVar(&f.hbPort, "heartbeat-port", 0, "UDP port for unicast heartbeats from --peers")
	fs.StringVar(&f.advertise, "advertise", "", "client address to tell clients (host:port), e.g. as seen from a Docker host")
	fs.StringVar(&f.listen, "listen", "", "address the TCP ports bind (default 127.0.0.1 on lo, with no --peers or only loopback ones; else all)")
	quorumUsage := "on: an entry commits on a majority of the voters, and no side of a partition without one acts (no rollbacks); off: availability mode, a lone node plays on and a losing side's moves are rolled back and announced"
	if !f.quorum {
		quorumUsage += " (default off)" // the flag package leaves out a default that is the zero value
	}
	fs.Var(&f.quorum, "quorum", quorumUsage)
	fs.StringVar(&f.bootstrap, "bootstrap", f.bootstrap, "the voters of a new cluster, e.g. 1,2,3: a node with no data makes the cluster only when all of them are up and empty (any: the highest empty node in sight; none: only ever join a cluster)")
	per := "player name" // play's directory is its player's
	if f.dataDir != "auto" {
		per = "node id (--id)" // serve's is its node's
	}
	fs.StringVar(&f.dataDir, "data-dir", f.dataDir, "keep the node's log and snapshots here, so that the game survives a restart ('': keep nothing; auto: under your state directory, one per cluster and "+per+")")
	fs.StringVar(&f.fsync, "fsync", "always", "always: nothing is acknowledged before it is synced to disk (one sync per turn of the node's loop); off: faster, but a power failure can lose the last moves")
	fs.DurationVar(&f.heartbeat, "heartbeat", d.Heartbeat, "beacon and heartbeat interval")
	fs.DurationVar(&f.suspicion, "suspicion", d.Suspicion, "silence after which a peer is suspected")
	fs.DurationVar(&f.election, "election-timeout", d.ElectionAnswer, "wait for an answer from a higher id")
	fs.DurationVar(&f.ack, "ack-timeout", d.AckTimeout, "wait for a backup's acknowledgement before it leaves the view")
	fs.DurationVar(&f.countdown, "countdown", game.DefaultRules().RoundCountdown, "pause between rounds (a new cluster's rule)")
	procs := 1
	if os.Getenv("GOMAXPROCS") != "" {
		procs = 0
	}
	f.procsAuto = procs == 1
	fs.Func("procs", fmt.Sprintf("threads running the process's Go code at once (0: one per core, or $GOMAXPROCS; default %d, and twice the cores while the node serves %d players or more): the node is one loop, and on one thread its goroutines hand work to each other without waking another thread", procs, node.ManyClientsAt),
		func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("not a number")
			}
			f.procs, f.procsAuto = n, false
			return nil
		})
	f.procs = procs
}

// applyProcs sets how many threads run Go code at once. One, by default:
// measured with three nodes on two cores, a lone node's round trip is
// 15-25 % shorter, throughput the same or higher, an idle node cheaper.
// With 1,000 players, twice the cores (manyProcs) cut p99 by a third.
func (f *nodeFlags) applyProcs() {
	if f.procs > 0 {
		runtime.GOMAXPROCS(f.procs)
	}
}

// onePlayerProcs runs a process that plays for one player (connect,
// watch, bot --players 1) on one thread, unless $GOMAXPROCS says
// otherwise: with a second thread idle, the client's reader wakes it at
// every answer it hands to the player, and on two cores that cost a lone
// node's round trip a third (54-57 µs against 82-88 µs, runs interleaved). With
// 100 players in one process one thread answered 14 % fewer commands a
// second, so more players keep every core.
func onePlayerProcs(players int) {
	if players == 1 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// manyProcs runs more threads than cores while a node serves many players,
// so that one of them is free to notice a ready connection at once.
func manyProcs(many bool) {
	if many {
		runtime.GOMAXPROCS(2 * runtime.NumCPU())
	} else {
		runtime.GOMAXPROCS(1)
	}
}

func (f *nodeFlags) options(log *slog.Logger) (node.Options, error) {
	if f.id < 0 || f.id > 65535 {
		return node.Options{}, usagef("--id %d: must be 0..65535 (0: the next free one)", f.id)
	}
	if err := f.groupFlags.check(); err != nil {
		return node.Options{}, err
	}
	for _, p := range []struct {
		name string
		port int
	}{{"tcp-port", f.tcpPort}, {"replication-port", f.replPort}, {"heartbeat-port", f.hbPort}} {
		if p.port < 0 || p.port > 65535 {
			return node.Options{}, usagef("--%s %d: a port is 0..65535", p.name, p.port)
		}
	}
	if f.procs < 0 {
		return node.Options{}, usagef("--procs %d: must be 0 (one per core) or more", f.procs)
	}
	switch {
	case f.heartbeat <= 0:
		return node.Options{}, usagef("--heartbeat %v: more than 0", f.heartbeat)
	case f.suspicion <= 2*f.heartbeat:
		return node.Options{}, usagef("--suspicion %v: more than two heartbeats (--heartbeat %v)", f.suspicion, f.heartbeat)
	case f.election <= 0 || f.election > f.suspicion:
		return node.Options{}, usagef("--election-timeout %v: more than 0, at most --suspicion (%v)", f.election, f.suspicion)
	case f.ack <= f.heartbeat:
		return node.Options{}, usagef("--ack-timeout %v: more than a heartbeat (--heartbeat %v)", f.ack, f.heartbeat)
	case f.countdown <= 0 || f.countdown > 24*time.Hour:
		return node.Options{}, usagef("--countdown %v: more than 0, at most 24h", f.countdown)
	}
	cfg := replica.DefaultConfig(wire.NodeID(f.id))
	cfg.Heartbeat, cfg.Suspicion, cfg.ElectionAnswer, cfg.AckTimeout = f.heartbeat, f.suspicion, f.election, f.ack
	cfg.StartupWait, cfg.CoordinatorWait, cfg.SyncWait = 0, 0, 0
	cfg.Quorum = bool(f.quorum)
	cfg.Rules.RoundCountdown = f.countdown
	switch b := strings.TrimSpace(f.bootstrap); b {
	case "", "none":
	case "any":
		cfg.BootstrapAny = true
	default:
		for _, part := range strings.Split(b, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(part, "n")))
			if err != nil || id < 1 || id > 65535 {
				return node.Options{}, usagef("--bootstrap %q: node ids 1..65535, comma separated, or any or none", b)
			}
			cfg.Bootstrap = append(cfg.Bootstrap, wire.NodeID(id))
		}
		if f.id != 0 && !slices.Contains(cfg.Bootstrap, wire.NodeID(f.id)) {
			cfg.Bootstrap = append(cfg.Bootstrap, wire.NodeID(f.id))
		}
	}
	if _, _, err := net.SplitHostPort(f.listen); err == nil || strings.Count(f.listen, ":") == 1 {
		return node.Options{}, usagef("--listen %q: an address without a port (the ports are --tcp-port and --replication-port)", f.listen)
	}
	switch f.fsync {
	case "always", "off":
	default:
		return node.Options{}, usagef("--fsync %q: always or off", f.fsync)
	}
	o := node.Options{
		DataDir:         f.dataDir,
		Fsync:           f.fsync == "always",
		ID:              wire.NodeID(f.id),
		Cluster:         f.cluster,
		Group:           f.group,
		Iface:           f.iface,
		HeartbeatPort:   f.hbPort,
		Listen:          f.listen,
		TCPPort:         f.tcpPort,
		ReplicationPort: f.replPort,
		Advertise:       f.advertise,
		Secret:          f.secretBytes(),
		Config:          cfg,
		Logger:          log,
	}
	if f.peers != "" {
		var err error
		if o.Peers, err = splitAddrs("--peers", f.peers); err != nil {
			return o, err
		}
	}
	if f.advertise != "" {
		if _, err := splitAddrs("--advertise", f.advertise); err != nil {
			return o, err
		}
	}
	if f.procsAuto {
		o.ManyClients = manyProcs
	}
	check := cfg
	if check.ID == 0 {
		check.ID = 1 // chosen when the node starts
	}
	if err := check.Validate(); err != nil {
		return o, usagef("%v", err)
	}
	return o, nil
}

func newLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	ho := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, usagef("--log-format %q: text or json", format)
}

// quorumFlag is --quorum: on or off (a number from before it was a mode:
// 0 is off, more is on).
type quorumFlag bool

func (q *quorumFlag) String() string {
	if *q {
		return "on"
	}
	return "off"
}

func (q *quorumFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "majority":
		*q = true
		return nil
	case "off", "false", "no":
		*q = false
		return nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		*q = n > 0 // a majority of the voters, whatever n was
		return nil
	}
	return fmt.Errorf("%q: on or off", v)
}

// checkName returns a player's name as the game takes it (trimmed), or a
// usage error: a node refuses a hello with a name it cannot take, and the
// app would look for a cluster that never answers.
func checkName(flagName, name string) (string, error) {
	n, ok := game.NormalizeName(name)
	if !ok {
		return "", usagef("--%s %q: a name is 1 to %d letters, digits, spaces or signs", flagName, name, game.MaxNameRunes)
	}
	return n, nil
}

// userName is $USER followed by suffix, the user's part cut so that the
// whole is a valid name; "" without a usable $USER.
func userName(suffix string) string {
	u := []rune(os.Getenv("USER"))
	if keep := game.MaxNameRunes - len([]rune(suffix)); len(u) > keep {
		u = u[:keep]
	}
	n, ok := game.NormalizeName(string(u) + suffix)
	if !ok || len(u) == 0 {
		return ""
	}
	return n
}

// splitAddrs splits a comma-separated list of HOST:PORT addresses, or says
// which one is not such an address as a usage error: a dial to it fails
// every time, and the app would look for a cluster it cannot reach.
func splitAddrs(what, list string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		why := ""
		if _, port, err := net.SplitHostPort(a); err != nil {
			why = err.Error()
			if ae, ok := err.(*net.AddrError); ok {
				why = ae.Err
			}
		} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			why = fmt.Sprintf("the port must be a number from 1 to 65535, not %q", port)
		}
		if why != "" {
			return nil, usagef("%s %q: %s; give HOST:PORT, e.g. localhost:8000", what, a, why)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, usagef("%s %q: give HOST:PORT, e.g. localhost:8000", what, list)
	}
	return out, nil
}
