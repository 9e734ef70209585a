package client

import (
	"strings"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Checking on resume. Without a quorum the cluster may roll back a command
// it acknowledged (the losing side of a partition, or a primary that
// restarted empty); the cluster announces each rollback, but a client that
// was reconnecting may not hear it. So the client keeps what it was told,
// and when it resumes its session it checks every answer against the
// outcomes the session remembers (Welcome.Done): an answer that is not
// there any more, and whose rollback it did not hear of, is reported as
// Undone. No rollback passes unannounced.

// maxAcks bounds the answers kept for the check (the cluster remembers at
// most game.DedupeWindowCap commands per session).
const maxAcks = game.DedupeWindowCap

type ackRecord struct {
	ack       Ack
	announced bool // a rollback event named it
}

// remember keeps an answer for the check.
func (c *Core) remember(a Ack) {
	if c.acksSession != c.session {
		c.acks, c.acksSession = nil, c.session
	}
	c.acks = append(c.acks, ackRecord{ack: a})
	if len(c.acks) > maxAcks {
		// O(1); append copies the kept answers once per maxAcks.
		clear(c.acks[:len(c.acks)-maxAcks])
		c.acks = c.acks[len(c.acks)-maxAcks:]
	}
}

// heardRollbacks marks the answers whose rollback an event announced.
func (c *Core) heardRollbacks(evs []game.Event) {
	for _, e := range evs {
		if e.Kind != game.EvRollback || !strings.EqualFold(e.Name, c.status.Name) {
			continue
		}
		for i := range c.acks {
			if sameCommand(e, c.acks[i].ack.Cmd) {
				c.acks[i].announced = true
			}
		}
	}
}

// sameCommand reports whether a rollback event describes cmd.
func sameCommand(e game.Event, cmd game.Command) bool {
	if e.Cmd != cmd.Kind() {
		return false
	}
	switch cmd := cmd.(type) {
	case game.Place:
		return e.Row == cmd.Row && e.Col == cmd.Col && e.Digit == cmd.Digit
	case game.Claim:
		return e.Row == cmd.Row && e.Col == cmd.Col
	case game.Chat:
		return e.Text == cmd.Text
	case game.CreateRoom:
		return e.Text == cmd.Name
	case game.JoinRoom:
		return e.Text == cmd.Name
	}
	return true
}

// checkDone compares the answers kept with what the resumed session
// remembers, and reports those gone.
func (c *Core) checkDone(m *wire.Welcome, key sessionKey) {
	if len(c.acks) == 0 {
		c.acksSession = key
		return
	}
	same := key == c.acksSession
	done := make(map[uint64]game.SeqResult, len(m.Done))
	for _, r := range m.Done {
		done[r.Seq] = r
	}
	lo := m.DoneFrom
	keep := c.acks[:0]
	for _, a := range c.acks {
		r, ok := done[a.ack.Wire]
		switch {
		case same && ok && outcome(a.ack.Result) == r.Code && a.ack.Result.Points == r.Points:
			keep = append(keep, a)
		case same && !ok && a.ack.Wire < lo:
			// Older than what the session remembers: nothing to check.
		case a.announced:
			// The player was told already.
		default:
			c.emit(Undone{EventInfo: c.info(), Ack: a.ack})
		}
	}
	c.acks, c.acksSession = keep, key
}

func outcome(r game.Result) game.Code {
	if r.Err == nil {
		return game.OK
	}
	return r.Err.Code
}

// Rollback describes the undone command as the cluster's rollback event
// would have, for apps that show both the same way.
func (u Undone) Rollback() game.Event {
	e := game.Event{Kind: game.EvRollback, Name: u.Status.Name, Cmd: u.Ack.Cmd.Kind()}
	switch cmd := u.Ack.Cmd.(type) {
	case game.Place:
		e.Row, e.Col, e.Digit = cmd.Row, cmd.Col, cmd.Digit
	case game.Claim:
		e.Row, e.Col = cmd.Row, cmd.Col
	case game.Chat:
		e.Text = cmd.Text
	case game.CreateRoom:
		e.Text = cmd.Name
	case game.JoinRoom:
		e.Text = cmd.Name
	}
	return e
}
