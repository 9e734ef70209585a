package demo

import (
	"context"
	"net"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

const (
	watchRetry = 100 * time.Millisecond // between attempts to reach a node
	watchPing  = 2 * time.Second        // keeps the connection from idling out
)

// watch follows the views node id pushes to a status connection at addr
// until ctx ends (its process exited): every change of who is where comes
// at once, which times the failovers.
func (d *Demo) watch(ctx context.Context, id wire.NodeID, addr string) {
	for ctx.Err() == nil {
		d.watchOnce(ctx, id, addr)
		select {
		case <-ctx.Done():
		case <-time.After(watchRetry):
		}
	}
}

func (d *Demo) watchOnce(ctx context.Context, id wire.NodeID, addr string) {
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	var dialer net.Dialer
	conn, err := dialer.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := wire.WriteFrame(conn, &wire.Status{}); err != nil {
		return
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(watchPing)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
				if wire.WriteFrame(conn, &wire.Ping{Time: time.Now().UnixNano()}) != nil {
					conn.Close()
					return
				}
			}
		}
	}()
	r := wire.NewReader(conn, wire.ServerLimits.MaxFrame)
	for {
		m, err := r.ReadMessage(wire.ServerLimits)
		if err != nil {
			return
		}
		if v, ok := m.(*wire.ClusterView); ok {
			d.onView(id, *v, time.Now())
		}
	}
}
