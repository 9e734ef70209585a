package client

import (
	"log/slog"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Core is the client's decisions as a pure state machine, after the model of
// the replica core: the runtime (Client, or a simulation) tells it what
// happened on its connections (Connected, DialFailed, Receive, Closed), what
// the app asks (Send, Query, Reconnect, Stop), what the embedded node sees
// (LocalChanged) and the passing of time (Tick), and collects from Ready
// what to dial, send and close, and the events for the app. It starts no
// goroutine, reads no clock and touches no socket; one goroutine at a time
// owns it.
type Core struct {
	cfg Config
	now time.Time

	status  Status
	room    game.RoomView
	hasRoom bool
	index   uint64
	view    wire.ClusterView
	local   localNode
	// shown is the local node's view as last emitted.
	shown    wire.ClusterView
	hasShown bool
	// lastLine is the last chat line shown, per room (sent with Hello).
	lastLine map[string]uint64

	seq     uint64
	pending []*pendingCmd // unanswered, in sequence order
	// seqBase is added to seq on the wire. A session that this core did
	// not open (resumed with its token after the app restarted) has
	// answered the numbers its earlier run used: the cluster would take
	// ours for repeats of those and answer them with the old results.
	seqBase uint64
	// acks are the answers given in session acksSession, kept so that a
	// resumed session can check them (undone.go).
	acks        []ackRecord
	acksSession sessionKey
	// session is the one the last welcome opened or resumed.
	session sessionKey
	qseq    uint64

	nextID ConnID
	conn   *conn   // the connection to the primary: dialling, in hello or in session
	watch  []*conn // while the primary is silent: other nodes, for their views

	// The search for the primary: a round tries candidates in order.
	prefer string // address to try first (a redirect's)
	// left is the primary the client left for a newer one: the rounds skip
	// it (a stale node may still redirect there, and a hung one accepts a
	// connection and answers nothing) until a session opens, a view names
	// it primary again, or DeadAfter passes.
	left      wire.NodeID
	leftAddr  string
	leftEpoch wire.Epoch
	leftUntil time.Time
	round     []string
	next      int
	retryAt   time.Time // the next round starts then (zero: none waits)
	backoff   time.Duration

	// In session.
	nonce    uint64
	nextPing time.Time
	pingAt   time.Time // the oldest ping not yet followed by a frame
	resendAt time.Time // rate limited: unanswered commands go out again then
	watching bool      // the watch of other nodes was started

	welcomes uint64
	fatal    error
	stopped  bool

	out Ready
}

// Config configures a Core. Zero durations take the defaults.
type Config struct {
	Name  string
	Token string
	Addrs []string // client addresses of nodes to try
	// Local: an embedded node feeds its view and notices (LocalChanged);
	// the app's view is that node's, not the session's.
	Local  bool
	Window int // commands in flight at once (default 32)
	// PingEvery: a session pings its node this often (default 1s).
	PingEvery time.Duration
	// StallAfter: a request unanswered this long, with nothing at all read
	// meanwhile, and the client watches the other nodes for a newer
	// primary (default 250ms).
	StallAfter time.Duration
	// DeadAfter: such silence this long and the client gives up on the
	// connection (default 5s).
	DeadAfter time.Duration
	// HelloTimeout bounds the wait for the answer to Hello (default 2s).
	HelloTimeout time.Duration
	// NoRoomCopies leaves Room nil in RoomChanged events.
	NoRoomCopies bool
	// Watch asks for a spectator's session.
	Watch bool
}

const (
	minBackoff = 2 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
	// ratePause: a rate-limited client sends its unanswered commands again
	// after this pause.
	ratePause = 50 * time.Millisecond
)

func (cfg *Config) fill() {
	if cfg.Window <= 0 {
		cfg.Window = 32
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PingEvery, time.Second)
	def(&cfg.StallAfter, 250*time.Millisecond)
	def(&cfg.DeadAfter, 5*time.Second)
	def(&cfg.HelloTimeout, 2*time.Second)
}

// ConnID names a connection the core asked for; ids are never reused.
type ConnID uint64

// Ready is what the core asks the runtime to do and tells the app, gathered
// since the last call to Ready. The runtime dials, then sends, then closes.
type Ready struct {
	// Dials are connections to open; the runtime answers each with
	// Connected or DialFailed. Watch connections only read views and may
	// use a shorter dial timeout.
	Dials []Connect
	// Sends are messages for open connections, in order.
	Sends []Outgoing
	// Closes are connections to close; the core has forgotten them.
	Closes []ConnID
	// Events are for the app, oldest first.
	Events []Event
	// Logs are lines for the runtime's logger.
	Logs []LogLine
}

// Connect asks for a connection to Addr.
type Connect struct {
	Conn  ConnID
	Addr  string
	Watch bool
}

// Outgoing is a message for a connection.
type Outgoing struct {
	Conn ConnID
	Msg  wire.Message
}

// LogLine is a line for the runtime's logger.
type LogLine struct {
	Level slog.Level
	Msg   string
	Args  []any
}

type pendingCmd struct {
	seq   uint64
	cmd   game.Command
	first time.Time // when the app sent it
	sent  bool      // sent on the current connection
	at    time.Time // when it was sent on the current connection
	// The session and room the player saw when the app sent it.
	session sessionKey
	room    string
}

// sessionKey names a session: its number, within one cluster's history.
type sessionKey struct {
	cluster uint64
	id      game.SessionID
}

type connState uint8

const (
	dialling  connState = iota
	inHello             // Hello sent, no answer yet
	inSession           // welcomed (a watch connection: connected)
)

type conn struct {
	id       ConnID
	addr     string
	state    connState
	since    time.Time // when it connected
	lastRead time.Time
	node     wire.NodeID // the primary it is in session with
	epoch    wire.Epoch  // the primary's epoch at the welcome
}

// localNode is the embedded node as last heard.
type localNode struct {
	known bool
	addr  string
	view  wire.ClusterView
}

// NewCore returns a core whose search for the primary starts at the first
// Tick.
func NewCore(cfg Config, now time.Time) *Core {
	cfg.fill()
	cfg.Addrs = slices.Clone(cfg.Addrs)
	return &Core{
		cfg:      cfg,
		now:      now,
		status:   Status{State: Connecting, Since: now, Name: cfg.Name},
		lastLine: map[string]uint64{},
		backoff:  minBackoff,
		retryAt:  now,
	}
}

// Ready returns what the core gathered since the last call.
func (c *Core) Ready() Ready {
	rd := c.out
	c.out = Ready{}
	return rd
}

// Deadline is when the core next needs a Tick (zero: only after another
// input).
func (c *Core) Deadline() time.Time {
	if c.stopped {
		return time.Time{}
	}
	var d time.Time
	at := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	at(c.retryAt)
	for _, w := range c.watch {
		if w.state == inSession {
			at(w.lastRead.Add(c.cfg.DeadAfter))
		}
	}
	cc := c.conn
	switch {
	case cc == nil:
	case cc.state == inHello:
		at(cc.since.Add(c.cfg.HelloTimeout))
	case cc.state == inSession:
		at(c.nextPing)
		at(c.resendAt)
		if since := c.stalledSince(); !since.IsZero() {
			if !c.watching {
				at(since.Add(c.cfg.StallAfter))
			}
			at(since.Add(c.cfg.DeadAfter))
		}
	}
	return d
}

// Status returns how the connection stands.
func (c *Core) Status() Status {
	s := c.status
	s.Pending = len(c.pending)
	return s
}

// Room returns the player's room as last seen (not a copy: the caller must
// not keep or change it), the log index it reflects, and whether there is
// one.
func (c *Core) Room() (*game.RoomView, uint64, bool) { return &c.room, c.index, c.hasRoom }

// View returns the cluster view last seen (not a copy).
func (c *Core) View() wire.ClusterView { return c.view }

// Session is the connection in session with the primary (0: none).
func (c *Core) Session() ConnID {
	if c.conn != nil && c.conn.state == inSession {
		return c.conn.id
	}
	return 0
}

// Welcomes counts the sessions opened so far.
func (c *Core) Welcomes() uint64 { return c.welcomes }

// Fatal is why the cluster refused this client for good (nil: it did not).
func (c *Core) Fatal() error { return c.fatal }

// Stopped reports whether the core has stopped (Stop, or a fatal refusal).
func (c *Core) Stopped() bool { return c.stopped }

// Send queues a command and returns its sequence number; its answer comes
// as an Answered event.
func (c *Core) Send(now time.Time, cmd game.Command) uint64 {
	c.now = now
	c.seq++
	c.pending = append(c.pending, &pendingCmd{seq: c.seq, cmd: cmd, first: now, session: c.session, room: c.room.Name})
	c.flush()
	return c.seq
}

// Query asks the primary for the room list or the members of a room, if
// in session; the answer comes as a Replied event.
func (c *Core) Query(now time.Time, kind wire.QueryKind, room string) uint64 {
	c.now = now
	c.qseq++
	if id := c.Session(); id != 0 {
		c.send(id, &wire.Query{Seq: c.qseq, Kind: kind, Room: room})
	}
	return c.qseq
}

// Reconnect ends the session, so that the next one brings a fresh copy of
// the room.
func (c *Core) Reconnect(now time.Time) {
	c.now = now
	if c.Session() != 0 {
		c.lost(errClosed)
	}
}

// Stop closes every connection; the core does nothing more.
func (c *Core) Stop(now time.Time) {
	if c.stopped {
		return
	}
	c.now = now
	if c.conn != nil {
		c.close(c.conn.id)
		c.conn = nil
	}
	c.stopWatch()
	c.retryAt = time.Time{}
	c.setStatus(func(s *Status) { s.State = Closed })
	c.stopped = true
}

func (c *Core) send(id ConnID, m wire.Message) {
	c.out.Sends = append(c.out.Sends, Outgoing{Conn: id, Msg: m})
}

func (c *Core) close(id ConnID) { c.out.Closes = append(c.out.Closes, id) }

func (c *Core) logf(level slog.Level, msg string, args ...any) {
	c.out.Logs = append(c.out.Logs, LogLine{Level: level, Msg: msg, Args: args})
}

// info is what an event made now carries.
func (c *Core) info() EventInfo { return EventInfo{Time: c.now, Status: c.Status()} }

// emit queues an event for the app.
func (c *Core) emit(e Event) { c.out.Events = append(c.out.Events, e) }

func (c *Core) setStatus(f func(s *Status)) {
	old := c.status
	f(&c.status)
	if c.status.State != old.State {
		c.status.Since = c.now
	}
	if c.status != old {
		c.emit(StatusChanged{EventInfo: c.info()})
	}
}

func cloneView(v wire.ClusterView) wire.ClusterView {
	v.Nodes = slices.Clone(v.Nodes)
	return v
}

func cloneRoom(r game.RoomView) game.RoomView {
	r.Puzzle.Givens = slices.Clone(r.Puzzle.Givens)
	r.Board = slices.Clone(r.Board)
	r.Claims = slices.Clone(r.Claims)
	r.Scores = slices.Clone(r.Scores)
	r.Members = slices.Clone(r.Members)
	r.Chat = slices.Clone(r.Chat)
	r.Notes = slices.Clone(r.Notes)
	return r
}
