package bot

import (
	"fmt"
	"strings"

	"github.com/gridlock-game/gridlock/game"
)

// check compares the final room with what this bot had acknowledged: its
// right placements of the current round on the board, and its count of
// right placements over all rounds in the score table.
func (p *botPlayer) check(final game.RoomView) (lost int, problems []string) {
	missing := 0
	for k := range p.rightPlaced {
		if k.round != final.Round {
			continue
		}
		c := final.Board[int(k.row)*int(final.Puzzle.Size)+int(k.col)]
		if c.Digit != k.digit || !strings.EqualFold(c.Owner, p.name) {
			missing++
			at := p.rightPlaced[k]
			problems = append(problems, fmt.Sprintf("%s: acknowledged %d at r%dc%d (room %s, round %d, log index %d) is not on the board of room %s (it holds %d by %q)",
				p.name, k.digit, k.row+1, k.col+1, at.room, k.round, at.index, final.Name, c.Digit, c.Owner))
		}
	}
	var sc *game.ScoreView
	for i := range final.Scores {
		if strings.EqualFold(final.Scores[i].Name, p.name) {
			sc = &final.Scores[i]
		}
	}
	want := p.right - p.rolledRight
	got := 0
	if sc != nil {
		got = int(sc.Right)
	}
	short := max(0, want-got)
	if short > 0 {
		problems = append(problems, fmt.Sprintf("%s: %d right placements acknowledged, the score table counts %d", p.name, want, got))
	}
	return max(missing, short), problems
}

// checkChat: every acknowledged chat line still in the room's history is
// there exactly once; lines are numbered without gaps. Lines up to number
// from were in the room before play began (an earlier run's).
func checkChat(players []*botPlayer, final game.RoomView, from uint64) (lost, dups int, problems []string) {
	seen := map[string]int{} // by chatKey
	var prev uint64
	for i, l := range final.Chat {
		if l.N > from {
			seen[chatKey(l.From, l.Text)]++
		}
		if i > 0 && l.N != prev+1 {
			lost++
			problems = append(problems, fmt.Sprintf("chat of room %s: line %d follows line %d", final.Name, l.N, prev))
		}
		prev = l.N
	}
	for _, p := range players {
		p.mu.Lock()
		for text := range p.chatSent {
			switch n := seen[chatKey(p.name, text)]; {
			case n > 1:
				dups += n - 1
				problems = append(problems, fmt.Sprintf("%s: chat line %q is in room %s %d times", p.name, text, final.Name, n))
			case n == 0 && len(final.Chat) < final.ChatHistory:
				// The history is not full yet: the line must be there.
				lost++
				problems = append(problems, fmt.Sprintf("%s: acknowledged chat line %q is not in room %s", p.name, text, final.Name))
			}
		}
		p.mu.Unlock()
	}
	return lost, dups, problems
}

// chatKey tells a chat line apart: bots may say the same words.
func chatKey(from, text string) string { return game.NameKey(from) + "\x00" + text }
