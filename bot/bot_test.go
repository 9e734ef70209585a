package bot

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// A bot that was reconnecting when its commands were rolled back learns of
// it from the room's chat when the room comes back whole; lines it read
// before, players' lines and other players' rollbacks change nothing, and a
// rollback heard both ways counts once.
func TestBotCatchesUpOnMissedRollbacks(t *testing.T) {
	c := &fakeConn{}
	p := &botPlayer{
		o:        &Options{Room: game.MainRoom, Logger: slog.New(slog.DiscardHandler)},
		name:     "b1",
		c:        c,
		chatSent: map[string]bool{"b1 line 1": true, "b1 line 2": true},
		chatSeen: map[string]uint64{"main": 3},
		rightPlaced: map[cellKey]placed{
			{round: 1, row: 2, col: 3, digit: 7}: {index: 40, room: "main"},
			{round: 1, row: 0, col: 0, digit: 1}: {index: 41, room: "main"},
		},
		rolled: map[string]bool{},
		right:  2,
	}
	line := func(n uint64, it game.RolledBack) game.ChatLine {
		return game.ChatLine{N: n, Text: game.RollbackLine(it)}
	}
	placed7 := game.RolledBack{Name: "b1", Kind: game.CmdPlace, Row: 2, Col: 3, Digit: 7}
	c.room = game.RoomView{Name: "main", Chat: []game.ChatLine{
		line(3, game.RolledBack{Name: "b1", Kind: game.CmdChat, Text: "b1 line 1"}), // read before
		line(4, game.RolledBack{Name: "b1", Kind: game.CmdChat, Text: "b1 line 2"}),
		{N: 5, From: "b2", Text: game.RollbackLine(game.RolledBack{Name: "b1", Kind: game.CmdPlace, Row: 0, Col: 0, Digit: 1})}, // a player's line
		line(6, game.RolledBack{Name: "b2", Kind: game.CmdPlace, Row: 0, Col: 0, Digit: 1}),
		line(7, placed7),
	}}
	// The event that the rollback of the 7 made, then the room replaced
	// (a welcome), as a client that takes no room copies says it.
	c.events = []client.Event{
		client.RoomChanged{Events: []game.Event{{Kind: game.EvRollback, Name: "B1", Cmd: game.CmdPlace, Row: 2, Col: 3, Digit: 7}}},
		client.RoomChanged{Replaced: true},
	}

	p.drain()
	if !p.chatSent["b1 line 1"] || p.chatSent["b1 line 2"] {
		t.Errorf("acknowledged lines left: %v, want only b1 line 1", p.chatSent)
	}
	if _, ok := p.rightPlaced[cellKey{1, 2, 3, 7}]; ok {
		t.Errorf("the rolled-back 7 at r3c4 is still counted as placed")
	}
	if _, ok := p.rightPlaced[cellKey{1, 0, 0, 1}]; !ok {
		t.Errorf("the 1 at r1c1 was taken for rolled back on another player's line")
	}
	if len(p.rolled) != 2 || p.rolledRight != 1 {
		t.Errorf("rolled back %d commands (%d right placements), want 2 (1)", len(p.rolled), p.rolledRight)
	}
}

// fakeConn is a client that holds a room and a queue of events.
type fakeConn struct {
	conn
	room   game.RoomView
	events []client.Event
}

func (f *fakeConn) Drain() []client.Event {
	evs := f.events
	f.events = nil
	return evs
}

func (f *fakeConn) WithRoom(fn func(room *game.RoomView, ok bool)) { fn(&f.room, true) }

// Each pause the cluster imposes on a bot for sending too fast is counted
// and reported.
func TestBotCountsThrottling(t *testing.T) {
	c := &fakeConn{events: []client.Event{client.Throttled{Text: "slow down"}, client.Throttled{Text: "slow down"}}}
	p := &botPlayer{o: &Options{Logger: slog.New(slog.DiscardHandler)}, c: c}
	p.drain()
	if p.throttled != 2 {
		t.Fatalf("throttled %d times, want 2", p.throttled)
	}
	if s := (Report{Throttled: 2}).String(); !strings.Contains(s, " throttled=2 ") {
		t.Fatalf("the report does not say throttled=2: %q", s)
	}
}

// A line that an earlier run's bot of the same name said in the room, in
// the same words, is not a duplicate of this run's; a line said twice
// after play began is.
func TestCheckChatLeavesEarlierRunsOut(t *testing.T) {
	p := &botPlayer{name: "bot1", chatSent: map[string]bool{"gg (1)": true, "on it (2)": true}}
	final := game.RoomView{Name: "main", ChatHistory: 100, Chat: []game.ChatLine{
		{N: 7, From: "bot1", Text: "gg (1)"}, // the earlier run's
		{N: 8, From: "bot2", Text: "on it (1)"},
		{N: 9, From: "bot1", Text: "gg (1)"},
		{N: 10, From: "bot1", Text: "on it (2)"},
	}}
	if lost, dups, problems := checkChat([]*botPlayer{p}, final, 8); lost != 0 || dups != 0 {
		t.Errorf("lost %d, duplicated %d, want none: %v", lost, dups, problems)
	}
	final.Chat = append(final.Chat, game.ChatLine{N: 11, From: "bot1", Text: "gg (1)"})
	if _, dups, _ := checkChat([]*botPlayer{p}, final, 8); dups != 1 {
		t.Errorf("a line said twice in this run counted %d times as duplicated, want 1", dups)
	}
}
