package tui

import (
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/game"
)

// A round's end: while the countdown to the next puzzle runs, a results
// panel takes the board's place: the winner, the round's time, and each
// player's score, accuracy and cells this round. esc shows the board
// instead. The title shows the round's clock, stopped at its end.

// resultsModel remembers the round whose results the player put away.
type resultsModel struct {
	hiddenRoom  string
	hiddenRound uint32
}

// resultsShown reports whether the results panel takes the board's place.
func (m *Model) resultsShown() bool {
	r := m.room
	return r != nil && r.State == game.RoundOver && m.size() > 0 &&
		!(m.hiddenRoom == r.Name && m.hiddenRound == r.Round)
}

func (m *Model) hideResults() { m.hiddenRoom, m.hiddenRound = m.room.Name, m.room.Round }

// roundTime is how long the round has run (to its end, once over).
func (m *Model) roundTime() (time.Duration, bool) {
	r := m.room
	if r == nil || r.RoundStart == 0 {
		return 0, false
	}
	end := m.now().UnixNano()
	if r.State == game.RoundOver && r.RoundEnd != 0 {
		end = r.RoundEnd
	}
	return time.Duration(max(end-r.RoundStart, 0)), true
}

// clockText writes a duration as m:ss (h:mm:ss from an hour).
func clockText(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// nextClockTick is how long until the round's clock shows another second
// (0: it does not run).
func (m *Model) nextClockTick() time.Duration {
	r := m.room
	if r == nil || r.RoundStart == 0 || r.State == game.RoundOver {
		return 0
	}
	d, _ := m.roundTime()
	return time.Second - d%time.Second
}

// resultRows are the players of the round, best first.
func (m *Model) resultRows() []game.ScoreView {
	r := m.room
	watching := map[string]bool{}
	for _, mv := range r.Members {
		if mv.Watching {
			watching[game.NameKey(mv.Name)] = true
		}
	}
	var rows []game.ScoreView
	for _, sc := range r.Scores {
		if sc.RoundRight+sc.RoundWrong > 0 && !watching[game.NameKey(sc.Name)] {
			rows = append(rows, sc)
		}
	}
	// On a tie the winner is who reached the score first, which the
	// scores' order (by score, then name) does not know: the winner leads.
	if i := slices.IndexFunc(rows, func(sc game.ScoreView) bool { return sc.Name == r.Winner }); i > 0 {
		w := rows[i]
		copy(rows[1:i+1], rows[:i])
		rows[0] = w
	}
	return rows
}

// resultsPane draws the panel into lines (the board's rows, each the left
// pane's width).
func (m *Model) resultsPane(lines []string) {
	th := m.th
	w := m.lay.leftW
	r := m.room
	pw := min(w-4, 46) // the panel's inner width
	if pw < 20 || len(lines) < 5 {
		return
	}
	nameW := min(16, pw-26)
	var body [][]seg
	title := []seg{{th.gold, "★ "}}
	if r.Winner != "" {
		title = append(title, seg{th.player(r.Winner, true), r.Winner}, seg{th.gold, fmt.Sprintf(" wins round %d", r.Round)})
	} else {
		title = append(title, seg{th.gold, fmt.Sprintf("round %d is over", r.Round)})
	}
	body = append(body, title)
	var sub []seg
	if d, ok := m.roundTime(); ok {
		sub = append(sub, seg{th.text, "time " + clockText(d)})
	}
	if r.NextRoundAt != 0 {
		if len(sub) > 0 {
			sub = append(sub, seg{th.dim, " · "})
		}
		sub = append(sub, seg{th.dim, countdown(time.Unix(0, r.NextRoundAt).Sub(m.now()))})
	}
	body = append(body, sub, nil)
	rows := m.resultRows()
	if len(rows) == 0 {
		body = append(body, []seg{{th.hint, "nobody played this round"}})
	} else {
		head := fmt.Sprintf("%2s  %-*s %6s %5s %6s", "", nameW, "player", "score", "acc", "cells")
		body = append(body, []seg{{th.dim, head}})
		room := len(lines) - 2 - len(body) - 2 // borders, and the hint under (after a blank line)
		for i, sc := range rows {
			if i >= room-1 && len(rows) > room {
				body = append(body, []seg{{th.dim, fmt.Sprintf("    … and %d more", len(rows)-i)}})
				break
			}
			mine := m.isMe(sc.Name)
			np, txt := th.player(sc.Name, mine), th.text
			if mine {
				txt = th.bold
			}
			rank := fmt.Sprintf("%2d  ", i+1)
			if sc.Name == r.Winner {
				rank = " ★  "
			}
			nums := fmt.Sprintf(" %6d %5s %6d", sc.Round, accuracy(sc.RoundRight, sc.RoundWrong), sc.RoundRight)
			body = append(body, []seg{{th.dim, rank}, {np, truncate(sc.Name, nameW) + spaces(nameW-width(truncate(sc.Name, nameW)))}, {txt, nums}})
		}
	}
	hint := []seg{{th.hint, "esc: the board"}}
	if len(body)+3 <= len(lines) {
		body = append(body, nil, hint)
	}
	// the panel, framed, centred in the board's place
	h := min(len(body)+2, len(lines))
	top := max((len(lines)-h)/2, 0)
	left := max((w-pw-2)/2, 0)
	bp := th.border
	frame := func(s string) string {
		var l line
		l.addW(paint{}, spaces(left), left)
		l.add(bp, s)
		l.pad(w)
		return l.String()
	}
	lines[top] = frame("╭" + repeat("─", pw) + "╮")
	for i := 0; i < h-2; i++ {
		var l line
		l.addW(paint{}, spaces(left), left)
		l.add(bp, "│")
		ss := body[i]
		sw := min(segsWidth(ss), pw-2)
		pad := 1
		if i < 2 || i == len(body)-1 {
			pad = max((pw-sw)/2, 1) // title, time and hint centred
		}
		l.addW(paint{}, spaces(pad), pad)
		l.segs(ss, left+1+pw-1)
		l.pad(left + 1 + pw)
		l.add(bp, "│")
		l.pad(w)
		lines[top+1+i] = l.String()
	}
	lines[top+h-1] = frame("╰" + repeat("─", pw) + "╯")
}
