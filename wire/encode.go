package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The encoding of a message body is its type byte, then its fields in
// declaration order:
//
//   - unsigned integers (ids, epochs, indexes, counts) as uvarints, signed
//     ones (times, points) as zig-zag varints, uint8 and enums as one byte,
//     bools as one byte 0 or 1;
//   - Version as 2 bytes big-endian, right after the type byte, so that any
//     later version of the protocol can still be recognised;
//   - Beacon.Instance as 8 bytes big-endian (it is random), MACs and nonces
//     as their 32 bytes;
//   - strings and byte slices as a uvarint length and the bytes;
//   - slices as a uvarint count and the elements; a pointer as a byte 0
//     (nil) or 1 followed by the value;
//   - a game.Command as its CmdKind byte and its fields.
//
// Each message type appends itself (appendTo, in encode_client.go and
// encode_peer.go, in the order and files of its decoder); the values of
// game it carries are in encode_game.go.

var errNilMessage = errors.New("wire: nil message")

// appender is every message type of this package. appendTo appends the
// body without the checks of AppendMessage, and fails only for a nil
// receiver or a command it cannot encode.
type appender interface {
	appendTo(b []byte) ([]byte, error)
}

// AppendMessage appends the body of m (type byte and fields) to dst. It fails
// for a message or command type this package does not know (commands must be
// game's value types, not pointers to them) or a nil one, and for a message
// that DecodeMessage refuses whatever the Limits: a Snapshot whose Before is
// beyond its Tail or Index, a puzzle or board neither empty nor of Size*Size
// cells. dst is then returned unchanged. It does not check Limits.
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	if err := check(m); err != nil {
		return dst, err
	}
	b, err := appendMessage(dst, m)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// AppendFrame appends m as a frame: its body's length as 4 bytes big-endian,
// then the body.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	if err := check(m); err != nil {
		return dst, err
	}
	start := len(dst)
	b, err := appendMessage(append(dst, 0, 0, 0, 0), m)
	if err != nil {
		return dst, err
	}
	n := len(b) - start - 4
	if uint64(n) > math.MaxUint32 {
		return dst, fmt.Errorf("wire: %s body of %d bytes does not fit a frame", m.Type(), n)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// appendMessage appends m's body unchecked: the tests use it to make bodies
// that DecodeMessage must refuse.
func appendMessage(b []byte, m Message) ([]byte, error) {
	a, ok := m.(appender)
	if !ok {
		if m == nil {
			return nil, errNilMessage
		}
		return nil, fmt.Errorf("wire: cannot encode message type %T", m)
	}
	return a.appendTo(b)
}

// check refuses what DecodeMessage would refuse under any Limits, beyond
// what the encoding itself rules out.
func check(m Message) error {
	switch m := m.(type) {
	case *Welcome:
		return m.check()
	case *Events:
		return m.check()
	case *RoomState:
		return m.check()
	case *Snapshot:
		return m.check()
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
