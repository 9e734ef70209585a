package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// TestUsageErrors: a mistake on the command line is reported once, with exit
// status 2, and nothing runs; no argument is silently ignored.
func TestUsageErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string // in stderr, once
	}{
		{[]string{"serve", "3", "--id", "3"}, `unexpected argument "3"`},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--id", "70000"}, "--id 70000: must be 0..65535"},
		{[]string{"serve", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"serve", "--listen", "127.0.0.1:8000"}, "an address without a port"},
		{[]string{"status", "now"}, `unexpected argument "now"`},
		{[]string{"bot", "--players", "2", "fast"}, `unexpected argument "fast"`},
		{[]string{"bot", "--players", "0"}, "--players 0: 1 or more"},
		{[]string{"bot", "--rate", "-1"}, "--rate -1: 0 or more"},
		{[]string{"bot", "--rate", "1e12"}, "at most 1000000"},
		{[]string{"bot", "--rate", "NaN"}, "--rate NaN"},
		{[]string{"bot", "--chat", "NaN"}, "--chat NaN: a share"},
		{[]string{"bot", "--size", "265"}, "--size 265: sizes are 4, 6 and 9"},
		{[]string{"demo", "--bot-rate", "1e12"}, "--bot-rate 1e+12"},
		{[]string{"status", "--timeout", "0s"}, "--timeout 0s: more than 0"},
		{[]string{"serve", "--cluster", strings.Repeat("c", 65)}, "at most 64 bytes"},
		{[]string{"serve", "--cluster", ""}, "--cluster '': a cluster needs a name"},
		{[]string{"serve", "--group", "224.1.1.1:0"}, `--group "224.1.1.1:0": an IPv4 multicast address and port`},
		{[]string{"serve", "--group", "10.0.0.1:5007"}, `--group "10.0.0.1:5007": an IPv4 multicast address and port`},
		{[]string{"status", "--group", "224.1.1.1"}, `--group "224.1.1.1": an IPv4 multicast address and port`},
		{[]string{"serve", "--tcp-port", "70000"}, "--tcp-port 70000: a port is 0..65535"},
		{[]string{"serve", "--election-timeout", "1s"}, "--election-timeout 1s: more than 0, at most --suspicion (500ms)"},
		{[]string{"serve", "--countdown", "0s"}, "--countdown 0s: more than 0"},
		{[]string{"serve", "--suspicion", "150ms"}, "--suspicion 150ms: more than two heartbeats"},
		// Before the node starts: no join and leave at once.
		{[]string{"serve", "--ssh", "127.0.0.1:2222", "--ssh-max-sessions", "0"}, "--ssh-max-sessions 0: at least 1"},
		{[]string{"serve", "--ssh", "2222"}, `--ssh "2222": address 2222: missing port in address`},
		{[]string{"bot", "--difficulty", "insane"}, `--difficulty: unknown difficulty "insane"`},
		{[]string{"bot", "--chat", "2"}, "--chat 2: a share, from 0 to 1"},
		{[]string{"bot", "--prefix", strings.Repeat("b", 24)}, "--prefix"},
		{[]string{"--name", strings.Repeat("x", 25)}, "a name is 1 to 24"},
		{[]string{"connect", "localhost:1", "--name", ""}, "a name is 1 to 24"},
		{[]string{"watch", "localhost:1", "--name", "  "}, "a name is 1 to 24"},
		{[]string{"connect", "localhost:1", "--watch", "--name", "\x07"}, "a name is 1 to 24"},
		{[]string{"demo", "--name", strings.Repeat("y", 25)}, "a name is 1 to 24"},
		{[]string{"generate", "9"}, `unexpected argument "9"`},
		{[]string{"generate", "--size", "5"}, "--size 5"},
		{[]string{"--name", "alice", "bob"}, `unexpected argument "bob"`},
		{[]string{"connect", "localhost:1", "localhost:2"}, `unexpected argument "localhost:2"`},
		{[]string{"connect", "--name", "alice"}, "give the address of a node"},
		{[]string{"watch", "localhost:1", "localhost:2"}, `unexpected argument "localhost:2"`},
		{[]string{"watch", "--timeout"}, "flag needs an argument: -timeout"},
		{[]string{"version", "now"}, `unexpected argument "now"`},
		// An address that no dial can reach is said at once, not retried.
		{[]string{"connect", "127.0.0.1"}, `address "127.0.0.1": missing port in address`},
		{[]string{"connect", "127.0.0.1:99999"}, `address "127.0.0.1:99999": the port must be a number from 1 to 65535`},
		{[]string{"connect", ","}, `address ",": give HOST:PORT`},
		{[]string{"watch", "127.0.0.1:x"}, `address "127.0.0.1:x": the port`},
		{[]string{"status", "--connect", "127.0.0.1"}, `--connect "127.0.0.1": missing port`},
		{[]string{"bot", "--connect", "127.0.0.1:1,127.0.0.1"}, `--connect "127.0.0.1": missing port`},
		{[]string{"serve", "--peers", "127.0.0.1:8020,127.0.0.2"}, `--peers "127.0.0.2": missing port`},
		{[]string{"serve", "--advertise", "localhost"}, `--advertise "localhost": missing port`},
		{[]string{"serve", "--data-dir", "auto"}, "--data-dir auto: give --id too"},
	} {
		_, stderr, code := runGridlock(t, 10*time.Second, tc.args...)
		if code != 2 || strings.Count(stderr, tc.want) != 1 {
			t.Errorf("gridlock %s: exit %d, want 2 and %q once in:\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
		}
	}
}

// TestVersion: `gridlock version` and `gridlock --version` say the build
// and the protocol on stdout.
func TestVersion(t *testing.T) {
	want := fmt.Sprintf("; protocol %d; %s ", wire.Version, runtime.Version())
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := runGridlock(t, 10*time.Second, args...)
		if code != 0 || !strings.HasPrefix(stdout, "gridlock ") || !strings.Contains(stdout, want) || stderr != "" {
			t.Errorf("gridlock %s: exit %d, stdout %q, stderr %q; want 0 and %q", args[0], code, stdout, stderr, want)
		}
	}
}

// TestConnectFlagsAfterTheAddress: flags after the address are flags, not
// arguments to ignore. (Without a terminal the app stops at once, after it
// opened its log.)
func TestConnectFlagsAfterTheAddress(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("XDG_STATE_HOME", dir)
	logFile := filepath.Join(dir, "app.log")
	_, stderr, code := runGridlock(t, 10*time.Second, "connect", "--name", "alice", "127.0.0.1:1", "--log-file", logFile)
	if code != 1 || !strings.Contains(stderr, "needs a terminal") {
		t.Errorf("exit %d, want 1 and the app asking for a terminal:\n%s", code, stderr)
	}
	if _, err := os.Stat(logFile); err != nil {
		t.Errorf("--log-file after the address was ignored: %v", err)
	}
}

// TestBotWithSecret: `gridlock bot --secret` finds a cluster whose beacons
// are authenticated, as `gridlock status --secret` does.
func TestBotWithSecret(t *testing.T) {
	const secret = "bot-test-secret"
	c := newCluster(t, withSecret(secret))
	c.start(1)
	c.waitPrimary(1, 10*time.Second)
	out, stderr, code := runGridlock(t, 30*time.Second, "bot", "--group", c.group, "--cluster", c.name, "--secret", secret,
		"--players", "1", "--duration", "300ms")
	if code != 0 {
		t.Fatalf("gridlock bot --secret: exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("gridlock bot --secret: %s", strings.TrimSpace(out))
}

// TestBotTwiceWithTheSamePrefix: bots close their sessions when they end,
// as a player who quits does, so that `gridlock bot` run again at once with
// the same names gets them (the session grace would otherwise keep them
// for a minute: "the name "bot1" is taken").
func TestBotTwiceWithTheSamePrefix(t *testing.T) {
	c := newCluster(t)
	c.start(1)
	c.waitPrimary(1, 10*time.Second)
	for run := 1; run <= 2; run++ {
		out, stderr, code := runGridlock(t, 30*time.Second, "bot", "--connect", strings.Join(c.addrs(), ","),
			"--players", "2", "--duration", "300ms", "--prefix", "same")
		if code != 0 {
			t.Fatalf("gridlock bot, run %d: exit %d\n%s%s", run, code, out, stderr)
		}
		t.Logf("gridlock bot, run %d: %s", run, strings.TrimSpace(out))
	}
}

// TestServeDataDirAuto: `serve --data-dir auto` keeps the node's data
// under the state directory, one directory per cluster and node id, as
// the flag's help says, not in a directory named "auto" where it started.
func TestServeDataDirAuto(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	c := newCluster(t)
	c.start(7, "--data-dir", "auto")
	c.waitPrimary(7, 10*time.Second)
	want := filepath.Join(state, "gridlock", c.name, "n7", "gridlock.db")
	if _, err := os.Stat(want); err != nil {
		t.Errorf("--data-dir auto: %v", err)
	}
	if _, err := os.Stat("auto"); err == nil {
		os.RemoveAll("auto")
		t.Errorf("--data-dir auto made a directory named auto")
	}
}

// TestBotFailsWhenItCannotCheck: a bot whose cluster is gone before the
// end cannot fetch the room to check what was acknowledged, and says so
// with exit status 1, not 0 as if nothing had been lost.
func TestBotFailsWhenItCannotCheck(t *testing.T) {
	c := newCluster(t)
	c.start(1)
	c.waitPrimary(1, 10*time.Second)
	go func() {
		time.Sleep(time.Second)
		c.crash(1)
	}()
	out, stderr, code := runGridlock(t, 60*time.Second, "bot", "--connect", strings.Join(c.addrs(), ","),
		"--players", "1", "--duration", "2s")
	if code != 1 || !strings.Contains(stderr, "nothing was checked") {
		t.Fatalf("gridlock bot, its cluster gone: exit %d, want 1 and \"nothing was checked\"\n%s%s", code, out, stderr)
	}
}

// A node runs more threads while it serves many players unless --procs or
// $GOMAXPROCS says how many.
func TestProcsFollowTheClientsByDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		auto bool
	}{
		{nil, "", true},
		{[]string{"--procs", "1"}, "", false},
		{[]string{"--procs", "0"}, "", false},
		{nil, "2", false},
	} {
		t.Setenv("GOMAXPROCS", tc.env) // "" reads as unset
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var nf nodeFlags
		nf.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		o, err := nf.options(slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if auto := o.ManyClients != nil; auto != tc.auto {
			t.Errorf("%v with GOMAXPROCS=%q: threads follow the clients %v, want %v", tc.args, tc.env, auto, tc.auto)
		}
	}
}

// A process playing for one player runs on one thread, unless $GOMAXPROCS
// is set; one playing for more keeps every core.
func TestOnePlayerRunsOnOneThread(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		players int
		env     string
		want    int
	}{
		{1, "", 1},
		{2, "", 4},
		{100, "", 4},
		{1, "3", 4},
	} {
		t.Setenv("GOMAXPROCS", tc.env) // "" reads as unset
		runtime.GOMAXPROCS(4)
		onePlayerProcs(tc.players)
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("%d players, GOMAXPROCS=%q: %d threads, want %d", tc.players, tc.env, got, tc.want)
		}
	}
}

// TestDefaultNamesFitTheGame: the names made from a long $USER are names
// the game takes.
func TestDefaultNamesFitTheGame(t *testing.T) {
	t.Setenv("USER", strings.Repeat("averylongusername", 3))
	for _, n := range []string{defaultName(), watchName()} {
		if _, err := checkName("name", n); err != nil || !strings.HasPrefix(n, "averylong") {
			t.Errorf("default name %q: %v", n, err)
		}
	}
}

// TestServeSaysWhyItWaits: a node with no data and no --bootstrap never
// makes a cluster; its log says so rather than wait in silence.
func TestServeSaysWhyItWaits(t *testing.T) {
	var stderr lockedBuffer
	// A static peer that never answers: no multicast, nobody to join.
	cmd := exec.Command(binPath, "serve", "--group", "off", "--peers", "127.0.0.1:9", "--data-dir", "", "--cluster", "waits")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	const want = "no data and no --bootstrap"
	for deadline := time.Now().Add(8 * time.Second); !strings.Contains(stderr.String(), want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", want, stderr.String())
		}
	}
}

// TestServeJSONLogSaysWhyItStops: with --log-format json the reason a node
// stops is a JSON record too, for whatever reads the log.
func TestServeJSONLogSaysWhyItStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_, stderr, code := runGridlock(t, 10*time.Second, "serve", "--log-format", "json", "--group", "off", "--data-dir", "",
		"--tcp-port", port, "--cluster", "jsonstop")
	var rec struct{ Level, Msg, Error string }
	found := false
	for _, line := range strings.Split(stderr, "\n") {
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "stopping" && rec.Level == "ERROR" && rec.Error != "" {
			found = true
		}
	}
	if code != 1 || !found {
		t.Fatalf("serve on a port in use: exit %d, want 1 and a JSON record of why:\n%s", code, stderr)
	}
}
