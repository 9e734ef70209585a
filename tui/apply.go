package tui

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

func (m *Model) apply(e client.Event) {
	info := e.Info()
	t := info.Time
	if t.IsZero() {
		t = m.now()
	}
	// what the event carries first, then the status it comes with: a
	// notice of a suspicion explains the failover that follows it
	defer func() {
		if info.Status.State != 0 {
			m.setStatus(info.Status, t)
		}
	}()
	switch ev := e.(type) {
	case client.RoomChanged:
		if ev.Room != nil {
			m.setRoom(ev.Room, ev.Events, t)
		}
	case client.Answered:
		m.onAck(ev.Ack)
	case client.ViewChanged:
		m.setView(&ev.View, t)
	case client.Replied:
		if ev.Reply != nil {
			m.onReply(ev.Reply)
		}
	case client.Noticed:
		m.onNotice(ev.Notice, t)
	case client.Undone:
		// A rollback announced while this app was reconnecting.
		m.onGameEvent(ev.Rollback(), t)
	case client.Throttled:
		if t.Sub(m.throttledAt) >= throttleNote {
			m.throttledAt = t
			m.addLocal(lineError, "the cluster says: "+ev.Text)
		}
	case client.Refused:
		m.fatal = ev.Err
		if m.fatal == nil {
			m.fatal = errors.New("the cluster refused this player")
		}
	}
}

// throttleNote: how often the chat repeats that the cluster throttles.
const throttleNote = 5 * time.Second

func (m *Model) setRoom(r *game.RoomView, evs []game.Event, t time.Time) {
	prev := m.room
	m.room = r
	if prev == nil {
		m.homeLocals(r)
	}
	if prev == nil || prev.Name != r.Name {
		m.scroll = 0
		m.flash = flash{}
		m.claim = claimGuess{}
		clear(m.placing)
		m.forgetNotes()
		m.overlay = closeRooms(m.overlay)
	} else if prev.Round != r.Round {
		clear(m.placing)
		m.forgetNotes()
	}
	if n := m.size(); n > 0 {
		m.row = min(m.row, n-1)
		m.col = min(m.col, n-1)
		m.keys.setSize(n)
	}
	for _, e := range evs {
		m.onGameEvent(e, t)
	}
	// A room this player moved to comes whole, not with the join that
	// brought it there: the log says so itself.
	if prev != nil && prev.Name != r.Name && !slices.ContainsFunc(evs, func(e game.Event) bool {
		return e.Kind == game.EvJoined && e.Room == r.Name && m.isMe(e.Name)
	}) {
		m.onGameEvent(game.Event{Kind: game.EvJoined, Room: r.Name, Name: m.me(), Watch: m.o.Watch}, t)
	}
}

func (m *Model) onGameEvent(e game.Event, t time.Time) {
	switch e.Kind {
	case game.EvJoined:
		if e.Watch {
			m.logAdd(t, logDim, e.Name+" watches #"+e.Room)
		} else {
			m.logAdd(t, logGood, e.Name+" joined #"+e.Room)
		}
	case game.EvLeft:
		m.logAdd(t, logDim, e.Name+" left #"+e.Room)
	case game.EvRoundOver:
		if e.Name != "" {
			m.logAdd(t, logLead, fmt.Sprintf("%s won round %d", e.Name, e.Round))
		} else {
			m.logAdd(t, logInfo, fmt.Sprintf("round %d over", e.Round))
		}
	case game.EvRoundStarted:
		m.logAdd(t, logDim, fmt.Sprintf("round %d started", e.Round))
	case game.EvViewChange:
		m.logPrimary(wire.NodeID(e.Node), e.Epoch, t)
	case game.EvRollback:
		text := "rolled back " + rolledBack(e)
		m.logAdd(t, logWarn, text)
		if m.isMe(e.Name) && e.Cmd == game.CmdPlace {
			m.setFlash(int(e.Row), int(e.Col), e.Digit, "your "+rolledBackWhat(e)+" was rolled back", false)
		}
	}
}

func rolledBackWhat(e game.Event) string {
	switch e.Cmd {
	case game.CmdPlace:
		return fmt.Sprintf("%d at %s", e.Digit, cellName(int(e.Row), int(e.Col)))
	case game.CmdClaim:
		return "claim on " + cellName(int(e.Row), int(e.Col))
	case game.CmdChat:
		return "message"
	}
	return e.Cmd.String()
}

func rolledBack(e game.Event) string {
	who := e.Name
	if who == "" {
		who = "someone"
	}
	return who + "'s " + rolledBackWhat(e)
}

// setStatus follows the connection, for the status line and the log.
func (m *Model) setStatus(s client.Status, t time.Time) {
	old := m.status
	m.status = s
	if s.State == old.State && s.Node == old.Node && s.Epoch == old.Epoch && s.Lost == old.Lost {
		return
	}
	since := s.Since
	if since.IsZero() {
		since = t
	}
	switch s.State {
	case client.Failover:
		if old.State != client.Failover {
			m.failSince = since
			m.recovered = time.Time{}
			m.handover = true
			m.failFrom = 0
			if old.State == client.Connected {
				m.failFrom = old.Node
			}
		}
		m.handover = m.handover && s.Lost == 0 && s.Handover != 0
		if s.Lost != 0 {
			m.logDown(s.Lost, t, fmt.Sprintf("n%d lost", s.Lost))
		}
	case client.Connected:
		if s.Resumed {
			m.resumedAt = since
		} else if old.State == client.Failover {
			// The cluster no longer knew the session: a new one opened.
			m.logAdd(t, logWarn, "your session was lost")
		}
		if old.State == client.Failover && !m.failSince.IsZero() {
			m.same = s.Node == m.failFrom
			m.failTook = since.Sub(m.failSince)
			m.recovered = since
			m.failSince = time.Time{}
		}
		if s.Node != 0 {
			m.logPrimary(s.Node, s.Epoch.Term(), t)
		}
	case client.Closed:
		if old.State != client.Closed {
			m.logAdd(t, logBad, "disconnected")
		}
	}
}

func (m *Model) setView(v *wire.ClusterView, t time.Time) {
	old := m.view
	m.view = v
	if old == nil {
		return
	}
	was := make(map[wire.NodeID]bool, len(old.Nodes))
	for _, n := range old.Nodes {
		was[n.ID] = n.Alive
	}
	for _, n := range v.Nodes {
		alive, known := was[n.ID]
		switch {
		case !known && n.Alive:
			m.logUp(n.ID, t, fmt.Sprintf("n%d is up", n.ID))
		case known && alive && !n.Alive:
			m.logDown(n.ID, t, fmt.Sprintf("n%d down", n.ID))
		case known && !alive && n.Alive:
			m.logUp(n.ID, t, fmt.Sprintf("n%d is back", n.ID))
		}
		delete(was, n.ID)
	}
	for id, alive := range was {
		if alive {
			m.logDown(id, t, fmt.Sprintf("n%d left", id))
		}
	}
	if v.Primary != 0 && (v.Primary != old.Primary || v.Epoch != old.Epoch) {
		m.logPrimary(v.Primary, v.Epoch.Term(), t)
	}
}

func (m *Model) onNotice(n wire.Notice, t time.Time) {
	if n.Time != 0 {
		t = time.Unix(0, n.Time)
	}
	switch n.Kind {
	case wire.NoticeDetail:
		return // for the log file
	case wire.NoticeSuspected:
		m.logDown(n.Node, t, fmt.Sprintf("n%d suspected", n.Node))
	case wire.NoticeLeft:
		m.logDown(n.Node, t, fmt.Sprintf("n%d is leaving", n.Node))
	case wire.NoticeViewDrop:
		m.logDown(n.Node, t, n.Text)
	case wire.NoticeJoined, wire.NoticeViewJoin:
		m.logUp(n.Node, t, n.Text)
	case wire.NoticeElected, wire.NoticeFollowing:
		m.logPrimary(n.Node, n.Epoch.Term(), t)
	case wire.NoticeElection:
		m.logOnce("notice:"+n.Text, t, logWarn, n.Text)
	case wire.NoticeRollback, wire.NoticeNoQuorum, wire.NoticeStepDown:
		m.logOnce("notice:"+n.Text, t, logWarn, n.Text)
	case wire.NoticeStranger, wire.NoticeBehind, wire.NoticeRefused:
		// An event has two short lines in the sidebar, too few for what
		// to do about it: the chat pane has the whole warning, once.
		if !m.logSeen["notice:"+n.Text] {
			m.addLocal(lineError, n.Text)
		}
		short := "another release: see the chat"
		switch n.Kind {
		case wire.NoticeBehind:
			short = "may be behind: see the chat"
		case wire.NoticeRefused:
			short = fmt.Sprintf("n%d refused: see the chat", n.Node)
		}
		m.logOnce("notice:"+n.Text, t, logWarn, short)
	default:
		m.logOnce("notice:"+n.Text, t, logDim, n.Text)
	}
}

func (m *Model) onAck(a client.Ack) {
	s, ok := m.pending[a.Seq]
	delete(m.pending, a.Seq)
	cmd := a.Cmd
	if cmd == nil {
		cmd = s.cmd
	}
	if m.claim.seq != 0 && a.Seq == m.claim.seq {
		m.claim = claimGuess{}
	}
	err := a.Result.Err
	if a.NotSent {
		m.addLocal(lineError, fmt.Sprintf("%s not sent: the cluster lost your session, and the board it was for", cmdWord(cmd)))
		switch cmd.(type) {
		case game.Place, game.Claim, game.Release, game.Note, game.ClearNotes:
			// The cell's flash says it too.
		default:
			return
		}
	}
	switch c := cmd.(type) {
	case game.Place:
		row, col := int(c.Row), int(c.Col)
		if ok {
			row, col = s.row, s.col
		}
		if n := m.size(); n > 0 && row < n && col < n {
			delete(m.placing, row*n+col)
		}
		if err != nil {
			m.setFlash(row, col, c.Digit, reason(err, a.Result.Points), false)
			m.flash.clash = err.Code == game.ErrWrong
		} else {
			m.setFlash(row, col, c.Digit, fmt.Sprintf("+%d", a.Result.Points), true)
		}
	case game.Claim:
		if err != nil {
			m.setFlash(int(c.Row), int(c.Col), 0, reason(err, 0), false)
		} else if m.flashOn() && !m.flash.ok {
			m.flash = flash{} // an older move's error would hide the claim
		}
	case game.Release:
		if err != nil && err.Code != game.ErrNotClaimed {
			m.setFlash(m.row, m.col, 0, reason(err, 0), false)
		}
	case game.Note, game.ClearNotes:
		m.noteAnswered(a.Seq)
		if err != nil && err.Code != game.ErrFilled {
			row, col := m.row, m.col
			if ok {
				row, col = s.row, s.col
			}
			m.setFlash(row, col, 0, reason(err, 0), false)
			m.flash.noCell = err.Code == game.ErrSpectator
		}
	default:
		if err != nil {
			m.addLocal(lineError, chatReason(err))
		}
	}
}

// chatReason is a refusal as the chat pane says it: rooms by #name, as
// /who and /join say them.
func chatReason(err *game.Error) string {
	switch err.Code {
	case game.ErrNoRoom:
		return "there is no room #" + err.Room + " (/rooms lists them)"
	case game.ErrRoomExists:
		return "room #" + err.Room + " already exists"
	case game.ErrInRoom:
		return "you are already in #" + err.Room
	}
	return err.Error()
}

// cmdWord names a command in a message to the player.
func cmdWord(cmd game.Command) string {
	switch cmd.(type) {
	case game.Place:
		return "move"
	case game.Claim, game.Release:
		return "claim"
	case game.Note, game.ClearNotes:
		return "note"
	case game.Chat:
		return "chat line"
	}
	return "command"
}

// reason is a rejection as the board says it.
func reason(err *game.Error, points int32) string {
	switch err.Code {
	case game.ErrNoSession:
		return "not sent: session lost"
	case game.ErrWrong:
		if points == 0 {
			points = -3
		}
		return "wrong: " + signed(points)
	case game.ErrClaimed:
		if err.Who == "" {
			return "cell is claimed"
		}
		return "claimed by " + err.Who
	case game.ErrGiven:
		return "cell is a given"
	case game.ErrRoundOver:
		return "the round is over"
	}
	return err.Error()
}

// signed writes points with a real minus sign.
func signed(p int32) string {
	if p < 0 {
		return fmt.Sprintf("−%d", -p)
	}
	return fmt.Sprintf("+%d", p)
}

func (m *Model) onReply(r *wire.QueryReply) {
	q, ok := m.queries[r.Seq]
	delete(m.queries, r.Seq)
	if !ok {
		if r.Rooms != nil {
			m.rooms = r.Rooms
		}
		return
	}
	switch q.kind {
	case wire.QueryRooms:
		m.rooms = r.Rooms
		if q.show {
			m.overlay = ovRooms
			m.roomsSel = 0
			for i, s := range m.rooms {
				if m.room != nil && s.Name == m.room.Name {
					m.roomsSel = i
				}
			}
		}
	case wire.QueryWho:
		room := q.room
		if room == "" && m.room != nil {
			room = m.room.Name
		}
		if len(r.Members) == 0 {
			// A room other than main goes when its last member leaves:
			// no one in it means no such room, whatever an older room
			// list said.
			if room != game.MainRoom {
				m.addLocal(lineError, "there is no room #"+room+" (/rooms lists them)")
				return
			}
			m.addLocal(lineInfo, "#"+room+" is empty")
			return
		}
		var names, watching []string
		for _, mv := range r.Members {
			name := mv.Name
			if !mv.Online {
				name += " (away)"
			}
			if mv.Watching {
				watching = append(watching, name)
			} else {
				names = append(names, name)
			}
		}
		m.addLocal(lineInfo, fmt.Sprintf("in #%s: %s", room, withWatchers(names, watching)))
	}
}
