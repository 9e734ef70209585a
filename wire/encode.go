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

// AppendMessage appends the body of m (type byte and fields) to dst. It fails
// for a message or command type this package does not know (commands must be
// game's value types, not pointers to them) or a nil one, and for a message
// that DecodeMessage refuses whatever the Limits: a Snapshot whose Before is
// beyond its Tail or Index, a puzzle or board neither empty nor of Size*Size
// cells. dst is then returned unchanged. It does not check Limits.
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	b, err := appendBody(dst, m, true)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// AppendFrame appends m as a frame: its body's length as 4 bytes big-endian,
// then the body.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	b, err := appendBody(append(dst, 0, 0, 0, 0), m, true)
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
func appendMessage(b []byte, m Message) ([]byte, error) { return appendBody(b, m, false) }

// appendBody appends m's body with its type's appendTo. With check, it
// first refuses what DecodeMessage would refuse under any Limits, beyond
// what the encoding itself rules out. It calls each appendTo directly and
// makes the checks itself: a call through an interface, or to a check
// function of its own, adds a tenth to the instructions that encode a move.
func appendBody(b []byte, m Message, check bool) ([]byte, error) {
	switch m := m.(type) {
	case *Hello:
		return m.appendTo(b)
	case *Welcome:
		if err := m.check(); err != nil && check {
			return nil, err
		}
		return m.appendTo(b)
	case *Command:
		return m.appendTo(b)
	case *Ack:
		return m.appendTo(b)
	case *Events:
		if err := m.check(); err != nil && check {
			return nil, err
		}
		return m.appendTo(b)
	case *ClusterView:
		return m.appendTo(b)
	case *Redirect:
		return m.appendTo(b)
	case *Ping:
		return m.appendTo(b)
	case *Pong:
		return m.appendTo(b)
	case *Error:
		return m.appendTo(b)
	case *Query:
		return m.appendTo(b)
	case *QueryReply:
		return m.appendTo(b)
	case *RoomState:
		if err := m.check(); err != nil && check {
			return nil, err
		}
		return m.appendTo(b)
	case *Status:
		return m.appendTo(b)
	case *Beacon:
		return m.appendTo(b)
	case *Election:
		return m.appendTo(b)
	case *ElectionOK:
		return m.appendTo(b)
	case *Coordinator:
		return m.appendTo(b)
	case *Leave:
		return m.appendTo(b)
	case *StateReply:
		return m.appendTo(b)
	case *Fetch:
		return m.appendTo(b)
	case *Append:
		return m.appendTo(b)
	case *AppendAck:
		return m.appendTo(b)
	case *Snapshot:
		if err := m.check(); err != nil && check {
			return nil, err
		}
		return m.appendTo(b)
	case *RolledBack:
		return m.appendTo(b)
	case *PeerHello:
		return m.appendTo(b)
	case *PeerAuth:
		return m.appendTo(b)
	case nil:
		return nil, errNilMessage
	}
	return nil, fmt.Errorf("wire: cannot encode message type %T", m)
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

// appendEpoch encodes an epoch: term, node, life.
func appendEpoch(b []byte, e Epoch) []byte {
	b = binary.AppendUvarint(b, e.term)
	b = binary.AppendUvarint(b, uint64(e.node))
	return binary.AppendUvarint(b, e.life)
}
