package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// common is what every part of the screen shares: the clock, the theme, the
// keys and their help, and the terminal's size with the layout made for it.
// It belongs to one terminal: an app drawn on another (another theme, size
// or clock) has its own.
type common struct {
	now  func() time.Time
	th   *theme
	keys keyMap
	help help.Model

	width, height int
	lay           layout
	layKey        layoutKey
}

func newCommon(o Options, r *lipgloss.Renderer, dark bool) common {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	th := newTheme(r, o.NoColor, dark)
	return common{now: now, th: th, keys: newKeyMap(), help: newHelp(th)}
}

// setLayout lays the screen out for a board of n×n cells in boxes of br×bc
// (n = 0: no board yet), unless it is laid out for that and this size
// already. It reports whether the layout was made anew.
func (c *common) setLayout(n, br, bc int) bool {
	k := layoutKey{c.width, c.height, n, br, bc}
	if k == c.layKey && c.lay.w != 0 {
		return false
	}
	c.layKey = k
	c.lay = computeLayout(c.width, c.height, n, br, bc)
	c.help.Width = max(c.width-4, 0)
	return true
}
