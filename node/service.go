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
// client. A node that does not serve answers with REDIRECT. Bad input gets
// an ERROR frame before the connection closes.

const (
	helloTimeout = 10 * time.Second
	idleTimeout  = 60 * time.Second
	writeTimeout = 5 * time.Second
)

type service struct {
	n     *Node
	count atomic.Int64
	next  atomic.Uint64

	// owned by the node's goroutine
	clients   map[uint64]*clientConn
	opening   map[string][]*clientConn
	waiting   map[dedupeKey]*clientConn
	bySession map[game.SessionID]*clientConn
	byRoom    map[string]map[*clientConn]struct{}
	touched   []*clientConn
	later     []*clientConn // clients whose events wait for the next push
	laterAt   time.Time     // when the oldest of them started waiting
	now       []*clientConn // clients to send to now
	pushes    []*clientConn // clients whose push is due
	serving   bool
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
	room       string
	tokens     float64
	refill     time.Time
	welcome    bool // send WELCOME at the end of the batch
	roomState  bool // send the whole room at the end of the batch
	events     []game.Event
	acks       []*wire.Ack
	inBatch    bool
	isLater    bool // in service.later or service.pushes
	isNow      bool // in service.now
	watchViews bool
}

func newService(n *Node) *service {
	return &service{
		n:         n,
		clients:   map[uint64]*clientConn{},
		opening:   map[string][]*clientConn{},
		waiting:   map[dedupeKey]*clientConn{},
		bySession: map[game.SessionID]*clientConn{},
		byRoom:    map[string]map[*clientConn]struct{}{},
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
		s.count.Add(1)
		c := &clientConn{id: s.next.Add(1), conn: conn, sq: newSendQueue(n.opts.SendQueue, maxQueueBytes), gone: make(chan struct{}),
			tokens: float64(n.opts.Burst), refill: time.Now()}
		select {
		case n.inbox <- input{kind: inClientNew, client: c}:
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
		c.kill()
		s.count.Add(-1)
		select {
		case n.inbox <- input{kind: inClientGone, client: c}:
		case <-n.quit:
		}
	}()
	r := wire.NewReader(c.conn, wire.ClientLimits.MaxFrame)
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
		switch m := m.(type) {
		case *wire.Ping:
			c.send(&wire.Pong{Nonce: m.Nonce, Time: m.Time})
			continue
		}
		select {
		case n.inbox <- input{kind: inClient, client: c, msg: m}:
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
	r := &wire.Redirect{Epoch: n.core.Epoch()}
	if leader != 0 && leader != n.ID() && n.core.Alive(leader) {
		r.Leader = leader
		r.Addr = n.addrOf(leader)
	}
	c.send(r)
	c.closeAfter()
}

var playerCommands = map[game.CmdKind]bool{
	game.CmdPlace: true, game.CmdClaim: true, game.CmdRelease: true, game.CmdChat: true,
	game.CmdCreateRoom: true, game.CmdJoinRoom: true, game.CmdLeaveRoom: true, game.CmdCloseSession: true,
}

func (s *service) message(c *clientConn, m wire.Message) {
	n := s.n
	switch m := m.(type) {
	case *wire.Status:
		v := n.View()
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
		if _, err := n.core.Propose(0, 0, game.OpenSession{Name: m.Name, Token: m.Token}); err != nil {
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
		if !c.allow(n.opts.RateLimit, float64(n.opts.Burst)) {
			c.send(&wire.Error{Code: wire.ErrRateLimited, Text: fmt.Sprintf("more than %.0f commands a second: slow down", n.opts.RateLimit)})
			return
		}
		p, err := n.core.Propose(c.session, m.Seq, m.Cmd)
		switch {
		case errors.Is(err, replica.ErrNoQuorum):
			c.send(&wire.Redirect{Epoch: n.core.Epoch()}) // no primary just now: retry
			return
		case err != nil:
			s.redirect(c)
			return
		case p.Done:
			c.acks = append(c.acks, ackOf(m.Seq, 0, p.Result))
			s.touch(c)
			s.flush()
			return
		}
		s.waiting[dedupeKey{c.session, m.Seq}] = c
	case *wire.Query:
		if !c.hello {
			s.fail(c, wire.ErrUnexpected, "send hello first")
			return
		}
		rep := &wire.QueryReply{Seq: m.Seq}
		st := n.core.State()
		switch m.Kind {
		case wire.QueryRooms:
			rep.Rooms = st.Rooms()
		case wire.QueryWho:
			room := m.Room
			if room == "" {
				room = c.room
			}
			if v, ok := st.RoomView(room); ok {
				rep.Members = v.Members
			}
		}
		c.send(rep)
	default:
		s.fail(c, wire.ErrUnexpected, "a client does not send %s", m.Type())
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

func (s *service) touch(c *clientConn) {
	if !c.inBatch {
		c.inBatch = true
		s.touched = append(s.touched, c)
	}
}

func (s *service) joinRoom(c *clientConn, room string) {
	s.leaveRoom(c)
	c.room = room
	m := s.byRoom[room]
	if m == nil {
		m = map[*clientConn]struct{}{}
		s.byRoom[room] = m
	}
	m[c] = struct{}{}
}

func (s *service) leaveRoom(c *clientConn) {
	if m := s.byRoom[c.room]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.byRoom, c.room)
		}
	}
}

// committed answers and pushes what the core committed.
func (s *service) committed(rd replica.Ready) {
	n := s.n
	serving := n.core.Role() == wire.RolePrimary
	if s.serving && !serving {
		// No longer primary: every player goes to the new one.
		for _, c := range s.clients {
			if c.helloSent {
				s.redirect(c)
			}
		}
		clear(s.opening)
		clear(s.waiting)
		for _, q := range [][]*clientConn{s.later, s.now, s.pushes} {
			for _, c := range q {
				c.isLater, c.isNow, c.events, c.acks = false, false, nil, nil
			}
		}
		s.later, s.now, s.pushes = s.later[:0], s.now[:0], s.pushes[:0]
	}
	s.serving = serving
	if !serving {
		return
	}
	st := n.core.State()
	for i := range rd.Committed {
		a := &rd.Committed[i]
		if o, ok := a.Entry.Cmd.(game.OpenSession); ok {
			for _, c := range s.opening[o.Token] {
				s.opened(c, a.Result)
			}
			delete(s.opening, o.Token)
		} else if a.Entry.Session != 0 {
			k := dedupeKey{a.Entry.Session, a.Entry.Seq}
			if c := s.waiting[k]; c != nil {
				delete(s.waiting, k)
				c.acks = append(c.acks, ackOf(a.Entry.Seq, a.Index, a.Result))
				s.touch(c)
			}
		}
		for _, ev := range a.Events {
			s.route(ev, st)
		}
	}
	s.flush()
}

func (s *service) opened(c *clientConn, r game.Result) {
	if r.Err != nil {
		s.fail(c, wire.ErrSession, "%s", r.Err.Error())
		return
	}
	sv, ok := s.n.core.State().Session(r.Session)
	if !ok {
		s.fail(c, wire.ErrSession, "session vanished")
		return
	}
	if old := s.bySession[r.Session]; old != nil && old != c {
		old.send(&wire.Error{Code: wire.ErrSession, Text: "session resumed on another connection"})
		old.closeAfter()
		old.session = 0
		s.leaveRoom(old)
	}
	c.hello = true
	c.session = r.Session
	c.name = sv.Name
	s.bySession[r.Session] = c
	s.joinRoom(c, sv.Room)
	c.welcome = true
	c.events = c.events[:0]
	s.touch(c)
}

// route gives an event to the clients it concerns.
func (s *service) route(ev game.Event, st *game.State) {
	if ev.Kind == game.EvViewChange {
		for _, c := range s.clients {
			if c.hello {
				s.give(c, ev)
			}
		}
		return
	}
	if ev.Session != 0 {
		if c := s.bySession[ev.Session]; c != nil {
			if ev.Kind == game.EvJoined && ev.Room != c.room {
				// The player moved: the new room goes out whole at the
				// end of the batch; first what it saw of the old one.
				s.joinRoom(c, ev.Room)
				c.roomState = true
				s.touch(c)
			}
			if ev.Room != c.room {
				s.give(c, ev)
			}
		}
	}
	for c := range s.byRoom[ev.Room] {
		s.give(c, ev)
	}
}

func (s *service) give(c *clientConn, ev game.Event) {
	if c.welcome || c.roomState {
		if ev.Room == c.room {
			return // the whole room goes out at the end of the batch
		}
	}
	c.events = append(c.events, ev)
	s.touch(c)
}

// Sending. Answers, welcomes and rooms go out at once; other players'
// events are batched: a client with no answer waiting gets them at most
// pushDelay late, with whatever else came meanwhile, in one write (or with
// its next answer). The node's loop sends for at most sendBudget at a time,
// answers first, so that a burst of fan-out to many clients never stalls
// it.
const (
	pushDelay     = 50 * time.Millisecond
	pushMaxEvents = 256 // sooner, when this many wait
	sendBudget    = 5 * time.Millisecond
)

// flush queues each touched client: to send now (it has an answer, a
// welcome or a room waiting, or many events), or with the next push.
func (s *service) flush() {
	for _, c := range s.touched {
		c.inBatch = false
		if c.welcome || c.roomState || len(c.acks) > 0 || len(c.events) >= pushMaxEvents {
			if !c.isNow {
				c.isNow = true
				s.now = append(s.now, c)
			}
			continue
		}
		if !c.isLater {
			c.isLater = true
			if len(s.later) == 0 {
				s.laterAt = time.Now()
			}
			s.later = append(s.later, c)
		}
	}
	s.touched = s.touched[:0]
}

// pushLater moves the clients whose events waited pushDelay to the queue
// of pushes.
func (s *service) pushLater(now time.Time) {
	if len(s.later) == 0 || now.Sub(s.laterAt) < pushDelay {
		return
	}
	s.pushes = append(s.pushes, s.later...)
	clear(s.later)
	s.later = s.later[:0]
}

// sending reports whether sends wait.
func (s *service) sending() bool { return len(s.now) > 0 || len(s.pushes) > 0 }

// send sends what waits, answers first, for about sendBudget.
func (s *service) send() {
	if !s.sending() {
		return
	}
	start := time.Now()
	rooms := map[string]*game.RoomView{}
	k := 0
	for ; k < len(s.now); k++ {
		if k%16 == 15 && time.Since(start) > sendBudget {
			break
		}
		s.sendBatch(s.now[k], rooms)
	}
	s.now = shift(s.now, k)
	if len(s.now) > 0 {
		return
	}
	k = 0
	for ; k < len(s.pushes); k++ {
		if k%16 == 15 && time.Since(start) > sendBudget {
			break
		}
		if c := s.pushes[k]; c.isLater {
			s.sendBatch(c, rooms)
		}
	}
	s.pushes = shift(s.pushes, k)
}

// shift drops the first k clients of q.
func shift(q []*clientConn, k int) []*clientConn {
	if k == len(q) {
		clear(q)
		return q[:0]
	}
	n := copy(q, q[k:])
	clear(q[n:])
	return q[:n]
}

// sendBatch sends a client what waits for it in one write. rooms caches
// room views for the call's duration.
func (s *service) sendBatch(c *clientConn, rooms map[string]*game.RoomView) {
	n := s.n
	c.isLater, c.isNow = false, false
	st := n.core.State()
	applied := n.core.Applied()
	room := func() game.RoomView {
		rv := rooms[c.room]
		if rv == nil {
			v, _ := st.RoomView(c.room)
			rv = &v
			rooms[c.room] = rv
		}
		return *rv
	}
	var buf []byte
	add := func(m wire.Message) {
		if b, err := wire.AppendFrame(buf, m); err == nil {
			buf = b
		} else {
			n.log.Error("frame not sent", "type", m.Type(), "error", err)
		}
	}
	if c.welcome {
		c.welcome, c.roomState = false, false
		v := n.View()
		add(&wire.Welcome{Node: n.ID(), Epoch: n.core.Epoch(), Session: c.session, Name: c.name, Token: c.token, Index: applied, Room: room(), View: v})
		c.events = c.events[:0]
	}
	if len(c.events) > 0 {
		add(&wire.Events{Index: applied, Events: c.events})
		clear(c.events)
		c.events = c.events[:0]
		if cap(c.events) > 64 {
			c.events = nil
		}
	}
	if c.roomState {
		c.roomState = false
		add(&wire.RoomState{Index: applied, Room: room()})
	}
	for _, a := range c.acks {
		add(a)
	}
	clear(c.acks)
	c.acks = c.acks[:0]
	if len(buf) > 0 {
		c.enqueue(buf)
	}
}

// viewChanged pushes a new cluster view to every player and status watcher.
func (s *service) viewChanged(v wire.ClusterView) {
	b, err := wire.AppendFrame(nil, &v)
	if err != nil {
		return
	}
	for _, c := range s.clients {
		if c.hello || c.watchViews {
			c.enqueue(b)
		}
	}
}

// dedupeKey names a player's command: its session and sequence number.
type dedupeKey struct {
	session game.SessionID
	seq     uint64
}
