package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/sshd"
)

func cmdServe(args []string) (err error) {
	fs := newFlags("serve", "gridlock serve [flags]", "gridlock serve --id 1 --bootstrap 1 --tcp-port 8000 --ssh :2222    (a lone server; three: --id N --bootstrap 1,2,3)")
	nf := nodeFlags{quorum: true, bootstrap: "none"}
	nf.register(fs)
	var sf sshFlags
	sf.register(fs)
	format := fs.String("log-format", "text", "log format on stderr: text or json")
	debug := fs.Bool("debug", false, "log at debug level")
	health := fs.String("health", "", "check that the node at this client address answers, and exit (for container health checks)")
	args, demoParent, err := demoChildFlag(args)
	if err != nil {
		return err
	}
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *health != "" {
		return healthCheck(*health)
	}
	if nf.dataDir == "auto" {
		// As play's: under the state directory, here one per cluster and
		// node id (not a directory named "auto" where the node was started).
		if nf.id == 0 {
			return usagef("--data-dir auto: give --id too (the directory is the node's), or a directory")
		}
		if nf.dataDir = defaultDataDir(nf.cluster, fmt.Sprintf("n%d", nf.id)); nf.dataDir == "" {
			return usagef("--data-dir auto: no home directory to keep the data in: give a directory")
		}
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log, err := newLogger(os.Stderr, *format, level)
	if err != nil {
		return err
	}
	defer func() {
		// A log read by a machine gets the reason too, as a record of its
		// own (main prints it as text as well).
		var ue usageError
		if err != nil && *format == "json" && !errors.As(err, &ue) {
			log.Error("stopping", "error", err)
		}
	}()
	nf.applyProcs()
	o, err := nf.options(log)
	if err != nil {
		return err
	}
	if demoParent != 0 {
		if err := demoChild(&o, demoParent, log); err != nil {
			return err
		}
	}
	keyDir, err := sf.keyDirFor(nf)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(context.Background(), o)
	if err != nil {
		return err
	}
	srv, err := sf.start(n, keyDir, nf, log)
	if err != nil {
		n.Close()
		return err
	}
	go warnJoinOnly(n, o, log)
	select {
	case <-ctx.Done():
		log.Info("signal received: leaving the cluster")
		srv.shutdown(sshd.ErrStopping)
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return n.Leave(lctx)
	case <-n.Done():
		srv.shutdown(errors.New("its node stopped"))
		if err := n.Err(); err != nil {
			return err
		}
		return errors.New("node stopped")
	}
}

// sshFlags are serve's flags for playing over SSH.
type sshFlags struct {
	addr, authorizedKeys, keyDir string
	maxSessions                  int
	idle, handshake              time.Duration
}

func (f *sshFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "ssh", "", "also serve the game over SSH on this address, e.g. :2222 (players: ssh -p 2222 NAME@HOST)")
	fs.StringVar(&f.authorizedKeys, "ssh-authorized-keys", "", "with --ssh: only the keys in this authorized_keys file play (default: any key, or none)")
	fs.StringVar(&f.keyDir, "ssh-key-dir", "", "with --ssh: where the host key and the session secret are kept (default: the data directory, else under your state directory)")
	fs.IntVar(&f.maxSessions, "ssh-max-sessions", 100, "with --ssh: players at once on this server")
	fs.DurationVar(&f.idle, "ssh-idle-timeout", 30*time.Minute, "with --ssh: a player who presses no key for this long is disconnected (0: never)")
	fs.DurationVar(&f.handshake, "ssh-handshake-timeout", 10*time.Second, "with --ssh: a connection that has not started its session by then is closed")
}

// sshServer is the SSH server of a serve, if it has one.
type sshServer struct{ s *sshd.Server }

// keyDirFor checks the SSH flags, before the node starts (a node that
// joins and then leaves at once disturbs its cluster), and returns where
// the host key is kept ("" without --ssh).
func (f *sshFlags) keyDirFor(nf nodeFlags) (string, error) {
	if f.addr == "" {
		return "", nil
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return "", usagef("--ssh %q: %v", f.addr, err)
	}
	if f.maxSessions < 1 {
		return "", usagef("--ssh-max-sessions %d: at least 1", f.maxSessions)
	}
	if f.handshake <= 0 {
		return "", usagef("--ssh-handshake-timeout %v: more than 0", f.handshake)
	}
	dir := f.keyDir
	if dir == "" {
		dir = nf.dataDir
	}
	if dir == "" {
		if stateDir() == "" {
			return "", usagef("--ssh: no --data-dir and no home directory to keep the host key in: give --ssh-key-dir")
		}
		dir = filepath.Join(stateDir(), "gridlock", "ssh")
	}
	return dir, nil
}

// start serves SSH beside n, its host key in dir (keyDirFor), if --ssh
// was given.
func (f *sshFlags) start(n *node.Node, dir string, nf nodeFlags, log *slog.Logger) (sshServer, error) {
	if f.addr == "" {
		return sshServer{}, nil
	}
	idle := f.idle
	if idle <= 0 {
		idle = -1 // never
	}
	s, err := sshd.Listen(sshd.Options{
		Addr: f.addr, Node: n, KeyDir: dir, Secret: nf.secretBytes(), AuthorizedKeys: f.authorizedKeys,
		MaxSessions: f.maxSessions, IdleTimeout: idle, HandshakeTimeout: f.handshake, Logger: log,
	})
	if err != nil {
		return sshServer{}, fmt.Errorf("--ssh %s: %w", f.addr, err)
	}
	return sshServer{s}, nil
}

// shutdown ends the SSH sessions, each with a message that says why.
func (s sshServer) shutdown(why error) {
	if s.s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.s.Shutdown(ctx, why)
}

// healthCheck asks a node for its view: healthy if it answers.
func healthCheck(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := fetchStatus(ctx, addr)
	return err
}

// warnJoinOnly says, once, why a node that has no data and may not make a
// cluster (no --bootstrap) still has no primary two seconds after it
// started: it waits for a cluster to join, and would else wait silently.
func warnJoinOnly(n *node.Node, o node.Options, log *slog.Logger) {
	if o.Config.BootstrapAny || len(o.Config.Bootstrap) > 0 {
		return
	}
	select {
	case <-time.After(2 * time.Second):
	case <-n.Done():
		return
	}
	v := n.View()
	if v.Primary != 0 {
		return
	}
	for _, ni := range v.Nodes {
		if ni.ID == v.Self && ni.Last > 0 {
			return
		}
	}
	log.Warn("no primary: this node has no data and no --bootstrap, so it only joins a cluster that is already running (to make one: --bootstrap, e.g. --id 1 --bootstrap 1)")
}
