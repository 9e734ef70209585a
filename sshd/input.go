package sshd

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// input reads a session's keys in one goroutine and hands them to one
// reader at a time (the name screen, then the app): what a reader that is
// closed did not take goes to the next one, so no key is lost between
// screens. It notes when the last key came, for the idle timeout.
type input struct {
	chunks chan []byte
	done   chan struct{} // closed when the session's input ends
	stop   chan struct{} // closed when the session ends
	once   sync.Once
	last   atomic.Int64 // when the last byte came (unix ns)

	mu     sync.Mutex
	unread []byte // handed back, for the next reader
}

const inputChunk = 1024

func newInput(r io.Reader) *input {
	in := &input{chunks: make(chan []byte), done: make(chan struct{}), stop: make(chan struct{})}
	in.last.Store(time.Now().UnixNano())
	go func() {
		defer close(in.done)
		for {
			b := make([]byte, inputChunk)
			n, err := r.Read(b)
			if n > 0 {
				in.last.Store(time.Now().UnixNano())
				select {
				case in.chunks <- b[:n]:
				case <-in.stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// close stops the reading goroutine (once the session's Read returns).
func (in *input) close() { in.once.Do(func() { close(in.stop) }) }

// lastKey is when the last byte came.
func (in *input) lastKey() time.Time { return time.Unix(0, in.last.Load()) }

// giveBack puts b before what comes next.
func (in *input) giveBack(b []byte) {
	if len(b) == 0 {
		return
	}
	in.mu.Lock()
	in.unread = append(bytes.Clone(b), in.unread...)
	in.mu.Unlock()
}

func (in *input) takeUnread() []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	b := in.unread
	in.unread = nil
	return b
}

// next returns the next bytes, or nil when stop is closed or the input
// ended.
func (in *input) next(stop <-chan struct{}, timeout <-chan time.Time) []byte {
	if b := in.takeUnread(); len(b) > 0 {
		return b
	}
	select {
	case b := <-in.chunks:
		return b
	case <-in.done:
	case <-stop:
	case <-timeout:
	}
	return nil
}

// reader returns a reader of the keys until it is closed.
func (in *input) reader() *inputReader {
	return &inputReader{in: in, closed: make(chan struct{})}
}

type inputReader struct {
	in     *input
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	left []byte
}

func (r *inputReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.left) == 0 {
		r.mu.Unlock()
		b := r.in.next(r.closed, nil)
		r.mu.Lock()
		select {
		case <-r.closed:
			r.in.giveBack(b)
			return 0, io.EOF
		default:
		}
		if b == nil {
			return 0, io.EOF
		}
		r.left = b
	}
	n := copy(p, r.left)
	r.left = r.left[n:]
	return n, nil
}

// Close ends the reader: a Read under way returns io.EOF, and what it had
// not handed out goes back for the next reader.
func (r *inputReader) Close() error {
	r.once.Do(func() {
		close(r.closed)
		r.mu.Lock()
		r.in.giveBack(r.left)
		r.left = nil
		r.mu.Unlock()
	})
	return nil
}

// The terminal's background: asked with OSC 11, followed by a request for
// the primary device attributes (DA1), which every terminal answers, so
// that one that does not know OSC 11 is not waited for.
const queryBackground = "\x1b]11;?\x07\x1b[c"

var (
	da1Reply   = regexp.MustCompile(`\x1b\[\?[0-9;]*c`)
	osc11Reply = regexp.MustCompile(`\x1b\]11;rgb:([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})(?:\x07|\x1b\\)`)
)

// background asks the terminal for its background colour (out is the
// session's output) and reads the answers for up to d. It reports whether
// the background is dark, and whether the terminal said. Keys that came
// with the answers are kept for the next reader.
func (in *input) background(out io.Writer, d time.Duration) (dark, known bool) {
	if _, err := io.WriteString(out, queryBackground); err != nil {
		return true, false
	}
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	var got []byte
	for !da1Reply.Match(got) && len(got) < 4096 {
		b := in.next(nil, timeout.C)
		if b == nil {
			break
		}
		got = append(got, b...)
	}
	if m := osc11Reply.FindSubmatchIndex(got); m != nil {
		var l float64
		for i, w := range []float64{0.2126, 0.7152, 0.0722} {
			hex := got[m[2+2*i]:m[3+2*i]]
			v, _ := strconv.ParseUint(string(hex), 16, 32)
			l += w * float64(v) / float64(uint64(1)<<(4*len(hex))-1)
		}
		dark, known = l < 0.5, true
		got = append(got[:m[0]:m[0]], got[m[1]:]...)
	}
	if m := da1Reply.FindIndex(got); m != nil {
		got = append(got[:m[0]:m[0]], got[m[1]:]...)
	}
	in.giveBack(got)
	if !known {
		dark = true
	}
	return dark, known
}
