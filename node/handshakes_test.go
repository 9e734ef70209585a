package node

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Strangers that hold more connections in their handshake than a node
// admits, and open one again as soon as one is closed, do not keep a
// restarted peer out: its handshake takes the place of the oldest.
func TestHeldHandshakesDoNotKeepAPeerOut(t *testing.T) {
	m := NewMemNetwork()
	nodes, hosts := memCluster(t, m, []wire.NodeID{1, 2, 3}, nil)
	waitFor(t, 10*time.Second, "n3 primary with two backups", func() bool { return ready3(nodes) }, nodes[2].Watch())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	stranger := m.NewHost()
	var dials atomic.Int64
	for _, target := range []*Node{nodes[0], nodes[2]} {
		addr := target.PeerAddr()
		for range maxHandshakes + 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && dials.Add(1) < 200_000 {
					conn, err := stranger.Dial(ctx, addr)
					if err != nil {
						time.Sleep(time.Millisecond)
						continue
					}
					go func() { <-ctx.Done(); conn.Close() }()
					_, _ = io.Copy(io.Discard, conn) // until the node closes it
					conn.Close()
					time.Sleep(20 * time.Millisecond) // and again: they hold, they do not flood
				}
			}()
		}
	}
	time.Sleep(200 * time.Millisecond) // the strangers hold every slot

	hosts[1].Crash()
	nodes[1].Close()
	hosts[1].Restart()
	nodes[1] = startMem(t, hosts[1:2], []wire.NodeID{2}, nil)[0]
	waitFor(t, 10*time.Second, "n2 back as n3's backup", func() bool { return ready3(nodes) }, nodes[1].Watch(), nodes[2].Watch())
	t.Logf("%d connections opened by the strangers", dials.Load())
}

// Connections that never say Hello cannot fill a node's client port: the
// newest takes the oldest's place, and a player still gets in.
func TestIdleStrangersDoNotFillTheClientPort(t *testing.T) {
	m := NewMemNetwork()
	nodes, _ := memCluster(t, m, []wire.NodeID{1}, func(o *Options) { o.MaxClients = 16 })
	n := nodes[0]
	waitFor(t, 10*time.Second, "n1 serving", func() bool {
		return onLoop(t, n, func() bool { return n.core.Role() == wire.RolePrimary })
	}, n.Watch())
	stranger := m.NewHost()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 32 {
		conn, err := stranger.Dial(ctx, n.ClientAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		time.Sleep(2 * time.Millisecond)
	}
	// An evicted connection leaves the count when its reader has gone
	// (milliseconds); the bound stays well under the hello timeout, which
	// would close them all without the limit.
	waitFor(t, 3*time.Second, "at most a quarter of the limit held by strangers", func() bool {
		return n.svc.count.Load() <= 16/4
	}, n.Watch())
	rawPlayer(t, m.NewHost(), n.ClientAddr(), "late") // welcomed
}
