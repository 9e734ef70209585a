package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Bad input on every port of a cluster with a secret: each gets a clear
// error (an Error frame where the sender can read one, and a line in the
// node's log), the cluster keeps serving without an election, and memory
// and file descriptors stay bounded. GRIDLOCK_CHURN sets how many
// connections are opened and dropped on each port in each of three rounds
// (default 2000).

const testSecret = "correct horse battery staple"

var anyDecodeError = []wire.ErrCode{wire.ErrMalformed, wire.ErrTooLarge, wire.ErrUnknownType, wire.ErrBadVersion, wire.ErrUnexpected}

func lenPrefix(body []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body)))
}

func withLen(body []byte) []byte { return append(lenPrefix(body), body...) }

func encode(t *testing.T, m wire.Message) []byte {
	t.Helper()
	b, err := wire.AppendFrame(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// readError reads frames (skipping what skip allows) until an Error frame,
// and then expects the node to close the connection.
func readError(conn net.Conn, skip ...wire.Type) (*wire.Error, error) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := wire.NewReader(conn, wire.PeerLimits.MaxFrame)
	for {
		m, err := r.ReadMessage(wire.PeerLimits)
		if err != nil {
			return nil, fmt.Errorf("no error frame: %w", err)
		}
		if e, ok := m.(*wire.Error); ok {
			if _, err := r.ReadFrame(); !errors.Is(err, io.EOF) && !isReset(err) {
				return e, fmt.Errorf("connection not closed after the error frame: %v", err)
			}
			return e, nil
		}
		if !slices.Contains(skip, m.Type()) {
			return nil, fmt.Errorf("got %s, want an error frame", m.Type())
		}
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// expectClosed expects the node to close the connection (no frame needed).
func expectClosed(conn net.Conn, skip ...wire.Type) error {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := wire.NewReader(conn, wire.PeerLimits.MaxFrame)
	for {
		m, err := r.ReadMessage(wire.PeerLimits)
		if errors.Is(err, io.EOF) || isReset(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := m.(*wire.Error); !ok && !slices.Contains(skip, m.Type()) {
			return fmt.Errorf("got %s, want the connection closed", m.Type())
		}
	}
}

type badCase struct {
	name  string
	send  func(t *testing.T, conn net.Conn, peerHello *wire.PeerHello) []byte
	codes []wire.ErrCode
}

func bytesCase(name string, b []byte, codes ...wire.ErrCode) badCase {
	return badCase{name: name, send: func(*testing.T, net.Conn, *wire.PeerHello) []byte { return b }, codes: codes}
}

// runBad sends each case on a fresh connection to addr and checks the Error
// frame that comes back. On the peer port the node speaks first (its
// PeerHello), which is read first.
func runBad(t *testing.T, addr string, peer bool, cases []badCase) {
	for _, tc := range cases {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var hello *wire.PeerHello
		if peer {
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			m, err := wire.NewReader(conn, wire.PeerLimits.MaxFrame).ReadMessage(wire.PeerLimits)
			if err != nil {
				t.Fatalf("%s: no peer hello from %s: %v", tc.name, addr, err)
			}
			if hello = m.(*wire.PeerHello); hello.Version != wire.Version {
				t.Fatalf("%s: peer hello %+v", tc.name, hello)
			}
		}
		_ = conn.SetWriteDeadline(time.Now().Add(3 * time.Second))
		if _, err := conn.Write(tc.send(t, conn, hello)); err != nil {
			t.Errorf("%s: write: %v", tc.name, err)
		}
		e, err := readError(conn)
		conn.Close()
		switch {
		case err != nil:
			t.Errorf("%s on %s: %v", tc.name, addr, err)
		case !slices.Contains(tc.codes, e.Code):
			t.Errorf("%s on %s: error %s (%q), want one of %v", tc.name, addr, e.Code, e.Text, tc.codes)
		case e.Text == "":
			t.Errorf("%s on %s: error %s without a text", tc.name, addr, e.Code)
		default:
			t.Logf("%s on %s: %s: %s", tc.name, addr, e.Code, e.Text)
		}
	}
}

// halfOpen opens connections that send part of a frame and then wait,
// and others that half-close after part of a frame; it returns the ones
// still open.
func halfOpen(t *testing.T, addr string, peer bool, n int) []net.Conn {
	var held []net.Conn
	for i := range n {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("half-open %d: %v", i, err)
		}
		switch i % 3 {
		case 0: // two bytes of a length
			_, _ = conn.Write([]byte{0, 0})
			held = append(held, conn)
		case 1: // a large frame that never comes
			_, _ = conn.Write(append(lenPrefix(make([]byte, 60000)), 1, 2, 3))
			held = append(held, conn)
		case 2: // part of a frame, then no more to send
			_, _ = conn.Write([]byte{0, 0, 0, 9, byte(wire.THello)})
			_ = conn.(*net.TCPConn).CloseWrite()
			skip := []wire.Type{}
			if peer {
				skip = append(skip, wire.TPeerHello)
			}
			if err := expectClosed(conn, skip...); err != nil {
				t.Errorf("half-closed connection to %s: %v", addr, err)
			}
			conn.Close()
		}
	}
	return held
}

// churn opens and drops n connections, 32 at a time; some send junk first,
// some are reset.
func churn(t *testing.T, addr string, n int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < n; i += 32 {
				conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					continue
				}
				switch i % 4 {
				case 1:
					_, _ = conn.Write(randBytes(rng, 1+rng.IntN(64)))
				case 2:
					_ = conn.(*net.TCPConn).SetLinger(0) // reset
				case 3:
					_, _ = conn.Write([]byte{0, 0, 0xff})
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
	if failed > n/100 {
		t.Errorf("%d of %d connections to %s failed", failed, n, addr)
	}
}

// multicastJunk sends datagrams to the group on loopback.
func multicastJunk(t *testing.T, group string, dgrams [][]byte) {
	t.Helper()
	ifi, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	g, err := net.ResolveUDPAddr("udp4", group)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := ipv4.NewPacketConn(c)
	if err := errors.Join(p.SetMulticastInterface(ifi), p.SetMulticastTTL(1), p.SetMulticastLoopback(true)); err != nil {
		t.Fatal(err)
	}
	for _, d := range dgrams {
		if _, err := p.WriteTo(d, nil, g); err != nil {
			t.Fatalf("multicast: %v", err)
		}
	}
}

func TestClusterBadInput(t *testing.T) {
	nChurn := envInt("GRIDLOCK_CHURN", 2000)
	c := startThree(t, withSecret(testSecret), withFlags("--countdown", "1s"))
	rep := runBots(t, c.addrs(), bot.Options{Players: 3, Rate: 20, Duration: 500 * time.Millisecond, ChatRate: 0.2, Prefix: "warm"})
	checkBots(t, []bot.Report{rep})
	v0 := c.waitSettled(3, 5*time.Second)
	rssBefore, fdBefore := map[int]int{}, map[int]int{}
	for _, id := range c.ids() {
		pid := c.node(id).pid()
		rssBefore[id], _ = rssKB(pid)
		fdBefore[id] = fdCount(pid)
	}
	rng := rand.New(rand.NewPCG(1, 2))

	t.Run("client port", func(t *testing.T) {
		garbage := append([]byte{byte(wire.THello), 0, byte(wire.Version)}, randBytes(rng, 61)...)
		unknown := append([]byte{0xee}, randBytes(rng, 63)...)
		cases := []badCase{
			bytesCase("random bytes", randBytes(rng, 4096), anyDecodeError...),
			bytesCase("a 4 GiB length", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, wire.ErrTooLarge),
			bytesCase("a length over the limit", lenPrefix(make([]byte, 64<<10+1)), wire.ErrTooLarge),
			// Before its hello a stranger gets no 64 KiB of buffer.
			bytesCase("a 64 KiB frame before hello", lenPrefix(make([]byte, 64<<10)), wire.ErrTooLarge),
			bytesCase("a hello of the right size with garbage", withLen(garbage), wire.ErrMalformed, wire.ErrTooLarge),
			bytesCase("a frame of an unknown type", withLen(unknown), wire.ErrUnknownType),
			bytesCase("an empty frame", []byte{0, 0, 0, 0}, wire.ErrMalformed),
			{name: "the wrong protocol version", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.Hello{Version: wire.Version + 1, Name: "old", Token: client.NewToken()})
			}, codes: []wire.ErrCode{wire.ErrBadVersion}},
			{name: "a command before hello", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.Command{Seq: 1, Cmd: game.Place{Row: 1, Col: 1, Digit: 1}})
			}, codes: []wire.ErrCode{wire.ErrUnexpected}},
			{name: "a peer message", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.Coordinator{From: 9, Epoch: wire.MakeEpoch(1000, 9)})
			}, codes: []wire.ErrCode{wire.ErrUnexpected}},
			{name: "a short token", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.Hello{Version: wire.Version, Name: "x", Token: "short"})
			}, codes: []wire.ErrCode{wire.ErrSession}},
		}
		for _, id := range []int{3, 1} {
			runBad(t, c.node(id).addr(), false, cases)
		}
		if c.logCount(3, "bad frame from a client") == 0 {
			t.Errorf("n3 logged no bad client frame")
		}
	})

	t.Run("peer port", func(t *testing.T) {
		cases := []badCase{
			bytesCase("random bytes", randBytes(rng, 4096), anyDecodeError...),
			bytesCase("a 4 GiB length", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, wire.ErrTooLarge),
			// Nor 16 MiB before it has authenticated.
			bytesCase("a 16 MiB frame before the handshake", lenPrefix(make([]byte, 16<<20)), wire.ErrTooLarge),
			bytesCase("a peer hello of the right size with garbage",
				withLen(append([]byte{byte(wire.TPeerHello), 0, byte(wire.Version)}, randBytes(rng, 29)...)), wire.ErrMalformed, wire.ErrTooLarge),
			bytesCase("a frame of an unknown type", withLen(append([]byte{0xee}, randBytes(rng, 40)...)), wire.ErrUnknownType),
			{name: "the wrong protocol version", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.PeerHello{Version: wire.Version + 1, Cluster: c.name, From: 9, Instance: 1})
			}, codes: []wire.ErrCode{wire.ErrBadVersion}},
			{name: "another cluster", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.PeerHello{Version: wire.Version, Cluster: "other", From: 9, Instance: 1})
			}, codes: []wire.ErrCode{wire.ErrAuth}},
			{name: "the node's own id", send: func(t *testing.T, _ net.Conn, h *wire.PeerHello) []byte {
				return encode(t, &wire.PeerHello{Version: wire.Version, Cluster: c.name, From: h.From, Instance: 1})
			}, codes: []wire.ErrCode{wire.ErrAuth}},
			{name: "the wrong secret", send: func(t *testing.T, _ net.Conn, h *wire.PeerHello) []byte {
				b := encode(t, &wire.PeerHello{Version: wire.Version, Cluster: c.name, From: 9, Instance: 1})
				return append(b, encode(t, &wire.PeerAuth{From: 9, MAC: wire.PeerMAC([]byte("wrong"), h.Nonce, c.name, 9)})...)
			}, codes: []wire.ErrCode{wire.ErrAuth}},
			{name: "no secret", send: func(t *testing.T, _ net.Conn, h *wire.PeerHello) []byte {
				b := encode(t, &wire.PeerHello{Version: wire.Version, Cluster: c.name, From: 2, Instance: 1})
				return append(b, encode(t, &wire.PeerAuth{From: 2})...)
			}, codes: []wire.ErrCode{wire.ErrAuth}},
			{name: "a client hello", send: func(t *testing.T, _ net.Conn, _ *wire.PeerHello) []byte {
				return encode(t, &wire.Hello{Version: wire.Version, Name: "x", Token: client.NewToken()})
			}, codes: []wire.ErrCode{wire.ErrUnexpected}},
		}
		for _, id := range []int{3, 1} {
			runBad(t, c.node(id).peerAddr(), true, cases)
		}
		if c.logCount(3, "failed authentication") == 0 {
			t.Errorf("n3 logged no failed peer authentication")
		}
	})

	t.Run("multicast group", func(t *testing.T) {
		beacon := func(from wire.NodeID, secret string, mod func(*wire.Beacon)) []byte {
			b := &wire.Beacon{Version: wire.Version, Cluster: c.name, From: from, Instance: 42,
				Epoch: wire.MakeEpoch(1<<20, from), Role: wire.RolePrimary, Leader: from, Commit: 1 << 30, Last: 1 << 30,
				ClientAddr: "127.0.0.1:1", PeerAddr: "127.0.0.1:1"}
			if mod != nil {
				mod(b)
			}
			if secret != "" {
				if err := wire.SignBeacon([]byte(secret), b); err != nil {
					t.Fatal(err)
				}
			}
			d, err := wire.AppendMessage(nil, b)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		var dgrams [][]byte
		for range 200 {
			dgrams = append(dgrams, randBytes(rng, 1+rng.IntN(1400)))
		}
		big := append([]byte{byte(wire.TBeacon)}, randBytes(rng, 1999)...)
		huge := append([]byte{byte(wire.TBeacon)}, randBytes(rng, 5000)...) // longer than any beacon
		election, _ := wire.AppendMessage(nil, &wire.Election{From: 9, Epoch: wire.MakeEpoch(1<<20, 9)})
		for range 5 {
			dgrams = append(dgrams, big, huge, election,
				beacon(9, "wrong secret", nil),                                      // would win any election
				beacon(9, "", nil),                                                  // unsigned
				beacon(2, "wrong secret", nil),                                      // a real node's id, another instance
				beacon(9, testSecret, func(b *wire.Beacon) { b.Version = 99 }),      // right secret, wrong version
				beacon(9, testSecret, func(b *wire.Beacon) { b.Cluster = "other" }), // another game
			)
		}
		multicastJunk(t, c.group, dgrams)
		for _, want := range []string{"failed authentication", "not a beacon", "protocol version"} {
			waitFor(t, 5*time.Second, fmt.Sprintf("n3 to log %q", want), func() (bool, string) {
				return c.logCount(3, want) > 0, ""
			})
		}
		time.Sleep(200 * time.Millisecond) // a few heartbeats
		for _, id := range c.ids() {
			v, err := c.view(id, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range v.Nodes {
				if n.ID == 9 {
					t.Errorf("n%d lists the stranger n9: %+v", id, v)
				}
			}
		}
	})

	t.Run("half-open and churn", func(t *testing.T) {
		var held []net.Conn
		for _, id := range c.ids() {
			held = append(held, halfOpen(t, c.node(id).addr(), false, 60)...)
			held = append(held, halfOpen(t, c.node(id).peerAddr(), true, 60)...)
		}
		// Rounds of churn: memory may grow in the first (buffers, the
		// heap's goal) but not with each round after it.
		rss := map[int][]int{}
		for round := 1; round <= 3; round++ {
			for _, id := range c.ids() {
				churn(t, c.node(id).addr(), nChurn)
				churn(t, c.node(id).peerAddr(), nChurn)
			}
			for _, id := range c.ids() {
				pid := c.node(id).pid()
				waitFor(t, 15*time.Second, fmt.Sprintf("n%d to close the dropped connections", id), func() (bool, string) {
					n := fdCount(pid)
					return n <= fdBefore[id]+len(held)+16, fmt.Sprintf("%d file descriptors, %d before, %d held open", n, fdBefore[id], len(held))
				})
				kb, _ := rssKB(pid)
				rss[id] = append(rss[id], kb)
			}
		}
		for _, id := range c.ids() {
			r := rss[id]
			t.Logf("n%d: RSS %d kB before, %v kB after each round of %d connections per port", id, rssBefore[id], r, nChurn)
			if grow := r[len(r)-1] - r[0]; grow > 12<<10 {
				t.Errorf("n%d: RSS grew by %d kB over %d more rounds of churn: %v", id, grow, len(r)-1, r)
			}
		}
		// The cluster serves while the half-open connections hang.
		rep := runBots(t, c.addrs(), bot.Options{Players: 3, Rate: 20, Duration: time.Second, ChatRate: 0.2, Prefix: "during"})
		checkBots(t, []bot.Report{rep})
		for _, conn := range held {
			conn.Close()
		}
	})

	// Still the same primary in the same epoch: nothing above caused an
	// election.
	v := c.waitSettled(3, 5*time.Second)
	if v.Epoch != v0.Epoch {
		t.Errorf("epoch went from %d to %d during the bad input", v0.Epoch.Term(), v.Epoch.Term())
	}
	rep = runBots(t, c.addrs(), bot.Options{Players: 3, Rate: 20, Duration: time.Second, ChatRate: 0.2, Prefix: "after"})
	checkBots(t, []bot.Report{rep})
	for _, id := range c.ids() {
		pid := c.node(id).pid()
		waitFor(t, 15*time.Second, fmt.Sprintf("n%d to close the dropped connections", id), func() (bool, string) {
			n := fdCount(pid)
			return n <= fdBefore[id]+16, fmt.Sprintf("%d file descriptors, %d before", n, fdBefore[id])
		})
		rss, err := rssKB(pid)
		if err != nil {
			t.Fatal(err)
		}
		hwm, _ := procKB(pid, "VmHWM:")
		t.Logf("n%d: RSS %d kB before, %d kB after (peak %d kB); %d file descriptors before", id, rssBefore[id], rss, hwm, fdBefore[id])
		if rss > rssBefore[id]+32<<10 {
			t.Errorf("n%d: RSS grew from %d kB to %d kB", id, rssBefore[id], rss)
		}
	}
}
