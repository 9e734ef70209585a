// Command gridlock is a multiplayer number puzzle for the terminal in which
// every player's app is also a replica of the game cluster.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/tui"
	"github.com/gridlock-game/gridlock/wire"
)

type command struct {
	name, summary string
	run           func(args []string) error
}

var commands = []command{
	{"play", "play in this terminal; the app is also a replica of the cluster (the default)", cmdPlay},
	{"connect", "play as a client of a cluster elsewhere: gridlock connect HOST:PORT", cmdConnect},
	{"serve", "run a headless replica (for servers and Docker)", cmdServe},
	{"status", "print the cluster: nodes, roles, epoch, leader, commit index", cmdStatus},
	{"bot", "automated players for load, demos and tests; checks nothing was lost", cmdBot},
	{"generate", "print a puzzle (and its solution)", cmdGenerate},
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
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nExample:\n  %s\n\nFlags:\n", usageLine, example)
		fs.PrintDefaults()
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

// discover builds the cluster's view from the beacons heard on the group.
func (f *groupFlags) discover(ctx context.Context) (*wire.ClusterView, error) {
	return node.Discover(ctx, node.DiscoverOptions{Cluster: f.cluster, Group: f.group, Iface: f.iface, Secret: f.secretBytes(),
		Listen: discoverListen})
}

// nodeFlags are the flags of a replica (play and serve).
type nodeFlags struct {
	groupFlags
	id, tcpPort, replPort, hbPort, quorum          int
	peers, advertise, listen                       string
	heartbeat, suspicion, election, ack, countdown time.Duration
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
	fs.StringVar(&f.listen, "listen", "", "address the TCP ports bind (default 127.0.0.1 on lo, else all)")
	fs.IntVar(&f.quorum, "quorum", 0, "commit only when N nodes hold an entry, and no primary without N reachable (0: off)")
	fs.DurationVar(&f.heartbeat, "heartbeat", d.Heartbeat, "beacon and heartbeat interval")
	fs.DurationVar(&f.suspicion, "suspicion", d.Suspicion, "silence after which a peer is suspected")
	fs.DurationVar(&f.election, "election-timeout", d.ElectionAnswer, "wait for an answer from a higher id")
	fs.DurationVar(&f.ack, "ack-timeout", d.AckTimeout, "wait for a backup's acknowledgement before it leaves the view")
	fs.DurationVar(&f.countdown, "countdown", game.DefaultRules().RoundCountdown, "pause between rounds (a new cluster's rule)")
}

func (f *nodeFlags) options(log *slog.Logger) (node.Options, error) {
	if f.id < 0 || f.id > 65535 {
		return node.Options{}, usagef("--id %d: must be 0..65535 (0: the next free one)", f.id)
	}
	cfg := replica.DefaultConfig(wire.NodeID(f.id))
	cfg.Heartbeat, cfg.Suspicion, cfg.ElectionAnswer, cfg.AckTimeout = f.heartbeat, f.suspicion, f.election, f.ack
	cfg.StartupWait, cfg.CoordinatorWait, cfg.SyncWait = 0, 0, 0
	cfg.Quorum = f.quorum
	cfg.Rules.RoundCountdown = f.countdown
	cfg.Incarnation = uint16(rand.Uint32())
	o := node.Options{
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
		o.Peers = strings.Split(f.peers, ",")
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

func cmdServe(args []string) error {
	fs := newFlags("serve", "gridlock serve [flags]", "gridlock serve --id 3 --tcp-port 8002 --replication-port 8102")
	var nf nodeFlags
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

func fetchStatus(ctx context.Context, addr string) (*wire.ClusterView, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := wire.WriteFrame(conn, &wire.Status{}); err != nil {
		return nil, err
	}
	m, err := wire.NewReader(conn, wire.ServerLimits.MaxFrame).ReadMessage(wire.ServerLimits)
	if err != nil {
		return nil, err
	}
	v, ok := m.(*wire.ClusterView)
	if !ok {
		return nil, fmt.Errorf("%s answered with %s", addr, m.Type())
	}
	return v, nil
}

func cmdStatus(args []string) error {
	fs := newFlags("status", "gridlock status [--connect HOST:PORT] [--json]", "gridlock status --connect localhost:8000")
	connect := fs.String("connect", "", "ask this node (client address); default: discover the cluster on the multicast group")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", 3*time.Second, "give up when no primary is found within this time")
	var gf groupFlags
	gf.register(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var v *wire.ClusterView // the last view heard
	for {
		var err error
		var got *wire.ClusterView
		whole := true // not cut short by the timeout
		if *connect != "" {
			got, err = fetchStatus(ctx, *connect)
		} else {
			if dl, _ := ctx.Deadline(); time.Until(dl) < discoverListen {
				whole = false
			}
			got, err = gf.discover(ctx)
			if err == nil && got.Primary != 0 {
				// Ask the primary itself: it knows lags and the view.
				if pv, perr := fetchStatus(ctx, addrOf(got, got.Primary)); perr == nil {
					got = pv
				}
			}
		}
		if err == nil && (whole || v == nil || got.Primary != 0) {
			v = got
		}
		if err == nil && got.Primary != 0 {
			break
		}
		if ctx.Err() != nil {
			if v != nil {
				printStatus(os.Stdout, v, *asJSON)
			}
			if err != nil {
				return fmt.Errorf("no primary found within %v: %v", *timeout, err)
			}
			return fmt.Errorf("no primary found within %v", *timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	printStatus(os.Stdout, v, *asJSON)
	return nil
}

func addrOf(v *wire.ClusterView, id wire.NodeID) string {
	for _, n := range v.Nodes {
		if n.ID == id {
			return clientAddr(n)
		}
	}
	return ""
}

// clientAddr is where a client reaches n: the address it advertises, if any.
func clientAddr(n wire.NodeInfo) string {
	if n.Advertise != "" {
		return n.Advertise
	}
	return n.ClientAddr
}

// statusJSON is what `gridlock status --json` prints.
type statusJSON struct {
	Primary   int        `json:"primary"`
	Epoch     uint64     `json:"epoch"`
	Commit    uint64     `json:"commit"`
	Quorum    int        `json:"quorum"`
	HasQuorum bool       `json:"has_quorum"`
	Reporter  int        `json:"reported_by"`
	Nodes     []nodeJSON `json:"nodes"`
}

type nodeJSON struct {
	ID         int    `json:"id"`
	Role       string `json:"role"`
	Epoch      uint64 `json:"epoch"`
	Commit     uint64 `json:"commit"`
	Lag        uint64 `json:"lag"`
	Alive      bool   `json:"alive"`
	InView     bool   `json:"in_view"`
	ClientAddr string `json:"client_addr"`
	PeerAddr   string `json:"peer_addr"`
	Advertise  string `json:"advertise,omitempty"`
}

func printStatus(w io.Writer, v *wire.ClusterView, asJSON bool) {
	if asJSON {
		out := statusJSON{int(v.Primary), v.Epoch.Term(), v.Commit, int(v.Quorum), v.HasQuorum, int(v.Self), nil}
		for _, n := range v.Nodes {
			out.Nodes = append(out.Nodes, nodeJSON{int(n.ID), n.Role.String(), n.Epoch.Term(), n.Commit, n.Lag, n.Alive, n.InView, n.ClientAddr, n.PeerAddr, n.Advertise})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return
	}
	nodes := append([]wire.NodeInfo(nil), v.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID > nodes[j].ID })
	if v.Primary == 0 {
		fmt.Fprintf(w, "no primary · epoch %d · commit %d", v.Epoch.Term(), v.Commit)
	} else {
		fmt.Fprintf(w, "primary n%d · epoch %d · commit %d", v.Primary, v.Epoch.Term(), v.Commit)
	}
	if v.Quorum > 0 {
		fmt.Fprintf(w, " · quorum %d (%s)", v.Quorum, map[bool]string{true: "reachable", false: "NOT reachable"}[v.HasQuorum])
	}
	fmt.Fprintf(w, " · as seen by n%d\n", v.Self)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tEPOCH\tCOMMIT\tLAG\tALIVE\tCLIENT\tPEER\tADVERTISE")
	for _, n := range nodes {
		star := " "
		if n.ID == v.Primary {
			star = "★"
		}
		alive := "yes"
		if !n.Alive {
			alive = "no"
		}
		fmt.Fprintf(tw, "%s n%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", star, n.ID, n.Role, n.Epoch.Term(), n.Commit, n.Lag, alive, n.ClientAddr, n.PeerAddr, n.Advertise)
	}
	tw.Flush()
}

func cmdBot(args []string) error {
	fs := newFlags("bot", "gridlock bot --players N --rate R --duration D [flags]", "gridlock bot --players 5 --rate 10 --duration 30s --connect localhost:8000")
	players := fs.Int("players", 3, "number of players")
	rate := fs.Float64("rate", 5, "commands a second per player (0: as fast as they are answered)")
	duration := fs.Duration("duration", 10*time.Second, "how long to play")
	connect := fs.String("connect", "", "nodes to start from, host:port,… (default: discover on the multicast group)")
	room := fs.String("room", "main", "room to play in (created if needed)")
	size := fs.Int("size", 9, "puzzle size of a room the bots create")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var addrs []string
	if *connect != "" {
		addrs = strings.Split(*connect, ",")
	} else {
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
		Players: *players, Rate: *rate, Duration: *duration, Room: *room, Size: uint8(*size),
		ErrorRate: *errRate, ClaimRate: *claims, ChatRate: *chat, Prefix: *prefix, Addrs: addrs,
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
	if rep.Lost > 0 {
		return fmt.Errorf("lost=%d: acknowledged moves are missing", rep.Lost)
	}
	return nil
}

func cmdGenerate(args []string) error {
	fs := newFlags("generate", "gridlock generate [--size 4|6|9] [--difficulty LEVEL] [--seed N] [--solution] [--json]", "gridlock generate --size 9 --difficulty expert --seed 7 --solution")
	size := fs.Int("size", 9, "4, 6 or 9")
	diff := fs.String("difficulty", "medium", "easy, medium, hard or expert")
	seed := fs.Uint64("seed", 1, "the same seed gives the same puzzle")
	sol := fs.Bool("solution", false, "print the solution too")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	d, err := game.ParseDifficulty(*diff)
	if err != nil {
		return usagef("%v", err)
	}
	if *size != 4 && *size != 6 && *size != 9 {
		return usagef("--size %d: sizes are 4, 6 and 9", *size)
	}
	p, err := game.GenerateSeed(uint8(*size), d, *seed)
	if err != nil {
		return err
	}
	if *asJSON {
		if !*sol {
			p.Solution = nil
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	fmt.Printf("%d×%d %s · seed %d\n\n", p.Size, p.Size, p.Difficulty, p.Seed)
	fmt.Print(game.FormatGrid(p.Size, p.BoxRows, p.BoxCols, p.Givens))
	if *sol {
		fmt.Printf("\nsolution (the only one):\n\n")
		fmt.Print(game.FormatGrid(p.Size, p.BoxRows, p.BoxCols, p.Solution))
	}
	return nil
}

// appFlags are the app's own flags (play and connect).
type appFlags struct {
	name, logFile string
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", defaultName(), "your name in the game")
	fs.StringVar(&f.logFile, "log-file", defaultLogFile(), "where the app logs (never to the screen)")
}

func defaultName() string {
	if u := os.Getenv("USER"); u != "" {
		return fmt.Sprintf("%s-%d", u, 1+rand.IntN(99))
	}
	return fmt.Sprintf("player-%d", 1+rand.IntN(999))
}

// sessionToken is the token this machine's app uses for name: kept in a
// file, so that an app started again with the same name (after a crash,
// kill -9, or a closed terminal) resumes its session (score, room) instead
// of finding its own name taken. The file stays locked while the app runs:
// a second app with the same name gets a fresh token (and, if the first one
// is in the game, is told the name is taken).
func sessionToken(name string, log *slog.Logger) (token string, release func()) {
	release = func() {}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", release
	}
	dir = filepath.Join(dir, "gridlock")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", release
	}
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == '.' {
			return '_'
		}
		return r
	}, strings.ToLower(name))
	path := filepath.Join(dir, "session-"+safe)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		log.Warn("session file", "path", path, "error", err)
		return "", release
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		log.Info("another app here plays as this name: a new session", "name", name)
		return "", release
	}
	release = func() { f.Close() }
	b, _ := io.ReadAll(io.LimitReader(f, 256))
	token = strings.TrimSpace(string(b))
	if len(token) < 16 {
		token = client.NewToken()
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(token+"\n"), 0)
		}
	}
	return token, release
}

func defaultLogFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "gridlock", fmt.Sprintf("gridlock-%d.log", os.Getpid()))
}

func openLog(path string) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})), f, nil
}

func cmdPlay(args []string) error {
	fs := newFlags("play", "gridlock [play] [flags]", "gridlock --name alice    (and in another terminal: gridlock --name bob)")
	var nf nodeFlags
	nf.register(fs)
	var af appFlags
	af.register(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	log, closer, err := openLog(af.logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	o, err := nf.options(log)
	if err != nil {
		return err
	}
	n, err := node.Start(context.Background(), o)
	if err != nil {
		return err
	}
	token, release := sessionToken(af.name, log)
	defer release()
	c := client.Dial(context.Background(), client.ClientOptions{Name: af.name, Token: token, Local: n, Logger: log})
	err = runApp(c, tui.Options{Name: af.name, SelfFunc: n.ID, PID: os.Getpid(), NoColor: os.Getenv("NO_COLOR") != ""}, log)
	c.Leave(context.Background())
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.Leave(lctx)
	return err
}

func cmdConnect(args []string) error {
	fs := newFlags("connect", "gridlock connect HOST:PORT [flags]", "gridlock connect localhost:8000 --name alice")
	var af appFlags
	af.register(fs)
	// The address may come before, between or after the flags.
	rest, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fs.Usage()
		return usagef("give the address of a node, e.g. gridlock connect localhost:8000")
	}
	addr := rest[0]
	if _, err := parse(fs, rest[1:], 0); err != nil {
		return err
	}
	log, closer, err := openLog(af.logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	token, release := sessionToken(af.name, log)
	defer release()
	c := client.Dial(context.Background(), client.ClientOptions{Name: af.name, Token: token, Addrs: strings.Split(addr, ","), Logger: log})
	err = runApp(c, tui.Options{Name: af.name, NoColor: os.Getenv("NO_COLOR") != ""}, log)
	c.Leave(context.Background())
	return err
}

// runApp shows the app until the player quits or a signal comes: SIGTERM,
// SIGINT, or SIGHUP when the terminal is closed. A signal is a quit like
// `q`: the caller then leaves the cluster. The node and the client must
// not run on the signal's context, or they would stop before leaving.
func runApp(c tui.Cluster, o tui.Options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := tui.Run(ctx, c, o)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		log.Info("signal received: leaving the cluster")
		return nil
	}
	return err
}
