package replica

import (
	"strings"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Rollbacks. Without a quorum, the two sides of a partition may each commit
// commands; when they heal, one branch is kept and the other's commands are
// dropped. Every node that drops player commands reports them (player,
// sequence number, what it was) to its primary until it sees them named in a
// committed Rollback entry, so players learn of it on screen however the
// merge went.

type rollbackKey struct {
	name string
	seq  uint64
}

func keyOf(it game.RolledBack) rollbackKey { return rollbackKey{strings.ToLower(it.Name), it.Seq} }

// dropped is a player command about to be dropped, with the result it had
// where it was applied (nil if it was not, or if its session's dedupe
// window no longer holds it: then applied says which).
type dropped struct {
	item    game.RolledBack
	result  *game.Result
	applied bool
}

// describe turns the player commands in (from, to] of this log into items a
// player can read, with names and rooms from the current state.
func (c *Core) describe(from, to uint64) []dropped {
	var items []dropped
	for i := from; i <= to; i++ {
		le := c.log.entry(i)
		if le == nil || le.Entry.Session == 0 {
			continue
		}
		s, ok := c.state.Session(le.Entry.Session)
		if !ok {
			cs, was := c.closed[le.Entry.Session]
			if !was {
				continue
			}
			s = game.SessionView{Name: cs.name, Room: cs.room}
		}
		it := game.RolledBack{Room: s.Room, Name: s.Name, Seq: le.Entry.Seq, Kind: le.Entry.Cmd.Kind()}
		switch cmd := le.Entry.Cmd.(type) {
		case game.Place:
			it.Row, it.Col, it.Digit = cmd.Row, cmd.Col, cmd.Digit
		case game.Claim:
			it.Row, it.Col = cmd.Row, cmd.Col
		case game.Chat:
			it.Text = cmd.Text
		case game.CreateRoom:
			it.Text = cmd.Name
		case game.JoinRoom:
			it.Text = cmd.Name
		case game.OpenSession, game.CloseSession, game.LeaveRoom, game.Release:
		default:
			continue
		}
		d := dropped{item: it, applied: i <= c.applied}
		if r, ok := c.state.Result(le.Entry.Session, le.Entry.Seq); ok && d.applied {
			d.result = &r
		}
		items = append(items, d)
	}
	return items
}

// closedSession is what describe needs of a session closed since: a
// player who quit or timed out still hears, on return, that the moves of
// a losing branch were dropped, and the room sees them go.
type closedSession struct {
	name, room string
	at         uint64 // index of the entry that closed it
}

func (c *Core) noteClosed(i uint64, evs []game.Event) {
	for _, ev := range evs {
		if ev.Kind != game.EvSessionClosed {
			continue
		}
		if c.closed == nil {
			c.closed = map[game.SessionID]closedSession{}
		}
		c.closed[ev.Session] = closedSession{name: ev.Name, room: ev.Room, at: i}
	}
}

// forgetClosed drops the sessions closed at or before index i: all their
// entries are folded into the state and can no longer be listed.
func (c *Core) forgetClosed(i uint64) {
	for id, cs := range c.closed {
		if cs.at <= i {
			delete(c.closed, id)
		}
	}
}

// notApplied keeps the items that the log now held does not hold: a command
// the player resent to the winning side is not lost, unless it came out
// otherwise there (the answer the player saw is what was lost). The log's
// applied entries count too: the dedupe window may have forgotten them.
func (c *Core) notApplied(items []dropped) []dropped {
	if len(items) == 0 {
		return nil
	}
	held := map[rollbackKey]bool{}
	for i := c.log.snapIndex + 1; i <= c.log.last(); i++ {
		e := c.log.entry(i).Entry
		if e.Session == 0 {
			continue
		}
		if sv, ok := c.state.Session(e.Session); ok {
			held[rollbackKey{strings.ToLower(sv.Name), e.Seq}] = true
		}
	}
	var out []dropped
	for _, d := range items {
		if held[keyOf(d.item)] && !d.applied {
			continue
		}
		if !c.keptAs(d) {
			out = append(out, d)
		}
	}
	return out
}

// keptAs reports whether the state applied a dropped command with the
// outcome it had (or with any, if it had none). One applied whose outcome
// is no longer known is not kept: the player may have been told another.
func (c *Core) keptAs(d dropped) bool {
	sv, ok := c.state.SessionByName(d.item.Name)
	if !ok {
		return false
	}
	r, done := c.state.Result(sv.ID, d.item.Seq)
	if d.result == nil {
		return done && !d.applied
	}
	return done && sameResult(r, *d.result)
}

func sameResult(a, b game.Result) bool {
	code := func(r game.Result) game.Code {
		if r.Err == nil {
			return game.OK
		}
		return r.Err.Code
	}
	return code(a) == code(b) && a.Points == b.Points
}

// report hands dropped commands to the primary (or queues them, on one).
func (c *Core) report(items []dropped) {
	if len(items) == 0 {
		return
	}
	c.notice(wire.NoticeRollback, c.id, "dropped %d commands of a losing branch", len(items))
	for _, d := range items {
		if !c.state.RolledBack(d.item.Name, d.item.Seq) {
			c.unreported = append(c.unreported, d)
		}
	}
	switch c.role {
	case wire.RolePrimary, wire.RoleSyncing:
		c.queueRollback(c.unreportedItems())
	default:
		c.sendReport()
	}
}

func (c *Core) unreportedItems() []game.RolledBack {
	out := make([]game.RolledBack, len(c.unreported))
	for i, d := range c.unreported {
		out[i] = d.item
	}
	return out
}

// sendReport tells the primary what this node dropped and has not seen
// logged yet.
func (c *Core) sendReport() {
	if len(c.unreported) == 0 || c.leader == 0 || c.leader == c.id {
		return
	}
	c.lastReport = c.now
	c.send(c.leader, &wire.RolledBack{From: c.id, Epoch: c.epoch, Items: c.unreportedItems()})
}

// queueRollback keeps reported commands for the primary's next Rollback
// entry, each once.
func (c *Core) queueRollback(items []game.RolledBack) {
	if c.reported == nil {
		c.reported = map[rollbackKey]bool{}
	}
	for _, it := range items {
		k := keyOf(it)
		if c.reported[k] || c.state.RolledBack(it.Name, it.Seq) {
			continue
		}
		c.reported[k] = true
		c.rollback = append(c.rollback, it)
	}
}

func (c *Core) onRolledBack(m *wire.RolledBack) {
	if m.Epoch != c.epoch || (c.role != wire.RolePrimary && c.role != wire.RoleSyncing) {
		return
	}
	c.queueRollback(m.Items)
}

// forgetReported drops the commands the state knows were reported, or holds
// after all with the same outcome (the branch kept got them too, later).
func (c *Core) forgetReported() {
	out := c.unreported[:0]
	for _, d := range c.unreported {
		if !c.settled(d) {
			out = append(out, d)
		}
	}
	c.unreported = out
}

// settled reports whether a dropped command needs no report (any more).
func (c *Core) settled(d dropped) bool {
	return c.state.RolledBack(d.item.Name, d.item.Seq) || c.keptAs(d)
}

// flushRollback logs the rolled-back commands reported so far.
func (c *Core) flushRollback() {
	if len(c.rollback) == 0 || c.role != wire.RolePrimary {
		return
	}
	items := c.rollback
	c.rollback = nil
	const most = 256
	for len(items) > 0 {
		n := min(len(items), most)
		c.appendEntry(game.Entry{Cmd: game.Rollback{Items: items[:n]}})
		items = items[n:]
	}
}

// holdsItsOffice reports whether the primary of epoch e is alive in the
// life it made e in: only then can it still tell which of e's entries it
// committed (and report their rollback). One that restarted, even empty
// and alive, no longer knows.
func (c *Core) holdsItsOffice(e wire.Epoch) bool {
	p := c.peers[e.Node()]
	if p == nil || !c.alive(p) {
		return false
	}
	return p.life == 0 || e.Life() == 0 || p.life == e.Life()
}
