package main

// Cluster benchmarks: real processes on loopback, figures reported as
// custom metrics. Run them once each:
//
//	go test -run '^$' -bench Cluster -benchtime 1x .
//
// Settings (environment): GRIDLOCK_FAILOVER_TRIALS (50),
// GRIDLOCK_HUNG_TRIALS (10), GRIDLOCK_RTT_MOVES (5000),
// GRIDLOCK_BENCH_SECONDS (5: throughput, many players, memory),
// GRIDLOCK_WINDOW (8: commands in flight per client in ThroughputWindow).
//
// GRIDLOCK_CPUPROFILE=DIR has every node process write a CPU profile to
// DIR/nID-START.pprof (an execution trace, .trace, with GRIDLOCK_TRACE=1).
// GRIDLOCK_LOG_DIR=DIR keeps the nodes' logs there; GRIDLOCK_BOT_LOG=FILE
// has the bots log there.
// GRIDLOCK_INPROC=1 runs the three nodes of the RTT, throughput and
// many-players benchmarks inside the test process, with the options
// `gridlock serve` would give them, so that -cpuprofile sees the nodes too.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/node"
	"github.com/gridlock-game/gridlock/wire"
)

// benchNodes are three nodes, as processes or in this process.
type benchNodes struct {
	addrs []string
	pids  map[string]int // process name → pid, for CPU shares
}

func startBench(b *testing.B, flags ...string) *benchNodes {
	b.Helper()
	return startBenchWith(b, nil, flags...)
}

// startBenchWith starts the nodes with the cluster options given too (as
// processes only).
func startBenchWith(b *testing.B, opts []clusterOpt, flags ...string) *benchNodes {
	b.Helper()
	if os.Getenv("GRIDLOCK_INPROC") == "" || len(opts) > 0 {
		c := startThree(b, append(opts, withFlags(flags...))...)
		bn := &benchNodes{addrs: c.addrs(), pids: map[string]int{"bench": os.Getpid()}}
		for _, id := range c.ids() {
			bn.pids[fmt.Sprintf("n%d", id)] = c.node(id).pid()
		}
		return bn
	}
	group, cluster := fmt.Sprintf("224.1.1.1:%d", 20000+rand.IntN(20000)), uniqueCluster()
	var nodes []*node.Node
	for id := 1; id <= 3; id++ {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var nf nodeFlags
		nf.register(fs)
		args := append([]string{"--id", strconv.Itoa(id), "--group", group, "--cluster", cluster}, flags...)
		if err := fs.Parse(args); err != nil {
			b.Fatal(err)
		}
		o, err := nf.options(slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		o.ManyClients = nil // three nodes share this process's threads
		n, err := node.Start(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(n.Close)
		nodes = append(nodes, n)
	}
	waitFor(b, 10*time.Second, "n3 to lead two backups", func() (bool, string) {
		v := nodes[2].View()
		in := 0
		for _, n := range v.Nodes {
			if n.InView {
				in++
			}
		}
		return v.Primary == 3 && in == 3, fmt.Sprintf("%+v", v)
	})
	bn := &benchNodes{pids: map[string]int{"bench+nodes": os.Getpid()}}
	for _, n := range nodes {
		bn.addrs = append(bn.addrs, n.ClientAddr())
	}
	return bn
}

// durations summarises a sample.
type durations []time.Duration

func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)) * p / 100)
	return s[min(i, len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// mover makes moves for a client: right digits on empty cells (from the
// solution), a chat line when the board has none.
type mover struct {
	c      *client.Client
	rng    *rand.Rand
	solved map[string][]uint8
	free   []int
	n      int
}

func newMover(c *client.Client) *mover {
	return &mover{c: c, rng: rand.New(rand.NewPCG(rand.Uint64(), 1)), solved: map[string][]uint8{}}
}

func (m *mover) next() game.Command {
	m.n++
	// In place, as a bot reads it: a copy of the room (200 chat lines)
	// every move was most of this process's garbage, and its collections
	// fell among the moves timed.
	var cmd game.Command = game.Chat{Text: fmt.Sprintf("line %d", m.n)}
	m.c.WithRoom(func(room *game.RoomView, ok bool) {
		if !ok || room.State == game.RoundOver {
			return
		}
		m.free = m.free[:0]
		for i, cell := range room.Board {
			if cell.Digit == 0 {
				m.free = append(m.free, i)
			}
		}
		if len(m.free) == 0 {
			return
		}
		size := int(room.Puzzle.Size)
		key := string(room.Puzzle.Givens)
		sol, ok := m.solved[key]
		if !ok {
			sol, _ = game.Solve(room.Puzzle.Size, room.Puzzle.Givens)
			m.solved[key] = sol
		}
		i := m.free[m.rng.IntN(len(m.free))]
		d := uint8(1 + m.rng.IntN(size))
		if sol != nil {
			d = sol[i]
		}
		cmd = game.Place{Row: uint8(i / size), Col: uint8(i % size), Digit: d}
	})
	return cmd
}

// probeAck is one acknowledged move of the probe, and the node it came
// through.
type probeAck struct {
	at   time.Time
	node int
}

// probe keeps sending moves, one at a time, and reports each answer.
type probe struct {
	acks chan probeAck
	done chan struct{}
}

func startProbe(b *testing.B, addrs []string) *probe {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := client.Dial(ctx, client.ClientOptions{Name: "probe", Addrs: addrs})
	p := &probe{acks: make(chan probeAck, 1<<16), done: make(chan struct{})}
	b.Cleanup(func() {
		cancel()
		<-p.done
		c.Close()
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitConnected(wctx); err != nil {
		close(p.done)
		b.Fatal(err)
	}
	go func() {
		defer close(p.done)
		m := newMover(c)
		for ctx.Err() == nil {
			if _, err := c.Do(ctx, m.next()); err != nil {
				continue
			}
			select {
			case p.acks <- probeAck{at: time.Now(), node: int(c.Status().Node)}:
			default:
			}
		}
	}()
	return p
}

// firstAck waits for the first ack after t0 that came through a node other
// than not (0: any node).
func (p *probe) firstAck(b *testing.B, t0 time.Time, not int, d time.Duration) probeAck {
	b.Helper()
	timeout := time.After(d)
	for {
		select {
		case a := <-p.acks:
			if a.at.After(t0) && a.node != not {
				return a
			}
		case <-timeout:
			b.Fatalf("no move acknowledged by a node other than n%d within %v", not, d)
		}
	}
}

// settleProbe waits until the cluster settled on want and the probe's
// moves are answered by it.
func settleProbe(b *testing.B, c *cluster, p *probe, want int) {
	b.Helper()
	c.waitSettled(want, 15*time.Second)
	t0 := time.Now()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case a := <-p.acks:
			if a.at.After(t0) && a.node == want {
				return
			}
		case <-deadline:
			b.Fatalf("the probe's moves are not answered by n%d", want)
		}
	}
}

// reportDurations logs a sample and reports its p50, p99 and max in ms.
func reportDurations(b *testing.B, name string, d durations) {
	b.Logf("%s over %d trials: p50 %v p99 %v max %v", name, len(d), d.pct(50), d.pct(99), slices.Max(d))
	b.ReportMetric(ms(d.pct(50)), name+"-p50-ms")
	b.ReportMetric(ms(d.pct(99)), name+"-p99-ms")
	b.ReportMetric(ms(slices.Max(d)), name+"-max-ms")
}

// reportRTT logs a sample of round trips and reports its p50 and p99 in µs.
func reportRTT(b *testing.B, what string, rtt durations) {
	b.Logf("%s over %d moves: p50 %v p99 %v max %v", what, len(rtt), rtt.pct(50), rtt.pct(99), slices.Max(rtt))
	b.ReportMetric(us(rtt.pct(50)), "rtt-p50-µs")
	b.ReportMetric(us(rtt.pct(99)), "rtt-p99-µs")
}

// measureFailover takes the primary n3 away (disrupt) trials times while a
// probe plays, measures until the first move acknowledged through the new
// primary n2, and has n3 lead again (recover) after each.
func measureFailover(b *testing.B, name string, trials int, disrupt, recover func(c *cluster), opts ...clusterOpt) {
	for range b.N {
		c := startThree(b, opts...)
		p := startProbe(b, c.addrs())
		settleProbe(b, c, p, 3)
		var took durations
		for i := range trials {
			t0 := time.Now()
			disrupt(c)
			a := p.firstAck(b, t0, 3, 10*time.Second)
			took = append(took, a.at.Sub(t0))
			if a.node != 2 {
				b.Fatalf("trial %d: first ack through n%d, want n2", i, a.node)
			}
			recover(c)
			settleProbe(b, c, p, 3)
		}
		reportDurations(b, name, took)
	}
}

// BenchmarkClusterCrashFailover: kill -9 the primary, measure until the
// first move acknowledged through the new primary.
func BenchmarkClusterCrashFailover(b *testing.B) {
	measureFailover(b, "failover", envInt("GRIDLOCK_FAILOVER_TRIALS", 50),
		func(c *cluster) { c.signal(3, syscall.SIGKILL) },
		func(c *cluster) {
			if _, err := c.node(3).wait(5 * time.Second); err != nil {
				b.Fatal(err)
			}
			c.start(3)
		})
}

// BenchmarkClusterCrashFailoverQuorum: the same in quorum mode, where a
// new primary must hear from a majority of the voters (and, with nothing
// like a lease to wait out, takes office as fast).
func BenchmarkClusterCrashFailoverQuorum(b *testing.B) {
	measureFailover(b, "failover", envInt("GRIDLOCK_FAILOVER_TRIALS", 50),
		func(c *cluster) { c.signal(3, syscall.SIGKILL) },
		func(c *cluster) {
			if _, err := c.node(3).wait(5 * time.Second); err != nil {
				b.Fatal(err)
			}
			c.start(3)
		}, withFlags("--quorum=on", "--bootstrap=1,2,3"))
}

// BenchmarkClusterHungPrimary: SIGSTOP the primary, measure until the first
// move acknowledged through the new primary; then SIGCONT and let it take
// over again.
func BenchmarkClusterHungPrimary(b *testing.B) {
	measureFailover(b, "hung-failover", envInt("GRIDLOCK_HUNG_TRIALS", 10),
		func(c *cluster) { c.signal(3, syscall.SIGSTOP) },
		func(c *cluster) { c.signal(3, syscall.SIGCONT) })
}

// BenchmarkClusterMoveRTT: one client, one move in flight, 3 nodes.
func BenchmarkClusterMoveRTT(b *testing.B) { moveRTT(b) }

// BenchmarkClusterMoveRTTQuorum: the same in quorum mode, the default of
// serve and of the compose file: a move commits once one of the two
// backups holds it (the tests' clusters run in availability mode, where
// it waits for both).
func BenchmarkClusterMoveRTTQuorum(b *testing.B) {
	moveRTT(b, withFlags("--quorum=on", "--bootstrap=1,2,3"))
}

// BenchmarkClusterLoneRTT: one client, one move in flight, one node alone
// (a primary with no backups).
func BenchmarkClusterLoneRTT(b *testing.B) {
	for range b.N {
		c := newCluster(b, withFlags("--countdown", "1s"))
		c.start(1)
		c.waitSettled(1, 10*time.Second)
		measureRTT(b, c.addrs())
	}
}

// BenchmarkClusterMoveRTTFsync: the same with every node keeping its data,
// synced before anything is acknowledged (--fsync=always) or not
// (--fsync=off).
func BenchmarkClusterMoveRTTFsync(b *testing.B) {
	b.Run("always", func(b *testing.B) { moveRTT(b, withData("always")) })
	b.Run("off", func(b *testing.B) { moveRTT(b, withData("off")) })
}

func moveRTT(b *testing.B, opts ...clusterOpt) {
	for range b.N {
		bn := startBenchWith(b, opts, "--countdown", "1s")
		measureRTT(b, bn.addrs)
	}
}

// measureRTT makes moves one at a time through the client library, in
// blocks, with a block of loopback echoes between two processes after each
// (startEcho), and reports the moves' round trip and its ratio to the
// echo's, both measured in the same stretch of time: on a shared machine
// only the ratio compares from one run to the next.
func measureRTT(b *testing.B, addrs []string) {
	moves := envInt("GRIDLOCK_RTT_MOVES", 5000)
	const block = 250
	ctx := context.Background()
	// The moves from one player's process, as connect and bot --players 1
	// run it: on one thread. The echo keeps every core (its fastest).
	procs, playerProcs := runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") == "" {
		playerProcs = 1
	}
	defer runtime.GOMAXPROCS(procs)
	echo := startEcho(b)
	// As a bot plays (gridlock bot): no copy of the room with every batch
	// of events, which would be most of the player's work on the path.
	cl := client.Dial(ctx, client.ClientOptions{Name: "rtt", Addrs: addrs, NoRoomCopies: true})
	defer cl.Close()
	waitConnected(b, cl)
	m := newMover(cl)
	first := time.Now()
	for range 200 { // warm up
		if _, err := cl.Do(ctx, m.next()); err != nil {
			b.Fatal(err)
		}
	}
	rtt := make(durations, 0, moves)
	var hot durations
	var played time.Duration
	throttled := 0
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for len(rtt) < moves {
		// A session may send 2,000 commands a second past a burst of
		// 4,000 (Options.RateLimit, Burst); back to back, a player sends
		// more: wait between blocks rather than be throttled.
		budget := 3500 + 1900*time.Since(first).Seconds() - float64(200+len(rtt))
		if budget < block {
			time.Sleep(time.Duration((block - budget) / 1900 * float64(time.Second)))
		}
		runtime.GOMAXPROCS(playerProcs)
		start := time.Now()
		for range min(block, moves-len(rtt)) {
			cmd := m.next()
			t0 := time.Now()
			if _, err := cl.Do(ctx, cmd); err != nil {
				b.Fatal(err)
			}
			rtt = append(rtt, time.Since(t0))
		}
		played += time.Since(start)
		runtime.GOMAXPROCS(procs)
		for _, ev := range cl.Drain() {
			if _, ok := ev.(client.Throttled); ok {
				throttled++
			}
		}
		hot = append(hot, echo(block/5)...)
	}
	runtime.ReadMemStats(&m1)
	reportRTT(b, "move round trip", rtt)
	if throttled > 0 {
		b.Logf("the node throttled the moves %d times: the round trips include its pauses", throttled)
	}
	b.ReportMetric(float64(throttled), "throttled")
	b.Logf("loopback echo in the same run, back to back, over %d: p50 %v p99 %v; move p50 / echo p50 = %.2f",
		len(hot), hot.pct(50), hot.pct(99), float64(rtt.pct(50))/float64(hot.pct(50)))
	b.ReportMetric(float64(moves)/played.Seconds(), "moves/s")
	b.ReportMetric(us(hot.pct(50)), "echo-p50-µs")
	b.ReportMetric(float64(rtt.pct(50))/float64(hot.pct(50)), "p50-x-echo")
	// This process's allocations: the client's, and with GRIDLOCK_INPROC
	// the nodes' too (the echo's few are counted as well).
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(moves), "allocs/move")
}

// BenchmarkClusterMoveRTTWire: the same, from a bare connection that
// speaks the wire protocol (no client library): what the cluster itself
// adds.
func BenchmarkClusterMoveRTTWire(b *testing.B) {
	moves := envInt("GRIDLOCK_RTT_MOVES", 5000)
	for range b.N {
		bn := startBench(b, "--countdown", "1s")
		ctx := context.Background()
		// The library finds the primary and keeps the room for the mover.
		cl := client.Dial(ctx, client.ClientOptions{Name: "watcher", Addrs: bn.addrs})
		b.Cleanup(cl.Close)
		waitConnected(b, cl)
		addr := cl.Status().Addr
		m := newMover(cl)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		r := wire.NewReader(conn, wire.ServerLimits.MaxFrame)
		if err := wire.WriteFrame(conn, &wire.Hello{Version: wire.Version, Name: "raw", Token: client.NewToken()}); err != nil {
			b.Fatal(err)
		}
		if msg, err := r.ReadMessage(wire.ServerLimits); err != nil {
			b.Fatal(err)
		} else if _, ok := msg.(*wire.Welcome); !ok {
			b.Fatalf("hello answered with %s", msg.Type())
		}
		buf := make([]byte, 0, 256)
		rtt := make(durations, 0, moves)
		for i := range moves + 200 {
			buf, _ = wire.AppendFrame(buf[:0], &wire.Command{Seq: uint64(i + 1), Cmd: m.next()})
			t0 := time.Now()
			if _, err := conn.Write(buf); err != nil {
				b.Fatal(err)
			}
			for {
				msg, err := r.ReadMessage(wire.ServerLimits)
				if err != nil {
					b.Fatal(err)
				}
				if a, ok := msg.(*wire.Ack); ok && a.Seq == uint64(i+1) {
					break
				}
			}
			if i >= 200 {
				rtt = append(rtt, time.Since(t0))
			}
		}
		reportRTT(b, "move round trip on a bare connection", rtt)
	}
}

func waitConnected(b testing.TB, cl *client.Client) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.WaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
}

// cpuSeconds reads a process's user and system CPU time from /proc.
func cpuSeconds(b testing.TB, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which is in parentheses).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks, 100 a second
}

// cpuShares measures how many cores each process uses while f runs.
func cpuShares(b testing.TB, pids map[string]int, f func()) map[string]float64 {
	before := map[string]float64{}
	for k, pid := range pids {
		before[k] = cpuSeconds(b, pid)
	}
	t0 := time.Now()
	f()
	el := time.Since(t0).Seconds()
	out := map[string]float64{}
	for k, pid := range pids {
		out[k] = (cpuSeconds(b, pid) - before[k]) / el
	}
	return out
}

// playRooms runs rooms×per bots at rate (0: as fast as answered) for d,
// each room in its own RunBots, and returns the reports. With steady, rated
// bots send at every tick (chat lines between rounds).
func playRooms(b testing.TB, addrs []string, rooms, per int, rate float64, d time.Duration, steady bool) []bot.Report {
	return playRoomsWindow(b, addrs, rooms, per, rate, 1, d, steady)
}

// playRoomsWindow is playRooms with window commands in flight per bot
// (rate 0).
func playRoomsWindow(b testing.TB, addrs []string, rooms, per int, rate float64, window int, d time.Duration, steady bool) []bot.Report {
	log := slog.New(slog.DiscardHandler)
	if path := os.Getenv("GRIDLOCK_BOT_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// The rooms play together: every room's players are in before any
	// plays, and none leaves while another plays.
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	ready.Add(rooms)
	go func() { ready.Wait(); close(start) }()
	reps := make([]bot.Report, rooms)
	errs := make([]error, rooms)
	for r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			in := func() { once.Do(ready.Done) }
			defer in() // a room that failed to set up holds nobody back
			reps[r], errs[r] = bot.Run(context.Background(), bot.Options{
				Players: per, Rate: rate, Window: window, Duration: d, Room: fmt.Sprintf("room%d", r+1), Size: 9,
				ErrorRate: 0.1, ClaimRate: 0.1, ChatRate: 0.05, Prefix: fmt.Sprintf("r%dp", r+1),
				Addrs: addrs, Settle: 30 * time.Second, Logger: log, Steady: steady,
				Ready: in, Start: start,
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i, r := range reps {
		if r.Lost != 0 || r.Errors != 0 {
			b.Errorf("room %d: %s", i+1, r)
		}
	}
	return reps
}

func mergeLatencies(reps []bot.Report) durations {
	var all durations
	for _, r := range reps {
		all = append(all, r.Latencies...)
	}
	return all
}

// BenchmarkClusterThroughput: 100 clients over 10 rooms, each sending the
// bots' mix of commands as fast as they are answered.
func BenchmarkClusterThroughput(b *testing.B) { throughput(b) }

// BenchmarkClusterThroughputWindow: the same with GRIDLOCK_WINDOW (32)
// commands in flight per client, as a pipelining client keeps them; the
// latency is then the queue's.
func BenchmarkClusterThroughputWindow(b *testing.B) {
	throughputWindow(b, envInt("GRIDLOCK_WINDOW", 32))
}

// BenchmarkClusterThroughputFsync: the same with data directories, synced
// or not.
func BenchmarkClusterThroughputFsync(b *testing.B) {
	b.Run("always", func(b *testing.B) { throughput(b, withData("always")) })
	b.Run("off", func(b *testing.B) { throughput(b, withData("off")) })
}

func throughput(b *testing.B, opts ...clusterOpt) { throughputWindow(b, 1, opts...) }

func throughputWindow(b *testing.B, window int, opts ...clusterOpt) {
	secs := envInt("GRIDLOCK_BENCH_SECONDS", 5)
	for range b.N {
		bn := startBenchWith(b, opts, "--countdown", "1s")
		var reps []bot.Report
		cpu := cpuShares(b, bn.pids, func() {
			reps = playRoomsWindow(b, bn.addrs, 10, 10, 0, window, time.Duration(secs)*time.Second, false)
		})
		acked, refused, secsPlayed := 0, 0, 0.0
		for _, r := range reps {
			acked += r.Acked
			refused += r.Rejected
			secsPlayed = max(secsPlayed, r.Seconds)
		}
		lat := mergeLatencies(reps)
		b.Logf("throughput: %d acknowledged in %.1f s (%d of them refused by the game's rules); latency p50 %v p99 %v; CPU (cores): %v",
			acked, secsPlayed, refused, lat.pct(50), lat.pct(99), cpu)
		b.ReportMetric(float64(acked)/secsPlayed, "acked/s")
		if core, ok := cpu["n3"]; ok && acked > 0 {
			b.ReportMetric(core*secsPlayed/float64(acked)*1e6, "primary-cpu-µs/cmd")
		}
		b.ReportMetric(ms(lat.pct(99)), "p99-ms")
		for k, v := range cpu {
			b.ReportMetric(v, "cpu-"+k)
		}
	}
}

// BenchmarkClusterManyPlayers: 1,000 players (100 in each of 10 rooms),
// 2 commands a second each.
func BenchmarkClusterManyPlayers(b *testing.B) {
	secs := envInt("GRIDLOCK_BENCH_SECONDS", 5)
	for range b.N {
		bn := startBench(b, "--countdown", "1s")
		var reps []bot.Report
		cpu := cpuShares(b, bn.pids, func() {
			reps = playRooms(b, bn.addrs, 10, 100, 2, time.Duration(secs)*time.Second, true)
		})
		lat := mergeLatencies(reps)
		acked, reconnects := 0, 0
		for _, r := range reps {
			acked += r.Acked
			reconnects += r.Reconnects
		}
		rss, _ := rssKB(bn.pids["n3"])
		b.Logf("1000 players: %d acknowledged, %d reconnects; latency p50 %v p90 %v p99 %v max %v; primary RSS %d kB; CPU (cores): %v",
			acked, reconnects, lat.pct(50), lat.pct(90), lat.pct(99), slices.Max(lat), rss, cpu)
		b.ReportMetric(ms(lat.pct(50)), "p50-ms")
		b.ReportMetric(ms(lat.pct(99)), "p99-ms")
		b.ReportMetric(float64(rss)/1024, "primary-MB")
	}
}

// samplePeakRSS samples a process's resident memory every 100 ms until
// the function it returns is called, which returns the peak in kB.
func samplePeakRSS(pid int) (stop func() int) {
	var peak int
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				if kb, err := rssKB(pid); err == nil {
					peak = max(peak, kb)
				}
			}
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkClusterMemory: the primary's resident memory while it serves 100
// clients (10 rooms) that play at 5 commands a second each.
func BenchmarkClusterMemory(b *testing.B) {
	secs := envInt("GRIDLOCK_BENCH_SECONDS", 5)
	for range b.N {
		c := startThree(b, withFlags("--countdown", "1s"))
		idle, _ := rssKB(c.node(3).pid())
		peak := samplePeakRSS(c.node(3).pid())
		playRooms(b, c.addrs(), 10, 10, 5, time.Duration(secs)*time.Second, false)
		peakRSS := peak()
		after, _ := rssKB(c.node(3).pid())
		backup, _ := rssKB(c.node(2).pid())
		b.Logf("memory: primary RSS idle %d kB, serving 100 clients up to %d kB, after %d kB; a backup %d kB", idle, peakRSS, after, backup)
		b.ReportMetric(float64(peakRSS)/1024, "primary-MB")
		b.ReportMetric(float64(idle)/1024, "idle-MB")
		b.ReportMetric(float64(backup)/1024, "backup-MB")
	}
}

// BenchmarkClusterLoopbackFloor: what this machine gives any two processes
// on loopback, for comparison with the move round trip. A 64-byte TCP echo
// between two processes, back to back, and with a millisecond's pause
// between round trips, so that both processes go idle as nodes do between
// their parts of a move: waking an idle process is most of what a round
// trip costs here.
func BenchmarkClusterLoopbackFloor(b *testing.B) {
	const n = 5000
	for range b.N {
		echo := startEchoPaced(b)
		hot, paced := echo(n, 0), echo(n, time.Millisecond)
		b.Logf("loopback echo between two processes: back to back p50 %v p99 %v; paced p50 %v p99 %v",
			hot.pct(50), hot.pct(99), paced.pct(50), paced.pct(99))
		b.ReportMetric(us(hot.pct(50)), "hot-p50-µs")
		b.ReportMetric(us(paced.pct(50)), "paced-p50-µs")
		b.ReportMetric(us(paced.pct(99)), "paced-p99-µs")
	}
}

// startEcho starts the echo process of BenchmarkClusterLoopbackFloor and
// returns a function that makes k back-to-back 64-byte round trips with it.
func startEcho(b *testing.B) func(k int) durations {
	echo := startEchoPaced(b)
	return func(k int) durations { return echo(k, 0) }
}

// startEchoPaced is startEcho with a pause after each round trip.
func startEchoPaced(b *testing.B) func(k int, pause time.Duration) durations {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GRIDLOCK_ECHO_SERVER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var addr string
	if _, err := fmt.Fscan(out, &addr); err != nil {
		b.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	buf := make([]byte, 64)
	return func(k int, pause time.Duration) durations {
		d := make(durations, 0, k)
		for range k {
			t0 := time.Now()
			if _, err := conn.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(conn, buf); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
			time.Sleep(pause)
		}
		return d
	}
}

// echoServer is the other process of BenchmarkClusterLoopbackFloor: it
// prints its address and echoes one connection.
func echoServer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr())
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		return 1
	}
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	_, _ = io.Copy(c, c)
	return 0
}

// dirSize is the bytes the files under dir take.
func dirSize(b testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkClusterRestart: a node whose log on disk is full (the entries
// since its last snapshot, and the snapshot) is killed and started again:
// the time from the start to the first move acknowledged.
func BenchmarkClusterRestart(b *testing.B) {
	commands := envInt("GRIDLOCK_RESTART_COMMANDS", 20000)
	for range b.N {
		c := newCluster(b, withFlags("--quorum=on", "--bootstrap=1", "--countdown", "1s"), withData("always"))
		c.start(1)
		c.waitSettled(1, 10*time.Second)
		played := 0
		for played < commands {
			rep := runBots(b, c.addrs(), bot.Options{Players: 10, Rate: 0, Duration: 2 * time.Second, ChatRate: 0.3, Prefix: fmt.Sprintf("r%d", played)})
			played += rep.Acked
		}
		size := dirSize(b, c.data)
		c.crash(1)
		t0 := time.Now()
		c.start(1)
		p := startProbe(b, c.addrs())
		a := p.firstAck(b, t0, 0, 30*time.Second)
		took := a.at.Sub(t0)
		b.Logf("restart after %d commands (data directory %.1f MB): first move acknowledged %v after the start; %s",
			played, float64(size)/1e6, took.Round(time.Millisecond), lastLines(c.logText(1), 3))
		b.ReportMetric(ms(took), "restart-ms")
		b.ReportMetric(float64(size)/1e6, "data-MB")
	}
}

// BenchmarkClusterDataSize: three nodes with data directories while four
// players play at a human pace (2 commands a second each, a fifth of them
// chat) for GRIDLOCK_SIZE_SECONDS (an hour: 3600): the size of each data
// directory at the end.
func BenchmarkClusterDataSize(b *testing.B) {
	secs := envInt("GRIDLOCK_SIZE_SECONDS", 30)
	for range b.N {
		c := startThree(b, withFlags("--quorum=on", "--bootstrap=1,2,3"), withData("always"))
		rep := runBots(b, c.addrs(), bot.Options{Players: 4, Rate: 2, Duration: time.Duration(secs) * time.Second,
			ErrorRate: 0.1, ClaimRate: 0.05, ChatRate: 0.2, Steady: true, Prefix: "size"})
		var largest int64
		for id := 1; id <= 3; id++ {
			largest = max(largest, dirSize(b, filepath.Join(c.data, fmt.Sprintf("n%d", id))))
		}
		b.Logf("after %d s of 4 players (%d commands acknowledged): the largest data directory holds %.2f MB", secs, rep.Acked, float64(largest)/1e6)
		b.ReportMetric(float64(largest)/1e6, "data-MB")
		b.ReportMetric(float64(rep.Acked), "commands")
	}
}
