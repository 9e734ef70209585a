package client

import (
	"time"
)

// Writes. A frame goes out at once, on the goroutine that made it, with a
// write that does not block, when nothing waits and no write is under way:
// a command then costs no wake-up of the writer goroutine. What the socket
// does not take at once waits for the writer.

// queue sends frames, or hands them to the writer.
func (cc *cliConn) queue(b []byte) {
	cc.mu.Lock()
	if cc.direct != nil && !cc.busy && !cc.closed && len(cc.buf) == 0 {
		cc.busy = true
		direct := cc.direct
		cc.mu.Unlock()
		k, err := direct(b)
		if err != nil {
			cc.close()
			return
		}
		cc.mu.Lock()
		cc.busy = false
		waiting := len(cc.buf) > 0 // queued while this write ran
		if k < len(b) {
			// The rest goes first, before anything queued meanwhile (b is
			// the caller's: copied).
			cc.buf = append(append(make([]byte, 0, len(b)-k+len(cc.buf)), b[k:]...), cc.buf...)
			waiting = true
		}
		cc.mu.Unlock()
		if waiting {
			cc.signal()
		}
		return
	}
	cc.buf = append(cc.buf, b...)
	cc.mu.Unlock()
	cc.signal()
}

func (cc *cliConn) signal() {
	select {
	case cc.wake <- struct{}{}:
	default:
	}
}

// write writes what is queued for cc until it closes.
func (c *Client) write(cc *cliConn) {
	defer c.wg.Done()
	var out []byte
	for {
		select {
		case <-cc.wake:
		case <-cc.done:
			return
		}
		cc.mu.Lock()
		if cc.busy {
			cc.mu.Unlock()
			continue // the write under way signals when it is done
		}
		out, cc.buf = cc.buf, out[:0]
		cc.busy = len(out) > 0
		cc.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		_ = cc.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := cc.nc.Write(out)
		// Cleared at once: an expired deadline would fail the direct
		// writes too.
		_ = cc.nc.SetWriteDeadline(time.Time{})
		cc.mu.Lock()
		cc.busy = false
		if len(cc.buf) > 0 {
			cc.signal() // queued while this write ran
		}
		cc.mu.Unlock()
		if err != nil {
			cc.close()
			return
		}
		if cap(out) > 64<<10 {
			out = nil
		}
	}
}
