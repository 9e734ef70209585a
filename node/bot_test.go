package node

import (
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// A bot that was reconnecting when its commands were rolled back learns of
// it from the room's chat when the room comes back whole; lines it saw
// before, and other players' rollbacks, change nothing.
func TestBotCatchesUpOnMissedRollbacks(t *testing.T) {
	p := &botPlayer{
		name:     "b1",
		chatSent: map[string]bool{"b1 line 1": true, "b1 line 2": true},
		chatSeen: map[string]uint64{"main": 3},
		rightPlaced: map[cellKey]placed{
			{round: 1, row: 2, col: 3, digit: 7}: {index: 40, room: "main"},
			{round: 1, row: 0, col: 0, digit: 1}: {index: 41, room: "main"},
		},
		rolled: map[uint64]bool{},
		right:  2,
	}
	line := func(n uint64, it game.RolledBack) game.ChatLine {
		return game.ChatLine{N: n, Text: game.RollbackLine(it)}
	}
	room := &game.RoomView{Name: "main", Chat: []game.ChatLine{
		line(3, game.RolledBack{Name: "b1", Kind: game.CmdChat, Text: "b1 line 1"}), // seen before
		line(4, game.RolledBack{Name: "b1", Kind: game.CmdChat, Text: "b1 line 2"}),
		{N: 5, From: "b2", Text: game.RollbackLine(game.RolledBack{Name: "b1", Kind: game.CmdPlace, Row: 0, Col: 0, Digit: 1})}, // a player's, not the system's
		line(6, game.RolledBack{Name: "b2", Kind: game.CmdPlace, Row: 0, Col: 0, Digit: 1}),
		line(7, game.RolledBack{Name: "b1", Kind: game.CmdPlace, Row: 2, Col: 3, Digit: 7}),
	}}
	p.catchUp(room)
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
