package wire

import (
	"net"
	"syscall"
)

// DirectWriter returns a write to a socket that does not block: it writes
// what the socket takes at once (0 bytes when it is full), so that a caller
// can send frames on its own goroutine and leave the rest to a writer. Nil
// for a connection that is not a socket.
func DirectWriter(nc net.Conn) func([]byte) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func(b []byte) (int, error) {
		var k int
		var werr error
		err := raw.Write(func(fd uintptr) bool {
			for {
				k, werr = syscall.Write(int(fd), b)
				if werr != syscall.EINTR {
					return true
				}
			}
		})
		switch {
		case err != nil:
			return 0, err
		case werr == syscall.EAGAIN:
			return 0, nil
		case werr != nil:
			return 0, werr
		}
		return max(k, 0), nil
	}
}
