package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gridlock-game/gridlock/wire"
)

// The encodings of what a node keeps on disk besides its log entries (the
// store keeps those, in wire's encoding). A version byte leads each, so a
// newer build can tell an older record.

const persistVersion = 1

// snapshotVersion 2 adds the entries kept before the snapshot's index;
// a version 1 snapshot (none) is read too.
const snapshotVersion = 2

func appendEpoch(b []byte, e wire.Epoch) []byte {
	b = binary.AppendUvarint(b, e.Term())
	b = binary.AppendUvarint(b, uint64(e.Node()))
	return binary.AppendUvarint(b, e.Life())
}

func (d *pdec) epoch() wire.Epoch {
	term, node, life := d.u(), d.u(), d.u()
	if node > 0xffff && d.err == nil {
		d.err = errors.New("node id out of range")
	}
	return wire.MakeEpochLife(term, life, wire.NodeID(node))
}

// MarshalHardState encodes a hard state for the disk.
func MarshalHardState(h HardState) []byte {
	b := []byte{persistVersion}
	b = appendEpoch(b, h.Epoch)
	b = binary.AppendUvarint(b, h.Commit)
	b = appendBool(b, h.Recovering)
	b = appendEpochStarts(b, h.History)
	b = binary.AppendUvarint(b, uint64(len(h.RecoverEpochs)))
	for _, e := range h.RecoverEpochs {
		b = appendEpoch(b, e)
	}
	return b
}

// UnmarshalHardState decodes what MarshalHardState encoded.
func UnmarshalHardState(b []byte) (HardState, error) {
	d := pdec{b: b}
	d.version()
	h := HardState{Epoch: d.epoch(), Commit: d.u(), Recovering: d.bool(), History: d.epochStarts()}
	if n := d.count(); n > 0 {
		h.RecoverEpochs = make([]wire.Epoch, n)
		for i := range h.RecoverEpochs {
			h.RecoverEpochs[i] = d.epoch()
		}
	}
	return h, d.end("hard state")
}

// MarshalSnapshot encodes a snapshot record for the disk.
func MarshalSnapshot(s *SnapshotRecord) []byte {
	b := []byte{snapshotVersion}
	b = binary.AppendUvarint(b, s.Index)
	b = appendEpoch(b, s.Epoch)
	b = appendEpochStarts(b, s.History)
	b = binary.AppendUvarint(b, uint64(len(s.Data)))
	b = append(b, s.Data...)
	// The entries before the index, each with its length. One that does
	// not encode leaves out those before it: the rest still follow on.
	var es [][]byte
	for i := len(s.Before) - 1; i >= 0; i-- {
		e, err := wire.AppendLogEntry(nil, &s.Before[i])
		if err != nil {
			break
		}
		es = append(es, e)
	}
	b = binary.AppendUvarint(b, uint64(len(es)))
	for i := len(es) - 1; i >= 0; i-- {
		b = binary.AppendUvarint(b, uint64(len(es[i])))
		b = append(b, es[i]...)
	}
	return b
}

// UnmarshalSnapshot decodes what MarshalSnapshot encoded.
func UnmarshalSnapshot(b []byte) (*SnapshotRecord, error) {
	d := pdec{b: b}
	v := byte(0)
	if len(b) > 0 && b[0] == snapshotVersion {
		v, d.b = snapshotVersion, b[1:]
	} else {
		d.version()
	}
	s := &SnapshotRecord{Index: d.u(), Epoch: d.epoch(), History: d.epochStarts()}
	s.Data = d.bytes()
	if v == snapshotVersion {
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			e, err := wire.DecodeLogEntry(d.bytes(), wire.PeerLimits)
			if d.err == nil && err != nil {
				d.err = fmt.Errorf("entry %d before the index: %w", i, err)
			}
			s.Before = append(s.Before, e)
		}
		if d.err == nil && uint64(len(s.Before)) > s.Index {
			d.err = errors.New("more entries before the index than it has")
		}
	}
	return s, d.end("snapshot")
}

// bytes reads a length, then that many bytes.
func (d *pdec) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendEpochStarts(b []byte, h []wire.EpochStart) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, r := range h {
		b = appendEpoch(b, r.Epoch)
		b = binary.AppendUvarint(b, r.Index)
		b = append(b, r.Support)
		b = binary.AppendUvarint(b, r.Committed)
	}
	return b
}

// pdec reads the disk encodings; the first error sticks.
type pdec struct {
	b   []byte
	err error
}

func (d *pdec) version() {
	if d.err == nil && (len(d.b) == 0 || d.b[0] != persistVersion) {
		if len(d.b) == 0 {
			d.err = errors.New("empty")
		} else {
			d.err = fmt.Errorf("format %d (this build reads %d)", d.b[0], persistVersion)
		}
		return
	}
	d.b = d.b[1:]
}

func (d *pdec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *pdec) bool() bool {
	if d.err != nil || len(d.b) == 0 || d.b[0] > 1 {
		if d.err == nil {
			d.err = errors.New("bad bool")
		}
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

// count reads a length that the rest of the record could hold.
func (d *pdec) count() int {
	n := d.u()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = errors.New("count past the end")
		return 0
	}
	return int(n)
}

func (d *pdec) epochStarts() []wire.EpochStart {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	h := make([]wire.EpochStart, n)
	for i := range h {
		h[i].Epoch = d.epoch()
		h[i].Index = d.u()
		if d.err == nil && len(d.b) == 0 {
			d.err = errors.New("truncated")
		}
		if d.err != nil {
			return nil
		}
		h[i].Support = d.b[0]
		d.b = d.b[1:]
		h[i].Committed = d.u()
	}
	return h
}

func (d *pdec) end(what string) error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes past the end", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("%s on disk: %w", what, d.err)
	}
	return nil
}
