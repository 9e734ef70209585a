package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// width is the number of terminal columns s takes (s holds no escapes).
func width(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return n + widthSlow(s[i:])
		}
		n++
	}
	return n
}

// widthSlow counts the runes the app draws its frame with as one column
// each and leaves anything else to ansi.StringWidth.
func widthSlow(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r < 0x7f && r >= 0x20,
			r >= 0xa0 && r < 0x300,
			r >= 0x2500 && r < 0x2580,  // box drawing
			r >= 0x2070 && r < 0x20a0,  // superscripts: notes
			r >= 0x2800 && r < 0x2900,  // braille: notes
			r >= 0x2190 && r <= 0x2193, // arrows
			r == 0x2605, r == 0x25cf, r == 0x25cb, r == 0x25cc,
			r == 0x2039, r == 0x203a, r == 0x2013, r == 0x2014, r == 0x2026,
			r == 0x2212, r == 0x2713, r == 0x2717:
			n++
		default:
			return ansi.StringWidth(s)
		}
	}
	return n
}

// truncate cuts s (no escapes) to w columns, ending a cut with "…".
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

const blanks = "                                                                                                                                "

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

var (
	thinRule  = strings.Repeat("─", 256)
	heavyRule = strings.Repeat("━", 256)
)

// repeat is s n times; the rules the frame is made of come from a cache.
func repeat(s string, n int) string {
	if n <= 0 {
		return ""
	}
	switch {
	case s == "─" && n <= 256:
		return thinRule[:3*n]
	case s == "━" && n <= 256:
		return heavyRule[:3*n]
	}
	return strings.Repeat(s, n)
}

// line builds one styled line and counts its width.
type line struct {
	b strings.Builder
	w int
}

// add appends s in paint p.
func (l *line) add(p paint, s string) {
	l.b.WriteString(p.r(s))
	l.w += width(s)
}

// addW appends s, whose width is known to be w.
func (l *line) addW(p paint, s string, w int) {
	l.b.WriteString(p.r(s))
	l.w += w
}

// addMax appends s in paint p, cut so that the line stays within max columns.
func (l *line) addMax(p paint, s string, max int) {
	if l.w >= max {
		return
	}
	s = truncate(s, max-l.w)
	l.add(p, s)
}

// pad fills the line with spaces up to w columns.
func (l *line) pad(w int) {
	if l.w < w {
		l.b.WriteString(spaces(w - l.w))
		l.w = w
	}
}

func (l *line) String() string { return l.b.String() }

// fit pads or cuts a styled string to exactly w columns.
func fit(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "")
		sw = ansi.StringWidth(s)
	}
	return s + spaces(w-sw)
}

// wrap breaks s (no escapes) into lines of at most first columns for the
// first line and rest for the others, at spaces where it can.
func wrap(s string, first, rest int) []string {
	first, rest = max(first, 1), max(rest, 1)
	if width(s) <= first {
		return []string{s}
	}
	var out []string
	limit := first
	for s != "" {
		if width(s) <= limit {
			out = append(out, s)
			break
		}
		cut := ansi.Truncate(s, limit, "")
		if i := strings.LastIndexByte(cut, ' '); i > 0 {
			cut = cut[:i]
		}
		if cut == "" {
			// a character wider than the line: take it anyway
			_, size := utf8.DecodeRuneInString(s)
			cut = s[:size]
		}
		out = append(out, cut)
		s = strings.TrimLeft(s[len(cut):], " ")
		limit = rest
	}
	return out
}

// seg is a piece of text in a paint.
type seg struct {
	p paint
	s string
}

func segsWidth(ss []seg) int {
	w := 0
	for _, s := range ss {
		w += width(s.s)
	}
	return w
}

func (l *line) segs(ss []seg, max int) {
	for _, s := range ss {
		l.addMax(s.p, s.s, max)
	}
}
