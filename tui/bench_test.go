package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// busyModel is the full screen at w×h: a 9×9 room half filled by eight
// players, their claims, 200 chat lines, five nodes and a full event log.
func busyModel(b testing.TB, w, h int) *Model {
	f := newFake()
	clk := &clock{t: t0}
	m := New(f, Options{Name: "alice", Self: 2, Now: clk.now})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	wd := newWorld(b)
	players := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	for _, p := range players {
		wd.join(p)
	}
	for i, p := range players {
		wd.fill(p, "main", i*9, 3)
	}
	for i := 0; i < 200; i++ {
		p := players[i%len(players)]
		wd.do(p, game.Chat{Text: fmt.Sprintf("message %d from %s: where does the next 7 go? maybe the middle box", i, p)})
	}
	for i, p := range players[:6] {
		r, c := wd.emptyCell("main", i*12)
		wd.do(p, game.Claim{Row: uint8(r), Col: uint8(c)})
	}
	st := connected(5, 9, t0)
	f.push(client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(5, 5, 9)},
		roomEvent(wd.room("main"), st, t0))
	m.Update(clusterMsg{})
	for i := 0; i < maxLog; i++ {
		m.logAdd(t0.Add(time.Duration(i)*time.Second), logKind(i%6), fmt.Sprintf("n%d is back after a long absence", i%5+1))
	}
	m.view.Nodes[1].Lag = 3
	m.view.Nodes[1].Role = wire.RoleBackup
	m.row, m.col = 4, 4
	return m
}

func BenchmarkView(b *testing.B) {
	m := busyModel(b, 120, 40)
	if len(m.View()) == 0 {
		b.Fatal("empty view")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkView80x24(b *testing.B) {
	m := busyModel(b, 80, 24)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkViewNotes is the busy screen in notes mode, with notes in every
// empty cell of the first four rows (one to five candidates each) and the
// cursor's row, column, box and digit lit.
func BenchmarkViewNotes(b *testing.B) {
	m := busyModel(b, 120, 40)
	notes := make([]uint16, len(m.room.Board))
	for i, c := range m.room.Board[:36] {
		if c.Digit == 0 {
			notes[i] = uint16(1)<<(i%5+1) - 1
		}
	}
	m.room.Notes = notes
	m.notesMode = true
	if v := m.View(); len(v) == 0 {
		b.Fatal("empty view")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}
