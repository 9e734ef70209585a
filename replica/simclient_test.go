package replica

import (
	"fmt"
	"math"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// simPlayer is a player: the real client's Core, driven as the client's
// runtime drives it, over the simulated network (every other player's app
// embeds a node, whose view its client follows), and on top of it a small
// app that makes one move at a time from the room as its client shows it
// and watches what the client tells it (answers, the room's chat, its
// session). The client finds the primary, resends, resumes and moves on
// its own, as it does in the app.
type simPlayer struct {
	s     *sim
	idx   int
	name  string
	token string
	core  *client.Core
	conns map[client.ConnID]*simConn
	pin   wire.NodeID // scenarios: dials to other nodes are refused
	// local is the node its app embeds (play mode; nil: it joins from
	// outside): the client follows that node's view.
	local     *simNode
	localView wire.ClusterView
	due       int64 // the client's deadline, as of the last drive

	op          *simOp // the command waiting for its answer
	next        int64  // when the app acts next
	stop        bool   // heal phase: finish what is in flight, start nothing new
	quitting    bool   // it closes its session next, and stops playing
	quit        bool   // its session is closed: the app has quit
	ops         int
	pendingJoin string
	session     game.SessionID
	placedIn    string            // the room the answered placement's own event named
	lastLine    map[string]uint64 // last chat line shown, per room
	chatRoom    string            // the room whose lines it receives
}

type simOp struct {
	seq  uint64
	wire uint64 // the number the cluster knows it by (client.Ack.Wire), once answered
	cmd  game.Command
	room string // the player's room as its client showed it
}

// simAnswer is a command's answer as the checks need it.
type simAnswer struct {
	result     game.Result
	index      uint64
	entryEpoch wire.Epoch // the committed entry's epoch (0: not known)
	node       wire.NodeID
	placedIn   string // the room the placement's event named ("": none seen)
	notSent    bool   // the client answered it, not the cluster
}

const never = math.MaxInt64

func newSimPlayer(s *sim, i int) *simPlayer {
	hb := s.config(1).Heartbeat
	addrs := make([]string, len(s.nodes))
	for k, j := range s.rng.Perm(len(s.nodes)) {
		addrs[k] = simAddr(wire.NodeID(j + 1))
	}
	p := &simPlayer{
		s:        s,
		idx:      i,
		name:     fmt.Sprintf("p%d", i),
		token:    fmt.Sprintf("token-%d-%016x", i, s.rng.Uint64()),
		conns:    map[client.ConnID]*simConn{},
		next:     never,
		lastLine: map[string]uint64{},
	}
	if i%2 == 0 {
		p.local = s.nodes[i%len(s.nodes)]
	}
	// The client's timings, scaled as the cluster's are (the defaults are
	// for a 100 ms heartbeat).
	p.core = client.NewCore(client.Config{
		Name: p.name, Token: p.token, Addrs: addrs, Local: p.local != nil, NoRoomCopies: true,
		PingEvery: 10 * hb, StallAfter: 5 * hb / 2, DeadAfter: 50 * hb, HelloTimeout: 20 * hb,
	}, time.Unix(0, s.now+int64(s.rng.IntN(20))*int64(time.Millisecond)))
	p.drive()
	return p
}

// wake is when the player next needs a step.
func (p *simPlayer) wake() int64 {
	if p.quit {
		return never
	}
	return min(p.next, p.due)
}

func (p *simPlayer) step() {
	s := p.s
	if p.due <= s.now {
		p.core.Tick(time.Unix(0, s.now))
	}
	if p.next <= s.now {
		p.next = never
		p.act()
	}
	p.drive()
}

// drive carries out what the client asks, as its runtime does, and hands
// its events to the app.
func (p *simPlayer) drive() {
	s := p.s
	rd := p.core.Ready()
	if p.quit {
		p.due = never
		return
	}
	for _, l := range rd.Logs {
		s.clientLogs[l.Msg]++
		s.logf("%s: %s %v", p.name, l.Msg, l.Args)
	}
	for _, d := range rd.Dials {
		s.dial(p, d)
	}
	for _, m := range rd.Sends {
		s.playerSend(p, m.Conn, m.Msg)
	}
	for _, id := range rd.Closes {
		s.playerClose(p, id)
	}
	for _, e := range rd.Events {
		p.event(e)
	}
	p.due = never
	if d := p.core.Deadline(); !d.IsZero() {
		p.due = d.UnixNano()
	}
}

// act sends the app's next command.
func (p *simPlayer) act() {
	s := p.s
	if p.op != nil || p.stop && !p.quitting || p.quit {
		return
	}
	room, _, ok := p.core.Room()
	if !ok {
		return // no room yet: it acts after the welcome
	}
	op := p.nextCommand(room)
	if p.quitting {
		op = &simOp{cmd: game.CloseSession{}}
	}
	op.room = room.Name
	p.placedIn = ""
	op.seq = p.core.Send(time.Unix(0, s.now), op.cmd)
	p.op = op
	p.ops++
	s.check.invoke(p, op)
}

func (p *simPlayer) event(e client.Event) {
	k := p.s.check
	switch e := e.(type) {
	case client.StatusChanged:
		if st := e.Status; st.State == client.Connected {
			if p.session != 0 && p.session != st.Session {
				k.resumeMismatch(p, st.Session)
			}
			p.session = st.Session
		}
	case client.RoomChanged:
		// The room as the event left it: one input brings one room event.
		room, _, _ := p.core.Room()
		p.onRoom(room, e.Events, e.Replaced)
		if p.op == nil && p.next == never {
			p.next = p.s.now
		}
	case client.Answered:
		if p.op != nil && e.Ack.Seq == p.op.seq {
			p.answered(&e.Ack, e.Status)
		}
	case client.Refused:
		k.fail("client %s: refused: %v", p.name, e.Err)
	case client.Undone:
		// The client found on resuming that an answer no longer holds:
		// the player is told, as a Rollback entry would tell them.
		k.undone[keyOf(game.RolledBack{Name: p.name, Seq: wireOf(e.Ack)})] = true
	}
}

// answered completes the command in flight.
func (p *simPlayer) answered(a *client.Ack, st client.Status) {
	s := p.s
	op := p.op
	p.op = nil
	p.next = s.now + int64(1+s.rng.IntN(6))*int64(time.Millisecond)
	if a.Result.Err != nil && a.Result.Err.Code == game.ErrRoomExists {
		if cmd, ok := op.cmd.(game.CreateRoom); ok {
			p.pendingJoin = cmd.Name
		}
	}
	if _, ok := op.cmd.(game.CloseSession); ok && a.Result.Err == nil {
		p.quitApp()
	}
	op.wire = wireOf(*a)
	ans := &simAnswer{result: a.Result, index: a.Index, node: st.Node, placedIn: p.placedIn, notSent: a.NotSent}
	if a.Index > 0 && a.Index < uint64(len(s.check.committed)) {
		if ce := s.check.committed[a.Index]; ce.session == st.Session && ce.seq == op.wire {
			ans.entryEpoch = ce.epoch
		}
	}
	s.check.complete(p, op, ans)
}

// wireOf is the number the cluster knew an answered command by.
func wireOf(a client.Ack) uint64 {
	if a.Wire == 0 {
		return a.Seq // not sent: no number of the cluster's
	}
	return a.Wire
}

// quitApp: the session is closed; the app closes its connections and
// ends.
func (p *simPlayer) quitApp() {
	p.quit, p.quitting, p.stop = true, false, true
	p.next = never
	p.s.logf("%s: quit", p.name)
	for _, id := range sortedKeys(p.conns) {
		p.s.playerClose(p, id)
	}
}

// nextCommand picks a player's next move from its room.
func (p *simPlayer) nextCommand(view *game.RoomView) *simOp {
	s := p.s
	if p.pendingJoin != "" {
		name := p.pendingJoin
		p.pendingJoin = ""
		return &simOp{cmd: game.JoinRoom{Name: name}}
	}
	if p.ops < 3 && p.idx%2 == 1 && view.Name == "main" {
		return &simOp{cmd: game.CreateRoom{Name: "side", Size: 6, Difficulty: game.Medium}}
	}
	sol := s.check.solution(view)
	r := s.rng.IntN(100)
	switch {
	case r < 50 && sol != nil:
		var empty []int
		for i, cell := range view.Board {
			if cell.Digit == 0 {
				empty = append(empty, i)
			}
		}
		size := int(view.Puzzle.Size)
		if len(empty) == 0 {
			break
		}
		i := empty[s.rng.IntN(len(empty))]
		d := sol[i]
		if s.rng.IntN(3) == 0 {
			d = uint8(1 + (int(d)+s.rng.IntN(size-1))%size)
		}
		return &simOp{cmd: game.Place{Row: uint8(i / size), Col: uint8(i % size), Digit: d}}
	case r < 65 && sol != nil:
		size := int(view.Puzzle.Size)
		i := s.rng.IntN(size * size)
		return &simOp{cmd: game.Claim{Row: uint8(i / size), Col: uint8(i % size)}}
	case r < 68:
		return &simOp{cmd: game.Release{}}
	}
	return &simOp{cmd: game.Chat{Text: fmt.Sprintf("%s line %d", p.name, p.ops+1)}}
}
