package tui

import (
	"hash/fnv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/gridlock-game/gridlock/game"
)

// paint is a style reduced to the escape codes around its text, so that the
// hot paths of View concatenate strings instead of calling lipgloss.
type paint struct{ pre, suf string }

func (p paint) r(s string) string {
	if p.pre == "" || s == "" {
		return s
	}
	return p.pre + s + p.suf
}

// sgr is a paint of SGR attributes such as "1" (bold), without colour.
func sgr(codes string) paint {
	if codes == "" {
		return paint{}
	}
	return paint{"\x1b[" + codes + "m", "\x1b[0m"}
}

func mkPaint(st lipgloss.Style) paint {
	out := st.Render("X")
	pre, suf, ok := strings.Cut(out, "X")
	if !ok {
		return paint{}
	}
	return paint{pre, suf}
}

// col is a colour for every kind of terminal: true colour, 256 and 16 colours.
type col struct{ tc, c256, c16 string }

func (c col) lg() lipgloss.TerminalColor {
	return lipgloss.CompleteColor{TrueColor: c.tc, ANSI256: c.c256, ANSI: c.c16}
}

// Player colours: the eight of Okabe and Ito's palette, chosen to stay
// apart for the common colour-vision deficiencies (red-green ones above
// all): they differ in lightness as much as in hue, so that no two players
// are told apart by red against green alone. Lightened for dark terminals,
// darkened for light ones. None is the red used for errors, and errors also
// carry a mark (✗), never colour alone.
var (
	darkPalette = []col{
		{"#E69F00", "214", "3"},  // orange
		{"#56B4E9", "74", "14"},  // sky blue
		{"#1FBF8F", "36", "6"},   // bluish green
		{"#F0E442", "227", "11"}, // yellow
		{"#6B9BF0", "69", "12"},  // blue
		{"#F07A3C", "209", "1"},  // vermillion
		{"#DD8FC0", "175", "13"}, // reddish purple
		{"#D8D8D8", "252", "15"}, // light grey
	}
	lightPalette = []col{
		{"#B07000", "130", "3"}, // orange
		{"#2A86C0", "32", "6"},  // sky blue
		{"#007A5A", "29", "2"},  // bluish green
		{"#807000", "100", "3"}, // yellow, darkened
		{"#0050A0", "25", "4"},  // blue
		{"#C04000", "166", "1"}, // vermillion
		{"#A0407A", "132", "5"}, // reddish purple
		{"#505050", "239", "8"}, // dark grey
	}
)

// colorIndex is the palette slot of a player: a hash of the name as the game
// compares names, so it is the same in every room and every app.
func colorIndex(name string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(game.NameKey(name)))
	return int(h.Sum32() % uint32(n))
}

// cellKind is what a board cell holds, for its style.
type cellKind uint8

const (
	ckEmpty cellKind = iota
	ckGiven
	ckPlaced  // by a player (colour)
	ckMine    // by this player (colour, underlined)
	ckClaim   // another player's claim (colour)
	ckMyClaim // this player's claim
	ckFlash   // a rejected move
	ckFlashOK // a move that scored
	ckPending // this player's move, not answered yet
	ckNotes   // this player's candidates in an empty cell
)

// highlight is how a cell stands to the cursor.
type highlight uint8

const (
	hlNone     highlight = iota
	hlPeer               // in the cursor's row, column or box
	hlSame               // holds the digit under the cursor
	hlConflict           // holds the digit a wrong move clashed with
)

// cursorKind says how the cursor shows on a cell.
type cursorKind uint8

const (
	curNone cursorKind = iota
	curFocused
	curBlurred
)

type cellKey struct {
	kind   cellKind
	color  int8
	cursor cursorKind
	hl     highlight
}

// theme holds every style of the app, as paints.
type theme struct {
	r       *lipgloss.Renderer // the terminal's: its colour profile and background
	noColor bool
	palette []col

	border, borderFocus  paint
	thin, heavy          paint // board lines
	app, title, titleOn  paint
	text, bold, dim      paint
	gold, ok             paint
	warn, err, system    paint
	info, key            paint
	selected, youTag     paint
	dead, hint, progress paint
	players, playersB    []paint // name colours, plain and bold

	cells map[cellKey]paint
	// lipgloss styles for the bubbles
	keyStyle, descStyle, sepStyle, textStyle, hintStyle lipgloss.Style
	plainStyle                                          lipgloss.Style // no attributes: a base for the bubbles' own (the cursor's reverse)
	// base colours for cells
	cursorBG, flashBG, okBG lipgloss.TerminalColor
	emptyFG, textFG         lipgloss.TerminalColor
	peerBG, sameBG, sameFG  lipgloss.TerminalColor
	conflictBG, notesFG     lipgloss.TerminalColor
	notes, notesOn          paint // the candidate bar: a digit off, on
}

// newTheme makes the styles for a terminal drawn through r.
func newTheme(r *lipgloss.Renderer, noColor, dark bool) *theme {
	t := &theme{r: r, noColor: noColor, cells: map[cellKey]paint{}}
	st := r.NewStyle
	t.plainStyle = st()
	if noColor {
		// Attributes only, written directly: they must not depend on the
		// colour profile, which is "none" where NO_COLOR is set.
		t.palette = make([]col, len(darkPalette))
		none, bold, ital, rev := paint{}, sgr("1"), sgr("3"), sgr("7")
		t.border, t.borderFocus, t.thin, t.heavy = none, bold, none, none
		t.app, t.title, t.titleOn = bold, none, bold
		t.text, t.bold, t.dim = none, bold, none
		t.gold, t.ok = bold, none
		t.warn, t.err, t.system = bold, bold, ital
		t.info, t.key = none, bold
		t.selected, t.youTag = rev, bold
		t.dead, t.hint, t.progress = none, ital, none
		for range t.palette {
			t.players = append(t.players, none)
			t.playersB = append(t.playersB, bold)
		}
		t.keyStyle, t.descStyle, t.sepStyle = st().Bold(true), st(), st()
		t.textStyle, t.hintStyle = st(), st().Italic(true)
		t.notes, t.notesOn = none, rev
		return t
	}
	var (
		border, thin, heavy, dim, textc, accent col
		errc, okc, warnc, gold, sys, info       col
		cursorBG, flashBG, okBG, empty          col
		peerBG, sameBG, sameFG, conflictBG      col
		notes                                   col
	)
	if dark {
		t.palette = darkPalette
		border = col{"#5F6070", "240", "8"}
		thin = col{"#3A3A46", "237", "8"}
		heavy = col{"#8A8CA0", "245", "7"}
		dim = col{"#767888", "243", "8"}
		textc = col{"#D0D0DA", "252", "7"}
		accent = col{"#87AFD7", "110", "6"}
		errc = col{"#FF6B6B", "203", "9"}
		okc = col{"#87D787", "114", "10"}
		warnc = col{"#FFAF5F", "215", "11"}
		gold = col{"#FFD75F", "221", "11"}
		sys = col{"#9A9CAE", "247", "7"}
		info = col{"#87D7D7", "116", "14"}
		cursorBG = col{"#454B68", "60", "8"}
		flashBG = col{"#C0304A", "161", "1"}
		okBG = col{"#2A5FA0", "25", "4"} // blue: not green against the red of errors
		empty = col{"#55576A", "240", "8"}
		peerBG = col{"#2A2E40", "236", "0"}
		sameBG = col{"#D7B85A", "179", "3"}
		sameFG = col{"#1C1C1C", "234", "0"}
		conflictBG = col{"#B03A1E", "130", "1"}
		notes = col{"#9AAAC8", "146", "7"}
	} else {
		t.palette = lightPalette
		border = col{"#A0A0B0", "248", "7"}
		thin = col{"#D4D4DC", "253", "7"}
		heavy = col{"#70728A", "243", "8"}
		dim = col{"#808090", "244", "8"}
		textc = col{"#303040", "236", "0"}
		accent = col{"#3A6EA5", "25", "4"}
		errc = col{"#C0203A", "160", "1"}
		okc = col{"#2E8B57", "29", "2"}
		warnc = col{"#B8650A", "130", "3"}
		gold = col{"#A07800", "136", "3"}
		sys = col{"#6A6C80", "242", "8"}
		info = col{"#007A87", "30", "6"}
		cursorBG = col{"#C8D2F0", "153", "7"}
		flashBG = col{"#F08090", "210", "9"}
		okBG = col{"#A8C8F0", "153", "12"}
		empty = col{"#B0B0BC", "249", "7"}
		peerBG = col{"#E8ECF6", "255", "7"}
		sameBG = col{"#F0D060", "221", "11"}
		sameFG = col{"#1C1C1C", "234", "0"}
		conflictBG = col{"#F0A080", "216", "9"}
		notes = col{"#5A6A90", "60", "8"}
	}
	fg := func(c col) lipgloss.Style { return st().Foreground(c.lg()) }
	t.border = mkPaint(fg(border))
	t.borderFocus = mkPaint(fg(accent))
	t.thin = mkPaint(fg(thin))
	t.heavy = mkPaint(fg(heavy))
	t.app = mkPaint(fg(accent).Bold(true))
	t.title = mkPaint(fg(sys))
	t.titleOn = mkPaint(fg(accent).Bold(true))
	t.text = mkPaint(fg(textc))
	t.bold = mkPaint(fg(textc).Bold(true))
	t.dim = mkPaint(fg(dim))
	t.gold = mkPaint(fg(gold).Bold(true))
	t.ok = mkPaint(fg(okc))
	t.warn = mkPaint(fg(warnc).Bold(true))
	t.err = mkPaint(fg(errc))
	t.system = mkPaint(fg(sys).Italic(true))
	t.info = mkPaint(fg(info))
	t.key = mkPaint(fg(accent))
	t.selected = mkPaint(st().Background(cursorBG.lg()).Foreground(textc.lg()).Bold(true))
	t.youTag = mkPaint(fg(accent))
	t.dead = mkPaint(fg(errc))
	t.hint = mkPaint(fg(dim).Italic(true))
	t.progress = mkPaint(fg(okc))
	for _, c := range t.palette {
		t.players = append(t.players, mkPaint(fg(c)))
		t.playersB = append(t.playersB, mkPaint(fg(c).Bold(true)))
	}
	t.cursorBG, t.flashBG, t.okBG, t.emptyFG, t.textFG = cursorBG.lg(), flashBG.lg(), okBG.lg(), empty.lg(), textc.lg()
	t.peerBG, t.sameBG, t.sameFG, t.conflictBG, t.notesFG = peerBG.lg(), sameBG.lg(), sameFG.lg(), conflictBG.lg(), notes.lg()
	t.notes = mkPaint(fg(dim))
	t.notesOn = mkPaint(st().Background(sameBG.lg()).Foreground(textc.lg()).Bold(true))
	t.keyStyle, t.descStyle, t.sepStyle = fg(accent), fg(dim), fg(border)
	t.textStyle, t.hintStyle = fg(textc), fg(dim).Italic(true)
	return t
}

// player is the paint of a player's name.
func (t *theme) player(name string, bold bool) paint {
	i := colorIndex(name, len(t.palette))
	if bold {
		return t.playersB[i]
	}
	return t.players[i]
}

// cell is the paint of a board cell, made once per combination.
func (t *theme) cell(k cellKind, color int, cur cursorKind, hl highlight) paint {
	key := cellKey{k, int8(color), cur, hl}
	if p, ok := t.cells[key]; ok {
		return p
	}
	s := t.r.NewStyle()
	if t.noColor {
		var codes []string
		switch k {
		case ckGiven:
			codes = append(codes, "1")
		case ckMine, ckMyClaim:
			codes = append(codes, "4")
		case ckPending, ckNotes:
			codes = append(codes, "3")
		case ckFlash, ckFlashOK:
			codes = append(codes, "1")
		}
		switch hl {
		case hlSame:
			codes = append(codes, "1", "4")
		case hlConflict:
			codes = append(codes, "1", "9") // struck out: reverse is the cursor's
		}
		flash := k == ckFlash || k == ckFlashOK
		switch {
		case cur == curFocused && flash:
			codes = append(codes, "4")
		case cur == curFocused, flash:
			codes = append(codes, "7")
		case cur == curBlurred:
			codes = append(codes, "4")
		}
		p := sgr(strings.Join(codes, ";"))
		t.cells[key] = p
		return p
	} else {
		switch k {
		case ckEmpty:
			s = s.Foreground(t.emptyFG)
		case ckGiven:
			s = s.Bold(true)
		case ckPlaced, ckClaim:
			s = s.Foreground(t.palette[color].lg())
		case ckMine:
			s = s.Foreground(t.palette[color].lg()).Bold(true)
		case ckMyClaim:
			s = s.Foreground(t.palette[color].lg()).Bold(true)
		case ckFlash:
			s = s.Background(t.flashBG).Foreground(lipgloss.Color("15")).Bold(true)
		case ckFlashOK:
			s = s.Background(t.okBG).Foreground(lipgloss.Color("15")).Bold(true)
		case ckPending:
			s = s.Foreground(t.palette[color].lg()).Italic(true).Faint(true)
		case ckNotes:
			s = s.Foreground(t.notesFG)
		}
		switch hl {
		case hlPeer:
			s = s.Background(t.peerBG)
		case hlSame:
			s = s.Background(t.sameBG).Foreground(t.sameFG).Bold(true)
		case hlConflict:
			s = s.Background(t.conflictBG).Foreground(lipgloss.Color("15")).Bold(true).Underline(true)
		}
		switch cur {
		case curFocused:
			if k != ckFlash && k != ckFlashOK {
				s = s.Background(t.cursorBG)
			}
			if k == ckEmpty {
				s = s.Foreground(t.textFG)
			}
		case curBlurred:
			s = s.Underline(true)
		}
	}
	p := mkPaint(s)
	t.cells[key] = p
	return p
}
