package game

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what players type. Package wire takes its limits from these.
const (
	MaxNameRunes   = 24  // player names
	MaxChatRunes   = 500 // chat lines
	MaxRoomNameLen = 24  // room names (ASCII)
	MaxTokenLen    = 64  // session tokens, bytes
)

// MainRoom is the room every session starts in. It always exists.
const MainRoom = "main"

// NormalizeName trims white space around a player name and reports whether
// the rest is a valid name: 1 to MaxNameRunes printable characters.
func NormalizeName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, printable(s, MaxNameRunes, false)
}

// NormalizeChat trims white space around a chat line and reports whether the
// rest is a valid line: 1 to MaxChatRunes printable characters, and zero
// width joiners between two of them (emoji such as 👩‍💻 are joined so).
func NormalizeChat(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, printable(s, MaxChatRunes, true)
}

// zwj is the zero width joiner, which joins emoji into one (👨‍👩‍👧).
const zwj = '\u200d'

// printable reports whether s is valid UTF-8 of 1 to max runes, each printable
// (letters, marks, numbers, punctuation, symbols and the ASCII space), or
// with joiners a zero width joiner between two printable runes that are not
// spaces, or the tags of a region's flag.
func printable(s string, max int, joiners bool) bool {
	if s == "" || len(s) > 4*max || !utf8.ValidString(s) {
		return false
	}
	n := 0
	prev := rune(0)
	for i, r := range s {
		n++
		if n > max {
			return false
		}
		switch {
		case r == zwj && joiners:
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(zwj):])
			if !joinable(prev) || !joinable(next) {
				return false
			}
		case joiners && r >= tagFirst && r <= cancelTag:
			// A flag's tag sequence (🏴, tags spelling "gbsct", the cancel
			// tag) names a region: tags follow the flag or a tag, and end
			// with the cancel tag.
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			after := prev == blackFlag || isTagSpec(prev)
			if r == cancelTag {
				after = isTagSpec(prev)
			} else if !isTagSpec(next) && next != cancelTag {
				return false
			}
			if !after {
				return false
			}
		case !unicode.IsPrint(r):
			return false
		}
		prev = r
	}
	return true
}

// Tag characters, which follow 🏴 in the flags of regions (U+E0020–E007E,
// then U+E007F).
const (
	blackFlag = '\U0001F3F4'
	tagFirst  = '\U000E0020'
	cancelTag = '\U000E007F'
)

func isTagSpec(r rune) bool { return r >= tagFirst && r < cancelTag }

// joinable reports whether a zero width joiner may stand beside r.
func joinable(r rune) bool {
	return r != ' ' && r != zwj && r != utf8.RuneError && unicode.IsPrint(r)
}

// NameKey is the form under which names are compared: two names are the
// same player exactly when strings.EqualFold says so, and then their keys are
// equal. ASCII names key to their lower case.
func NameKey(s string) string {
	ascii := true
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	if ascii {
		if lower {
			return s
		}
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		// The least rune of r's case-folding orbit names the orbit; that is
		// an upper-case letter for the ASCII ones, which are lower-cased (no
		// other orbit holds a-z, so keys stay distinct).
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		if 'A' <= m && m <= 'Z' {
			m += 'a' - 'A'
		}
		b.WriteRune(m)
	}
	return b.String()
}

// NormalizeRoomName lower-cases an ASCII room name and reports whether it is
// valid: 1 to MaxRoomNameLen characters of a-z, 0-9, - and _.
func NormalizeRoomName(s string) (string, bool) {
	if s == "" || len(s) > MaxRoomNameLen {
		return s, false
	}
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		case 'A' <= c && c <= 'Z':
			lower = false
		default:
			return s, false
		}
	}
	if !lower {
		s = strings.ToLower(s)
	}
	return s, true
}

// ChatTrouble says why NormalizeChat refuses a line ("": it does not),
// naming the character at fault where one is.
func ChatTrouble(s string) string {
	line, ok := NormalizeChat(s)
	switch {
	case ok:
		return ""
	case line == "":
		return "a chat line is 1 to 500 printable characters: this one is empty"
	case !utf8.ValidString(line):
		return "a chat line is printable text: this one is not valid UTF-8"
	case utf8.RuneCountInString(line) > MaxChatRunes:
		return fmt.Sprintf("a chat line is at most %d characters: this one has %d", MaxChatRunes, utf8.RuneCountInString(line))
	}
	for _, r := range line {
		if !unicode.IsPrint(r) && r != zwj && (r < tagFirst || r > cancelTag) {
			return fmt.Sprintf("a chat line is printable characters: U+%04X is a control or formatting character", r)
		}
	}
	return "a chat line is printable characters: a joiner or a flag's tag stands alone"
}
