package bot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gridlock-game/gridlock/game"
)

// What a bot does next: a placement (right, or wrong on purpose), a claim
// or a chat line, from the room as it last saw it.

// next picks a command from the room as the bot last saw it; inRoom says
// whether the bot is in its room yet.
func (p *botPlayer) next() (cmd game.Command, inRoom bool) {
	r := p.rng.Float64()
	var (
		over  bool
		size  int
		free  []int
		sol   []uint8
		solve game.PuzzleView
	)
	p.c.WithRoom(func(room *game.RoomView, ok bool) {
		if !ok || room.Name != p.o.Room {
			return
		}
		inRoom = true
		if over = room.State == game.RoundOver; over || r < p.o.ChatRate {
			return
		}
		size = int(room.Puzzle.Size)
		claimed := func(i int) bool {
			for _, cl := range room.Claims {
				if int(cl.Row)*size+int(cl.Col) == i {
					return !strings.EqualFold(cl.Owner, p.name)
				}
			}
			return false
		}
		for i, c := range room.Board {
			if c.Digit == 0 && !claimed(i) {
				free = append(free, i)
			}
		}
		var known bool
		if sol, known = p.solved[string(room.Puzzle.Givens)]; !known {
			solve = room.Puzzle
			solve.Givens = slices.Clone(room.Puzzle.Givens)
		}
	})
	switch {
	case !inRoom:
		return nil, false
	case r < p.o.ChatRate:
		return p.chatLine(), true
	case over || len(free) == 0:
		return nil, true
	}
	i := free[p.rng.IntN(len(free))]
	row, col := uint8(i/size), uint8(i%size)
	if r < p.o.ChatRate+p.o.ClaimRate {
		return game.Claim{Row: row, Col: col}, true
	}
	if sol == nil {
		if sol = p.solution(solve); sol == nil {
			return nil, true
		}
	}
	d := sol[i]
	if p.rng.Float64() < p.o.ErrorRate {
		d = uint8(1 + (int(d)+p.rng.IntN(size-1))%size)
	}
	return game.Place{Row: row, Col: col, Digit: d}, true
}

// chatLine is a new line, unique among this bot's (the check tells lines
// apart by who said them and what).
func (p *botPlayer) chatLine() game.Command {
	p.chatN++
	return game.Chat{Text: fmt.Sprintf("%s (%d)", chatPhrases[p.rng.IntN(len(chatPhrases))], p.chatN)}
}

var chatPhrases = []string{
	"nice one", "gg", "on it", "almost there", "this box is tricky", "careful with the 3s",
	"who keeps taking the corners?", "that was close", "my turn", "this row is nearly done",
}

func (p *botPlayer) solution(pz game.PuzzleView) []uint8 {
	key := string(pz.Givens)
	if s, ok := p.solved[key]; ok {
		return s
	}
	s, ok := game.Solve(pz.Size, pz.Givens)
	if !ok {
		return nil
	}
	p.solved[key] = s
	return s
}
