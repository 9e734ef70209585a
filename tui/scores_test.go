package tui

import (
	"slices"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// The scoreboard ranks by this round's points: a player who has not scored
// yet (0) ranks above one who lost points, and equal scores go by name.
func TestScoreRowsRankUnscoredAboveLosses(t *testing.T) {
	m := &Model{room: &game.RoomView{
		Scores: []game.ScoreView{
			{Name: "dave", Round: 10, Total: 10, Right: 1},
			{Name: "bob", Round: -3, Total: -3, Wrong: 1},
		},
		Members: []game.MemberView{{Name: "alice", Online: true}, {Name: "bob", Online: true}, {Name: "Carol"}, {Name: "dave", Online: true}},
	}}
	var got []string
	for _, r := range m.scoreRows() {
		got = append(got, r.name)
	}
	if want := []string{"dave", "alice", "Carol", "bob"}; !slices.Equal(got, want) {
		t.Fatalf("scoreboard %v, want %v", got, want)
	}
}
