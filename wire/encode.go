package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gridlock-game/gridlock/game"
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

var errNilMessage = errors.New("wire: nil message")

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

func appendMessage(b []byte, m Message) ([]byte, error) {
	switch m := m.(type) {
	case *Hello:
		if m != nil {
			b = append(b, byte(THello))
			b = binary.BigEndian.AppendUint16(b, m.Version)
			b = appendString(b, m.Name)
			b = appendString(b, m.Token)
			return binary.AppendUvarint(b, m.LastLine), nil
		}
	case *Welcome:
		if m != nil {
			b = append(b, byte(TWelcome))
			b = binary.AppendUvarint(b, uint64(m.Node))
			b = binary.AppendUvarint(b, uint64(m.Epoch))
			b = binary.AppendUvarint(b, uint64(m.Session))
			b = appendString(b, m.Name)
			b = appendString(b, m.Token)
			b = binary.AppendUvarint(b, m.Index)
			b = appendRoomView(b, &m.Room)
			return appendClusterView(b, &m.View), nil
		}
	case *Command:
		if m != nil {
			b = append(b, byte(TCommand))
			b = binary.AppendUvarint(b, m.Seq)
			return appendCommand(b, m.Cmd)
		}
	case *Ack:
		if m != nil {
			b = append(b, byte(TAck))
			b = binary.AppendUvarint(b, m.Seq)
			b = binary.AppendUvarint(b, m.Index)
			b = append(b, byte(m.Code))
			b = appendString(b, m.Who)
			b = appendString(b, m.Room)
			return binary.AppendVarint(b, int64(m.Points)), nil
		}
	case *Events:
		if m != nil {
			b = append(b, byte(TEvents))
			b = binary.AppendUvarint(b, m.Index)
			b = binary.AppendUvarint(b, uint64(len(m.Events)))
			for i := range m.Events {
				b = appendEvent(b, &m.Events[i])
			}
			return b, nil
		}
	case *ClusterView:
		if m != nil {
			return appendClusterView(append(b, byte(TClusterView)), m), nil
		}
	case *Redirect:
		if m != nil {
			b = append(b, byte(TRedirect))
			b = binary.AppendUvarint(b, uint64(m.Leader))
			b = binary.AppendUvarint(b, uint64(m.Epoch))
			return appendString(b, m.Addr), nil
		}
	case *Ping:
		if m != nil {
			b = append(b, byte(TPing))
			b = binary.AppendUvarint(b, m.Nonce)
			return binary.AppendVarint(b, m.Time), nil
		}
	case *Pong:
		if m != nil {
			b = append(b, byte(TPong))
			b = binary.AppendUvarint(b, m.Nonce)
			return binary.AppendVarint(b, m.Time), nil
		}
	case *Error:
		if m != nil {
			b = append(b, byte(TError), byte(m.Code))
			return appendString(b, m.Text), nil
		}
	case *Query:
		if m != nil {
			b = append(b, byte(TQuery))
			b = binary.AppendUvarint(b, m.Seq)
			b = append(b, byte(m.Kind))
			return appendString(b, m.Room), nil
		}
	case *QueryReply:
		if m != nil {
			b = append(b, byte(TQueryReply))
			b = binary.AppendUvarint(b, m.Seq)
			b = binary.AppendUvarint(b, uint64(len(m.Rooms)))
			for i := range m.Rooms {
				b = appendRoomSummary(b, &m.Rooms[i])
			}
			b = binary.AppendUvarint(b, uint64(len(m.Members)))
			for i := range m.Members {
				b = appendMember(b, &m.Members[i])
			}
			return b, nil
		}
	case *RoomState:
		if m != nil {
			b = append(b, byte(TRoomState))
			b = binary.AppendUvarint(b, m.Index)
			return appendRoomView(b, &m.Room), nil
		}
	case *Status:
		if m != nil {
			return append(b, byte(TStatus)), nil
		}
	case *Beacon:
		if m != nil {
			b = append(b, byte(TBeacon))
			b = binary.BigEndian.AppendUint16(b, m.Version)
			b = appendString(b, m.Cluster)
			b = binary.AppendUvarint(b, uint64(m.From))
			b = binary.BigEndian.AppendUint64(b, m.Instance)
			b = binary.AppendUvarint(b, uint64(m.Epoch))
			b = append(b, byte(m.Role))
			b = binary.AppendUvarint(b, uint64(m.Leader))
			b = binary.AppendUvarint(b, m.Commit)
			b = binary.AppendUvarint(b, m.Last)
			b = appendString(b, m.ClientAddr)
			b = appendString(b, m.PeerAddr)
			b = appendString(b, m.Advertise)
			return append(b, m.MAC[:]...), nil
		}
	case *Election:
		if m != nil {
			return appendHeader(append(b, byte(TElection)), m.From, m.Epoch), nil
		}
	case *ElectionOK:
		if m != nil {
			return appendHeader(append(b, byte(TElectionOK)), m.From, m.Epoch), nil
		}
	case *Coordinator:
		if m != nil {
			return appendHeader(append(b, byte(TCoordinator)), m.From, m.Epoch), nil
		}
	case *Leave:
		if m != nil {
			return appendHeader(append(b, byte(TLeave)), m.From, m.Epoch), nil
		}
	case *StateReply:
		if m != nil {
			b = appendHeader(append(b, byte(TStateReply)), m.From, m.Epoch)
			b = binary.AppendUvarint(b, m.Last)
			b = binary.AppendUvarint(b, m.Commit)
			b = binary.AppendUvarint(b, m.SnapIndex)
			return appendHistory(b, m.History), nil
		}
	case *Fetch:
		if m != nil {
			b = appendHeader(append(b, byte(TFetch)), m.From, m.Epoch)
			b = binary.AppendUvarint(b, m.After)
			return appendBool(b, m.Snapshot), nil
		}
	case *Append:
		if m != nil {
			b = appendHeader(append(b, byte(TAppend)), m.From, m.Epoch)
			b = binary.AppendUvarint(b, m.PrevIndex)
			b = binary.AppendUvarint(b, uint64(m.PrevEpoch))
			b = binary.AppendUvarint(b, m.Commit)
			b = append(b, m.Support)
			b = binary.AppendVarint(b, m.Sent)
			return appendLogEntries(b, m.Entries)
		}
	case *AppendAck:
		if m != nil {
			b = appendHeader(append(b, byte(TAppendAck)), m.From, m.Epoch)
			b = appendBool(b, m.OK)
			b = binary.AppendUvarint(b, m.Match)
			b = binary.AppendVarint(b, m.Sent)
			return appendBool(b, m.NeedSnap), nil
		}
	case *Snapshot:
		if m != nil {
			b = appendHeader(append(b, byte(TSnapshot)), m.From, m.Epoch)
			b = binary.AppendUvarint(b, m.Index)
			b = binary.AppendUvarint(b, uint64(m.IndexEpoch))
			b = binary.AppendUvarint(b, m.Commit)
			b = appendHistory(b, m.History)
			b = binary.AppendUvarint(b, uint64(len(m.Data)))
			b = append(b, m.Data...)
			b = binary.AppendUvarint(b, m.Before)
			return appendLogEntries(b, m.Tail)
		}
	case *RolledBack:
		if m != nil {
			b = appendHeader(append(b, byte(TRolledBack)), m.From, m.Epoch)
			return appendRolledBackItems(b, m.Items), nil
		}
	case *PeerHello:
		if m != nil {
			b = append(b, byte(TPeerHello))
			b = binary.BigEndian.AppendUint16(b, m.Version)
			b = appendString(b, m.Cluster)
			b = binary.AppendUvarint(b, uint64(m.From))
			b = binary.BigEndian.AppendUint64(b, m.Instance)
			return append(b, m.Nonce[:]...), nil
		}
	case *PeerAuth:
		if m != nil {
			b = append(b, byte(TPeerAuth))
			b = binary.AppendUvarint(b, uint64(m.From))
			return append(b, m.MAC[:]...), nil
		}
	case nil:
		return nil, errNilMessage
	default:
		return nil, fmt.Errorf("wire: cannot encode message type %T", m)
	}
	return nil, errNilMessage
}

// check refuses what DecodeMessage would refuse under any Limits, beyond
// what the encoding itself rules out.
func check(m Message) error {
	switch m := m.(type) {
	case *Welcome:
		if m != nil {
			return checkRoom(m.Type(), &m.Room)
		}
	case *RoomState:
		if m != nil {
			return checkRoom(m.Type(), &m.Room)
		}
	case *Events:
		if m != nil {
			for i := range m.Events {
				if p := m.Events[i].Puzzle; p != nil {
					if err := checkPuzzle(m.Type(), p); err != nil {
						return err
					}
				}
			}
		}
	case *Snapshot:
		if m != nil && (m.Before > uint64(len(m.Tail)) || m.Before > m.Index) {
			return fmt.Errorf("wire: %s: %d entries before index %d, of %d", m.Type(), m.Before, m.Index, len(m.Tail))
		}
	}
	return nil
}

func checkPuzzle(t Type, p *game.PuzzleView) error {
	if n := int(p.Size) * int(p.Size); len(p.Givens) != 0 && len(p.Givens) != n {
		return fmt.Errorf("wire: %s: %d givens for %d cells", t, len(p.Givens), n)
	}
	return nil
}

func checkRoom(t Type, r *game.RoomView) error {
	if err := checkPuzzle(t, &r.Puzzle); err != nil {
		return err
	}
	if n := int(r.Puzzle.Size) * int(r.Puzzle.Size); len(r.Board) != 0 && len(r.Board) != n {
		return fmt.Errorf("wire: %s: %d cells for a board of %d", t, len(r.Board), n)
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

func appendHeader(b []byte, from NodeID, epoch Epoch) []byte {
	b = binary.AppendUvarint(b, uint64(from))
	return binary.AppendUvarint(b, uint64(epoch))
}

func appendHistory(b []byte, h []EpochStart) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, e := range h {
		b = binary.AppendUvarint(b, uint64(e.Epoch))
		b = binary.AppendUvarint(b, e.Index)
		b = append(b, e.Support)
		b = binary.AppendUvarint(b, e.Committed)
	}
	return b
}

func appendLogEntries(b []byte, es []LogEntry) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(es)))
	var err error
	for i := range es {
		b = binary.AppendUvarint(b, uint64(es[i].Epoch))
		if b, err = appendEntry(b, &es[i].Entry); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendEntry(b []byte, e *game.Entry) ([]byte, error) {
	b = binary.AppendVarint(b, e.Time)
	b = binary.AppendUvarint(b, uint64(e.Session))
	b = binary.AppendUvarint(b, e.Seq)
	return appendCommand(b, e.Cmd)
}

func appendCommand(b []byte, c game.Command) ([]byte, error) {
	switch c := c.(type) {
	case game.Genesis:
		b = append(b, byte(game.CmdGenesis))
		b = binary.AppendUvarint(b, c.Seed)
		r := &c.Rules
		b = binary.AppendVarint(b, int64(r.ClaimLease))
		b = binary.AppendVarint(b, int64(r.SessionGrace))
		b = binary.AppendVarint(b, int64(r.RoundCountdown))
		b = binary.AppendVarint(b, int64(r.ChatHistory))
		b = binary.AppendVarint(b, int64(r.MaxRooms))
		b = binary.AppendVarint(b, int64(r.MaxSessions))
		b = binary.AppendVarint(b, int64(r.DedupeWindow))
		return append(b, r.MainSize, byte(r.MainDifficulty)), nil
	case game.OpenSession:
		b = append(b, byte(game.CmdOpenSession))
		b = appendString(b, c.Name)
		return appendString(b, c.Token), nil
	case game.CloseSession:
		return append(b, byte(game.CmdCloseSession)), nil
	case game.Disconnect:
		b = append(b, byte(game.CmdDisconnect))
		return binary.AppendUvarint(b, uint64(c.Session)), nil
	case game.Place:
		return append(b, byte(game.CmdPlace), c.Row, c.Col, c.Digit), nil
	case game.Claim:
		return append(b, byte(game.CmdClaim), c.Row, c.Col), nil
	case game.Release:
		return append(b, byte(game.CmdRelease)), nil
	case game.Chat:
		return appendString(append(b, byte(game.CmdChat)), c.Text), nil
	case game.CreateRoom:
		b = appendString(append(b, byte(game.CmdCreateRoom)), c.Name)
		return append(b, c.Size, byte(c.Difficulty)), nil
	case game.JoinRoom:
		return appendString(append(b, byte(game.CmdJoinRoom)), c.Name), nil
	case game.LeaveRoom:
		return append(b, byte(game.CmdLeaveRoom)), nil
	case game.Tick:
		return append(b, byte(game.CmdTick)), nil
	case game.ViewChange:
		b = append(b, byte(game.CmdViewChange))
		b = binary.AppendUvarint(b, c.Epoch)
		b = binary.AppendUvarint(b, uint64(c.Primary))
		return binary.AppendUvarint(b, uint64(c.PrevPrimary)), nil
	case game.Rollback:
		return appendRolledBackItems(append(b, byte(game.CmdRollback)), c.Items), nil
	case nil:
		return nil, errors.New("wire: nil command")
	}
	return nil, fmt.Errorf("wire: cannot encode command type %T (commands are game's value types)", c)
}

func appendRolledBackItems(b []byte, items []game.RolledBack) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	for i := range items {
		it := &items[i]
		b = appendString(b, it.Room)
		b = appendString(b, it.Name)
		b = binary.AppendUvarint(b, it.Seq)
		b = append(b, byte(it.Kind), it.Row, it.Col, it.Digit)
		b = appendString(b, it.Text)
	}
	return b
}

func appendEvent(b []byte, e *game.Event) []byte {
	b = append(b, byte(e.Kind))
	b = appendString(b, e.Room)
	b = binary.AppendUvarint(b, uint64(e.Session))
	b = appendString(b, e.Name)
	b = append(b, e.Row, e.Col, e.Digit, byte(e.Reason))
	b = binary.AppendVarint(b, int64(e.Points))
	b = binary.AppendUvarint(b, uint64(e.Round))
	b = binary.AppendVarint(b, e.Until)
	b = binary.AppendUvarint(b, e.Epoch)
	b = binary.AppendUvarint(b, uint64(e.Node))
	b = binary.AppendUvarint(b, uint64(e.PrevNode))
	b = append(b, byte(e.Cmd))
	b = appendString(b, e.Text)
	if e.Line != nil {
		b = appendChatLine(append(b, 1), e.Line)
	} else {
		b = append(b, 0)
	}
	if e.Puzzle != nil {
		b = appendPuzzle(append(b, 1), e.Puzzle)
	} else {
		b = append(b, 0)
	}
	return b
}

func appendChatLine(b []byte, l *game.ChatLine) []byte {
	b = binary.AppendUvarint(b, l.N)
	b = binary.AppendVarint(b, l.Time)
	b = appendString(b, l.From)
	return appendString(b, l.Text)
}

func appendPuzzle(b []byte, p *game.PuzzleView) []byte {
	b = append(b, p.Size, p.BoxRows, p.BoxCols, byte(p.Difficulty))
	b = binary.AppendUvarint(b, p.Seed)
	b = binary.AppendUvarint(b, uint64(len(p.Givens)))
	return append(b, p.Givens...)
}

func appendRoomView(b []byte, r *game.RoomView) []byte {
	b = appendString(b, r.Name)
	b = binary.AppendUvarint(b, uint64(r.Round))
	b = append(b, byte(r.State))
	b = appendString(b, r.Winner)
	b = binary.AppendVarint(b, r.NextRoundAt)
	b = appendPuzzle(b, &r.Puzzle)
	b = binary.AppendUvarint(b, uint64(len(r.Board)))
	for i := range r.Board {
		c := &r.Board[i]
		b = appendBool(append(b, c.Digit), c.Given)
		b = appendString(b, c.Owner)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Claims)))
	for i := range r.Claims {
		c := &r.Claims[i]
		b = appendString(append(b, c.Row, c.Col), c.Owner)
		b = binary.AppendVarint(b, c.Until)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Scores)))
	for i := range r.Scores {
		s := &r.Scores[i]
		b = appendString(b, s.Name)
		b = binary.AppendVarint(b, int64(s.Round))
		b = binary.AppendVarint(b, int64(s.Total))
		b = binary.AppendUvarint(b, uint64(s.Right))
		b = binary.AppendUvarint(b, uint64(s.Wrong))
		b = binary.AppendUvarint(b, uint64(s.Wins))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Members)))
	for i := range r.Members {
		b = appendMember(b, &r.Members[i])
	}
	b = binary.AppendUvarint(b, uint64(len(r.Chat)))
	for i := range r.Chat {
		b = appendChatLine(b, &r.Chat[i])
	}
	return binary.AppendVarint(b, int64(r.ChatHistory))
}

func appendMember(b []byte, m *game.MemberView) []byte {
	return appendBool(appendString(b, m.Name), m.Online)
}

func appendRoomSummary(b []byte, s *game.RoomSummary) []byte {
	b = appendString(b, s.Name)
	b = append(b, s.Size, byte(s.Difficulty))
	b = binary.AppendUvarint(b, uint64(s.Round))
	b = binary.AppendVarint(b, int64(s.Filled))
	b = binary.AppendVarint(b, int64(s.Cells))
	b = binary.AppendUvarint(b, uint64(len(s.Players)))
	for _, p := range s.Players {
		b = appendString(b, p)
	}
	return b
}

func appendClusterView(b []byte, v *ClusterView) []byte {
	b = binary.AppendUvarint(b, uint64(v.Self))
	b = binary.AppendUvarint(b, uint64(v.Primary))
	b = binary.AppendUvarint(b, uint64(v.Epoch))
	b = binary.AppendUvarint(b, v.Commit)
	b = appendBool(append(b, v.Quorum), v.HasQuorum)
	b = binary.AppendUvarint(b, uint64(len(v.Nodes)))
	for i := range v.Nodes {
		n := &v.Nodes[i]
		b = binary.AppendUvarint(b, uint64(n.ID))
		b = append(b, byte(n.Role))
		b = binary.AppendUvarint(b, uint64(n.Epoch))
		b = binary.AppendUvarint(b, n.Commit)
		b = binary.AppendUvarint(b, n.Last)
		b = binary.AppendUvarint(b, n.Lag)
		b = appendBool(appendBool(b, n.Alive), n.InView)
		b = appendString(b, n.ClientAddr)
		b = appendString(b, n.PeerAddr)
		b = appendString(b, n.Advertise)
	}
	return b
}
