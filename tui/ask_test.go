package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestAskBoxIsSquare(t *testing.T) {
	// In colour the input comes with escapes around its text and cursor:
	// they take no column, and the border after it stays in line.
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.Ascii} {
		r := lipgloss.NewRenderer(nil)
		r.SetColorProfile(p)
		m := newAskModel(newCommon(Options{}, r, true), AskOptions{Why: `the name "bob" is taken`, Name: "bob"})
		m.width, m.height = 100, 12
		if sc := ansi.Strip(m.View()); !boxAligned(sc) {
			t.Errorf("profile %v: the name screen's box is not square:\n%s", p, sc)
		}
	}
}

// boxAligned reports whether every row of the box drawn on screen (from
// ╭ to ╰) ends with its border in the same column as the top corner.
func boxAligned(screen string) bool {
	col, rows := -1, 0
	for _, l := range strings.Split(screen, "\n") {
		r := []rune(l)
		switch {
		case strings.Contains(l, "╭"):
			col = slices.Index(r, '╮')
		case col >= 0 && strings.Contains(l, "╰"):
			return rows > 0 && slices.Index(r, '╯') == col
		case col >= 0:
			rows++
			if col >= len(r) || r[col] != '│' {
				return false
			}
		}
	}
	return false
}

// A reason longer than the screen is wide (a long SSH user name, quoted)
// wraps inside the box, which stays within the screen, its right border
// drawn.
func TestAskBoxFitsTheScreen(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	why := `"` + strings.Repeat("a", 300) + `" is not a name here`
	for _, w := range []int{140, 80, 44} {
		m := newAskModel(newCommon(Options{}, r, true), AskOptions{Why: why})
		m.width, m.height = w, 24
		sc := ansi.Strip(m.View())
		for i, l := range strings.Split(sc, "\n") {
			if n := ansi.StringWidth(l); n > w {
				t.Fatalf("width %d: row %d is %d wide:\n%s", w, i, n, sc)
			}
		}
		if !boxAligned(sc) {
			t.Errorf("width %d: the box is not whole:\n%s", w, sc)
		}
	}
}

// The name screen of `gridlock watch` says what enter does there.
func TestAskSaysWhatEnterDoes(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	for _, tc := range []struct {
		watch     bool
		want, not string
	}{{false, "enter play", "watch"}, {true, "enter watch", "play"}} {
		m := newAskModel(newCommon(Options{}, r, true), AskOptions{Why: `the name "bob" is taken`, Name: "bob", Watch: tc.watch})
		m.width, m.height = 100, 12
		sc := ansi.Strip(m.View())
		if !strings.Contains(sc, tc.want) || strings.Contains(sc, tc.not) {
			t.Errorf("watch %v: the screen lacks %q or shows %q:\n%s", tc.watch, tc.want, tc.not, sc)
		}
	}
}
