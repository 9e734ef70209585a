package wire

import (
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// A socket's read(2) and write(2) here do not tell Go's scheduler that
// they may block (RawSyscall): the socket is non-blocking, so they never
// do, but the scheduler's monitor takes the processor from a thread whose
// system call it sees twice, and on this kind of machine a loopback
// write(2) takes longer than the monitor's 20 µs: with one processor
// (--procs 1) every such write then woke another thread to run the Go
// code and put the writer to sleep when it came back, two futex calls a
// move in each node.

// DirectWriter returns a write to a socket that does not block: it writes
// what the socket takes at once (0 bytes when it is full), so that a caller
// can send frames on its own goroutine and leave the rest to a writer. Nil
// for a connection that is not a socket.
func DirectWriter(nc net.Conn) func([]byte) (int, error) {
	raw := rawConn(nc)
	if raw == nil {
		return nil
	}
	w := &rawWriter{raw: raw}
	w.f = w.write
	return w.Write
}

// rawWriter and rawReader keep the call to RawConn in a method value made
// once: a closure made for every call would be allocated for every call.
type rawWriter struct {
	mu  sync.Mutex
	raw syscall.RawConn
	f   func(fd uintptr) bool
	b   []byte
	k   int
	err syscall.Errno
}

func (w *rawWriter) write(fd uintptr) bool {
	w.k, w.err = rawIO(syscall.SYS_WRITE, fd, w.b)
	return true
}

func (w *rawWriter) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = b
	err := w.raw.Write(w.f)
	k, werr := w.k, w.err
	w.b = nil
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr != 0:
		return 0, werr
	}
	return k, nil
}

// socketReader reads nc as nc.Read does, with read(2) run as DirectWriter
// runs write(2); nc itself if it is not a socket. Not for concurrent use.
func socketReader(nc net.Conn) io.Reader {
	raw := rawConn(nc)
	if raw == nil {
		return nc
	}
	r := &rawReader{raw: raw}
	r.f = r.read
	return r
}

type rawReader struct {
	raw syscall.RawConn
	f   func(fd uintptr) bool
	b   []byte
	n   int
	err syscall.Errno
	// short: the last read left the socket empty.
	short bool
	// expect (SpinAfter) and when the last bytes came, on clock().
	expect *Expect
	last   int64
}

func (r *rawReader) read(fd uintptr) bool {
	for {
		r.n, r.err = rawIO(syscall.SYS_READ, fd, r.b)
		if r.err != syscall.EAGAIN {
			if r.expect != nil && r.n > 0 {
				r.last = clock()
			}
			return true
		}
		if !r.spin() {
			return false // wait until it is readable
		}
	}
}

func (r *rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if r.short {
		// The next read(2) will most likely find nothing: let the
		// goroutines that the last frames made ready run first.
		runtime.Gosched()
	}
	r.b = b
	err := r.raw.Read(r.f)
	n, rerr := r.n, r.err
	r.b = nil
	r.short = n < len(b)
	switch {
	case err != nil:
		return 0, err
	case rerr != 0:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// rawIO runs read(2) or write(2) of b on fd, again after EINTR.
func rawIO(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		r, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e != syscall.EINTR {
			if e != 0 {
				return 0, e
			}
			return int(r), 0
		}
	}
}
