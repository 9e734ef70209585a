package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridlock-game/gridlock/bot"
	"github.com/gridlock-game/gridlock/wire"
)

// Tests where the machine's network is the point: RealNetwork's sockets,
// on loopback.

// testGroup returns a multicast group on loopback that no other test run
// shares.
func testGroup() string {
	return fmt.Sprintf("224.1.1.1:%d", 20000+rand.IntN(20000))
}

// A small cluster on real sockets elects, and bots play on it through TCP
// with nothing lost: RealNetwork carries the runtime as MemNetwork does.
func TestRealNetworkElectsAndServes(t *testing.T) {
	group := testGroup()
	var nodes []*Node
	for _, id := range []wire.NodeID{1, 2} {
		o := testOptions(id)
		o.Group, o.Iface = group, "lo"
		n, err := Start(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		nodes = append(nodes, n)
	}
	waitFor(t, 10*time.Second, "n2 primary with a backup", func() bool {
		return primaryOf(nodes) == 2 && inView(nodes[1].View()) == 2
	}, nodes[1].Watch())
	if _, ok := nodes[0].peerLn.Addr().(*net.TCPAddr); !ok {
		t.Fatalf("the peer listener is a %T, not a TCP socket", nodes[0].peerLn)
	}
	rep, err := bot.Run(context.Background(), bot.Options{Players: 2, Rate: 50, Duration: time.Second, ErrorRate: 0.1, ClaimRate: 0.1, ChatRate: 0.1, Addrs: []string{nodes[0].ClientAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	if rep.Lost != 0 || rep.Acked == 0 || rep.Errors != 0 || !rep.Checked {
		t.Fatalf("bots: %s", rep)
	}
}

// The group socket hears the group only on the interface it joined.
func TestGroupSocketHearsOnlyItsInterface(t *testing.T) {
	pc, _, _, err := joinGroup(context.Background(), testGroup(), "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	raw, err := pc.PacketConn.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var all int
	var gerr error
	if err := raw.Control(func(fd uintptr) { all, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if all != 0 {
		t.Errorf("IP_MULTICAST_ALL is %d: the socket hears the group from every interface any socket joined", all)
	}
}

// A peer connection on real TCP gives up on unacknowledged data after two
// suspicion timeouts.
func TestRealPeerLinksHaveAUserTimeout(t *testing.T) {
	c, _ := tcpPair(t)
	setUserTimeout(c, 1500*time.Millisecond)
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ms int
	var gerr error
	if err := raw.Control(func(fd uintptr) { ms, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if ms != 1500 {
		t.Errorf("TCP_USER_TIMEOUT is %d ms, want 1500", ms)
	}
}
