package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

type decoder struct {
	b   []byte
	lim Limits
	typ Type
	err *DecodeError

	// names holds recently decoded names: a room view repeats a few names
	// in its cells, claims, scores, members and chat lines.
	names [16]string
	next  int
}

func (d *decoder) fail(code ErrCode, field, msg string) {
	if d.err == nil {
		d.err = &DecodeError{Code: code, Type: d.typ, Field: field, Msg: msg}
	}
	d.b = nil
}

func (d *decoder) truncated(field string) { d.fail(ErrMalformed, field, "truncated") }

func (d *decoder) u8(field string) uint8 {
	if len(d.b) < 1 {
		d.truncated(field)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u64(field string) uint64 {
	if len(d.b) < 8 {
		d.truncated(field)
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) fixed32(field string, dst *[32]byte) {
	if len(d.b) < 32 {
		d.truncated(field)
		return
	}
	copy(dst[:], d.b)
	d.b = d.b[32:]
}

func (d *decoder) bool(field string) bool {
	v := d.u8(field)
	if v > 1 {
		d.fail(ErrMalformed, field, fmt.Sprintf("bool value %d", v))
	}
	return v == 1
}

func (d *decoder) version() uint16 {
	if len(d.b) < 2 {
		d.truncated("version")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	if err := CheckVersion(v); err != nil {
		d.fail(ErrBadVersion, "version", err.(*DecodeError).Msg)
	}
	return v
}

func (d *decoder) uvarint(field string) uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		if n == 0 {
			d.truncated(field)
		} else {
			d.fail(ErrMalformed, field, "varint overflows 64 bits")
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	u := d.uvarint(field)
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) uvarintMax(field string, max uint64) uint64 {
	v := d.uvarint(field)
	if v > max {
		d.fail(ErrMalformed, field, fmt.Sprintf("value %d out of range", v))
		return 0
	}
	return v
}

func (d *decoder) varintRange(field string, min, max int64) int64 {
	v := d.varint(field)
	if v < min || v > max {
		d.fail(ErrMalformed, field, fmt.Sprintf("value %d out of range", v))
		return 0
	}
	return v
}

func (d *decoder) u16v(field string) uint16 { return uint16(d.uvarintMax(field, math.MaxUint16)) }
func (d *decoder) u32v(field string) uint32 { return uint32(d.uvarintMax(field, math.MaxUint32)) }
func (d *decoder) nodeID(field string) NodeID {
	return NodeID(d.uvarintMax(field, math.MaxUint16))
}
func (d *decoder) epoch(field string) Epoch {
	return Epoch{term: d.uvarint(field), node: d.nodeID(field), life: d.uvarint(field)}
}
func (d *decoder) i32(field string) int32 {
	return int32(d.varintRange(field, math.MinInt32, math.MaxInt32))
}
func (d *decoder) int(field string) int {
	return int(d.varintRange(field, math.MinInt, math.MaxInt))
}

// count reads a slice length: at most max, and no more elements of at least
// minSize bytes than the bytes left can hold.
func (d *decoder) count(field string, max, minSize int) int {
	v := d.uvarint(field)
	if v > uint64(max) {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d items exceeds %d", v, max))
		return 0
	}
	if v > uint64(len(d.b)/minSize) {
		d.truncated(field)
		return 0
	}
	return int(v)
}

// raw reads a length-prefixed byte string without copying it.
func (d *decoder) raw(field string) []byte {
	n := d.uvarint(field)
	if n > uint64(len(d.b)) {
		d.truncated(field)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(field string) []byte {
	v := d.raw(field)
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// str reads a UTF-8 string of at most max bytes.
func (d *decoder) str(field string, max int) string {
	n := d.uvarint(field)
	if n > uint64(max) {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d bytes exceeds %d", n, max))
		return ""
	}
	if n > uint64(len(d.b)) {
		d.truncated(field)
		return ""
	}
	v := d.b[:n]
	d.b = d.b[n:]
	if !utf8.Valid(v) {
		d.fail(ErrMalformed, field, "invalid UTF-8")
		return ""
	}
	return string(v)
}

// text reads a UTF-8 string of at most max runes.
func (d *decoder) text(field string, max int) string {
	v := d.raw(field)
	if d.checkRunes(field, v, max, false) {
		return string(v)
	}
	return ""
}

// line reads text that holds no control characters: an error's text is
// printed on a terminal, and one from a hostile node must not carry
// escape sequences to it. (Chat lines keep text: the game refuses control
// characters in them, and logs written before must still decode.)
func (d *decoder) line(field string, max int) string {
	v := d.raw(field)
	if len(v) > 0 && d.checkRunes(field, v, max, true) {
		return string(v)
	}
	return ""
}

// addr reads an address (host:port): bytes with no control characters,
// since status prints it as it is.
func (d *decoder) addr(field string, max int) string {
	v := d.str(field, max)
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		d.fail(ErrMalformed, field, fmt.Sprintf("control character %U", r))
		return ""
	}
	return v
}

// name reads a UTF-8 string of at most max runes without control
// characters, sharing the string with an equal name decoded before.
func (d *decoder) name(field string, max int) string {
	v := d.raw(field)
	if len(v) == 0 || !d.checkRunes(field, v, max, true) {
		return ""
	}
	for i := range d.names {
		if d.names[i] == string(v) {
			return d.names[i]
		}
	}
	s := string(v)
	d.names[d.next] = s
	d.next = (d.next + 1) % len(d.names)
	return s
}

func (d *decoder) checkRunes(field string, v []byte, max int, names bool) bool {
	if d.err != nil {
		return false
	}
	if len(v) > utf8.UTFMax*max {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d bytes exceeds %d runes", len(v), max))
		return false
	}
	if !names {
		if !utf8.Valid(v) {
			d.fail(ErrMalformed, field, "invalid UTF-8")
			return false
		}
		if n := len(v); n > max {
			if n = utf8.RuneCount(v); n > max {
				d.fail(ErrTooLarge, field, fmt.Sprintf("%d runes exceeds %d", n, max))
				return false
			}
		}
		return true
	}
	n := 0
	for i := 0; i < len(v); n++ {
		if c := v[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				d.fail(ErrMalformed, field, fmt.Sprintf("control character %U", c))
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size == 1 {
			d.fail(ErrMalformed, field, "invalid UTF-8")
			return false
		}
		if unicode.IsControl(r) {
			d.fail(ErrMalformed, field, fmt.Sprintf("control character %U", r))
			return false
		}
		i += size
	}
	if n > max {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d runes exceeds %d", n, max))
		return false
	}
	return true
}

func (d *decoder) role(field string) Role {
	r := Role(d.u8(field))
	if r > RoleRefused {
		d.fail(ErrMalformed, field, fmt.Sprintf("unknown role %d", r))
		return 0
	}
	return r
}
