package wire

import (
	"encoding/binary"
	"fmt"
)

// Encoders of the node <-> node messages, mirroring decode_peer.go.

func (m *Beacon) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.BigEndian.AppendUint16(append(b, byte(TBeacon)), m.Version)
	b = appendString(b, m.Cluster)
	b = binary.AppendUvarint(b, uint64(m.From))
	b = binary.BigEndian.AppendUint64(b, m.Instance)
	b = appendEpoch(b, m.Epoch)
	b = append(b, byte(m.Role))
	b = binary.AppendUvarint(b, uint64(m.Leader))
	b = binary.AppendUvarint(b, m.Commit)
	b = binary.AppendUvarint(b, m.Last)
	b = appendBool(appendBool(appendBool(b, m.Quorum), m.Recovering), m.FixedID)
	b = appendString(b, m.ClientAddr)
	b = appendString(b, m.PeerAddr)
	b = appendString(b, m.Advertise)
	b = binary.AppendUvarint(b, m.ClusterID)
	return append(b, m.MAC[:]...), nil
}

func (m *Election) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendHeader(b, TElection, m.From, m.Epoch), nil
}

func (m *ElectionOK) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendHeader(b, TElectionOK, m.From, m.Epoch), nil
}

func (m *Coordinator) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendBool(appendHeader(b, TCoordinator, m.From, m.Epoch), m.Reminder), nil
}

func (m *Leave) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendHeader(b, TLeave, m.From, m.Epoch), nil
}

func (m *StateReply) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = appendHeader(b, TStateReply, m.From, m.Epoch)
	b = binary.AppendUvarint(b, m.Last)
	b = binary.AppendUvarint(b, m.Commit)
	b = binary.AppendUvarint(b, m.SnapIndex)
	b = appendBool(appendHistory(b, m.History), m.Recovering)
	b = binary.AppendUvarint(b, uint64(len(m.Voters)))
	for _, id := range m.Voters {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return binary.AppendUvarint(appendEpoch(b, m.Since), m.Cluster), nil
}

func (m *Fetch) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = appendHeader(b, TFetch, m.From, m.Epoch)
	b = binary.AppendUvarint(b, m.After)
	return appendBool(b, m.Snapshot), nil
}

func (m *Append) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = appendHeader(b, TAppend, m.From, m.Epoch)
	b = binary.AppendUvarint(b, m.PrevIndex)
	b = appendEpoch(b, m.PrevEpoch)
	b = binary.AppendUvarint(b, m.Commit)
	b = append(b, m.Support)
	b = binary.AppendVarint(b, m.Sent)
	b, err := appendLogEntries(b, m.Entries)
	if err != nil {
		return nil, err
	}
	return appendHistory(b, m.History), nil
}

func (m *AppendAck) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = appendHeader(b, TAppendAck, m.From, m.Epoch)
	b = appendBool(b, m.OK)
	b = binary.AppendUvarint(b, m.Match)
	b = binary.AppendVarint(b, m.Sent)
	return appendBool(b, m.NeedSnap), nil
}

func (m *Snapshot) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = appendHeader(b, TSnapshot, m.From, m.Epoch)
	b = binary.AppendUvarint(b, m.Index)
	b = appendEpoch(b, m.IndexEpoch)
	b = binary.AppendUvarint(b, m.Commit)
	b = appendHistory(b, m.History)
	b = binary.AppendUvarint(b, uint64(len(m.Data)))
	b = append(b, m.Data...)
	b = binary.AppendUvarint(b, m.Before)
	return appendLogEntries(b, m.Tail)
}

func (m *Snapshot) check() error {
	if m != nil && (m.Before > uint64(len(m.Tail)) || m.Before > m.Index) {
		return fmt.Errorf("wire: %s: %d entries before index %d, of %d", m.Type(), m.Before, m.Index, len(m.Tail))
	}
	return nil
}

func (m *RolledBack) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	return appendRolledBackItems(appendHeader(b, TRolledBack, m.From, m.Epoch), m.Items), nil
}

func (m *PeerHello) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.BigEndian.AppendUint16(append(b, byte(TPeerHello)), m.Version)
	b = appendString(b, m.Cluster)
	b = binary.AppendUvarint(b, uint64(m.From))
	b = binary.BigEndian.AppendUint64(b, m.Instance)
	b = appendBool(b, m.Quorum)
	return append(b, m.Nonce[:]...), nil
}

func (m *PeerAuth) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return nil, errNilMessage
	}
	b = binary.AppendUvarint(append(b, byte(TPeerAuth)), uint64(m.From))
	return append(b, m.MAC[:]...), nil
}

// appendHeader appends the type byte and the sender and epoch that every
// PeerMessage but Beacon starts with.
func appendHeader(b []byte, t Type, from NodeID, epoch Epoch) []byte {
	b = binary.AppendUvarint(append(b, byte(t)), uint64(from))
	return appendEpoch(b, epoch)
}

func appendHistory(b []byte, h []EpochStart) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, e := range h {
		b = appendEpoch(b, e.Epoch)
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
		b = appendEpoch(b, es[i].Epoch)
		if b, err = appendEntry(b, &es[i].Entry); err != nil {
			return nil, err
		}
	}
	return b, nil
}
