package client

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// TestWritesKeepOrder queues far more than a loopback socket takes while
// the other side does not read yet, so that writes go out directly, in
// part, and through the writer: the other side must read every byte, in
// the order queued.
func TestWritesKeepOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	cc := &cliConn{nc: nc, direct: wire.DirectWriter(nc), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if cc.direct == nil {
		t.Fatal("a TCP connection gets no direct writer")
	}
	c := &Client{}
	c.wg.Add(1)
	go c.write(cc)
	defer func() {
		cc.close()
		c.wg.Wait()
	}()

	const frames, size = 2000, 4000
	var want bytes.Buffer
	got := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 64<<10)
		time.Sleep(100 * time.Millisecond) // nothing read at first: the socket fills
		_ = peer.SetReadDeadline(time.Now().Add(20 * time.Second))
		for b.Len() < frames*size {
			k, err := peer.Read(buf)
			b.Write(buf[:k])
			if err != nil {
				break
			}

		}
		got <- b.Bytes()
	}()
	frame := make([]byte, size)
	for i := range frames {
		for j := 0; j < size; j += 4 {
			binary.BigEndian.PutUint32(frame[j:], uint32(i*size+j))
		}
		want.Write(frame)
		cc.queue(frame) // the caller reuses its buffer, as carryOut does
	}
	b := <-got
	if len(b) != want.Len() {
		t.Fatalf("read %d bytes, want %d", len(b), want.Len())
	}
	if !bytes.Equal(b, want.Bytes()) {
		i := 0
		for i < len(b) && b[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("the bytes differ from byte %d on (frame %d)", i, i/size)
	}
	_ = peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := io.ReadFull(peer, make([]byte, 1)); err == nil {
		t.Fatal("more bytes than were queued")
	}
}
