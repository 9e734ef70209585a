package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/node/store"
	"github.com/gridlock-game/gridlock/tui"
)

// appFlags are the app's own flags (play and connect).
type appFlags struct {
	name, logFile string
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", defaultName(), "your name in the game")
	fs.StringVar(&f.logFile, "log-file", defaultLogFile(), "where the app logs (never to the screen)")
}

func defaultName() string {
	if n := userName(fmt.Sprintf("-%d", 1+rand.IntN(99))); n != "" {
		return n
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
	path := filepath.Join(dir, "session-"+safeName(name))
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

// defaultDataDir is where play keeps a game: one directory per cluster and
// player name, under the user's state directory, so that friends who quit
// at night find their game the next day.
func defaultDataDir(cluster, name string) string {
	dir := stateDir()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "gridlock", safeName(cluster), safeName(name))
}

// stateDir is the user's state directory ($XDG_STATE_HOME, else
// ~/.local/state; "" if there is no home).
func stateDir() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".local", "state")
}

// safeName makes a name usable as one path element.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == '.' {
			return '_'
		}
		return r
	}, strings.ToLower(name))
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
	nf := nodeFlags{bootstrap: "any", dataDir: "auto"}
	nf.register(fs)
	var af appFlags
	af.register(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if af.name, err = checkName("name", af.name); err != nil {
		return err
	}
	defaultDir := nf.dataDir == "auto"
	if defaultDir {
		nf.dataDir = defaultDataDir(nf.cluster, af.name)
	}
	log, closer, err := openLog(af.logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	nf.applyProcs()
	o, err := nf.options(log)
	if err != nil {
		return err
	}
	n, err := node.Start(context.Background(), o)
	if errors.Is(err, store.ErrLocked) && defaultDir {
		// Another app here plays as this name and holds its data: this
		// one keeps nothing (its node is a replica all the same).
		log.Info("another app here holds this name's data: keeping nothing", "dir", o.DataDir)
		o.DataDir = ""
		n, err = node.Start(context.Background(), o)
	}
	if err != nil {
		return err
	}
	err = runNamed(af.name, "", log, tui.Options{SelfFunc: n.ID, PID: os.Getpid()}, func(name, token string) *client.Client {
		return client.Dial(context.Background(), client.ClientOptions{Name: name, Token: token, Local: n, Logger: log})
	})
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.Leave(lctx)
	return err
}

func cmdConnect(args []string) error {
	fs := newFlags("connect", "gridlock connect HOST:PORT [flags]", "gridlock connect localhost:8000 --name alice")
	var af appFlags
	af.register(fs)
	watch := fs.Bool("watch", false, "join as a spectator: see the board, the scores and the chat, move nothing, be on no scoreboard (as gridlock watch)")
	// The address may come before, between or after the flags.
	rest, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fs.Usage()
		return usagef("give the address of a node, e.g. gridlock connect localhost:8000")
	}
	if _, err := parse(fs, rest[1:], 0); err != nil {
		return err
	}
	addrs, err := splitAddrs("address", rest[0])
	if err != nil {
		return err
	}
	onePlayerProcs(1)
	if *watch {
		named := false
		fs.Visit(func(f *flag.Flag) { named = named || f.Name == "name" })
		if !named {
			af.name = watchName()
		}
	}
	if af.name, err = checkName("name", af.name); err != nil {
		return err
	}
	if *watch {
		return runWatch(af, addrs)
	}
	log, closer, err := openLog(af.logFile)
	if err != nil {
		return err
	}
	defer closer.Close()
	return runNamed(af.name, "", log, tui.Options{}, func(name, token string) *client.Client {
		return client.Dial(context.Background(), client.ClientOptions{Name: name, Token: token, Addrs: addrs, Logger: log})
	})
}

// runNamed runs the app as name until the player quits, then leaves the
// game. dial joins as a name with a session token (kept in the session
// file of prefix+name). When the cluster refuses the name (a player
// elsewhere has it), the player is asked for another, as over SSH, and
// the app starts again with that one; leaving that screen ends with the
// refusal.
func runNamed(name, prefix string, log *slog.Logger, o tui.Options, dial func(name, token string) *client.Client) error {
	o.NoColor = os.Getenv("NO_COLOR") != ""
	o.QuitOnRefusal = true
	for {
		token, release := sessionToken(prefix+name, log)
		c := dial(name, token)
		o.Name = name
		err := runApp(c, o, log)
		re := (*tui.RefusedError)(nil)
		if !errors.As(err, &re) {
			c.Leave(context.Background())
			release()
			return err
		}
		c.Close()
		release()
		log.Info("the cluster refused the name: asking for another", "name", name, "why", re.Err)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		next, aerr := tui.AskName(ctx, tui.AskOptions{Why: re.Err.Error(), Name: name, NoColor: o.NoColor, Watch: o.Watch})
		signalled := ctx.Err() != nil
		stop()
		switch {
		case signalled:
			return nil // a quit, as in the app
		case aerr != nil:
			return re.Err
		}
		name = next
	}
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
