package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// ChildFlag is the hidden flag of `gridlock serve` that only the demo
// passes, with its own pid: the node checks that the demo is still its
// parent, and turns on a fault switch in its way to its peers that SIGUSR1
// cuts and SIGUSR2 heals.
const ChildFlag = "--demo-child"

// proc is one node: its fixed ports and data, and its current process.
// Its fields are the Demo's, under Demo.mu.
type proc struct {
	id                   wire.NodeID
	clientPort, peerPort int
	dataDir, logPath     string
	bootstrap            string

	cmd    *exec.Cmd // nil: never started
	alive  bool
	paused bool // SIGSTOP
	cut    bool // its fault switch is on
	killed bool // sent SIGKILL, not reaped yet: its word no longer counts
	starts int
	// exited is closed once the current process has exited and
	// Demo.exited has noted it.
	exited    chan struct{}
	restartAt time.Time   // dead: when it is started again (zero: only by Restart)
	restart   *time.Timer // that
	stopWatch context.CancelFunc
}

func (p *proc) addr() string { return fmt.Sprintf("127.0.0.1:%d", p.clientPort) }

func (p *proc) pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// signal sends sig to the node's process group.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.alive {
		return errors.New("not running")
	}
	return syscall.Kill(-p.pid(), sig)
}

// spawner starts every child from one OS thread that lives as long as the
// demo: Linux sends the parent-death signal when the thread that started
// a child ends, not only when its process does, and Go may end an idle
// thread.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go func() {
		// Never unlocked: the thread ends with this goroutine, after
		// every child is dead.
		runtime.LockOSThread()
		defer close(s.done)
		for r := range s.reqs {
			r.err <- r.cmd.Start()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	ch := make(chan error, 1)
	s.reqs <- spawnReq{cmd, ch}
	return <-ch
}

func (s *spawner) stop() {
	close(s.reqs)
	<-s.done
}

// args is the node's command line.
func (d *Demo) args(p *proc) []string {
	return []string{"serve",
		"--id", strconv.Itoa(int(p.id)),
		"--cluster", d.cluster, "--group", d.group, "--iface", "lo",
		"--tcp-port", strconv.Itoa(p.clientPort), "--replication-port", strconv.Itoa(p.peerPort),
		"--quorum=on", "--bootstrap=" + p.bootstrap,
		"--data-dir", p.dataDir,
		fmt.Sprintf("%s=%d", ChildFlag, os.Getpid()),
	}
}

// startLocked starts p's process (d.mu held): a child in a process group
// of its own (a ctrl+c at the terminal is the demo's to handle), that gets
// SIGKILL when the demo dies, however it dies, with its output in its log.
func (d *Demo) startLocked(p *proc) error {
	if d.closing {
		return errors.New("the demo is ending")
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close() // the child has its own copy
	args := d.args(p)
	p.starts++
	fmt.Fprintf(f, "=== start %d at %s: gridlock %v\n", p.starts, time.Now().Format("15:04:05.000"), args)
	cmd := exec.Command(d.o.Exe, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "GRIDLOCK_SECRET=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.spawn.start(cmd); err != nil {
		return fmt.Errorf("starting n%d: %w", p.id, err)
	}
	p.cmd, p.alive, p.paused, p.cut, p.killed = cmd, true, false, false, false
	p.restartAt = time.Time{}
	if p.restart != nil {
		p.restart.Stop()
		p.restart = nil
	}
	exited := make(chan struct{})
	p.exited = exited
	ctx, cancel := context.WithCancel(context.Background())
	p.stopWatch = cancel
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		d.watch(ctx, p.id, p.addr())
	}()
	go func() {
		defer d.wg.Done()
		d.exited(p, cmd, cmd.Wait())
		close(exited)
	}()
	d.log.Info("node started", "node", p.id.String(), "pid", cmd.Process.Pid, "client", p.addr(), "start", p.starts)
	return nil
}

// exited notes that p's process cmd ended, and starts it again later if
// the demo does that.
func (d *Demo) exited(p *proc, cmd *exec.Cmd, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.cmd != cmd {
		return
	}
	p.alive, p.paused, p.cut = false, false, false
	p.stopWatch()
	d.story.forget(p.id)
	d.log.Info("node exited", "node", p.id.String(), "pid", cmd.Process.Pid, "status", fmt.Sprint(err))
	if d.o.RestartAfter > 0 && !d.closing {
		p.restartAt = time.Now().Add(d.o.RestartAfter)
		p.restart = time.AfterFunc(d.o.RestartAfter, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if !p.alive && !d.closing && p.cmd == cmd {
				if err := d.startLocked(p); err != nil {
					d.log.Warn("restart", "node", p.id.String(), "error", err)
				}
				d.changedLocked()
			}
		})
	}
	d.changedLocked()
}
