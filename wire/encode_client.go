package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/gridlock-game/gridlock/game"
)

// Encoders of the client <-> node messages, mirroring decode_client.go.

func (m *Hello) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.BigEndian.AppendUint16(append(b, byte(THello)), m.Version)
	b = appendString(b, m.Name)
	b = appendString(b, m.Token)
	b = binary.AppendUvarint(b, m.LastLine)
	return appendBool(b, m.Watch), nil
}

func (m *Welcome) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TWelcome)), uint64(m.Node))
	b = appendEpoch(b, m.Epoch)
	b = binary.AppendUvarint(b, uint64(m.Session))
	b = appendString(b, m.Name)
	b = appendString(b, m.Token)
	b = binary.AppendUvarint(b, m.Index)
	b = appendRoomView(b, &m.Room)
	b = appendClusterView(b, &m.View)
	b = binary.AppendUvarint(b, m.DoneFrom)
	b = binary.AppendUvarint(b, uint64(len(m.Done)))
	for _, r := range m.Done {
		b = binary.AppendUvarint(b, r.Seq)
		b = append(b, byte(r.Code))
		b = binary.AppendVarint(b, int64(r.Points))
	}
	return binary.AppendUvarint(appendBool(b, m.Watch), m.Cluster), nil
}

func (m *Welcome) check() error {
	if m == nil {
		return nil
	}
	if len(m.Done) > game.DedupeWindowCap {
		return fmt.Errorf("wire: welcome: %d results exceed %d", len(m.Done), game.DedupeWindowCap)
	}
	return checkRoom(m.Type(), &m.Room)
}

func (m *Command) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendCommand(binary.AppendUvarint(append(b, byte(TCommand)), m.Seq), m.Cmd)
}

func (m *Ack) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TAck)), m.Seq)
	b = binary.AppendUvarint(b, m.Index)
	b = append(b, byte(m.Code))
	b = appendString(b, m.Who)
	b = appendString(b, m.Room)
	return binary.AppendVarint(b, int64(m.Points)), nil
}

func (m *Events) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TEvents)), m.Index)
	b = binary.AppendUvarint(b, uint64(len(m.Events)))
	for i := range m.Events {
		b = appendEvent(b, &m.Events[i])
	}
	return b, nil
}

func (m *Events) check() error {
	if m == nil {
		return nil
	}
	for i := range m.Events {
		if p := m.Events[i].Puzzle; p != nil {
			if err := checkPuzzle(m.Type(), p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *ClusterView) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendClusterView(append(b, byte(TClusterView)), m), nil
}

func (m *Redirect) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TRedirect)), uint64(m.Leader))
	b = appendEpoch(b, m.Epoch)
	return append(appendString(b, m.Addr), m.Up, m.Need), nil
}

func (m *Ping) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TPing)), m.Nonce)
	return binary.AppendVarint(b, m.Time), nil
}

func (m *Pong) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TPong)), m.Nonce)
	return binary.AppendVarint(b, m.Time), nil
}

func (m *Error) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendString(append(b, byte(TError), byte(m.Code)), m.Text), nil
}

func (m *Query) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TQuery)), m.Seq)
	return appendString(append(b, byte(m.Kind)), m.Room), nil
}

func (m *QueryReply) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TQueryReply)), m.Seq)
	b = binary.AppendUvarint(b, uint64(len(m.Rooms)))
	for i := range m.Rooms {
		b = appendRoomSummary(b, &m.Rooms[i])
	}
	return appendMembers(b, m.Members), nil
}

func (m *RoomState) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TRoomState)), m.Index)
	return appendRoomView(b, &m.Room), nil
}

func (m *RoomState) check() error {
	if m == nil {
		return nil
	}
	return checkRoom(m.Type(), &m.Room)
}

func (m *Status) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return append(b, byte(TStatus)), nil
}

func appendClusterView(b []byte, v *ClusterView) []byte {
	b = binary.AppendUvarint(b, uint64(v.Self))
	b = binary.AppendUvarint(b, uint64(v.Primary))
	b = appendEpoch(b, v.Epoch)
	b = binary.AppendUvarint(b, v.Commit)
	b = appendBool(append(b, v.Quorum), v.HasQuorum)
	b = binary.AppendUvarint(b, uint64(len(v.Nodes)))
	for i := range v.Nodes {
		n := &v.Nodes[i]
		b = binary.AppendUvarint(b, uint64(n.ID))
		b = append(b, byte(n.Role))
		b = appendEpoch(b, n.Epoch)
		b = binary.AppendUvarint(b, n.Commit)
		b = binary.AppendUvarint(b, n.Last)
		b = binary.AppendUvarint(b, n.Lag)
		b = appendBool(appendBool(b, n.Alive), n.InView)
		b = appendBool(appendBool(b, n.Voter), n.Recovering)
		b = appendString(b, n.ClientAddr)
		b = appendString(b, n.PeerAddr)
		b = appendString(b, n.Advertise)
	}
	return b
}
