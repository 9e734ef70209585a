package replica

import (
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// simClient is a player as the client library behaves: one command in
// flight, resent with the same sequence number to whichever node it
// believes primary until answered, session resumed by token on every new
// primary before the command is resent.
type simClient struct {
	s            *sim
	idx          int
	name         string
	token        string
	session      game.SessionID
	seq          uint64
	room         string
	target       wire.NodeID
	resumed      wire.NodeID // the node it last opened/resumed its session on
	resumedEpoch wire.Epoch  // that node's epoch then

	op          *simOp // the command waiting for its answer
	cur         *simOp // what is on the wire: op, or a resume before it
	wake        int64
	stop        bool // heal phase: finish what is in flight, start nothing new
	ops         int
	pendingJoin string
	pinned      wire.NodeID       // scenarios: talk to this node only
	lastLine    map[string]uint64 // last chat line shown, per room
	chatRoom    string            // the room whose lines it receives
}

type simOp struct {
	seq      uint64
	cmd      game.Command
	lastSent int64
	room     string
	open     bool // an OpenSession (resume)
}

func newSimClient(s *sim, i int) *simClient {
	c := &simClient{
		s:      s,
		idx:    i,
		name:   fmt.Sprintf("p%d", i),
		token:  fmt.Sprintf("token-%d-%016x", i, s.rng.Uint64()),
		room:   "main",
		target: s.randomNode(),
		wake:   s.now + int64(s.rng.IntN(20))*int64(time.Millisecond),
	}
	return c
}

func (c *simClient) retryAfter() int64 { return 3 * int64(c.s.config(1).Heartbeat) }

func (c *simClient) step() {
	s := c.s
	if c.cur != nil {
		if s.now-c.cur.lastSent >= c.retryAfter() {
			// No answer: try another node (resuming there first).
			c.target = s.randomNode()
			if c.pinned != 0 {
				c.target = c.pinned
			}
			c.cur = nil
			c.wake = s.now
			c.step()
			return
		}
		c.wake = c.cur.lastSent + c.retryAfter()
		return
	}
	if c.session == 0 || c.resumed != c.target {
		c.cur = &simOp{cmd: game.OpenSession{Name: c.name, Token: c.token}, open: true}
		c.send()
		return
	}
	if c.op == nil {
		if c.stop {
			c.wake = s.now + int64(time.Hour)
			return
		}
		op := c.nextCommand()
		c.seq++
		op.seq = c.seq
		op.room = c.room
		c.op = op
		c.ops++
		s.check.invoke(c, op)
	}
	c.cur = c.op
	c.send()
}

func (c *simClient) send() {
	op := c.cur
	op.lastSent = c.s.now
	c.wake = c.s.now + c.retryAfter()
	if op.open {
		c.s.clientSend(c, c.target, &clientReq{client: c.idx, cmd: op.cmd})
		return
	}
	c.s.clientSend(c, c.target, &clientReq{client: c.idx, session: c.session, seq: op.seq, cmd: op.cmd, epoch: c.resumedEpoch})
}

func (c *simClient) onReply(r *clientRep) {
	if r.chatRoom != "" && (!r.chatSnap || r.result.Session == 0) {
		// A line pushed, or a room's lines after a move: not an answer.
		c.onChat(r)
		return
	}
	cur := c.cur
	if cur == nil || (!cur.open && r.seq != cur.seq) || (cur.open && r.seq != 0) {
		return // a late answer to an earlier attempt
	}
	c.cur = nil
	c.wake = c.s.now
	if r.redirect {
		if r.rehello {
			c.resumed = 0
			return
		}
		if c.pinned != 0 {
			c.wake = c.s.now + c.retryAfter()/3
			return
		}
		if r.leader != 0 && r.leader != c.target {
			c.target = r.leader
		} else {
			c.target = c.s.randomNode()
			c.wake = c.s.now + c.retryAfter()/3
		}
		return
	}
	if cur.open {
		if r.result.Err != nil {
			c.s.check.fail("client %s: resume refused: %v", c.name, r.result.Err)
			return
		}
		if c.session != 0 && c.session != r.result.Session {
			c.s.check.resumeMismatch(c, r)
		}
		c.session = r.result.Session
		c.resumed = r.node
		c.resumedEpoch = r.epoch
		if r.chatSnap {
			c.onChat(r)
		}
		return
	}
	op := c.op
	c.op = nil
	c.wake = c.s.now + int64(1+c.s.rng.IntN(6))*int64(time.Millisecond)
	if r.result.Err == nil {
		switch cmd := op.cmd.(type) {
		case game.CreateRoom:
			c.room = cmd.Name
		case game.JoinRoom:
			c.room = cmd.Name
		case game.LeaveRoom:
			c.room = "main"
		}
	} else if r.result.Err.Code == game.ErrRoomExists {
		if cmd, ok := op.cmd.(game.CreateRoom); ok {
			c.pendingJoin = cmd.Name
		}
	}
	c.s.check.complete(c, op, r)
}

// nextCommand picks a player's next move from the room as the node it talks
// to sees it.
func (c *simClient) nextCommand() *simOp {
	s := c.s
	if c.pendingJoin != "" {
		name := c.pendingJoin
		c.pendingJoin = ""
		return &simOp{cmd: game.JoinRoom{Name: name}}
	}
	if c.ops < 3 && c.idx%2 == 1 && c.room == "main" {
		return &simOp{cmd: game.CreateRoom{Name: "side", Size: 6, Difficulty: game.Medium}}
	}
	view, sol := s.check.roomAt(c.target, c.room)
	r := s.rng.IntN(100)
	switch {
	case r < 50 && view != nil:
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
	case r < 65 && view != nil:
		size := int(view.Puzzle.Size)
		i := s.rng.IntN(size * size)
		return &simOp{cmd: game.Claim{Row: uint8(i / size), Col: uint8(i % size)}}
	case r < 68:
		return &simOp{cmd: game.Release{}}
	}
	return &simOp{cmd: game.Chat{Text: fmt.Sprintf("%s line %d", c.name, c.seq+1)}}
}
