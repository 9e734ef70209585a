package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/gridlock-game/gridlock/game"
)

func sampleStream(t testing.TB) ([]byte, []Message) {
	t.Helper()
	var b []byte
	var err error
	msgs := sampleMessages()
	for _, m := range msgs {
		if b, err = AppendFrame(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b, msgs
}

func readAll(t *testing.T, r *Reader) []Message {
	t.Helper()
	var got []Message
	for {
		m, err := r.ReadMessage(PeerLimits)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		got = append(got, m)
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestReaderSplitsAndBatches(t *testing.T) {
	stream, want := sampleStream(t)
	for name, r := range map[string]io.Reader{
		"one read":     bytes.NewReader(stream),
		"byte by byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"3 bytes":      &chunkReader{bytes.NewReader(stream), 3},
		"half frames":  &chunkReader{bytes.NewReader(stream), 37},
		"data+EOF":     iotest.DataErrReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			if got := readAll(t, NewReader(r, PeerLimits.MaxFrame)); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %d messages, want %d, or they differ", len(got), len(want))
			}
		})
	}
}

func TestReaderEOF(t *testing.T) {
	stream, _ := AppendFrame(nil, &Ping{Nonce: 1, Time: 2})
	for cut := range len(stream) {
		r := NewReader(bytes.NewReader(stream[:cut]), 100)
		_, err := r.ReadFrame()
		want := io.ErrUnexpectedEOF
		if cut == 0 {
			want = io.EOF
		}
		if err != want {
			t.Errorf("cut at %d: %v, want %v", cut, err, want)
		}
	}
}

func TestReaderEmptyFrame(t *testing.T) {
	r := NewReader(bytes.NewReader(make([]byte, 8)), 100)
	if b, err := r.ReadFrame(); err != nil || len(b) != 0 {
		t.Fatalf("empty frame: %q, %v", b, err)
	}
	if _, err := r.ReadMessage(ClientLimits); CodeOf(err) != ErrMalformed {
		t.Fatalf("empty frame as message: %v", err)
	}
}

// TestReaderHugeLength: a 4 GiB length fails at once, without allocating
// anything near it.
func TestReaderHugeLength(t *testing.T) {
	hdr := []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}
	src := bytes.NewReader(hdr)
	r := NewReader(src, ClientLimits.MaxFrame)
	_, err := r.ReadFrame()
	if err == nil || err.Error() != "wire: frame of 4294967295 bytes exceeds the 65536-byte limit" || CodeOf(err) != ErrTooLarge {
		t.Fatalf("got %v", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(hdr)
		r.start, r.end = 0, 0
		if _, err := r.ReadFrame(); CodeOf(err) != ErrTooLarge {
			t.Fatal(err)
		}
	})
	runtime.ReadMemStats(&after)
	if allocs > 6 { // the error and its text
		t.Errorf("%v allocations per refused frame", allocs)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 101*1024 {
		t.Errorf("refusing 101 huge frames allocated %d bytes", n)
	}
	if len(r.buf) > minBuf {
		t.Errorf("buffer grew to %d", len(r.buf))
	}
}

// TestReaderGrowsAsBytesArrive: a peer that claims 16 MiB and sends a few
// bytes costs a small buffer; a real large frame arrives intact.
func TestReaderGrowsAsBytesArrive(t *testing.T) {
	hdr := binary.BigEndian.AppendUint32(nil, 16<<20)
	r := NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(make([]byte, 100))), PeerLimits.MaxFrame)
	if _, err := r.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
	if len(r.buf) > minBuf {
		t.Fatalf("buffer is %d bytes after 104 bytes received", len(r.buf))
	}

	big := &Snapshot{From: 1, Data: bytes.Repeat([]byte("snapshot"), 1<<20)} // 8 MiB
	stream, _ := AppendFrame(nil, big)
	stream, _ = AppendFrame(stream, &Ping{Nonce: 1})
	// The source pauses every 64 KiB, like a read deadline, so that the
	// buffer can be seen between reads.
	r = NewReader(&flakyReader{r: bytes.NewReader(stream), n: 64 << 10}, PeerLimits.MaxFrame)
	pauses := 0
	for {
		b, err := r.ReadFrame()
		if err == errTimeout {
			pauses++
			if received := r.end - r.start; len(r.buf) > max(minBuf, 2*received) {
				t.Fatalf("buffer of %d after %d bytes received", len(r.buf), received)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != len(encode(t, big)) {
			t.Fatalf("got a %d-byte frame", len(b))
		}
		break
	}
	if pauses < 100 {
		t.Fatalf("only %d pauses", pauses)
	}
	if last := len(r.buf); last > len(stream) {
		t.Fatalf("buffer of %d for a %d-byte stream", last, len(stream))
	}
	if m, err := r.ReadMessage(PeerLimits); err != nil || m.(*Ping).Nonce != 1 {
		t.Fatalf("frame after the large one: %v", err)
	}
	// The large buffer is dropped once the stream is idle.
	if _, err := r.ReadFrame(); err != io.EOF || len(r.buf) > minBuf {
		t.Fatalf("after the stream: %v, buffer %d", err, len(r.buf))
	}
}

// flakyReader fails once after every n bytes, like a read deadline.
type flakyReader struct {
	r      io.Reader
	n, got int
}

var errTimeout = errors.New("i/o timeout")

func (f *flakyReader) Read(p []byte) (int, error) {
	if f.got >= f.n {
		f.got = 0
		return 0, errTimeout
	}
	n, err := f.r.Read(p[:min(len(p), f.n-f.got)])
	f.got += n
	return n, err
}

func TestReaderResumesAfterError(t *testing.T) {
	stream, want := sampleStream(t)
	r := NewReader(&flakyReader{r: bytes.NewReader(stream), n: 50}, PeerLimits.MaxFrame)
	var got []Message
	timeouts := 0
	for {
		m, err := r.ReadMessage(PeerLimits)
		if err == errTimeout {
			timeouts++
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if timeouts == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d timeouts, %d of %d messages", timeouts, len(got), len(want))
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

type badReader struct{}

func (badReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestReaderBadUnderlyingReaders(t *testing.T) {
	if _, err := NewReader(emptyReader{}, 10).ReadFrame(); err != io.ErrNoProgress {
		t.Errorf("empty reads: %v", err)
	}
	if _, err := NewReader(badReader{}, 10).ReadFrame(); err == nil {
		t.Errorf("overlong read: no error")
	}
	if _, err := NewReader(iotest.ErrReader(errTimeout), 10).ReadFrame(); err != errTimeout {
		t.Errorf("reader error: %v", err)
	}
}

// countWriter counts Write calls.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (c *countWriter) Write(p []byte) (int, error) { c.writes++; return c.Buffer.Write(p) }

func TestWriterBatches(t *testing.T) {
	var out countWriter
	w := NewWriter(&out)
	msgs := sampleMessages()
	for _, m := range msgs {
		if err := w.Queue(m); err != nil {
			t.Fatal(err)
		}
	}
	if out.writes != 0 || w.Buffered() == 0 {
		t.Fatalf("queued frames written early")
	}
	if err := w.Queue(&Command{}); err == nil {
		t.Fatal("bad message queued")
	}
	if err := w.Flush(); err != nil || out.writes != 1 || w.Buffered() != 0 {
		t.Fatalf("flush: %v, %d writes", err, out.writes)
	}
	if err := w.Flush(); err != nil || out.writes != 1 {
		t.Fatalf("empty flush wrote")
	}
	if err := w.WriteMessage(&Ping{Nonce: 9}); err != nil || out.writes != 2 {
		t.Fatalf("WriteMessage: %v", err)
	}
	if err := WriteFrame(&out, &Pong{Nonce: 9}); err != nil || out.writes != 3 {
		t.Fatalf("WriteFrame: %v", err)
	}
	got := readAll(t, NewReader(&out, PeerLimits.MaxFrame))
	want := append(msgs, &Ping{Nonce: 9}, &Pong{Nonce: 9})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %d messages, want %d", len(got), len(want))
	}
	failing := NewWriter(errWriter{})
	_ = failing.Queue(&Ping{})
	if err := failing.Flush(); err == nil || failing.Buffered() != 0 {
		t.Fatalf("failed flush: %v, %d buffered", err, failing.Buffered())
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errTimeout }

func TestAppendFrameLayout(t *testing.T) {
	b, err := AppendFrame([]byte{9}, &Command{Seq: 1, Cmd: game.Place{Row: 1, Col: 2, Digit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{9, 0, 0, 0, 6, byte(TCommand), 1, byte(game.CmdPlace), 1, 2, 3}
	if !bytes.Equal(b, want) {
		t.Fatalf("got % x, want % x", b, want)
	}
}
