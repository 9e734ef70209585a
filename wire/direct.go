package wire

import (
	"io"
	"net"
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
	return func(b []byte) (int, error) {
		if len(b) == 0 {
			return 0, nil
		}
		var k int
		var werr syscall.Errno
		err := raw.Write(func(fd uintptr) bool {
			k, werr = rawIO(syscall.SYS_WRITE, fd, b)
			return true
		})
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
}

// socketReader reads nc as nc.Read does, with read(2) run as DirectWriter
// runs write(2); nc itself if it is not a socket.
func socketReader(nc net.Conn) io.Reader {
	raw := rawConn(nc)
	if raw == nil {
		return nc
	}
	return &rawReader{raw: raw}
}

type rawReader struct{ raw syscall.RawConn }

func (r *rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var rerr syscall.Errno
	err := r.raw.Read(func(fd uintptr) bool {
		n, rerr = rawIO(syscall.SYS_READ, fd, b)
		return rerr != syscall.EAGAIN // else wait until it is readable
	})
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
