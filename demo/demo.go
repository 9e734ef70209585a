package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/wire"
)

// Options configure a demo.
type Options struct {
	Exe     string  // the gridlock binary: the nodes are `Exe serve …`
	Nodes   int     // nodes at the start, 1..MaxNodes (default 3)
	Bots    int     // automated players (0: none)
	BotRate float64 // commands a second per bot (default 0.5)
	// RestartAfter: a node that died is started again, from its data,
	// after this long, as a supervisor would (0: only by Restart).
	RestartAfter time.Duration
	Dir          string        // where the demo's temporary directory goes (default: the system's)
	StartWait    time.Duration // how long Start waits for a primary (default 20 s)
	Logger       *slog.Logger
}

// MaxNodes is the most nodes a demo runs: enough to show any majority,
// few enough for one machine and one sidebar.
const MaxNodes = 9

// Demo is a cluster of child processes on loopback, bots that play on it,
// and the presenter's means to break it.
type Demo struct {
	o       Options
	log     *slog.Logger
	dir     *workDir
	cluster string
	group   string
	spawn   *spawner
	wg      sync.WaitGroup

	changed chan struct{}

	botsStop chan struct{}
	botsDone chan struct{}
	botsRep  bot.Report
	botsErr  error

	mu      sync.Mutex
	procs   []*proc // by id
	ports   map[int]bool
	story   *story
	prog    bot.Progress
	closing bool
}

// Start starts the nodes, waits for a primary, and starts the bots.
func Start(ctx context.Context, o Options) (*Demo, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Nodes < 1 || o.Nodes > MaxNodes {
		return nil, fmt.Errorf("%d nodes: 1 to %d", o.Nodes, MaxNodes)
	}
	if o.Bots < 0 {
		return nil, fmt.Errorf("%d bots: 0 or more", o.Bots)
	}
	if o.BotRate <= 0 {
		o.BotRate = 0.5
	}
	if o.StartWait <= 0 {
		o.StartWait = 20 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Exe = exe
	}
	dir, removed, err := makeWorkDir(o.Dir)
	if err != nil {
		return nil, err
	}
	for _, r := range removed {
		o.Logger.Info("removed what an earlier demo left", "dir", r)
	}
	d := &Demo{
		o: o, log: o.Logger, dir: dir,
		cluster: fmt.Sprintf("demo-%d-%04x", os.Getpid(), rand.Uint32()&0xffff),
		spawn:   newSpawner(),
		changed: make(chan struct{}, 1),
		ports:   map[int]bool{},
		story:   newStory(o.Bots > 0),
	}
	gport, err := freePort(true, d.ports)
	if err != nil {
		d.Close()
		return nil, err
	}
	// A group of its own: the demo's nodes never meet a game played here.
	d.group = fmt.Sprintf("239.255.77.77:%d", gport)
	var ids []string
	for i := 1; i <= o.Nodes; i++ {
		ids = append(ids, fmt.Sprint(i))
	}
	d.mu.Lock()
	for i := 1; i <= o.Nodes; i++ {
		if _, err := d.addLocked(strings.Join(ids, ",")); err != nil {
			d.mu.Unlock()
			d.Close()
			return nil, err
		}
	}
	d.mu.Unlock()
	if err := d.waitPrimary(ctx, o.StartWait); err != nil {
		d.Close()
		return nil, err
	}
	d.botsStop, d.botsDone = make(chan struct{}), make(chan struct{})
	if o.Bots > 0 {
		go d.runBots()
	} else {
		close(d.botsDone)
	}
	return d, nil
}

// waitPrimary waits until a node leads.
func (d *Demo) waitPrimary(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if d.State().Primary != 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errors.New("interrupted while the nodes started")
			}
			return fmt.Errorf("no primary within %v (the nodes' logs are in %s)", limit, d.dir.path)
		case <-d.Changed():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *Demo) runBots() {
	defer close(d.botsDone)
	rep, err := bot.Run(context.Background(), bot.Options{
		Players: d.o.Bots, Rate: d.o.BotRate, Done: d.botsStop, Addrs: d.Addrs(), Prefix: "bot",
		ErrorRate: 0.08, ClaimRate: 0.1, ChatRate: 0.03, Settle: 5 * time.Second,
		MoveOnFailover: true, Logger: d.log,
		Progress: func(p bot.Progress) {
			d.mu.Lock()
			defer d.mu.Unlock()
			if p.Acked > d.prog.Acked {
				d.story.ack(p.Node, p.At)
			}
			d.prog = p
			d.changedLocked()
		},
	})
	d.mu.Lock()
	d.botsRep, d.botsErr = rep, err
	d.changedLocked()
	d.mu.Unlock()
	if err != nil {
		d.log.Warn("bots", "error", err)
	}
}

// Addrs are the client addresses of the nodes.
func (d *Demo) Addrs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.procs {
		out = append(out, p.addr())
	}
	return out
}

// Changed receives (coalesced) when the state may have changed.
func (d *Demo) Changed() <-chan struct{} { return d.changed }

func (d *Demo) changedLocked() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *Demo) onView(id wire.NodeID, v wire.ClusterView, at time.Time) {
	if v.Self == 0 {
		v.Self = id
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.proc(id)
	if p == nil || !p.alive {
		return
	}
	d.story.view(v, at)
	d.changedLocked()
}

func (d *Demo) proc(id wire.NodeID) *proc {
	if i := int(id) - 1; i >= 0 && i < len(d.procs) {
		return d.procs[i]
	}
	return nil
}

// counted says whether a node's word on who leads counts: it runs, is not
// being killed, is not hung and is not cut off (unless it alone makes a
// majority).
func (d *Demo) counted(id wire.NodeID) bool {
	p := d.proc(id)
	return p != nil && p.alive && !p.killed && !p.paused && (!p.cut || d.story.alone(id))
}

// Node is one of the demo's nodes as the presenter sees it.
type Node struct {
	ID        wire.NodeID
	PID       int // 0: not running
	Addr      string
	Alive     bool
	Paused    bool
	Cut       bool
	Starts    int
	RestartAt time.Time // dead: when it is started again (zero: by Restart only)
}

// State is the demo's state now.
type State struct {
	Nodes     []Node
	Primary   wire.NodeID // 0: none now
	Majority  int         // voters a primary needs, as the last primary said (0: not known yet)
	Failovers []Failover  // oldest first; the last may be under way
	Bots      int
	Progress  bot.Progress // the bots' running tally
	BotsErr   error        // why the bots stopped, if they did
	Dir       string       // the demo's temporary directory
}

// State returns the demo's state now.
func (d *Demo) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := State{Bots: d.o.Bots, Progress: d.prog, BotsErr: d.botsErr, Dir: d.dir.path,
		Failovers: d.story.shown()}
	s.Primary, _ = d.story.primary(d.counted)
	s.Majority = d.story.majority
	for _, p := range d.procs {
		n := Node{ID: p.id, Addr: p.addr(), Alive: p.alive, Paused: p.paused, Cut: p.cut, Starts: p.starts, RestartAt: p.restartAt}
		if p.alive {
			n.PID = p.pid()
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}

// Kill kills the primary with SIGKILL. It returns what it did, for the
// presenter.
func (d *Demo) Kill() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	id, epoch := d.story.primary(d.counted)
	if id == 0 {
		return "no primary to kill just now"
	}
	p := d.proc(id)
	pid := p.pid()
	if err := p.signal(syscall.SIGKILL); err != nil {
		return fmt.Sprintf("kill n%d: %v", id, err)
	}
	// Until its process is reaped it is still alive here: a second K
	// must not kill it again and time a failover that is the same one.
	p.killed = true
	d.story.fault(Kill, id, epoch, time.Now())
	d.log.Info("presenter: kill -9 the primary", "node", id.String(), "pid", pid)
	d.changedLocked()
	return fmt.Sprintf("kill -9 n%d, pid %d", id, pid)
}

// Pause stops the primary with SIGSTOP: it hangs, and is suspected only
// when its silence outlasts the suspicion timeout. If a node is paused
// already, it resumes every paused node instead.
func (d *Demo) Pause() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var resumed []string
	for _, p := range d.procs {
		if p.alive && p.paused && p.signal(syscall.SIGCONT) == nil {
			p.paused = false
			d.story.undo(p.id)
			resumed = append(resumed, p.id.String())
		}
	}
	if len(resumed) > 0 {
		d.log.Info("presenter: resume", "nodes", resumed)
		d.changedLocked()
		return fmt.Sprintf("SIGCONT %s: it runs again", strings.Join(resumed, ", "))
	}
	id, epoch := d.story.primary(d.counted)
	if id == 0 {
		return "no primary to pause just now"
	}
	p := d.proc(id)
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return fmt.Sprintf("pause n%d: %v", id, err)
	}
	p.paused = true
	d.story.fault(Pause, id, epoch, time.Now())
	d.log.Info("presenter: SIGSTOP the primary", "node", id.String(), "pid", p.pid())
	d.changedLocked()
	return fmt.Sprintf("SIGSTOP n%d, pid %d: it hangs", id, p.pid())
}

// Cut cuts the primary off its peers (its fault switch drops their
// traffic; its clients still reach it). If a node is cut off already, it
// heals every one instead.
func (d *Demo) Cut() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var healed []string
	for _, p := range d.procs {
		if p.alive && p.cut && p.signal(syscall.SIGUSR2) == nil {
			p.cut = false
			d.story.undo(p.id)
			healed = append(healed, p.id.String())
		}
	}
	if len(healed) > 0 {
		d.log.Info("presenter: heal", "nodes", healed)
		d.changedLocked()
		return fmt.Sprintf("%s healed: it hears its peers", strings.Join(healed, ", "))
	}
	id, epoch := d.story.primary(d.counted)
	if id == 0 {
		return "no primary to cut off just now"
	}
	p := d.proc(id)
	if err := p.signal(syscall.SIGUSR1); err != nil {
		return fmt.Sprintf("cut n%d: %v", id, err)
	}
	p.cut = true
	d.log.Info("presenter: cut the primary off", "node", id.String(), "pid", p.pid())
	d.changedLocked()
	if d.story.alone(id) {
		// No failover to time: nobody else votes.
		return fmt.Sprintf("n%d cut off, still leads: it alone is a majority", id)
	}
	d.story.fault(Cut, id, epoch, time.Now())
	return fmt.Sprintf("n%d cut off from its peers", id)
}

// Restart starts every dead node again, from its data.
func (d *Demo) Restart() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var started, failed []string
	for _, p := range d.procs {
		if p.alive {
			continue
		}
		if err := d.startLocked(p); err != nil {
			failed = append(failed, fmt.Sprintf("n%d: %v", p.id, err))
			continue
		}
		started = append(started, fmt.Sprintf("n%d, pid %d", p.id, p.pid()))
	}
	d.changedLocked()
	switch {
	case len(failed) > 0:
		return "restart failed: " + strings.Join(failed, "; ")
	case len(started) == 0:
		return "no dead node to restart"
	}
	return "restarted " + strings.Join(started, "; ")
}

// Add starts a new node, which joins the cluster, catches up and votes.
func (d *Demo) Add() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.procs) >= MaxNodes {
		return fmt.Sprintf("no more: a cluster has at most %d nodes", MaxNodes)
	}
	p, err := d.addLocked("none")
	if err != nil {
		return fmt.Sprintf("add a node: %v", err)
	}
	d.changedLocked()
	return fmt.Sprintf("added n%d, pid %d", p.id, p.pid())
}

// addLocked starts the next node; bootstrap is its --bootstrap.
func (d *Demo) addLocked(bootstrap string) (*proc, error) {
	id := wire.NodeID(len(d.procs) + 1)
	cp, err := freePort(false, d.ports)
	if err != nil {
		return nil, err
	}
	pp, err := freePort(false, d.ports)
	if err != nil {
		return nil, err
	}
	p := &proc{id: id, clientPort: cp, peerPort: pp, bootstrap: bootstrap,
		dataDir: filepath.Join(d.dir.path, id.String()),
		logPath: filepath.Join(d.dir.path, fmt.Sprintf("n%d.log", id))}
	if err := d.startLocked(p); err != nil {
		return nil, err
	}
	d.procs = append(d.procs, p)
	return p, nil
}

// waitKilled waits, up to limit, until the nodes sent SIGKILL are reaped,
// when the bots are to check: such a node is to come back for the check
// like any dead one.
func (d *Demo) waitKilled(limit time.Duration) {
	d.mu.Lock()
	var waits []chan struct{}
	for _, p := range d.procs {
		if p.alive && p.killed && d.o.Bots > 0 && d.botsStop != nil && !d.closing {
			waits = append(waits, p.exited)
		}
	}
	d.mu.Unlock()
	deadline := time.After(limit)
	for _, w := range waits {
		select {
		case <-w:
		case <-deadline:
			d.log.Warn("a node sent SIGKILL did not exit in time for the bots' check", "limit", limit)
			return
		}
	}
}

// Summary is what the demo saw, at its end.
type Summary struct {
	Failovers []Failover
	Bots      bot.Report // the bots' final report (with their final check)
	BotsErr   error
	Dir       string // the temporary directory, removed
	Err       error  // what went wrong while ending, if anything
}

// Close ends the demo: the bots stop playing, check what they were told
// against the primary and close their sessions (dead, hung and cut off
// nodes run again first, so that there is a primary to check with), every
// node is killed, and the temporary directory goes.
func (d *Demo) Close() Summary {
	d.waitKilled(5 * time.Second)
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		return Summary{Err: errors.New("closed already")}
	}
	for _, p := range d.procs {
		if p.restart != nil {
			p.restart.Stop()
		}
		// A dead node comes back too when the bots are to check: with a
		// majority dead, there would be no primary to check with.
		if !p.alive && p.cmd != nil && d.o.Bots > 0 && d.botsStop != nil {
			if err := d.startLocked(p); err != nil {
				d.log.Warn("restart for the bots' check", "node", p.id.String(), "error", err)
			}
		}
		if p.alive && p.paused {
			_ = p.signal(syscall.SIGCONT)
			p.paused = false
			d.story.undo(p.id)
		}
		if p.alive && p.cut {
			_ = p.signal(syscall.SIGUSR2)
			p.cut = false
			d.story.undo(p.id)
		}
	}
	d.closing = true
	d.mu.Unlock()
	s := Summary{Dir: d.dir.path}
	if d.botsStop != nil {
		close(d.botsStop)
		select {
		case <-d.botsDone:
		case <-time.After(30 * time.Second):
			s.Err = errors.New("the bots did not finish within 30 s")
		}
	}
	d.mu.Lock()
	s.Failovers = d.story.shown()
	s.Bots, s.BotsErr = d.botsRep, d.botsErr
	var waits []chan struct{}
	for _, p := range d.procs {
		if p.alive {
			_ = p.signal(syscall.SIGKILL)
			waits = append(waits, p.exited)
		}
	}
	d.mu.Unlock()
	deadline := time.After(10 * time.Second)
	for _, w := range waits {
		select {
		case <-w:
		case <-deadline:
			s.Err = errors.Join(s.Err, errors.New("a node did not exit within 10 s of SIGKILL"))
		}
	}
	d.wg.Wait()
	d.spawn.stop()
	if err := d.dir.remove(); err != nil {
		s.Err = errors.Join(s.Err, err)
	}
	return s
}
