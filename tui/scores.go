package tui

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gridlock-game/gridlock/game"
)

type scoreRow struct {
	name         string
	round, total int32
	right, wrong uint32
	online       bool
}

func (m *Model) scoreRows() []scoreRow {
	r := m.room
	if r == nil {
		return nil
	}
	online := make(map[string]bool, len(r.Members))
	seen := make(map[string]bool, len(r.Scores)+len(r.Members))
	for _, mv := range r.Members {
		online[game.NameKey(mv.Name)] = mv.Online
		if mv.Watching {
			seen[game.NameKey(mv.Name)] = true // spectators are on no scoreboard
		}
	}
	rows := make([]scoreRow, 0, len(r.Scores)+len(r.Members))
	for _, s := range r.Scores {
		k := game.NameKey(s.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, scoreRow{s.Name, s.Round, s.Total, s.Right, s.Wrong, online[k]})
	}
	for _, mv := range r.Members {
		if !seen[game.NameKey(mv.Name)] {
			rows = append(rows, scoreRow{name: mv.Name, online: mv.Online})
		}
	}
	// A player who has not scored yet has 0 this round, and ranks above
	// one who lost points: in the room's order (round, then name).
	slices.SortStableFunc(rows, func(a, b scoreRow) int {
		if a.round != b.round {
			return cmp.Compare(b.round, a.round)
		}
		return cmp.Compare(game.NameKey(a.name), game.NameKey(b.name))
	})
	return rows
}

func accuracy(right, wrong uint32) string {
	if right+wrong == 0 {
		return "–"
	}
	return fmt.Sprintf("%d%%", int(float64(right)*100/float64(right+wrong)+0.5))
}

// scoreLines: a header, then a line per player (ranked by this round).
func (m *Model) scoreLines(w int) []string {
	th := m.th
	rows := m.scoreRows()
	if len(rows) == 0 {
		out := []string{fit(" "+th.hint.r("no players yet"), w)}
		if wl, ok := m.watchersLine(w); ok {
			out = append(out, wl)
		}
		return out
	}
	u := w - 2
	rankW := len(fmt.Sprint(len(rows)))
	rw, tw, aw := 4, 5, 4
	nameW := u - rankW - 1 - 1 - rw - 1 - tw - 1 - aw
	if nameW < 8 {
		rw, tw = 3, 4
		nameW += 2
	}
	out := make([]string, 0, len(rows)+1)
	head := fmt.Sprintf(" %*s %-*s %*s %*s %*s", rankW, "", nameW, "player", rw, "rnd", tw, "tot", aw, "acc")
	out = append(out, fit(th.dim.r(head), w))
	for i, r := range rows {
		mine := m.isMe(r.name)
		np := th.player(r.name, mine)
		txt := th.text
		if !r.online {
			np, txt = th.dim, th.dim
		}
		var l line
		l.addW(paint{}, " ", 1)
		l.add(th.dim, fmt.Sprintf("%*d ", rankW, i+1))
		l.addMax(np, r.name, 1+rankW+1+nameW)
		l.pad(1 + rankW + 1 + nameW)
		nums := fmt.Sprintf(" %*d %*d", rw, r.round, tw, r.total)
		if mine {
			l.add(th.bold, nums)
		} else {
			l.add(txt, nums)
		}
		l.add(th.dim, fmt.Sprintf(" %*s", aw, accuracy(r.right, r.wrong)))
		out = append(out, fit(l.String(), w))
	}
	if wl, ok := m.watchersLine(w); ok {
		out = append(out, wl)
	}
	return out
}

// trimScores keeps the header and the best, and this player's line.
func (m *Model) trimScores(sc []string, n int) []string {
	if n < 2 {
		return sc[:n]
	}
	out := slices.Clone(sc[:n])
	rows := m.scoreRows()
	for i, r := range rows {
		if m.isMe(r.name) && i+1 >= n {
			out[n-1] = sc[i+1]
		}
	}
	return out
}
