package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// boardModel is the board's own state: the cursor, the moves and the claim
// under way, and the outcome of the last move.
type boardModel struct {
	row, col int
	placing  map[int]uint8 // board index -> digit of an unanswered Place
	claim    claimGuess
	flash    flash
}

// How long the board shows a move's outcome.
const (
	flashFor  = 1500 * time.Millisecond // a rejected move
	scoredFor = 1000 * time.Millisecond // a move that scored
)

// flash is a move's outcome shown on its cell and beside the board.
type flash struct {
	row, col int
	digit    uint8
	text     string
	ok       bool
	until    time.Time
	clash    bool // a wrong digit: the cells it clashes with light up
	noCell   bool // beside the board only
}

// claimGuess is the claim this app expects to hold while a Claim or Release
// is unanswered.
type claimGuess struct {
	seq      uint64
	has      bool
	row, col int
}

// boardOK reports whether the room has a board to draw.
func boardOK(r *game.RoomView) bool {
	if r == nil {
		return false
	}
	n := int(r.Puzzle.Size)
	return n >= 1 && n <= 9 && len(r.Board) == n*n && r.Puzzle.BoxRows > 0 && r.Puzzle.BoxCols > 0
}

func (m *Model) size() int {
	if !boardOK(m.room) {
		return 0
	}
	return int(m.room.Puzzle.Size)
}

func cellName(row, col int) string { return fmt.Sprintf("r%dc%d", row+1, col+1) }

func (m *Model) setFlash(row, col int, digit uint8, text string, ok bool) {
	d := flashFor
	if ok {
		d = scoredFor
	}
	m.flash = flash{row: row, col: col, digit: digit, text: text, ok: ok, until: m.now().Add(d)}
}

func (m *Model) flashOn() bool {
	return !m.flash.until.IsZero() && m.now().Before(m.flash.until)
}

// myClaim is the cell this player holds, as far as the app knows.
func (m *Model) myClaim() (row, col int, ok bool) {
	if m.claim.seq != 0 {
		return m.claim.row, m.claim.col, m.claim.has
	}
	if m.room == nil {
		return 0, 0, false
	}
	for _, c := range m.room.Claims {
		if m.isMe(c.Owner) {
			return int(c.Row), int(c.Col), true
		}
	}
	return 0, 0, false
}

// myClaimUntil is when the player's claim expires, if the player has one.
func (m *Model) myClaimUntil() (time.Time, bool) {
	if m.room == nil {
		return time.Time{}, false
	}
	for _, c := range m.room.Claims {
		if m.isMe(c.Owner) && c.Until != 0 {
			return time.Unix(0, c.Until), true
		}
	}
	return time.Time{}, false
}

// checkCell says why a move on the cursor's cell cannot succeed, or "".
func (m *Model) checkCell() string {
	r := m.room
	if r.State == game.RoundOver {
		return "the round is over"
	}
	c := r.Board[m.row*int(r.Puzzle.Size)+m.col]
	switch {
	case c.Given:
		return "cell is a given"
	case c.Digit != 0:
		return "cell is already filled"
	}
	return ""
}

func (m *Model) place(d int) {
	n := m.size()
	if n == 0 || d < 1 || d > n {
		return
	}
	if m.watching() {
		m.refuseWatching()
		return
	}
	if m.notesMode {
		m.toggleNote(d)
		return
	}
	if why := m.checkCell(); why != "" {
		m.setFlash(m.row, m.col, uint8(d), why, false)
		return
	}
	m.send(game.Place{Row: uint8(m.row), Col: uint8(m.col), Digit: uint8(d)}, m.row, m.col)
	m.placing[m.row*n+m.col] = uint8(d)
}

func (m *Model) toggleClaim() {
	if m.size() == 0 {
		return
	}
	if m.watching() {
		m.refuseWatching()
		return
	}
	if r, c, ok := m.myClaim(); ok && r == m.row && c == m.col {
		seq := m.send(game.Release{}, m.row, m.col)
		m.claim = claimGuess{seq: seq}
		return
	}
	if why := m.checkCell(); why != "" {
		m.setFlash(m.row, m.col, 0, why, false)
		return
	}
	seq := m.send(game.Claim{Row: uint8(m.row), Col: uint8(m.col)}, m.row, m.col)
	m.claim = claimGuess{seq: seq, has: true, row: m.row, col: m.col}
}

func (m *Model) boardKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	n := m.size()
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return nil, true
	case key.Matches(msg, k.Up):
		m.row = max(m.row-1, 0)
	case key.Matches(msg, k.Down):
		m.row = max(min(m.row+1, n-1), 0)
	case key.Matches(msg, k.Left):
		m.col = max(m.col-1, 0)
	case key.Matches(msg, k.Right):
		m.col = max(min(m.col+1, n-1), 0)
	case msg.Type == tea.KeyRunes && len(msg.Runes) == 1 && msg.Runes[0] >= '0' && msg.Runes[0] <= '9':
		m.place(int(msg.Runes[0] - '0'))
	case key.Matches(msg, k.Claim):
		m.toggleClaim()
	case key.Matches(msg, k.Notes):
		m.toggleNotes()
	case key.Matches(msg, k.Erase):
		m.clearNotes(false)
	case key.Matches(msg, k.EraseAll):
		m.clearNotes(true)
	case key.Matches(msg, k.Chat):
		return m.setFocus(focusChat), false
	case key.Matches(msg, k.Slash):
		cmd := m.setFocus(focusChat)
		m.input.SetValue("/")
		m.input.CursorEnd()
		return cmd, false
	case key.Matches(msg, k.Rooms):
		m.query(wire.QueryRooms, "", true)
	case key.Matches(msg, k.Help):
		m.overlay = ovHelp
	case key.Matches(msg, k.Back):
		switch {
		case m.flashOn():
			m.flash = flash{}
		case m.resultsShown():
			m.hideResults()
		case m.notesMode:
			m.notesMode = false
		}
	}
	return nil, false
}
