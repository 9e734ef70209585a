package node

import (
	"errors"
	"math"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Fan-out to a room. A room's events are encoded once, as they commit, into
// its feed; once every pushDelay at most, at the room's own phase of that
// period (sooner when many wait, later in a big room), the feed goes to
// every member as one frame, the same bytes for all, written by one
// fan-out goroutine: the node's loop does no socket write and no encoding
// per member. A member that is sent something of its own (an answer, its
// notes) is first given the feed's events it has not had, so that each
// client sees the room's events in commit order, before its own answers.
//
// A member whose connection has fallen behind (behindBytes waiting) gets
// no more of the feed: once its backlog is written it gets the room whole
// instead, and plays on from there. Nobody is disconnected for being slow,
// and nobody slow holds the node or the room back.

// roomFeed is a room's members and the events committed in it since its
// last push.
type roomFeed struct {
	members map[*clientConn]struct{}
	evs     wire.EventBatch
	since   time.Time // when the oldest waiting event came
	waiting bool      // in service.due
	phase   float64   // where in each push period its pushes fall, in [0, 1)
}

// Pushes fall on each room's own grid of push periods, offset by its
// phase, so that busy rooms' pushes spread over the period: rooms that
// start together would otherwise be pushed in the same turn ever after,
// and their members' apps take a thousand frames at once and nothing for
// the rest of the period. The phases of successive feeds are multiples of
// the golden ratio, which spreads any number of them.
const phaseStep = 0.6180339887498949

// pushAt is when feed f, with events waiting since f.since, is pushed:
// the first point of its grid at or after since. It is computed from the
// wall clock but added to since, so a step of the clock moves no push
// further than a period.
func (f *roomFeed) pushAt(period time.Duration) time.Time {
	off := time.Duration(f.phase * float64(period))
	d := (off - time.Duration(f.since.UnixNano())%period) % period
	if d < 0 {
		d += period
	}
	return f.since.Add(d)
}

// A push gives each member at most chatPerPush/members of other players'
// chat lines (at least minChatPerPush), the newest: a room can take more
// lines than its members can read (a room of 1,000 shows each 40 lines a
// second), and more than the machine can send each of them and the
// players' apps can take. The room's history holds them all; a member
// always gets its own lines, and every system line.
const minChatPerPush = 2

var chatPerPush = 2048 // a variable for tests

// maxChat is how many players' chat lines a push of f gives each member.
func (s *service) maxChat(f *roomFeed) int {
	return max(minChatPerPush, chatPerPush*s.slower(f)/max(1, len(f.members)))
}

// Each push costs a write to every member and a read in each of their apps.
// A node pushes to about pushBudget members a second at pushDelay; beyond
// (1,000 players in busy rooms would take 20,000 pushes a second), every
// busy room is pushed to less often, and a room of more than
// membersPerDelay members on its own account (a room of 1,000 pushed to
// every 50 ms takes 20,000), up to maxSlower times pushDelay. Members then
// see others' moves up to 200 ms late; their own answers are not delayed.
const (
	pushBudget      = 10000
	membersPerDelay = 250
	maxSlower       = 4
)

// membersPerPush is how many members pushBudget feeds every pushDelay.
const membersPerPush = int(pushBudget * pushDelay / time.Second)

// slower is how many times pushDelay feed f waits. s.busy is the factor
// for the members of the rooms with events waiting, as last counted.
func (s *service) slower(f *roomFeed) int {
	return min(maxSlower, max(1, len(f.members)/membersPerDelay, s.busy))
}

// behindBytes is the backlog of a connection beyond which its client is
// resynchronised instead of fed.
const behindBytes = 256 << 10

func (s *service) joinRoom(c *clientConn, room string) {
	s.leaveRoom(c)
	c.room = room
	f := s.feeds[room]
	if f == nil {
		s.feedSeq++
		_, phase := math.Modf(float64(s.feedSeq) * phaseStep)
		f = &roomFeed{members: map[*clientConn]struct{}{}, phase: phase}
		s.feeds[room] = f
	}
	f.members[c] = struct{}{}
	c.feedFrom = f.evs.Len()
}

func (s *service) leaveRoom(c *clientConn) {
	if f := s.feeds[c.room]; f != nil {
		delete(f.members, c)
		if len(f.members) == 0 {
			delete(s.feeds, c.room)
		}
	}
	c.feedFrom = 0
}

// route gives an event to the clients it concerns. Notes go to their own
// session only.
func (s *service) route(ev *game.Event) {
	if ev.Kind == game.EvNotes {
		if c := s.bySession[ev.Session]; c != nil && ev.Room == c.room {
			s.give(c, ev)
		}
		return
	}
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
				// The player moved: first what it saw of the old room,
				// then the new one whole, at the end of the batch.
				s.catchUp(c)
				s.joinRoom(c, ev.Room)
				c.roomState = true
				s.touch(c)
			}
			if ev.Room != c.room {
				s.give(c, ev)
			}
		}
	}
	if f := s.feeds[ev.Room]; f != nil {
		if err := f.evs.Add(ev); err != nil {
			s.n.log.Error("event not sent", "kind", ev.Kind, "error", err)
			return
		}
		if !f.waiting {
			f.waiting, f.since = true, time.Now()
			s.due = append(s.due, f)
		}
	}
}

// give queues an event for one client only.
func (s *service) give(c *clientConn, ev *game.Event) {
	if ev.Room == c.room && (c.welcome || c.roomState || c.behind) {
		return // the whole room goes out later
	}
	s.catchUp(c)
	if err := c.own.Add(ev); err != nil {
		s.n.log.Error("event not sent", "kind", ev.Kind, "error", err)
		return
	}
	s.touch(c)
}

// catchUp gives c the events of its room's feed it has not had, ahead of
// what is sent to it alone.
func (s *service) catchUp(c *clientConn) {
	if c.welcome || c.roomState || c.behind {
		return
	}
	if f := s.feeds[c.room]; f != nil && c.feedFrom < f.evs.Len() {
		c.own.AddFrom(&f.evs, c.feedFrom, s.maxChat(f), c.name)
		c.feedFrom = f.evs.Len()
	}
}

// appendFeed frames what catchUp would copy into c.own, straight from the
// feed: with 1,000 players the copies held a third of the primary's heap.
func (s *service) appendFeed(buf []byte, c *clientConn, applied uint64) []byte {
	if c.welcome || c.roomState || c.behind {
		return buf
	}
	if f := s.feeds[c.room]; f != nil && c.feedFrom < f.evs.Len() {
		buf = f.evs.AppendFrame(buf, applied, c.feedFrom, s.maxChat(f), c.name)
		c.feedFrom = f.evs.Len()
	}
	return buf
}

// feedLen is how many events wait in room's feed.
func (s *service) feedLen(room string) int {
	if f := s.feeds[room]; f != nil {
		return f.evs.Len()
	}
	return 0
}

// pushFeeds pushes the feeds whose grid point came (at most pushDelay after
// their oldest event, longer in a big room), or that hold pushMaxEvents.
func (s *service) pushFeeds(now time.Time) {
	members := 0
	for _, f := range s.due {
		members += len(f.members)
	}
	s.busy = (members + membersPerPush - 1) / membersPerPush
	k := 0
	for _, f := range s.due {
		if f.evs.Len() >= pushMaxEvents || !now.Before(f.pushAt(pushDelay*time.Duration(s.slower(f)))) {
			s.pushFeed(f)
			continue
		}
		s.due[k] = f
		k++
	}
	clear(s.due[k:])
	s.due = s.due[:k]
}

// pushFeed sends a feed's events to every member that has not had them.
func (s *service) pushFeed(f *roomFeed) {
	n := f.evs.Len()
	f.waiting = false
	if n == 0 {
		return
	}
	applied := s.n.core.Applied()
	maxChat := s.maxChat(f)
	shared := f.evs.AppendFrame(nil, applied, 0, maxChat, "")
	var left map[string]bool // who had lines left out of shared
	f.evs.LeftOut(0, maxChat, func(from string) {
		if left == nil {
			left = map[string]bool{}
		}
		left[from] = true
	})
	out := make([]*sendQueue, 0, len(f.members))
	for c := range f.members {
		from := c.feedFrom
		c.feedFrom = 0
		if c.welcome || c.roomState || c.behind || from >= n {
			continue
		}
		if c.own.Len() > 0 {
			// Events of its own wait: the room's go in order with them.
			c.own.AddFrom(&f.evs, from, maxChat, c.name)
			continue
		}
		b := shared
		if keep := (c.isNow || c.isLater) && left[c.name]; from > 0 || keep {
			// It has had the first events, or its answer, which waits,
			// must follow its own lines.
			name := ""
			if keep {
				name = c.name
			}
			b = f.evs.AppendFrame(nil, applied, from, maxChat, name)
		}
		if s.feed(c, b) {
			out = append(out, c.sq)
		}
	}
	s.writeOut(out)
	f.evs.Reset()
	if f.evs.Cap() > maxKeptFeed {
		f.evs = wire.EventBatch{}
	}
}

// maxKeptFeed is the memory a quiet feed keeps for the next batch.
const maxKeptFeed = 256 << 10

// feed queues a frame of room events for c, or marks c behind. It reports
// whether it queued the frame.
func (s *service) feed(c *clientConn, b []byte) bool {
	if bytes, _ := c.sq.backlog(); bytes+len(b) > behindBytes {
		c.behind = true
		s.behind = append(s.behind, c)
		s.n.limited.warn(s.n.log, "client-behind", "a client fell behind: it gets its room whole when it has caught up",
			"client", c.conn.RemoteAddr().String(), "backlog", bytes)
		return false
	}
	err := c.sq.queueQuiet(b)
	if errors.Is(err, errQueueFull) {
		c.kill()
	}
	return err == nil
}

// writeOut has the fan-out writer write what was queued for these
// connections: one goroutine writes to them all, as far as each takes it at
// once, and wakes a connection's own writer only for what is left. The
// node's loop neither writes to the sockets nor wakes a goroutine for each.
func (s *service) writeOut(qs []*sendQueue) {
	if len(qs) == 0 {
		return
	}
	if s.outJobs == nil {
		s.outJobs = make(chan []*sendQueue, 64)
		s.n.wg.Add(1)
		go s.fanOutWriter()
	}
	select {
	case s.outJobs <- qs:
	default:
		// The fan-out writer is far behind: each connection's writer
		// takes its own.
		for _, q := range qs {
			q.signal()
		}
	}
}

func (s *service) fanOutWriter() {
	defer s.n.wg.Done()
	for {
		select {
		case qs := <-s.outJobs:
			for _, q := range qs {
				q.writeOut()
			}
		case <-s.n.quit:
			return
		}
	}
}

// resync gives each client that fell behind, once its backlog is written,
// its room whole.
func (s *service) resync() {
	k := 0
	for _, c := range s.behind {
		if s.clients[c.id] != c || !c.behind {
			continue
		}
		if bytes, _ := c.sq.backlog(); bytes > 0 {
			s.behind[k] = c
			k++
			continue
		}
		c.behind = false
		c.roomState = true
		s.touch(c)
	}
	clear(s.behind[k:])
	s.behind = s.behind[:k]
	s.flush()
}

// dropFeeds forgets what waits in every feed (the node no longer serves).
func (s *service) dropFeeds() {
	for _, f := range s.due {
		f.evs.Reset()
		f.waiting = false
	}
	clear(s.due)
	s.due = s.due[:0]
	clear(s.behind)
	s.behind = s.behind[:0]
	for _, c := range s.clients {
		c.feedFrom, c.behind = 0, false
		c.own.Reset()
	}
}

// viewChanged pushes a new cluster view to every player and status
// watcher, through their writers.
func (s *service) viewChanged(v wire.ClusterView) {
	b, err := wire.AppendFrame(nil, &v)
	if err != nil {
		return
	}
	var out []*sendQueue
	for _, c := range s.clients {
		// A session whose Welcome waits gets the view in it: a frame
		// before the Welcome would fail its hello.
		if (c.hello && !c.welcome) || c.watchViews {
			switch err := c.sq.queueQuiet(b); {
			case err == nil:
				out = append(out, c.sq)
			case errors.Is(err, errQueueFull):
				c.kill()
			}
		}
	}
	s.writeOut(out)
}

// redirectAll sends every player to the primary and closes its connection,
// through the fan-out writer: a node that steps down with a thousand
// players does not spend its turn writing to each.
func (s *service) redirectAll() {
	n := s.n
	r := s.noPrimary()
	if leader := n.core.Leader(); leader != 0 && leader != n.ID() && n.core.Alive(leader) {
		r.Leader, r.Addr, r.Up, r.Need = leader, n.addrOf(leader), 0, 0
	}
	b, err := wire.AppendFrame(nil, r)
	if err != nil {
		return
	}
	var out []*sendQueue
	for _, c := range s.clients {
		if !c.helloSent {
			continue
		}
		if err := c.sq.queueQuiet(b); errors.Is(err, errQueueFull) {
			c.kill()
			continue
		}
		c.sq.closeQuiet()
		out = append(out, c.sq)
	}
	s.writeOut(out)
}
