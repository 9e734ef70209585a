package game

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// enc writes the varints, bytes and strings a snapshot is made of.
type enc struct{ b []byte }

func (e *enc) u(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) byte(v uint8) { e.b = append(e.b, v) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *enc) str(s string) {
	e.u(uint64(len(s)))
	e.b = append(e.b, s...)
}

// dec reads what enc writes; the first problem sticks and zero values follow.
type dec struct {
	b   []byte
	err error
	ver uint8 // the snapshot's format version
}

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
	}
	d.b = nil
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	ux := uint64(v) << 1
	if v < 0 {
		ux = ^ux
	}
	if n <= 0 || n != uvarintLen(ux) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// i32 reads a signed number that fits an int32.
func (d *dec) i32() int32 {
	v := d.i()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("number %d out of range", v)
		return 0
	}
	return int32(v)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// count reads a length that needs at least per bytes per item and at most max.
func (d *dec) count(per, max int) int {
	v := d.u()
	if d.err == nil && (v > uint64(max) || v*uint64(per) > uint64(len(d.b))) {
		d.fail("count %d too large", v)
	}
	if d.err != nil {
		return 0
	}
	return int(v)
}

// num reads an unsigned number no larger than max.
func (d *dec) num(max uint64) uint64 {
	v := d.u()
	if v > max {
		d.fail("number %d out of range", v)
		return 0
	}
	return v
}

func (d *dec) byte() uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad bool")
	return false
}

func (d *dec) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("short")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) fixed64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *dec) str(max int) string {
	n := d.count(1, max)
	b := d.bytes(n)
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.fail("bad text")
		return ""
	}
	return string(b)
}

// name reads a player name, which must be valid and normalised.
func (d *dec) name() string {
	s := d.optName()
	if d.err == nil && s == "" {
		d.fail("empty name")
	}
	return s
}

// optName reads a player name or "".
func (d *dec) optName() string {
	s := d.str(4 * MaxNameRunes)
	if d.err == nil && s != "" {
		if n, ok := NormalizeName(s); !ok || n != s {
			d.fail("bad name %q", s)
		}
	}
	return s
}

// time reads a non-negative time, or a positive one if positive is set.
func (d *dec) time(positive bool) int64 {
	t := d.i()
	if t < 0 || positive && t == 0 {
		d.fail("bad time %d", t)
	}
	return t
}
