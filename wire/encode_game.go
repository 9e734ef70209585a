package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gridlock-game/gridlock/game"
)

// Encoders of the values of game that messages carry, mirroring
// decode_game.go.

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
	b = binary.AppendUvarint(b, uint64(e.Notes))
	b = binary.AppendVarint(b, e.At)
	b = appendBool(b, e.Watch)
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

// checkPuzzle refuses what decoder.puzzle refuses under any Limits.
func checkPuzzle(t Type, p *game.PuzzleView) error {
	if n := int(p.Size) * int(p.Size); len(p.Givens) != 0 && len(p.Givens) != n {
		return fmt.Errorf("wire: %s: %d givens for %d cells", t, len(p.Givens), n)
	}
	return nil
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
		b = binary.AppendUvarint(b, uint64(s.RoundRight))
		b = binary.AppendUvarint(b, uint64(s.RoundWrong))
	}
	b = appendMembers(b, r.Members)
	b = binary.AppendUvarint(b, uint64(len(r.Chat)))
	for i := range r.Chat {
		b = appendChatLine(b, &r.Chat[i])
	}
	b = binary.AppendVarint(b, int64(r.ChatHistory))
	b = binary.AppendVarint(b, r.RoundStart)
	b = binary.AppendVarint(b, r.RoundEnd)
	b = binary.AppendUvarint(b, uint64(len(r.Notes)))
	for _, m := range r.Notes {
		b = binary.AppendUvarint(b, uint64(m))
	}
	return b
}

// checkRoom refuses what decoder.roomView refuses under any Limits.
func checkRoom(t Type, r *game.RoomView) error {
	if err := checkPuzzle(t, &r.Puzzle); err != nil {
		return err
	}
	n := int(r.Puzzle.Size) * int(r.Puzzle.Size)
	if len(r.Board) != 0 && len(r.Board) != n {
		return fmt.Errorf("wire: %s: %d cells for a board of %d", t, len(r.Board), n)
	}
	if len(r.Notes) != 0 && len(r.Notes) != n {
		return fmt.Errorf("wire: %s: notes for %d cells on a board of %d", t, len(r.Notes), n)
	}
	for _, m := range r.Notes {
		if m>>r.Puzzle.Size != 0 {
			return fmt.Errorf("wire: %s: notes %#x past the board's digits", t, m)
		}
	}
	return nil
}

func appendMembers(b []byte, ms []game.MemberView) []byte {
	b = binary.AppendUvarint(b, uint64(len(ms)))
	for i := range ms {
		b = appendMember(b, &ms[i])
	}
	return b
}

func appendMember(b []byte, m *game.MemberView) []byte {
	return appendBool(appendBool(appendString(b, m.Name), m.Online), m.Watching)
}

func appendRoomSummary(b []byte, s *game.RoomSummary) []byte {
	b = appendString(b, s.Name)
	b = append(b, s.Size, byte(s.Difficulty))
	b = binary.AppendUvarint(b, uint64(s.Round))
	b = binary.AppendVarint(b, int64(s.Filled))
	b = binary.AppendVarint(b, int64(s.Cells))
	b = appendNames(b, s.Players)
	return appendNames(b, s.Watchers)
}

func appendNames(b []byte, names []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, p := range names {
		b = appendString(b, p)
	}
	return b
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

func appendEntry(b []byte, e *game.Entry) ([]byte, error) {
	b = binary.AppendVarint(b, e.Time)
	b = binary.AppendUvarint(b, uint64(e.Session))
	b = binary.AppendUvarint(b, e.Seq)
	return appendCommand(b, e.Cmd)
}

func appendCommand(b []byte, c game.Command) ([]byte, error) {
	switch c := c.(type) {
	case game.Genesis:
		b = binary.AppendUvarint(append(b, byte(game.CmdGenesis)), c.Seed)
		r := &c.Rules
		b = binary.AppendVarint(b, int64(r.ClaimLease))
		b = binary.AppendVarint(b, int64(r.SessionGrace))
		b = binary.AppendVarint(b, int64(r.RoundCountdown))
		b = binary.AppendVarint(b, int64(r.ChatHistory))
		b = binary.AppendVarint(b, int64(r.MaxRooms))
		b = binary.AppendVarint(b, int64(r.MaxSessions))
		b = binary.AppendVarint(b, int64(r.DedupeWindow))
		b = append(b, r.MainSize, byte(r.MainDifficulty))
		b = binary.BigEndian.AppendUint64(b, c.ClusterID)
		return appendVoters(b, c.Voters)
	case game.Membership:
		return appendVoters(append(b, byte(game.CmdMembership)), c.Voters)
	case game.OpenSession:
		b = appendString(append(b, byte(game.CmdOpenSession)), c.Name)
		return appendBool(appendString(b, c.Token), c.Watch), nil
	case game.CloseSession:
		return append(b, byte(game.CmdCloseSession)), nil
	case game.Disconnect:
		return binary.AppendUvarint(append(b, byte(game.CmdDisconnect)), uint64(c.Session)), nil
	case game.Place:
		return append(b, byte(game.CmdPlace), c.Row, c.Col, c.Digit), nil
	case game.Claim:
		return append(b, byte(game.CmdClaim), c.Row, c.Col), nil
	case game.Note:
		return appendBool(append(b, byte(game.CmdNote), c.Row, c.Col, c.Digit), c.On), nil
	case game.ClearNotes:
		return appendBool(append(b, byte(game.CmdClearNotes), c.Row, c.Col), c.All), nil
	case game.Release:
		return append(b, byte(game.CmdRelease)), nil
	case game.Chat:
		return appendString(append(b, byte(game.CmdChat)), c.Text), nil
	case game.CreateRoom:
		if c.Dealt != nil {
			return appendCreateRoomDealt(b, c)
		}
		b = appendString(append(b, byte(game.CmdCreateRoom)), c.Name)
		return append(b, c.Size, byte(c.Difficulty)), nil
	case game.JoinRoom:
		return appendString(append(b, byte(game.CmdJoinRoom)), c.Name), nil
	case game.LeaveRoom:
		return append(b, byte(game.CmdLeaveRoom)), nil
	case game.Tick:
		return append(b, byte(game.CmdTick)), nil
	case game.ViewChange:
		b = binary.AppendUvarint(append(b, byte(game.CmdViewChange)), c.Epoch)
		b = binary.AppendUvarint(b, uint64(c.Primary))
		return binary.AppendUvarint(b, uint64(c.PrevPrimary)), nil
	case game.Rollback:
		return appendRolledBackItems(append(b, byte(game.CmdRollback)), c.Items), nil
	case nil:
		return nil, errors.New("wire: nil command")
	}
	return nil, fmt.Errorf("wire: cannot encode command type %T (commands are game's value types)", c)
}

// appendVoters encodes a configuration (nil: none; any other list the game
// would refuse is refused here too).
func appendVoters(b []byte, v []uint16) ([]byte, error) {
	if v != nil && !game.ValidVoters(v) {
		return nil, errors.New("wire: not a configuration")
	}
	b = binary.AppendUvarint(b, uint64(len(v)))
	for _, id := range v {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b, nil
}

// cmdCreateRoomDealt tags a CreateRoom that carries its puzzle: only a
// primary proposes one, and a node refuses it from a player.
const cmdCreateRoomDealt = 18

func appendCreateRoomDealt(b []byte, c game.CreateRoom) ([]byte, error) {
	p := c.Dealt
	if p.Size != c.Size || p.Difficulty != c.Difficulty {
		return nil, fmt.Errorf("wire: create room: a %d×%d puzzle dealt for size %d", p.Size, p.Size, c.Size)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("wire: create room: dealt puzzle: %w", err)
	}
	b = appendString(append(b, cmdCreateRoomDealt), c.Name)
	b = append(b, c.Size, byte(c.Difficulty), p.BoxRows, p.BoxCols)
	b = binary.AppendUvarint(b, p.Seed)
	b = append(b, p.Givens...)
	return append(b, p.Solution...), nil
}
