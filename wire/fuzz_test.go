package wire

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// go test ./wire -run TestWriteFuzzCorpus -update-corpus rewrites the seed
// corpus in testdata/fuzz from the sample messages.
var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz from the sample messages")

// fuzzLimits are the limits the fuzz targets decode with: the presets, and
// one with small counts so that count limits are reached.
var fuzzLimits = []Limits{ClientLimits, ServerLimits, PeerLimits, {
	MaxFrame: 4 << 10, MaxName: 3, MaxRoomName: 3, MaxChat: 5, MaxText: 5, MaxToken: 4, MaxAddr: 6, MaxCluster: 4,
	MaxEntries: 3, MaxEvents: 3, MaxNodes: 3, MaxHistory: 3, MaxRooms: 3, MaxMembers: 3, MaxChatLines: 3, MaxBoard: 4,
}}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(encode(f, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, lim := range fuzzLimits {
			m, err := DecodeMessage(b, lim)
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Code == 0 || m != nil {
					t.Fatalf("untyped error %v, message %#v", err, m)
				}
				continue
			}
			enc, err := AppendMessage(nil, m)
			if err != nil {
				t.Fatalf("decoded %#v does not encode: %v", m, err)
			}
			again, err := DecodeMessage(enc, lim)
			if err != nil {
				t.Fatalf("re-encoded %#v does not decode: %v", m, err)
			}
			if !reflect.DeepEqual(again, m) {
				t.Fatalf("round trip changed\n%#v\ninto\n%#v", m, again)
			}
			if len(enc) > len(b) {
				// The encoding is minimal; only the input's varints can be longer.
				t.Fatalf("re-encoding is longer (%d) than the input (%d)", len(enc), len(b))
			}
		}
	})
}

// FuzzReadFrame feeds arbitrary streams, in reads of a size the first byte
// chooses, to a Reader with a small maximum: it must not panic, must not
// grow its buffer past the maximum frame or twice what it received, and
// must fail only with io.EOF, io.ErrUnexpectedEOF or a *DecodeError.
func FuzzReadFrame(f *testing.F) {
	stream, _ := sampleStream(f)
	f.Add(append([]byte{0}, stream...))
	f.Add(append([]byte{7}, stream...))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0, 4, 0, 1, 2})
	const maxFrame = 2 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		chunk := int(data[0])%16 + 1
		src := &countingReader{r: &chunkReader{bytes.NewReader(data[1:]), chunk}}
		r := NewReader(src, maxFrame)
		for {
			_, err := r.ReadMessage(fuzzLimits[3])
			if limit := max(minBuf, min(maxFrame+4, 2*src.n)); len(r.buf) > limit {
				t.Fatalf("buffer of %d bytes after %d received", len(r.buf), src.n)
			}
			if err == nil {
				continue
			}
			var de *DecodeError
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
			if de.Code == ErrTooLarge && de.Field == "" {
				return // the stream cannot go on after a refused length
			}
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func FuzzBeacon(f *testing.F) {
	secret := []byte("fuzz secret")
	b := sampleBeacon()
	f.Add(encode(f, b), []byte(nil))
	if err := SignBeacon(secret, b); err != nil {
		f.Fatal(err)
	}
	f.Add(encode(f, b), secret)
	f.Add(encode(f, &Election{From: 1}), secret)
	f.Fuzz(func(t *testing.T, data, secret []byte) {
		b, err := DecodeBeacon(data)
		if err != nil {
			if CodeOf(err) == 0 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		ok := VerifyBeacon(secret, b)
		if len(secret) == 0 && ok != (b.MAC == [32]byte{}) {
			t.Fatalf("without a secret: verify %v for MAC %x", ok, b.MAC)
		}
		if err := SignBeacon(secret, b); err != nil {
			t.Fatal(err)
		}
		if !VerifyBeacon(secret, b) {
			t.Fatal("re-signed beacon does not verify")
		}
		again, err := DecodeBeacon(encode(t, b))
		if err != nil || !reflect.DeepEqual(again, b) || !VerifyBeacon(secret, again) {
			t.Fatalf("re-signed beacon: %v", err)
		}
	})
}

func corpusFile(args ...any) []byte {
	var buf bytes.Buffer
	buf.WriteString("go test fuzz v1\n")
	for _, a := range args {
		fmt.Fprintf(&buf, "[]byte(%s)\n", strconv.Quote(string(a.([]byte))))
	}
	return buf.Bytes()
}

// TestWriteFuzzCorpus writes the seed corpus (with -update-corpus), and
// otherwise checks that there is a seed for every message type.
func TestWriteFuzzCorpus(t *testing.T) {
	files := map[string][]byte{}
	for _, m := range sampleMessages() {
		name := strings.ReplaceAll(m.Type().String(), " ", "-")
		files["FuzzDecodeMessage/"+name] = corpusFile(encode(t, m))
		frame, _ := AppendFrame(nil, m)
		files["FuzzReadFrame/"+name] = corpusFile(append([]byte{byte(m.Type()) % 16}, frame...))
	}
	stream, _ := sampleStream(t)
	files["FuzzReadFrame/stream"] = corpusFile(append([]byte{5}, stream...))
	b := sampleBeacon()
	files["FuzzBeacon/unsigned"] = corpusFile(encode(t, b), []byte{})
	_ = SignBeacon([]byte("fuzz secret"), b)
	files["FuzzBeacon/signed"] = corpusFile(encode(t, b), []byte("fuzz secret"))
	for name, want := range files {
		path := filepath.Join("testdata", "fuzz", name)
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s is missing (run with -update-corpus): %v", path, err)
		}
	}
}
