package wire

import (
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// A dealt puzzle that breaks the rules, or is cut short, is refused with an
// error that names it; the encoder refuses what the decoder would.
func TestDealtRoomIsChecked(t *testing.T) {
	good := sampleDealtRoom()
	enc := func(c game.CreateRoom) []byte {
		t.Helper()
		b, err := AppendMessage(nil, &Command{Seq: 1, Cmd: c})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := enc(good)
	cells := 36
	wrong := append([]byte(nil), b...)
	// The solution's first cell: a digit its row already holds.
	sol := len(wrong) - cells
	wrong[sol] = wrong[sol+1]
	if _, err := DecodeMessage(wrong, PeerLimits); CodeOf(err) != ErrMalformed || !strings.Contains(err.Error(), "cmd.dealt") {
		t.Errorf("a solution that breaks the rules: %v", err)
	}
	if _, err := DecodeMessage(b[:len(b)-1], PeerLimits); CodeOf(err) != ErrMalformed || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a cut puzzle: %v", err)
	}

	bad := good
	p := *good.Dealt
	bad.Dealt = &p
	bad.Size = 9
	if _, err := AppendMessage(nil, &Command{Seq: 1, Cmd: bad}); err == nil {
		t.Errorf("a 6×6 puzzle dealt for a 9×9 room was encoded")
	}
	p.Givens = append([]uint8(nil), p.Givens...)
	for i := range p.Givens {
		if p.Givens[i] == 0 {
			p.Givens[i] = p.Solution[i]%6 + 1 // disagrees with the solution
			break
		}
	}
	bad.Size = 6
	if _, err := AppendMessage(nil, &Command{Seq: 1, Cmd: bad}); err == nil || !strings.Contains(err.Error(), "disagrees") {
		t.Errorf("a given that disagrees with the solution: %v", err)
	}
}
