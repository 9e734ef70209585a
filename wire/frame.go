package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
)

const (
	// minBuf is a Reader's first buffer; it grows by doubling, and only
	// when full of bytes received.
	minBuf = 4 << 10
	// keepBuf is the largest buffer a Reader keeps between frames, and a
	// Writer or WriteFrame after a write.
	keepBuf = 1 << 20
	// maxEmptyReads is how many (0, nil) reads in a row a Reader takes
	// before it gives up with io.ErrNoProgress.
	maxEmptyReads = 100
)

// Reader reads frames from a stream. It buffers what it reads (several
// frames may arrive in one read) and reuses its buffer. It checks a frame's
// length against its maximum before anything else, and grows its buffer only
// as the frame's bytes arrive, so a peer that claims a large frame and sends
// nothing costs nothing.
//
// After an error of the underlying reader (a deadline, say), ReadFrame may be
// called again: it resumes where it stopped. A Reader is not safe for
// concurrent use.
type Reader struct {
	r          io.Reader
	max        int
	buf        []byte // unread bytes are buf[start:end]
	start, end int
	pushes     *PushCache
}

// NewReader returns a Reader of frames of at most maxFrame bytes (body,
// without the 4-byte length).
func NewReader(r io.Reader, maxFrame int) *Reader {
	if nc, ok := r.(net.Conn); ok {
		r = socketReader(nc)
	}
	return &Reader{r: r, max: min(max(maxFrame, 0), math.MaxInt-4)}
}

// SetMaxFrame changes the largest frame body the Reader accepts, from the
// next frame on: a connection that must first authenticate can read its
// handshake under a small limit and the rest under the full one.
func (fr *Reader) SetMaxFrame(maxFrame int) { fr.max = min(max(maxFrame, 0), math.MaxInt-4) }

// ReadFrame returns the next frame's body, valid until the next call. Errors:
// io.EOF at a frame boundary, io.ErrUnexpectedEOF inside a frame, a
// *DecodeError with code ErrTooLarge for a length over the maximum, or the
// underlying reader's error.
func (fr *Reader) ReadFrame() ([]byte, error) {
	if fr.start == fr.end {
		fr.start, fr.end = 0, 0
		if len(fr.buf) > keepBuf {
			fr.buf = nil
		}
	}
	if err := fr.fill(4); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.start:])
	if uint64(n) > uint64(fr.max) {
		return nil, &DecodeError{Code: ErrTooLarge,
			Msg: fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", n, fr.max)}
	}
	size := 4 + int(n)
	if err := fr.fill(size); err != nil {
		return nil, err
	}
	body := fr.buf[fr.start+4 : fr.start+size : fr.start+size]
	fr.start += size
	return body, nil
}

// ReadMessage reads and decodes the next frame (Events frames through
// the Reader's PushCache, if it shares one).
func (fr *Reader) ReadMessage(lim Limits) (Message, error) {
	b, err := fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	if fr.pushes != nil && len(b) > 0 && Type(b[0]) == TEvents && lim == fr.pushes.lim {
		return fr.pushes.decode(b)
	}
	return DecodeMessage(b, lim)
}

// Buffered is the number of bytes read from the stream and not yet returned.
func (fr *Reader) Buffered() int { return fr.end - fr.start }

// fill reads until need bytes are buffered from start.
func (fr *Reader) fill(need int) error {
	empty := 0
	for fr.end-fr.start < need {
		if fr.end == len(fr.buf) {
			fr.makeRoom(need)
		}
		n, err := fr.r.Read(fr.buf[fr.end:])
		if n < 0 || n > len(fr.buf)-fr.end {
			return fmt.Errorf("wire: reader returned %d bytes for a buffer of %d", n, len(fr.buf)-fr.end)
		}
		fr.end += n
		if fr.end-fr.start >= need {
			return nil
		}
		switch {
		case err == io.EOF:
			if fr.end == fr.start {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		case n == 0:
			if empty++; empty >= maxEmptyReads {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// makeRoom frees space at the end of buf: by moving the unread bytes to the
// front, else by doubling buf up to need bytes.
func (fr *Reader) makeRoom(need int) {
	if fr.start > 0 {
		fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
		fr.start = 0
		return
	}
	size := max(minBuf, min(2*len(fr.buf), need))
	nb := make([]byte, size)
	copy(nb, fr.buf[:fr.end])
	fr.buf = nb
}

// Writer batches frames into one buffer and writes them with one call to
// the underlying writer on Flush. It is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Queue appends m as a frame to the buffer.
func (w *Writer) Queue(m Message) error {
	b, err := AppendFrame(w.buf, m)
	if err != nil {
		return err
	}
	w.buf = b
	return nil
}

// Buffered is the number of bytes queued and not yet written.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the queued frames. The buffer is emptied even when the write
// fails: a stream that failed a write is broken anyway.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > keepBuf {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return err
}

// WriteMessage queues m and flushes.
func (w *Writer) WriteMessage(m Message) error {
	if err := w.Queue(m); err != nil {
		return err
	}
	return w.Flush()
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// WriteFrame writes m as one frame with a single Write.
func WriteFrame(w io.Writer, m Message) error {
	bp := framePool.Get().(*[]byte)
	b, err := AppendFrame((*bp)[:0], m)
	if err == nil {
		_, err = w.Write(b)
	}
	if cap(b) <= keepBuf {
		*bp = b[:0]
		framePool.Put(bp)
	}
	return err
}
