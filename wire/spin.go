package wire

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// A read(2) that finds its socket empty normally leaves the goroutine to
// Go's poller, and the process sleeps in epoll_pwait until the bytes come.
// On this kind of virtual machine the write(2) that wakes a sleeping
// process costs its writer 13–16 µs (the wake-up's delivery runs inside
// the write), and the sleeper takes as long again to run: a replicated
// move crosses four such hops (player, primary, backups, primary,
// player). A reader that expects bytes soon reads again instead, yielding
// between tries: a process that is running or waiting for a core is not
// woken. Most of what this saves is a backup's: after its ack it yields
// until the next append, which the primary then writes without a wake-up.

const (
	// spinFor is how long after Expect.Mark a reader keeps reading. 25 to
	// 100 µs gave the same replicated move (BenchmarkClusterMoveRTTQuorum).
	spinFor = 40 * time.Microsecond
	// spinActive: a link with no frame for this long does not spin (an
	// idle cluster's heartbeats come every 100 ms). It also bounds a
	// spin that Marks keep alive, during which a Close or a read
	// deadline waits: Go's poller sees neither until the read returns.
	spinActive = 10 * time.Millisecond
)

// Expect records when frames were last sent whose answers (or the frames
// that follow them) come at once, for the Readers given it by SpinAfter.
// Safe for concurrent use.
type Expect struct{ at atomic.Int64 }

// Mark says such frames were just sent.
func (e *Expect) Mark() { e.at.Store(clock()) }

// SpinAfter makes a Reader of a socket that finds it empty within spinFor
// of e's last Mark, with no frame come since and one within spinActive
// before, read again (letting other goroutines and processes run between
// tries) rather than sleep. It has no effect on other readers.
func (fr *Reader) SpinAfter(e *Expect) {
	if r, ok := fr.r.(*rawReader); ok {
		r.expect = e
	}
}

// spin says whether to read again, after yielding: the goroutines of the
// process (often one thread's) run first, then the other processes of
// this core, which share two cores with the rest of the cluster.
func (r *rawReader) spin() bool {
	if r.expect == nil {
		return false
	}
	now, at := clock(), r.expect.at.Load()
	if at < r.last || now-at > int64(spinFor) || now-r.last > int64(spinActive) {
		return false
	}
	runtime.Gosched()
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	return true
}

var clockZero = time.Now()

// clock is monotonic time in nanoseconds (not an Epoch: the package's
// epochs are the cluster's).
func clock() int64 { return int64(time.Since(clockZero)) }
