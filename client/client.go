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
	"sync/atomic"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// The client library: the only way the app and the bots talk to a cluster.
// It finds the primary (from the embedded node, from the addresses it was
// given, from the cluster views it receives), follows redirects and leader
// changes, resends unanswered commands with the same sequence number after a
// failover (the cluster answers a repeat with its first result), resumes
// its session by token, and keeps a copy of the player's room current.

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
	// NoRoomCopies leaves Room nil in KindRoom events, for apps that read
	// the room through Room or WithRoom (bots): it saves a copy of the
	// room for every batch of events.
	NoRoomCopies bool
}

// ErrClosed is returned by a Client that was closed.
var ErrClosed = errors.New("client closed")

// errRedirected ends a session whose node handed over to another primary.
var errRedirected = errors.New("the node is no longer primary")

// Client is a player's connection to the cluster.
type Client struct {
	opts  ClientOptions
	token string
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{} // wakes the connection loop (new command, resync)

	mu       sync.Mutex
	status   Status
	room     game.RoomView
	hasRoom  bool
	index    uint64
	view     wire.ClusterView
	queue    []ClientEvent
	notify   chan struct{}
	seq      uint64
	pending  []*pendingCmd // unanswered, in sequence order
	waiters  map[uint64]chan Ack
	qseq     uint64
	queries  map[uint64]chan *wire.QueryReply
	conn     *cliConn
	prefer   string // address to try first (a redirect's)
	addrs    []string
	resync   chan struct{}
	fatal    error
	lastLine map[string]uint64
	welcomes chan struct{}
	moved    chan wire.ClusterView // a view naming a newer primary
}

type pendingCmd struct {
	seq   uint64
	cmd   game.Command
	first time.Time
	sent  bool      // sent on the current connection
	at    time.Time // when it was sent on the current connection
}

// cliConn is one connection to a node.
type cliConn struct {
	conn     net.Conn
	epoch    wire.Epoch   // the primary's epoch at the welcome
	lastRead atomic.Int64 // when a frame last arrived (Unix ns)
	w        *wire.Writer
	wmu      sync.Mutex
	node     wire.NodeID
	addr     string
	closed   chan struct{}
	once     sync.Once
}

func (cc *cliConn) close() {
	cc.once.Do(func() {
		close(cc.closed)
		cc.conn.Close()
	})
}

func (cc *cliConn) send(ms ...wire.Message) error {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	for _, m := range ms {
		if err := cc.w.Queue(m); err != nil {
			return err
		}
	}
	_ = cc.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return cc.w.Flush()
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
	if o.Window <= 0 {
		o.Window = 32
	}
	if o.PingEvery <= 0 {
		o.PingEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dial == nil {
		o.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: time.Second}
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
		kick:     make(chan struct{}, 1),
		notify:   make(chan struct{}, 1),
		waiters:  map[uint64]chan Ack{},
		queries:  map[uint64]chan *wire.QueryReply{},
		addrs:    append([]string(nil), o.Addrs...),
		lastLine: map[string]uint64{},
		welcomes: make(chan struct{}),
		moved:    make(chan wire.ClusterView, 1),
	}
	c.status = Status{State: Connecting, Since: time.Now(), Name: o.Name}
	go c.run()
	if o.Local != nil {
		go c.watchLocal()
	}
	return c
}

// Token is the session token (keep it to resume the session later).
func (c *Client) Token() string { return c.token }

// Notify receives (coalesced) when events are waiting in Drain.
func (c *Client) Notify() <-chan struct{} { return c.notify }

// Drain takes the waiting events, oldest first.
func (c *Client) Drain() []ClientEvent {
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
	s := c.status
	s.Pending = len(c.pending)
	return s
}

// Room returns a copy of the player's room as last seen, and the log index
// it reflects.
func (c *Client) Room() (game.RoomView, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloneRoom(c.room), c.index, c.hasRoom
}

// WithRoom calls f with the player's room as last seen (ok: there is one),
// without copying it. f must not keep or change the room, and must not call
// the client.
func (c *Client) WithRoom(f func(room *game.RoomView, ok bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.room, c.hasRoom)
}

// View returns the cluster view last seen.
func (c *Client) View() wire.ClusterView {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.view
	v.Nodes = slices.Clone(v.Nodes)
	return v
}

// Close stops the client. With leave, the session is closed first (the
// player quit), so that the name is free at once.
func (c *Client) Close() {
	c.cancel()
	<-c.done
}

// Leave closes the session (the player quits) and stops the client.
func (c *Client) Leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if c.Status().State == Connected {
		_, _ = c.Do(ctx, game.CloseSession{})
	}
	c.Close()
}

// Send queues a command and returns its sequence number; its answer comes
// as a KindAck event. It never blocks.
func (c *Client) Send(cmd game.Command) uint64 {
	c.mu.Lock()
	c.seq++
	p := &pendingCmd{seq: c.seq, cmd: cmd, first: time.Now()}
	c.pending = append(c.pending, p)
	c.mu.Unlock()
	c.wake()
	return p.seq
}

// Do sends a command and waits for its answer.
func (c *Client) Do(ctx context.Context, cmd game.Command) (Ack, error) {
	ch := make(chan Ack, 1)
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.waiters[seq] = ch
	c.pending = append(c.pending, &pendingCmd{seq: seq, cmd: cmd, first: time.Now()})
	c.mu.Unlock()
	c.wake()
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
// answer comes as a KindReply event.
func (c *Client) Query(kind wire.QueryKind, room string) uint64 {
	c.mu.Lock()
	c.qseq++
	seq := c.qseq
	cc := c.conn
	c.mu.Unlock()
	if cc != nil {
		_ = cc.send(&wire.Query{Seq: seq, Kind: kind, Room: room})
	}
	return seq
}

// QueryWait asks and waits for the answer.
func (c *Client) QueryWait(ctx context.Context, kind wire.QueryKind, room string) (*wire.QueryReply, error) {
	for {
		ch := make(chan *wire.QueryReply, 1)
		c.mu.Lock()
		c.qseq++
		seq := c.qseq
		c.queries[seq] = ch
		cc := c.conn
		c.mu.Unlock()
		if cc != nil {
			_ = cc.send(&wire.Query{Seq: seq, Kind: kind, Room: room})
		}
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
		st, ch := c.status.State, c.welcomes
		c.mu.Unlock()
		if st == Connected {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.err()
		}
	}
}

// Resync reconnects to take a fresh copy of the room from the primary, and
// waits for it.
func (c *Client) Resync(ctx context.Context) error {
	c.mu.Lock()
	cc, ch := c.conn, c.welcomes
	c.mu.Unlock()
	if cc != nil {
		cc.close()
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
	if c.fatal != nil {
		return c.fatal
	}
	return ErrClosed
}

func (c *Client) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// emit queues an event for the app (c.mu held).
func (c *Client) emit(e ClientEvent) {
	e.Time = time.Now()
	e.Status = c.status
	e.Status.Pending = len(c.pending)
	c.queue = append(c.queue, e)
	if len(c.queue) > 10000 {
		// Nobody is draining: keep the newest.
		c.queue = append([]ClientEvent(nil), c.queue[len(c.queue)-5000:]...)
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *Client) setStatus(f func(s *Status)) {
	old := c.status
	f(&c.status)
	if c.status.State != old.State {
		c.status.Since = time.Now()
	}
	if c.status != old {
		c.emit(ClientEvent{Kind: KindStatus})
	}
}

// candidates lists the addresses to try, best first: a redirect's, the
// primary's as last seen, the embedded node, then every node known.
func (c *Client) candidates() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	add(c.prefer)
	c.prefer = ""
	views := []wire.ClusterView{c.view}
	if c.opts.Local != nil {
		views = append([]wire.ClusterView{c.opts.Local.View()}, views...)
		add(c.opts.Local.ClientAddr())
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.ID == v.Primary && n.Alive {
				add(clientAddrOf(n))
			}
		}
	}
	for _, a := range c.addrs {
		add(a)
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.Alive {
				add(clientAddrOf(n))
			}
		}
	}
	return out
}

func clientAddrOf(n wire.NodeInfo) string {
	if n.Advertise != "" {
		return n.Advertise
	}
	return n.ClientAddr
}

// run keeps the client connected to the primary until closed.
func (c *Client) run() {
	defer func() {
		c.mu.Lock()
		c.setStatus(func(s *Status) { s.State = Closed })
		c.mu.Unlock()
		close(c.done)
	}()
	backoff := 2 * time.Millisecond
	for c.ctx.Err() == nil {
		progressed := false
		for _, addr := range c.candidates() {
			if c.ctx.Err() != nil {
				return
			}
			ok, fatal := c.session(addr)
			if fatal {
				return
			}
			if ok {
				progressed = true
				backoff = 2 * time.Millisecond
				break
			}
			c.mu.Lock()
			c.status.Attempts++
			pref := c.prefer
			c.mu.Unlock()
			if pref != "" {
				break // a redirect: go there first
			}
		}
		if progressed {
			continue
		}
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// session connects to addr, says hello and, if that node is the primary,
// runs the session until it ends. ok reports a session that was welcomed.
func (c *Client) session(addr string) (ok, fatal bool) {
	ctx, cancel := context.WithTimeout(c.ctx, time.Second)
	conn, err := c.opts.Dial(ctx, addr)
	cancel()
	if err != nil {
		return false, false
	}
	cc := &cliConn{conn: conn, w: wire.NewWriter(conn), addr: addr, closed: make(chan struct{})}
	defer cc.close()
	stop := context.AfterFunc(c.ctx, cc.close)
	defer stop()

	c.mu.Lock()
	last := c.lastLine[c.room.Name]
	c.mu.Unlock()
	if err := cc.send(&wire.Hello{Version: wire.Version, Name: c.opts.Name, Token: c.token, LastLine: last}); err != nil {
		return false, false
	}
	r := wire.NewReader(conn, wire.ServerLimits.MaxFrame)
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, err := r.ReadMessage(wire.ServerLimits)
	if err != nil {
		return false, false
	}
	switch m := m.(type) {
	case *wire.Redirect:
		c.mu.Lock()
		if m.Addr != "" && m.Addr != addr {
			c.prefer = m.Addr
		}
		c.mu.Unlock()
		return false, false
	case *wire.Error:
		if m.Code == wire.ErrSession {
			c.mu.Lock()
			c.fatal = errors.New(m.Text)
			c.emit(ClientEvent{Kind: KindFatal, Err: c.fatal})
			c.mu.Unlock()
			c.cancel()
			return false, true
		}
		c.log.Info("node refused the hello", "addr", addr, "code", m.Code, "text", m.Text)
		return false, false
	case *wire.Welcome:
		cc.epoch = m.Epoch
		c.welcome(cc, m)
	default:
		return false, false
	}
	_ = conn.SetReadDeadline(time.Time{})
	cc.lastRead.Store(time.Now().UnixNano())

	readErr := make(chan error, 1)
	go func() { readErr <- c.read(cc, r) }()
	ping := time.NewTicker(c.opts.PingEvery)
	defer ping.Stop()
	// The stall check runs while requests are out: a primary that answers
	// nothing may be hung, and while it is silent the client watches the
	// other nodes for a newer primary.
	check := time.NewTimer(stallAfter)
	defer check.Stop()
	checking := true
	arm := func(d time.Duration) {
		if !checking {
			checking = true
			check.Reset(d)
		}
	}
	var nonce uint64
	var pingAt time.Time // the oldest ping not yet followed by a frame
	var w *watch
	defer func() { w.stop() }()
	c.flushPending(cc)
	for {
		select {
		case err := <-readErr:
			c.lost(cc, err)
			return true, false
		case <-c.kick:
			if c.flushPending(cc) {
				arm(stallAfter)
			}
		case <-ping.C:
			nonce++
			if pingAt.IsZero() || cc.readSince(pingAt) {
				pingAt = time.Now()
			}
			_ = cc.send(&wire.Ping{Nonce: nonce, Time: time.Now().UnixNano()})
			c.flushPending(cc)
			arm(stallAfter)
		case <-check.C:
			checking = false
			since := c.stalledSince(cc, pingAt)
			silent := time.Since(time.Unix(0, since))
			switch {
			case since == 0:
				w.stop()
				w = nil
			case silent > deadConn:
				c.log.Info("the primary answers nothing: reconnecting", "node", fmt.Sprintf("n%d", cc.node))
				cc.close()
			case w == nil && silent >= stallAfter:
				w = c.watchOthers(cc)
			}
			switch {
			case w != nil:
				arm(stallAfter)
			case since != 0:
				arm(max(stallAfter-silent, time.Millisecond))
			case c.outstanding():
				arm(stallAfter)
			}
		case v := <-c.moved:
			if v.Primary != 0 && v.Primary != cc.node && v.Epoch > cc.epoch {
				c.mu.Lock()
				handover := false // the old primary lives on as a backup
				for _, n := range v.Nodes {
					if n.ID == v.Primary {
						c.prefer = clientAddrOf(n)
					}
					if n.ID == cc.node && n.Alive {
						handover = true
					}
				}
				if c.opts.Local == nil {
					c.view = v
				}
				c.mu.Unlock()
				c.log.Info("a newer primary is known: moving", "from", fmt.Sprintf("n%d", cc.node), "to", fmt.Sprintf("n%d", v.Primary))
				cc.close()
				err := errors.New("a newer primary is known")
				if handover {
					err = errRedirected
				}
				c.lost(cc, err)
				return true, false
			}
		case <-cc.closed:
			c.lost(cc, errors.New("closed"))
			return true, false
		}
	}
}

const (
	// stallAfter is how long a request may go unanswered, with nothing at
	// all read meanwhile, before the client watches the other nodes.
	stallAfter = 250 * time.Millisecond
	// deadConn is how long such silence may last before the client gives
	// up on the connection.
	deadConn = 5 * time.Second
)

// readSince reports whether a frame arrived after t.
func (cc *cliConn) readSince(t time.Time) bool { return cc.lastRead.Load() > t.UnixNano() }

// stalledSince returns when the oldest request still unanswered on cc was
// sent, if nothing at all was read since (Unix ns); 0 when none.
func (c *Client) stalledSince(cc *cliConn, pingAt time.Time) int64 {
	last := cc.lastRead.Load()
	var oldest int64
	if !pingAt.IsZero() && pingAt.UnixNano() > last {
		oldest = pingAt.UnixNano()
	}
	c.mu.Lock()
	for _, p := range c.pending {
		if !p.sent {
			continue
		}
		if at := p.at.UnixNano(); at > last && (oldest == 0 || at < oldest) {
			oldest = at
		}
	}
	c.mu.Unlock()
	return oldest
}

// watch follows the cluster views of other nodes while the primary is
// silent.
type watch struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func (w *watch) add(conn net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.conns = append(w.conns, conn)
	return true
}

func (w *watch) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = nil
}

// watchOthers asks every other node it knows of for its cluster view and
// keeps listening (a node pushes its view as it changes). A view that names
// a newer primary goes to c.moved.
func (c *Client) watchOthers(cc *cliConn) *watch {
	w := &watch{}
	c.mu.Lock()
	var addrs []string
	add := func(a string) {
		if a != "" && a != cc.addr && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	views := []wire.ClusterView{c.view}
	if c.opts.Local != nil {
		views = append(views, c.opts.Local.View())
	}
	for _, v := range views {
		for _, n := range v.Nodes {
			if n.ID != cc.node {
				add(clientAddrOf(n))
			}
		}
	}
	for _, a := range c.addrs {
		add(a)
	}
	c.mu.Unlock()
	c.log.Debug("the primary is silent: watching the other nodes", "node", fmt.Sprintf("n%d", cc.node), "nodes", addrs)
	for _, a := range addrs {
		go c.watchNode(w, cc, a)
	}
	return w
}

// tellMoved hands the session a view that names another primary, in place
// of any older one waiting.
func (c *Client) tellMoved(v wire.ClusterView) {
	select {
	case <-c.moved:
	default:
	}
	select {
	case c.moved <- v:
	default:
	}
}

func (c *Client) watchNode(w *watch, cc *cliConn, addr string) {
	ctx, cancel := context.WithTimeout(c.ctx, 500*time.Millisecond)
	conn, err := c.opts.Dial(ctx, addr)
	cancel()
	if err != nil {
		return
	}
	if !w.add(conn) {
		conn.Close()
		return
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	if err := wire.WriteFrame(conn, &wire.Status{}); err != nil {
		return
	}
	r := wire.NewReader(conn, wire.ServerLimits.MaxFrame)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(deadConn))
		m, err := r.ReadMessage(wire.ServerLimits)
		if err != nil {
			return
		}
		v, ok := m.(*wire.ClusterView)
		if !ok {
			return
		}
		if v.Primary != 0 && v.Primary != cc.node && v.Epoch > cc.epoch {
			c.tellMoved(*v)
			return
		}
	}
}

// welcome starts a session on the primary.
func (c *Client) welcome(cc *cliConn, m *wire.Welcome) {
	cc.node = m.Node
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = cc
	resumed := c.status.State == Failover || c.status.Session == m.Session
	if c.opts.Local == nil {
		c.view = m.View
		c.emit(ClientEvent{Kind: KindView, View: cloneView(m.View)})
	}
	c.room = m.Room
	c.hasRoom = true
	c.index = m.Index
	for _, p := range c.pending {
		p.sent = false
	}
	c.setStatus(func(s *Status) {
		s.State = Connected
		s.Node, s.Epoch, s.Addr = m.Node, m.Epoch, cc.addr
		s.Lost, s.Handover = 0, 0
		s.Session, s.Name = m.Session, m.Name
		s.Resumed = resumed
		s.Attempts = 0
	})
	c.emitRoom(nil)
	close(c.welcomes)
	c.welcomes = make(chan struct{})
}

// emitRoom tells the app the room changed (c.mu held), with the chat lines
// it had not seen.
func (c *Client) emitRoom(evs []game.Event) {
	var room *game.RoomView
	if !c.opts.NoRoomCopies {
		r := cloneRoom(c.room)
		room = &r
	}
	c.emit(ClientEvent{Kind: KindRoom, Room: room, Events: evs})
	if n := len(c.room.Chat); n > 0 {
		c.lastLine[c.room.Name] = c.room.Chat[n-1].N
	}
}

// lost ends a session: the app hears that the primary is gone.
func (c *Client) lost(cc *cliConn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == cc {
		c.conn = nil
	}
	if c.ctx.Err() != nil {
		return
	}
	c.log.Info("lost the primary", "node", fmt.Sprintf("n%d", cc.node), "error", err)
	c.setStatus(func(s *Status) {
		s.State = Failover
		s.Lost, s.Handover = cc.node, 0
		if errors.Is(err, errRedirected) {
			s.Lost, s.Handover = 0, cc.node
		}
		s.Resumed = false
	})
}

// outstanding reports whether commands are out.
func (c *Client) outstanding() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0
}

// flushPending sends the commands not yet sent on this connection, up to
// the window, and reports whether it sent any.
func (c *Client) flushPending(cc *cliConn) bool {
	c.mu.Lock()
	var out []wire.Message
	for i, p := range c.pending {
		if i >= c.opts.Window {
			break
		}
		if !p.sent {
			p.sent = true
			p.at = time.Now()
			out = append(out, &wire.Command{Seq: p.seq, Cmd: p.cmd})
		}
	}
	c.mu.Unlock()
	if len(out) > 0 {
		if err := cc.send(out...); err != nil {
			cc.close()
		}
	}
	return len(out) > 0
}

// read handles what the primary sends until the connection ends.
func (c *Client) read(cc *cliConn, r *wire.Reader) error {
	for {
		m, err := r.ReadMessage(wire.ServerLimits)
		if err != nil {
			return err
		}
		cc.lastRead.Store(time.Now().UnixNano())
		switch m := m.(type) {
		case *wire.Ack:
			c.acked(cc, m)
		case *wire.Events:
			c.mu.Lock()
			for _, ev := range m.Events {
				if ev.Room == c.room.Name || ev.Room == "" {
					c.room.ApplyEvent(ev)
				}
			}
			c.index = m.Index
			c.emitRoom(m.Events)
			c.mu.Unlock()
		case *wire.RoomState:
			c.mu.Lock()
			c.room = m.Room
			c.index = m.Index
			c.emitRoom(nil)
			c.mu.Unlock()
		case *wire.ClusterView:
			c.mu.Lock()
			c.view = *m
			if c.opts.Local == nil {
				c.emit(ClientEvent{Kind: KindView, View: cloneView(*m)})
			}
			c.mu.Unlock()
		case *wire.Pong:
			c.mu.Lock()
			rtt := time.Duration(time.Now().UnixNano() - m.Time)
			c.setStatus(func(s *Status) { s.RTT = rtt })
			c.mu.Unlock()
		case *wire.QueryReply:
			c.mu.Lock()
			if ch := c.queries[m.Seq]; ch != nil {
				delete(c.queries, m.Seq)
				ch <- m
			} else {
				c.emit(ClientEvent{Kind: KindReply, Reply: m})
			}
			c.mu.Unlock()
		case *wire.Redirect:
			c.mu.Lock()
			if m.Addr != "" {
				c.prefer = m.Addr
			}
			c.mu.Unlock()
			return errRedirected
		case *wire.Error:
			if m.Code == wire.ErrRateLimited {
				// Unanswered commands go out again after a pause.
				time.Sleep(50 * time.Millisecond)
				c.mu.Lock()
				for _, p := range c.pending {
					p.sent = false
				}
				c.mu.Unlock()
				c.wake()
				continue
			}
			return fmt.Errorf("%s: %s", m.Code, m.Text)
		}
	}
}

// acked resolves an answered command.
func (c *Client) acked(cc *cliConn, m *wire.Ack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.pending, func(p *pendingCmd) bool { return p.seq == m.Seq })
	if i < 0 {
		return // answered before (a resend)
	}
	p := c.pending[i]
	c.pending = slices.Delete(c.pending, i, i+1)
	res := game.Result{Points: m.Points}
	if m.Code != game.OK {
		res.Err = &game.Error{Code: m.Code, Who: m.Who, Room: m.Room}
	}
	a := Ack{Seq: m.Seq, Cmd: p.cmd, Result: res, Index: m.Index, RTT: time.Since(p.first)}
	if ch := c.waiters[m.Seq]; ch != nil {
		delete(c.waiters, m.Seq)
		ch <- a
	} else {
		c.emit(ClientEvent{Kind: KindAck, Ack: &a})
	}
	if len(c.pending) >= c.opts.Window-1 {
		c.wake()
	} else {
		c.wakeIfUnsent()
	}
}

func (c *Client) wakeIfUnsent() {
	for i, p := range c.pending {
		if i >= c.opts.Window {
			return
		}
		if !p.sent {
			c.wake()
			return
		}
	}
}

// watchLocal relays the embedded node's view and notices (play mode).
func (c *Client) watchLocal() {
	n := c.opts.Local
	ch := n.Watch()
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
		c.mu.Lock()
		if v.Primary != 0 && c.status.State == Connected && v.Primary != c.status.Node {
			c.tellMoved(v)
		}
		c.view = v
		c.emit(ClientEvent{Kind: KindView, View: cloneView(v)})
		for i := range notices {
			c.emit(ClientEvent{Kind: KindNotice, Notice: &notices[i]})
		}
		c.mu.Unlock()
	}
}

func cloneView(v wire.ClusterView) *wire.ClusterView {
	v.Nodes = slices.Clone(v.Nodes)
	return &v
}

func cloneRoom(r game.RoomView) game.RoomView {
	r.Puzzle.Givens = slices.Clone(r.Puzzle.Givens)
	r.Board = slices.Clone(r.Board)
	r.Claims = slices.Clone(r.Claims)
	r.Scores = slices.Clone(r.Scores)
	r.Members = slices.Clone(r.Members)
	r.Chat = slices.Clone(r.Chat)
	return r
}
