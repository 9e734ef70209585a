package bot

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Bots are automated players for load, demos and tests. Each plays through
// the client library like a person would (it knows the solution, and errs
// on purpose now and then), across failovers, and checks at the end that
// the cluster kept every move it acknowledged.

// Options configure Run.
type Options struct {
	Players    int
	Rate       float64         // commands a second per player; 0: as fast as they are answered
	Window     int             // with Rate 0: commands in flight at once per player (default 1)
	Duration   time.Duration   // how long they play
	Room       string          // room to play in ("" or "main": main; others are created)
	Size       uint8           // puzzle size for a room the bots create
	Difficulty game.Difficulty // of a room the bots create (default easy)
	ErrorRate  float64         // share of placements made wrong on purpose
	ClaimRate  float64         // share of commands that are claims
	ChatRate   float64         // share of commands that are chat lines
	Prefix     string          // player names: prefix1, prefix2, …
	Addrs      []string        // nodes to start from
	Local      client.Local    // or an embedded node
	Logger     *slog.Logger
	Settle     time.Duration // how long to wait for the last answers (default 10 s)
	// Done ends play as Duration does (Duration <= 0: play until Done is
	// closed or ctx ends); the check at the end still runs, where the end
	// of ctx cuts everything short.
	Done <-chan struct{}
	// Ready, if set, is called once every player is in the room, before
	// play; Start, if set, then holds play back until it is closed. Runs
	// that share a cluster use them to play together: all set up, then all
	// play, then all check and leave, so that one's setting up or leaving
	// does not fall in another's play.
	Ready func()
	Start <-chan struct{}
	// Progress, if set, is told the running tally (see Progress) after
	// every acknowledgement and every check. It is called from the bots'
	// goroutines, one call at a time, and must not block.
	Progress func(Progress)
	// Steady makes a rated bot send at every tick: a chat line when it has
	// no move to make (between rounds), so that the load stays at Rate.
	Steady bool
	// MoveOnFailover makes a rated bot that sees its primary lost make its
	// next move at once (a chat line if it has no move to make, between
	// rounds), as a player who keeps playing does: it waits in the client
	// and is the first command the new primary gets, so that the first
	// acknowledgement after a failover tells how soon the cluster took
	// commands again, not when the bot's next tick came.
	MoveOnFailover bool
}

// conn is what a bot uses of its client (tests fake it).
type conn interface {
	Drain() []client.Event
	WithRoom(f func(room *game.RoomView, ok bool))
	Room() (game.RoomView, uint64, bool)
	Send(cmd game.Command) uint64
	SendAll(cmds []game.Command) []uint64
	Do(ctx context.Context, cmd game.Command) (client.Ack, error)
	Notify() <-chan struct{}
	Status() client.Status
	WaitConnected(ctx context.Context) error
	Resync(ctx context.Context) error
	Leave(ctx context.Context)
}

// Report is what the bots saw.
type Report struct {
	Players    int      `json:"players"`
	Seconds    float64  `json:"seconds"`
	Sent       int      `json:"sent"`
	Acked      int      `json:"acknowledged"`
	Rejected   int      `json:"rejected_by_rule"`
	Errors     int      `json:"errors"`
	PerSecond  float64  `json:"acknowledged_per_second"`
	P50        float64  `json:"latency_p50_ms"`
	P90        float64  `json:"latency_p90_ms"`
	P99        float64  `json:"latency_p99_ms"`
	Max        float64  `json:"latency_max_ms"`
	Reconnects int      `json:"reconnects"`
	Throttled  int      `json:"throttled"` // times the cluster paused a bot for sending too fast
	RolledBack int      `json:"rolled_back"`
	ChatSent   int      `json:"chat_sent"`
	ChatLost   int      `json:"chat_lost"`
	ChatDups   int      `json:"chat_duplicated"`
	Lost       int      `json:"lost"`
	Problems   []string `json:"problems,omitempty"`
	// Checked: the final room was fetched and what was acknowledged
	// checked against it (false: Lost counts nothing).
	Checked bool `json:"checked"`

	// Latencies are every acknowledged command's round trip, sorted.
	Latencies []time.Duration `json:"-"`
}

func (r Report) String() string {
	s := fmt.Sprintf("players=%d seconds=%.1f sent=%d acknowledged=%d rejected-by-rule=%d errors=%d per-second=%.0f\n"+
		"latency p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms reconnects=%d throttled=%d rolled-back=%d chat-sent=%d chat-lost=%d chat-duplicated=%d lost=%d",
		r.Players, r.Seconds, r.Sent, r.Acked, r.Rejected, r.Errors, r.PerSecond,
		r.P50, r.P90, r.P99, r.Max, r.Reconnects, r.Throttled, r.RolledBack, r.ChatSent, r.ChatLost, r.ChatDups, r.Lost)
	for _, p := range r.Problems {
		s += "\n  " + p
	}
	return s
}

type botPlayer struct {
	o      *Options
	t      *tally
	name   string
	c      conn
	rng    *rand.Rand
	solved map[string][]uint8

	mu          sync.Mutex
	sent        int
	inflight    map[uint64]sentCmd
	acked       int
	rejected    int
	lat         []time.Duration
	rightPlaced map[cellKey]placed // acknowledged right placements
	right       int                // acknowledged right placements, all rounds
	points      int32
	rolled      map[string]bool // our commands reported rolled back, by their line
	rolledRight int
	chatSent    map[string]bool   // acknowledged lines
	chatSeen    map[string]uint64 // per room, the newest system line catchUp read
	reconnects  int
	throttled   int
	lastState   client.ConnState
	hurry       bool // MoveOnFailover: the primary was lost, move now
	chatN       int  // chat lines made (play goroutine only)
}

type sentCmd struct {
	cmd   game.Command
	round uint32
	room  string
}

// placed is where an acknowledged placement went, as the bot saw it.
type placed struct {
	index uint64 // log index
	room  string // the room the bot was in when it sent it
}

type cellKey struct {
	round uint32
	row   uint8
	col   uint8
	digit uint8
}

// Run plays and returns what the bots saw.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Players <= 0 {
		o.Players = 1
	}
	if o.Prefix == "" {
		o.Prefix = "bot"
	}
	if o.Settle == 0 {
		o.Settle = 10 * time.Second
	}
	if o.Room == "" {
		o.Room = game.MainRoom
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	t := newTally(o.Progress)
	// The clients outlive ctx: when it ends, each still closes its
	// session (Leave), so that the names are free at once for the next run.
	cctx := context.WithoutCancel(ctx)
	players := make([]*botPlayer, o.Players)
	pushes := wire.NewPushCache(wire.ServerLimits) // the room's pushes, decoded once for all its bots
	for i := range players {
		name := fmt.Sprintf("%s%d", o.Prefix, i+1)
		players[i] = &botPlayer{
			o: &o, t: t, name: name,
			c:           client.Dial(cctx, client.ClientOptions{Name: name, Addrs: o.Addrs, Local: o.Local, Logger: o.Logger, NoRoomCopies: true, SharedPushes: pushes, Window: max(o.Window, 32)}),
			rng:         rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))),
			solved:      map[string][]uint8{},
			inflight:    map[uint64]sentCmd{},
			rightPlaced: map[cellKey]placed{},
			rolled:      map[string]bool{},
			chatSent:    map[string]bool{},
			chatSeen:    map[string]uint64{},
		}
	}
	defer leaveAll(players)
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	for _, p := range players {
		if err := p.c.WaitConnected(connectCtx); err != nil {
			cancel()
			return Report{}, fmt.Errorf("%s could not join the cluster: %w", p.name, err)
		}
	}
	cancel()
	if o.Room != game.MainRoom {
		size := o.Size
		if size == 0 {
			size = 9
		}
		a, err := players[0].c.Do(ctx, game.CreateRoom{Name: o.Room, Size: size, Difficulty: o.Difficulty})
		if err != nil {
			return Report{}, err
		}
		if e := a.Result.Err; e != nil && e.Code != game.ErrRoomExists {
			return Report{}, fmt.Errorf("%s could not create room %s: %v", players[0].name, o.Room, e)
		}
		for i, p := range players {
			if i == 0 && a.Result.Err == nil {
				continue
			}
			a, err := p.c.Do(ctx, game.JoinRoom{Name: o.Room})
			if err == nil && a.Result.Err != nil && a.Result.Err.Code != game.ErrInRoom {
				err = a.Result.Err
			}
			if err != nil {
				return Report{}, fmt.Errorf("%s could not join room %s: %v", p.name, o.Room, err)
			}
		}
	}
	// The room's chat may hold lines of earlier runs by bots of the same
	// names, and the same words (the phrases are few, and numbered from 1
	// again): only lines after this one are this run's.
	var chatFrom uint64
	players[0].c.WithRoom(func(room *game.RoomView, ok bool) {
		if ok && room.Name == o.Room && len(room.Chat) > 0 {
			chatFrom = room.Chat[len(room.Chat)-1].N
		}
	})

	if o.Ready != nil {
		o.Ready()
	}
	if o.Start != nil {
		select {
		case <-o.Start:
		case <-ctx.Done():
			return Report{}, ctx.Err()
		}
	}
	start := time.Now()
	playCtx, stop := context.WithCancel(ctx)
	if o.Duration > 0 {
		playCtx, stop = context.WithTimeout(ctx, o.Duration)
	}
	if o.Done != nil {
		go func() {
			select {
			case <-o.Done:
				stop()
			case <-playCtx.Done():
			}
		}()
	}
	var wg sync.WaitGroup
	for _, p := range players {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.play(playCtx)
		}()
	}
	wg.Wait()
	stop()
	elapsed := time.Since(start)

	// Let every command be answered, then check the room against what was
	// acknowledged.
	rep := Report{Players: o.Players, Seconds: elapsed.Seconds()}
	settle, cancel2 := context.WithTimeout(ctx, o.Settle)
	defer cancel2()
	var lat []time.Duration
	var final game.RoomView
	fetched := false
	// Every player's commands are answered before the room is fetched:
	// a move answered after the fetch would look lost.
	for _, p := range players {
		p.drainUntilIdle(settle)
	}
	{
		p := players[0]
		p.drain()
		p.mu.Lock()
		reconnects := p.reconnects
		p.mu.Unlock()
		if err := p.c.Resync(settle); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("could not fetch the final room: %v", err))
		} else {
			fetched = true
		}
		p.drain()
		p.mu.Lock()
		p.reconnects = reconnects // the resync is not one
		p.mu.Unlock()
		var index uint64
		final, index, _ = p.c.Room()
		st := p.c.Status()
		o.Logger.Debug("bots: final room", "room", final.Name, "round", final.Round, "from", fmt.Sprintf("n%d", st.Node), "epoch", st.Epoch.Term(), "index", index)
	}
	for _, p := range players {
		p.mu.Lock()
		rep.Sent += p.sent
		rep.Acked += p.acked
		rep.Rejected += p.rejected
		rep.Errors += len(p.inflight)
		rep.Reconnects += p.reconnects
		rep.Throttled += p.throttled
		rep.RolledBack += len(p.rolled)
		rep.ChatSent += len(p.chatSent)
		lat = append(lat, p.lat...)
		lost, problems := p.check(final)
		rep.Lost += lost
		rep.Problems = append(rep.Problems, problems...)
		p.mu.Unlock()
	}
	// The chat is checked against the room as the cluster holds it: a
	// player's own copy may lack lines that a busy room's pushes left out.
	rep.Checked = fetched
	if fetched {
		var chatProblems []string
		rep.ChatLost, rep.ChatDups, chatProblems = checkChat(players, final, chatFrom)
		rep.Problems = append(rep.Problems, chatProblems...)
	}
	rep.Lost += rep.ChatLost
	t.final(rep.Lost)
	rep.PerSecond = float64(rep.Acked) / elapsed.Seconds()
	slices.Sort(lat)
	rep.Latencies = lat
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if n := len(lat); n > 0 {
		rep.P50, rep.P90, rep.P99, rep.Max = ms(lat[n*50/100]), ms(lat[n*90/100]), ms(lat[min(n-1, n*99/100)]), ms(lat[n-1])
	}
	return rep, nil
}

// drain takes the client's events: answers, rollbacks, reconnects,
// throttling.
func (p *botPlayer) drain() {
	for _, ev := range p.c.Drain() {
		p.mu.Lock()
		switch ev := ev.(type) {
		case client.Answered:
			if p.onAck(&ev.Ack) {
				p.t.acked(ev.Status.Node, ev.Time)
			}
		case client.RoomChanged:
			for _, e := range ev.Events {
				if e.Kind == game.EvRollback && strings.EqualFold(e.Name, p.name) {
					p.onRollback(e)
				}
			}
			if ev.Replaced {
				// The room was replaced (bots take no copies of it).
				p.c.WithRoom(func(room *game.RoomView, ok bool) {
					if ok {
						p.catchUp(room)
						p.checkNow(room)
					}
				})
			}
		case client.Undone:
			p.onRollback(ev.Rollback())
		case client.Throttled:
			p.throttled++
		case client.StatusChanged:
			if ev.Status.State == client.Failover && p.lastState != client.Failover {
				p.reconnects++
				p.hurry = p.o.MoveOnFailover
			}
			p.lastState = ev.Status.State
		}
		p.mu.Unlock()
	}
}

// onAck takes an answer; it reports whether it answered one of the bot's
// commands.
func (p *botPlayer) onAck(a *client.Ack) bool {
	sc, ok := p.inflight[a.Seq]
	if !ok {
		return false
	}
	delete(p.inflight, a.Seq)
	p.acked++
	p.lat = append(p.lat, a.RTT)
	p.points += a.Result.Points
	if a.Result.Err != nil {
		p.rejected++
		return true
	}
	if p.o.Logger.Enabled(context.Background(), slog.LevelDebug) {
		st := p.c.Status()
		p.o.Logger.Debug("bots: acknowledged", "bot", p.name, "seq", a.Seq, "cmd", a.Cmd.Kind().String(), "text", chatText(a.Cmd),
			"index", a.Index, "from", fmt.Sprintf("n%d", st.Node), "epoch", st.Epoch.Term())
	}
	switch cmd := a.Cmd.(type) {
	case game.Place:
		p.right++
		p.rightPlaced[cellKey{sc.round, cmd.Row, cmd.Col, cmd.Digit}] = placed{a.Index, sc.room}
	case game.Chat:
		p.chatSent[cmd.Text] = true
	}
	return true
}

// onRollback notes a rollback report that names this bot, once (it may
// come both as an event and as the chat line). Its sequence number is not
// in the event; the move is matched by what it was.
func (p *botPlayer) onRollback(e game.Event) {
	line := game.RollbackLine(game.RolledBack{Name: p.name, Kind: e.Cmd, Row: e.Row, Col: e.Col, Digit: e.Digit, Text: e.Text})
	if p.rolled[line] {
		return
	}
	p.rolled[line] = true
	if e.Cmd == game.CmdPlace {
		for k := range p.rightPlaced {
			if k.row == e.Row && k.col == e.Col && k.digit == e.Digit {
				delete(p.rightPlaced, k)
				p.rolledRight++
				break
			}
		}
	}
	if e.Cmd == game.CmdChat {
		delete(p.chatSent, e.Text)
	}
}

// catchUp reads a room that replaced the bot's (a welcome after a
// reconnect) for rollbacks of its commands that it missed meanwhile: those
// come only as the system lines that the room's chat keeps.
func (p *botPlayer) catchUp(room *game.RoomView) {
	for _, l := range room.Chat {
		if l.From != "" || l.N <= p.chatSeen[room.Name] {
			continue
		}
		p.chatSeen[room.Name] = l.N
		for text := range p.chatSent {
			if l.Text == game.RollbackLine(game.RolledBack{Name: p.name, Kind: game.CmdChat, Text: text}) {
				p.onRollback(game.Event{Kind: game.EvRollback, Name: p.name, Cmd: game.CmdChat, Text: text})
				break
			}
		}
		for k := range p.rightPlaced {
			if l.Text == game.RollbackLine(game.RolledBack{Name: p.name, Kind: game.CmdPlace, Row: k.row, Col: k.col, Digit: k.digit}) {
				p.onRollback(game.Event{Kind: game.EvRollback, Name: p.name, Cmd: game.CmdPlace, Row: k.row, Col: k.col, Digit: k.digit})
				break
			}
		}
	}
}

// drainUntilIdle waits until nothing is in flight.
func (p *botPlayer) drainUntilIdle(ctx context.Context) {
	for {
		p.drain()
		p.mu.Lock()
		n := len(p.inflight)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-p.c.Notify():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chatText is a chat command's line, for the log ("" for other commands).
func chatText(c game.Command) string {
	if ch, ok := c.(game.Chat); ok {
		return ch.Text
	}
	return ""
}
