package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Client is the runtime around a Core: it dials what the core asks for,
// reads each connection in a goroutine of its own, writes on the goroutine
// that made the frames when the socket takes them at once and else through
// a writer goroutine per connection (write.go), wakes the core at its
// deadline, relays the
// embedded node's view, and queues the core's events for the app. Every
// input to the core is taken under one mutex, so that the core's
// decisions are made one at a time, in the order things happened.

// ClientOptions configure a Client.
type ClientOptions struct {
	Name      string
	Token     string   // "" chooses a random one
	Addrs     []string // client addresses of nodes to try
	Local     Local    // the embedded node (play mode): its view and notices
	Logger    *slog.Logger
	Window    int           // commands in flight at once (default 32)
	PingEvery time.Duration // default 1s
	// Dial connects to a node (default: TCP with a 1 s timeout).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// NoRoomCopies leaves Room nil in RoomChanged events, for apps that read
	// the room through Room or WithRoom (bots): it saves a copy of the
	// room for every batch of events.
	NoRoomCopies bool
	// SharedPushes decodes room pushes once for all the clients of this
	// process that share it (wire.NewPushCache(wire.ServerLimits)): for a
	// process that runs many players. The events in RoomChanged are then
	// shared between those clients, read-only.
	SharedPushes *wire.PushCache
	// Watch opens a spectator's session: it sees the room and chats, is
	// on no scoreboard and cannot move.
	Watch bool
}

// ErrClosed is returned by a Client that was closed.
var ErrClosed = errors.New("client closed")

const (
	dialTimeout  = time.Second
	watchTimeout = 500 * time.Millisecond // dialling a node to watch
	writeTimeout = 2 * time.Second
	maxQueue     = 10000 // events kept for an app that does not drain
)

// Client is a player's connection to the cluster.
type Client struct {
	opts  ClientOptions
	token string
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
	timer  *time.Timer

	mu       sync.Mutex
	core     *Core
	conns    map[ConnID]*cliConn
	due      time.Time // when the timer fires (zero: stopped)
	queue    []Event
	notify   chan struct{}
	waiters  map[uint64]chan Ack
	queries  map[uint64]chan *wire.QueryReply
	welcomes chan struct{} // closed at the next welcome
	seen     uint64        // welcomes seen
	finished bool
}

// cliConn is one connection to a node.
type cliConn struct {
	id    ConnID
	addr  string
	watch bool

	mu     sync.Mutex
	nc     net.Conn                  // nil while dialling
	direct func([]byte) (int, error) // writes what nc takes now (nil: none)
	busy   bool                      // a write (direct or the writer's) is under way
	buf    []byte                    // frames waiting for the writer
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

// close closes the connection (its reader then reports it closed).
func (cc *cliConn) close() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		return
	}
	cc.closed = true
	close(cc.done)
	if cc.nc != nil {
		cc.nc.Close()
	}
}

// NewToken returns a fresh random session token.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Dial starts a client; it connects in the background (see WaitConnected).
func Dial(ctx context.Context, o ClientOptions) *Client {
	if o.Token == "" {
		o.Token = NewToken()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dial == nil {
		o.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Client{
		opts:     o,
		token:    o.Token,
		log:      o.Logger,
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		conns:    map[ConnID]*cliConn{},
		notify:   make(chan struct{}, 1),
		waiters:  map[uint64]chan Ack{},
		queries:  map[uint64]chan *wire.QueryReply{},
		welcomes: make(chan struct{}),
	}
	c.core = NewCore(Config{
		Name: o.Name, Token: o.Token, Addrs: o.Addrs, Local: o.Local != nil, Watch: o.Watch,
		Window: o.Window, PingEvery: o.PingEvery, NoRoomCopies: o.NoRoomCopies,
	}, time.Now())
	c.timer = time.AfterFunc(time.Hour, c.onTimer)
	c.timer.Stop()
	if o.Local != nil {
		n := o.Local
		ch := n.Watch()
		// Counted before the first step: that step's dials may finish the
		// client, whose wait must not race this Add.
		c.wg.Add(1)
		c.step(func(now time.Time) { c.core.LocalChanged(now, n.ClientAddr(), n.View(), nil) })
		go c.watchLocal(ch)
	}
	c.step(func(now time.Time) { c.core.Tick(now) })
	context.AfterFunc(ctx, func() { c.step(func(now time.Time) { c.core.Stop(now) }) })
	return c
}

// step gives the core one input and carries out what it asks.
func (c *Client) step(f func(now time.Time)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	f(time.Now())
	c.carryOut(c.core.Ready())
}

// carryOut does what the core asked (c.mu held).
func (c *Client) carryOut(rd Ready) {
	for _, l := range rd.Logs {
		c.log.Log(context.Background(), l.Level, l.Msg, l.Args...)
	}
	for _, d := range rd.Dials {
		cc := &cliConn{id: d.Conn, addr: d.Addr, watch: d.Watch, wake: make(chan struct{}, 1), done: make(chan struct{})}
		c.conns[d.Conn] = cc
		c.wg.Add(1)
		go c.dial(cc)
	}
	var frames []byte
	for i, s := range rd.Sends {
		b, err := wire.AppendFrame(frames, s.Msg)
		if err != nil {
			c.log.Error("frame not sent", "type", s.Msg.Type(), "error", err)
			if cc := c.conns[s.Conn]; cc != nil {
				cc.close()
			}
			continue
		}
		frames = b
		// One write for a run of messages to the same connection.
		if i+1 == len(rd.Sends) || rd.Sends[i+1].Conn != s.Conn {
			if cc := c.conns[s.Conn]; cc != nil {
				cc.queue(frames)
			}
			frames = frames[:0]
		}
	}
	for _, id := range rd.Closes {
		if cc := c.conns[id]; cc != nil {
			cc.close()
			delete(c.conns, id)
		}
	}
	c.deliver(rd.Events)
	if w := c.core.Welcomes(); w != c.seen {
		c.seen = w
		close(c.welcomes)
		c.welcomes = make(chan struct{})
	}
	if c.core.Stopped() {
		c.finish()
		return
	}
	if d := c.core.Deadline(); !d.Equal(c.due) {
		c.due = d
		if d.IsZero() {
			c.timer.Stop()
		} else {
			c.timer.Reset(time.Until(d))
		}
	}
}

func (c *Client) onTimer() {
	c.step(func(now time.Time) {
		c.due = time.Time{} // re-armed after the tick, even for the same deadline
		c.core.Tick(now)
	})
}

// deliver queues events for the app; answers someone waits for go to them
// instead (c.mu held).
func (c *Client) deliver(evs []Event) {
	queued := false
	for _, e := range evs {
		switch e := e.(type) {
		case Answered:
			if ch := c.waiters[e.Ack.Seq]; ch != nil {
				ch <- e.Ack
				delete(c.waiters, e.Ack.Seq)
				continue
			}
		case Replied:
			if ch := c.queries[e.Reply.Seq]; ch != nil {
				ch <- e.Reply
				delete(c.queries, e.Reply.Seq)
				continue
			}
		}
		c.queue = append(c.queue, e)
		queued = true
	}
	if len(c.queue) > maxQueue {
		// Nobody is draining: keep the newest.
		c.queue = append([]Event(nil), c.queue[len(c.queue)-maxQueue/2:]...)
	}
	if queued {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

// finish stops everything once the core has stopped (c.mu held).
func (c *Client) finish() {
	c.finished = true
	c.cancel()
	c.timer.Stop()
	for id, cc := range c.conns {
		cc.close()
		delete(c.conns, id)
	}
	go func() {
		c.wg.Wait()
		close(c.done)
	}()
}

// dial opens a connection the core asked for, then reads it until it ends.
func (c *Client) dial(cc *cliConn) {
	defer c.wg.Done()
	timeout := dialTimeout
	if cc.watch {
		timeout = watchTimeout
	}
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	nc, err := c.opts.Dial(ctx, cc.addr)
	cancel()
	if err != nil {
		c.step(func(now time.Time) { c.core.DialFailed(now, cc.id, err) })
		return
	}
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()
		nc.Close()
		return
	}
	cc.nc, cc.direct = nc, wire.DirectWriter(nc)
	cc.mu.Unlock()
	c.wg.Add(1)
	go c.write(cc)
	c.step(func(now time.Time) { c.core.Connected(now, cc.id) })
	r := wire.NewReader(nc, wire.ServerLimits.MaxFrame)
	if c.opts.SharedPushes != nil {
		r.SharePushes(c.opts.SharedPushes)
	}
	for {
		m, err := r.ReadMessage(wire.ServerLimits)
		if err != nil {
			cc.close()
			c.step(func(now time.Time) { c.core.Closed(now, cc.id, err) })
			return
		}
		c.step(func(now time.Time) { c.core.Receive(now, cc.id, m) })
	}
}

// watchLocal relays the embedded node's view and notices (play mode).
func (c *Client) watchLocal(ch <-chan struct{}) {
	defer c.wg.Done()
	n := c.opts.Local
	seen := 0
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-n.Done():
			return
		case <-ch:
		}
		v := n.View()
		notices, total := n.NoticesSince(seen)
		seen = total
		c.step(func(now time.Time) { c.core.LocalChanged(now, n.ClientAddr(), v, notices) })
	}
}

// Token is the session token (keep it to resume the session later).
func (c *Client) Token() string { return c.token }

// Notify receives (coalesced) when events are waiting in Drain.
func (c *Client) Notify() <-chan struct{} { return c.notify }

// Drain takes the waiting events, oldest first.
func (c *Client) Drain() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// Status returns how the connection stands.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.Status()
}

// Room returns a copy of the player's room as last seen, and the log index
// it reflects.
func (c *Client) Room() (game.RoomView, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, index, ok := c.core.Room()
	return cloneRoom(*r), index, ok
}

// WithRoom calls f with the player's room as last seen (ok: there is one),
// without copying it. f must not keep or change the room, and must not call
// the client.
func (c *Client) WithRoom(f func(room *game.RoomView, ok bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, ok := c.core.Room()
	f(r, ok)
}

// View returns the cluster view last seen.
func (c *Client) View() wire.ClusterView {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.core.View()
	v.Nodes = slices.Clone(v.Nodes)
	return v
}

// Close stops the client.
func (c *Client) Close() {
	c.cancel()
	<-c.done
}

// Leave closes the session (the player quits) and stops the client, so
// that the name is free at once.
func (c *Client) Leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if c.Status().State == Connected {
		_, _ = c.Do(ctx, game.CloseSession{})
	}
	c.Close()
}

// Send queues a command and returns its sequence number; its answer comes
// as an Answered event. It never blocks.
func (c *Client) Send(cmd game.Command) uint64 {
	var seq uint64
	c.step(func(now time.Time) { seq = c.core.Send(now, cmd) })
	return seq
}

// SendAll queues commands, in order, in one write, and returns their
// sequence numbers; their answers come as Answered events.
func (c *Client) SendAll(cmds []game.Command) []uint64 {
	seqs := make([]uint64, 0, len(cmds))
	c.step(func(now time.Time) {
		for _, cmd := range cmds {
			seqs = append(seqs, c.core.Send(now, cmd))
		}
	})
	return seqs
}

// Do sends a command and waits for its answer.
func (c *Client) Do(ctx context.Context, cmd game.Command) (Ack, error) {
	ch := make(chan Ack, 1)
	var seq uint64
	c.step(func(now time.Time) {
		seq = c.core.Send(now, cmd)
		c.waiters[seq] = ch
	})
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, seq)
		c.mu.Unlock()
		return Ack{}, ctx.Err()
	case <-c.done:
		return Ack{}, c.err()
	}
}

// Query asks the primary for the room list or the members of a room; the
// answer comes as a Replied event.
func (c *Client) Query(kind wire.QueryKind, room string) uint64 {
	var seq uint64
	c.step(func(now time.Time) { seq = c.core.Query(now, kind, room) })
	return seq
}

// QueryWait asks and waits for the answer.
func (c *Client) QueryWait(ctx context.Context, kind wire.QueryKind, room string) (*wire.QueryReply, error) {
	for {
		ch := make(chan *wire.QueryReply, 1)
		var seq uint64
		c.step(func(now time.Time) {
			seq = c.core.Query(now, kind, room)
			c.queries[seq] = ch
		})
		select {
		case r := <-ch:
			return r, nil
		case <-time.After(300 * time.Millisecond):
			c.mu.Lock()
			delete(c.queries, seq)
			c.mu.Unlock()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, c.err()
		}
	}
}

// WaitConnected blocks until the client is in session with a primary.
func (c *Client) WaitConnected(ctx context.Context) error {
	for {
		c.mu.Lock()
		st, ch := c.core.Status().State, c.welcomes
		c.mu.Unlock()
		if st == Connected {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			c.mu.Lock()
			st := c.core.Status()
			c.mu.Unlock()
			switch {
			case st.VotersNeeded > 0:
				// The node asked said why it has no primary to offer.
				return fmt.Errorf("%w (no primary: %d up, %d needed)", ctx.Err(), st.VotersUp, st.VotersNeeded)
			case st.LastError != "":
				return fmt.Errorf("%w (the last attempt: %s)", ctx.Err(), st.LastError)
			}
			return ctx.Err()
		case <-c.done:
			return c.err()
		}
	}
}

// Resync reconnects to take a fresh copy of the room from the primary, and
// waits for it.
func (c *Client) Resync(ctx context.Context) error {
	var ch chan struct{}
	c.step(func(now time.Time) {
		ch = c.welcomes
		c.core.Reconnect(now)
	})
	if ch == nil {
		return c.err()
	}
	select {
	case <-ch:
		return c.WaitConnected(ctx)
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.err()
	}
}

func (c *Client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.core.Fatal(); err != nil {
		return err
	}
	return ErrClosed
}
