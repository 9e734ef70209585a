package node

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// The client service: HELLO opens or resumes a session (logged, answered
// after commit with WELCOME and the room), commands are answered after
// commit, and committed events and cluster views are pushed, batched per
// room (fanout.go) and per client. A node that does not serve answers with
// REDIRECT. Bad input gets an ERROR frame before the connection closes.

const (
	helloTimeout = 10 * time.Second
	idleTimeout  = 60 * time.Second
	writeTimeout = 5 * time.Second
	// preHelloFrame bounds a client's first frame.
	preHelloFrame = 4 << 10
)

type service struct {
	n      *Node
	in     chan input // what clients send, for the node's loop
	count  atomic.Int64
	manyMu sync.Mutex
	many   bool // count reached ManyClientsAt (counted)
	next   atomic.Uint64
	// strangers are the connections that have not said Hello yet.
	strangers pendingHandshakes

	// owned by the node's goroutine
	clients   map[uint64]*clientConn
	opening   map[string][]*clientConn
	waiting   map[dedupeKey]*clientConn
	bySession map[game.SessionID]*clientConn
	feeds     map[string]*roomFeed      // by room
	feedSeq   int                       // feeds made, for their phases
	busy      int                       // busy rooms wait this many times pushDelay (slower)
	due       []*roomFeed               // feeds with events waiting
	behind    []*clientConn             // clients to resynchronise when caught up
	rooms     map[string]*game.RoomView // room views made this turn
	outJobs   chan []*sendQueue         // for the fan-out writer (fanout.go)
	touched   []*clientConn
	later     []*clientConn // clients whose events wait for the next push
	laterAt   time.Time     // when the oldest of them started waiting
	now       []*clientConn // clients to send to now
	pushes    []*clientConn // clients whose push is due
	serving   bool
	reads     map[uint64]pendingRead // queries waiting for a checked read
	nextRead  uint64
	creating  []proposedAt // rooms' creations proposed, maybe not applied (dealing.go)
}

type clientConn struct {
	id   uint64
	conn net.Conn
	once sync.Once
	gone chan struct{}

	sq *sendQueue

	// owned by the node's goroutine
	hello      bool
	helloSent  bool // Hello received (the session may still be opening)
	session    game.SessionID
	name       string
	token      string
	watch      bool // a spectator's session
	room       string
	tokens     float64
	refill     time.Time
	welcome    bool            // send WELCOME at the end of the batch
	roomState  bool            // send the whole room at the end of the batch
	own        wire.EventBatch // events for this client only, and the feed's before them
	feedFrom   int             // events of its room's feed it has had
	behind     bool            // its connection fell behind: no feed until resynchronised
	acks       []*wire.Ack
	inBatch    bool
	isLater    bool // in service.later or service.pushes
	isNow      bool // in service.now
	watchViews bool
	held       []*wire.Command // behind a room's puzzle being made (dealing.go)
	dealing    *puzzleEntry    // the puzzle of held[0]
}

func newService(n *Node) *service {
	return &service{
		n:         n,
		in:        make(chan input, 4096),
		clients:   map[uint64]*clientConn{},
		opening:   map[string][]*clientConn{},
		waiting:   map[dedupeKey]*clientConn{},
		bySession: map[game.SessionID]*clientConn{},
		feeds:     map[string]*roomFeed{},
		rooms:     map[string]*game.RoomView{},
		reads:     map[uint64]pendingRead{},
	}
}

// ManyClientsAt is the number of client connections at which a node calls
// Options.ManyClients: measured with 1,000 players on two cores, one
// thread notices a ready connection only when it has nothing else to run,
// and more threads than cores cut p99 by a third; with 100 clients they
// cost CPU and gain nothing.
const ManyClientsAt = 256

// maxStrangers bounds the client connections that have not said Hello (a
// status request, or someone holding connections open), and so does a
// quarter of MaxClients: the newest takes the oldest's place, and the
// rest stays for players.
const maxStrangers = 1024

// counted tells Options.ManyClients when the count of client connections
// crosses ManyClientsAt up, or half of it down.
func (s *service) counted(n int64) {
	f := s.n.opts.ManyClients
	if f == nil {
		return
	}
	s.manyMu.Lock()
	defer s.manyMu.Unlock()
	if many := n >= ManyClientsAt || s.many && n > ManyClientsAt/2; many != s.many {
		s.many = many
		f(many)
	}
}

// accept takes client connections until the listener closes.
func (s *service) accept() {
	n := s.n
	defer n.wg.Done()
	for {
		conn, err := n.clientL.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if s.count.Load() >= int64(n.opts.MaxClients) {
			_ = refuse(conn, wire.ErrOverloaded, "too many connections")
			conn.Close()
			continue
		}
		if old := s.strangers.add(conn, max(1, min(maxStrangers, n.opts.MaxClients/4))); old != nil {
			old.Close()
		}
		s.counted(s.count.Add(1))
		c := &clientConn{id: s.next.Add(1), conn: conn, sq: newSendQueue(n.opts.SendQueue, maxQueueBytes), gone: make(chan struct{}),
			tokens: float64(n.opts.Burst), refill: time.Now()}
		select {
		case s.in <- input{kind: inClientNew, client: c}:
		case <-n.quit:
			conn.Close()
			return
		}
		c.sq.attach(conn)
		go s.write(c)
		go s.read(c)
	}
}

// enqueue queues a frame; a client whose queue is full is too slow and is
// dropped, so that it never slows the node.
func (c *clientConn) enqueue(b []byte) bool {
	err := c.sq.push(b)
	if errors.Is(err, errQueueFull) {
		c.kill()
	}
	return err == nil
}

// maxQueueBytes bounds what waits for one client.
const maxQueueBytes = 4 << 20

func (c *clientConn) send(m wire.Message) bool {
	b, err := wire.AppendFrame(nil, m)
	if err != nil {
		return false
	}
	return c.enqueue(b)
}

// closeAfter sends what is queued, then closes.
func (c *clientConn) closeAfter() { c.sq.closeAfter() }

func (c *clientConn) kill() {
	c.once.Do(func() {
		close(c.gone)
		c.conn.Close()
	})
}

func (s *service) write(c *clientConn) {
	defer c.kill()
	_ = c.sq.writer(c.conn, c.gone, writeTimeout)
}

func (s *service) read(c *clientConn) {
	n := s.n
	defer func() {
		s.strangers.done(c.conn)
		c.kill()
		s.counted(s.count.Add(-1))
		select {
		case s.in <- input{kind: inClientGone, client: c}:
		case <-n.quit:
		}
	}()
	// Until its Hello (before it: a Status or a Ping, all small) a stranger
	// gets no more than preHelloFrame bytes of buffer.
	r := wire.NewReader(c.conn, preHelloFrame)
	deadline := helloTimeout
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(deadline))
		m, err := r.ReadMessage(wire.ClientLimits)
		if err != nil {
			if code := wire.CodeOf(err); code != 0 {
				n.limited.warn(n.log, "client-frame", "bad frame from a client: closing", "client", c.conn.RemoteAddr().String(), "error", err)
				c.send(&wire.Error{Code: code, Text: err.Error()})
				c.closeAfter()
				<-c.gone
			}
			return
		}
		deadline = idleTimeout
		if _, ok := m.(*wire.Hello); ok {
			r.SetMaxFrame(wire.ClientLimits.MaxFrame)
			s.strangers.done(c.conn)
		}
		switch m := m.(type) {
		case *wire.Ping:
			c.send(&wire.Pong{Nonce: m.Nonce, Time: m.Time})
			continue
		}
		select {
		case s.in <- input{kind: inClient, client: c, msg: m}:
		case <-c.gone:
			return
		case <-n.quit:
			return
		}
	}
}

func (s *service) closeAll() {
	for _, c := range s.clients {
		c.send(&wire.Error{Code: wire.ErrShutdown, Text: "node shutting down"})
		c.closeAfter()
	}
}

func (s *service) handle(in input) {
	c := in.client
	switch in.kind {
	case inClientNew:
		s.clients[c.id] = c
	case inClientGone:
		s.gone(c)
	case inClient:
		if _, ok := s.clients[c.id]; !ok {
			return
		}
		s.message(c, in.msg)
	}
}

func (s *service) gone(c *clientConn) {
	delete(s.clients, c.id)
	s.leaveRoom(c)
	if c.session != 0 && s.bySession[c.session] == c {
		delete(s.bySession, c.session)
		if s.n.core.Serving() {
			_, _ = s.n.core.Propose(0, 0, game.Disconnect{Session: c.session})
		}
	}
}

func (s *service) fail(c *clientConn, code wire.ErrCode, format string, args ...any) {
	c.send(&wire.Error{Code: code, Text: fmt.Sprintf(format, args...)})
	c.closeAfter()
}

// redirect tells the client where the primary is, and closes.
func (s *service) redirect(c *clientConn) {
	n := s.n
	leader := n.core.Leader()
	r := s.noPrimary()
	if leader != 0 && leader != n.ID() && n.core.Alive(leader) {
		r.Leader, r.Addr, r.Up, r.Need = leader, n.addrOf(leader), 0, 0
	}
	c.send(r)
	c.closeAfter()
}

// noPrimary is the redirect that says no primary is known just now: the
// client retries, and is told if too few voters are up for one.
func (s *service) noPrimary() *wire.Redirect {
	up, need := s.n.core.ShortOfVoters()
	return &wire.Redirect{Epoch: s.n.core.Epoch(), Up: uint8(min(up, 255)), Need: uint8(min(need, 255))}
}

var playerCommands = map[game.CmdKind]bool{
	game.CmdPlace: true, game.CmdClaim: true, game.CmdRelease: true, game.CmdChat: true,
	game.CmdCreateRoom: true, game.CmdJoinRoom: true, game.CmdLeaveRoom: true, game.CmdCloseSession: true,
	game.CmdNote: true, game.CmdClearNotes: true,
}

func (s *service) message(c *clientConn, m wire.Message) {
	n := s.n
	switch m := m.(type) {
	case *wire.Status:
		v := n.View()
		reachableAddrs(&v, c.conn.LocalAddr())
		c.send(&v)
		c.watchViews = true
	case *wire.Hello:
		if c.helloSent {
			s.fail(c, wire.ErrUnexpected, "hello twice")
			return
		}
		c.helloSent = true
		if err := wire.CheckVersion(m.Version); err != nil {
			s.fail(c, wire.ErrBadVersion, "%v", err)
			return
		}
		if len(m.Token) < 16 {
			s.fail(c, wire.ErrSession, "a session token of at least 16 characters is required")
			return
		}
		if !n.core.Serving() {
			s.redirect(c)
			return
		}
		c.token = m.Token
		if _, err := n.core.Propose(0, 0, game.OpenSession{Name: m.Name, Token: m.Token, Watch: m.Watch}); err != nil {
			s.redirect(c)
			return
		}
		s.opening[m.Token] = append(s.opening[m.Token], c)
	case *wire.Command:
		if !c.hello {
			s.fail(c, wire.ErrUnexpected, "send hello first")
			return
		}
		if m.Cmd == nil || !playerCommands[m.Cmd.Kind()] {
			s.fail(c, wire.ErrUnexpected, "not a player command")
			return
		}
		if cr, ok := m.Cmd.(game.CreateRoom); ok && cr.Dealt != nil {
			s.fail(c, wire.ErrUnexpected, "a player does not deal puzzles")
			return
		}
		if !c.allow(n.opts.RateLimit, float64(n.opts.Burst)) {
			c.send(&wire.Error{Code: wire.ErrRateLimited, Text: fmt.Sprintf("more than %.0f commands a second: slow down", n.opts.RateLimit)})
			return
		}
		if len(c.held) > 0 {
			c.held = append(c.held, m) // in order, behind a room's puzzle
			return
		}
		s.propose(c, m, false)
	case *wire.Query:
		if !c.hello {
			s.fail(c, wire.ErrUnexpected, "send hello first")
			return
		}
		// A checked read: answered once this node has confirmed that it
		// still leads (answerReads).
		id := s.nextRead
		s.nextRead++
		switch err := n.core.Read(id); {
		case errors.Is(err, replica.ErrNoQuorum):
			c.send(s.noPrimary()) // no primary just now: retry
		case err != nil:
			s.redirect(c)
		default:
			s.reads[id] = pendingRead{c: c, q: *m}
		}
	default:
		s.fail(c, wire.ErrUnexpected, "a client does not send %s", m.Type())
	}
}

// propose proposes a player's command, and reports false if it is held
// until the puzzle of the room it creates is made.
func (s *service) propose(c *clientConn, m *wire.Command, dealing bool) bool {
	n := s.n
	if cr, ok := m.Cmd.(game.CreateRoom); ok && !s.deal(c, m, cr, dealing) {
		return false
	}
	p, err := n.core.Propose(c.session, m.Seq, m.Cmd)
	if _, ok := m.Cmd.(game.CreateRoom); ok && err == nil && !p.Done {
		s.creating = append(s.creating, proposedAt{n.core.Epoch(), p.Index})
	}
	switch {
	case errors.Is(err, replica.ErrNoQuorum):
		c.send(s.noPrimary()) // no primary just now: retry
	case err != nil:
		s.redirect(c)
	case p.Done:
		c.acks = append(c.acks, ackOf(m.Seq, 0, p.Result))
		s.touch(c)
		s.flush()
	default:
		s.waiting[dedupeKey{c.session, m.Seq}] = c
	}
	return true
}

// pendingRead is a query waiting for its read to be checked.
type pendingRead struct {
	c *clientConn
	q wire.Query
}

// answerReads answers the queries whose reads the core has checked (or
// sends their clients to the primary, if this node no longer leads).
func (s *service) answerReads(rs []replica.ReadResult) {
	st := s.n.core.State()
	for _, r := range rs {
		p, ok := s.reads[r.ID]
		delete(s.reads, r.ID)
		if !ok || s.clients[p.c.id] != p.c {
			continue // the client is gone
		}
		if !r.OK {
			s.redirect(p.c)
			continue
		}
		rep := &wire.QueryReply{Seq: p.q.Seq}
		switch p.q.Kind {
		case wire.QueryRooms:
			rep.Rooms = st.Rooms()
		case wire.QueryWho:
			room := p.q.Room
			if room == "" {
				room = p.c.room
			}
			if v, ok := st.RoomView(room); ok {
				rep.Members = v.Members
			}
		}
		p.c.send(rep)
	}
}

func (c *clientConn) allow(rate, burst float64) bool {
	now := time.Now()
	c.tokens = min(burst, c.tokens+now.Sub(c.refill).Seconds()*rate)
	c.refill = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

func ackOf(seq, index uint64, r game.Result) *wire.Ack {
	a := &wire.Ack{Seq: seq, Index: index, Points: r.Points}
	if r.Err != nil {
		a.Code, a.Who, a.Room = r.Err.Code, r.Err.Who, r.Err.Room
	}
	return a
}

// dedupeKey names a player's command: its session and sequence number.
type dedupeKey struct {
	session game.SessionID
	seq     uint64
}
