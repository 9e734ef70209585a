package sshd

import (
	"io"
	"sync"
	"time"
)

// output is a session's output: writes are queued, up to limit bytes (or
// one write larger than that), and
// a goroutine of its own copies them to the session. A write never waits
// for the client. When a client reads too slowly and the queue overflows,
// what is queued is dropped (whole writes: the app's frames), and so is
// every write after it until the queue has drained; then redraw asks the
// app for a whole frame, which puts the terminal right.
type output struct {
	w      io.Writer
	limit  int
	redraw chan struct{} // receives when frames were dropped and the queue drained

	mu       sync.Mutex
	buf      []byte // queued, not yet taken by the writer
	busy     bool   // the writer is writing what it took
	dropping bool   // frames were dropped: writes are discarded until drained
	closed   bool   // the session is gone: writes are discarded
	drops    int    // times frames were dropped
	wake     chan struct{}
	idle     chan struct{} // closed and replaced when the queue drains
	done     chan struct{}
}

func newOutput(w io.Writer, limit int) *output {
	o := &output{w: w, limit: limit, redraw: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		idle: make(chan struct{}), done: make(chan struct{})}
	go o.run()
	return o
}

// Write queues p. It never blocks on the client and never fails: output
// to a session that is gone is discarded.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed || o.dropping:
	case len(o.buf) > 0 && len(o.buf)+len(p) > o.limit:
		// (An empty queue takes any write: a frame larger than the limit
		// is sent, not dropped over and over.) The writer, woken when the
		// queue was filled, finds it empty and asks for the redraw.
		o.buf = o.buf[:0]
		o.dropping = true
		o.drops++
	default:
		o.buf = append(o.buf, p...)
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// final queues p whatever the queue holds: the last words of a session
// (the terminal put back, a message) are never dropped.
func (o *output) final(p []byte) {
	o.mu.Lock()
	if !o.closed {
		o.dropping = false
		o.buf = append(o.buf, p...)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// flush waits until what is queued is written, or d passes, or the
// session is gone.
func (o *output) flush(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		o.mu.Lock()
		empty, idle := len(o.buf) == 0 && !o.busy, o.idle
		o.mu.Unlock()
		if empty {
			return
		}
		select {
		case <-idle:
		case <-o.done:
			return
		case <-t.C:
			return
		}
	}
}

// close stops the writer; what is queued is dropped.
func (o *output) close() {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		o.buf = nil
		close(o.done)
	}
	o.mu.Unlock()
}

// dropped reports how many times frames were dropped.
func (o *output) dropped() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.drops
}

// drained: the queue is empty and the writer idle (o.mu held).
func (o *output) drained() {
	close(o.idle)
	o.idle = make(chan struct{})
	if o.dropping {
		o.dropping = false
		select {
		case o.redraw <- struct{}{}:
		default:
		}
	}
}

func (o *output) run() {
	var out []byte
	for {
		select {
		case <-o.wake:
		case <-o.done:
			return
		}
		for {
			o.mu.Lock()
			if o.closed {
				o.mu.Unlock()
				return
			}
			if len(o.buf) == 0 {
				o.busy = false
				o.drained()
				o.mu.Unlock()
				break
			}
			// Swap: the writer writes one batch while the app queues the next.
			out, o.buf = o.buf, out[:0]
			o.busy = true
			o.mu.Unlock()
			if _, err := o.w.Write(out); err != nil {
				o.close()
				return
			}
			if cap(out) > 4*o.limit {
				out = nil
			}
		}
	}
}
