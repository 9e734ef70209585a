package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/gridlock-game/gridlock/wire"
)

// formatVersion is the layout of the records below. A later layout keeps
// the meta record's first field (this number) and its checksum where they
// are, so that an older binary can tell it is too old.
const formatVersion = 1

// The file holds three buckets and nothing else:
//
//	meta   "meta"          -> format u32, cluster id u64, node u16, cluster name
//	state  "hard"          -> the hard state (opaque)
//	       "snap"          -> snapshot index u64, snapshot data (opaque)
//	       "~contents"     -> flags (1: hard state, 2: snapshot), last log index u64
//	log    index u64 (BE)  -> one wire.LogEntry (wire.AppendLogEntry)
//
// Every value ends in a CRC-32C of the key's and the payload's lengths and
// bytes: bbolt checksums only its meta pages, and the lengths bind the
// key/value split, which a damaged leaf element can move.
//
// A checksum cannot see a record that is missing: a damaged page header
// whose element count shrank hides the page's last records, and at the end
// of the log that leaves no gap. The contents record says what the state
// bucket and the log hold; its key sorts after the other state keys, so a
// shrunken count hides it first.
var (
	bucketMeta  = []byte("meta")
	bucketState = []byte("state")
	bucketLog   = []byte("log")
	keyMeta     = []byte("meta")
	keyHard     = []byte("hard")
	keySnap     = []byte("snap")
	keyContents = []byte("~contents")
)

const crcLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func recordSum(key, payload []byte) uint32 {
	var n [2 * binary.MaxVarintLen64]byte
	h := crc32.Update(0, castagnoli, binary.AppendUvarint(n[:0], uint64(len(key))))
	h = crc32.Update(h, castagnoli, key)
	h = crc32.Update(h, castagnoli, binary.AppendUvarint(n[:0], uint64(len(payload))))
	return crc32.Update(h, castagnoli, payload)
}

// seal appends the record's checksum to payload (which must be fresh).
func seal(key, payload []byte) []byte {
	return binary.BigEndian.AppendUint32(payload, recordSum(key, payload))
}

var errChecksum = errors.New("checksum mismatch")

// open checks a stored value's checksum and returns its payload (which
// aliases v).
func openRecord(key, v []byte) ([]byte, error) {
	if len(v) < crcLen {
		return nil, fmt.Errorf("%d-byte value, shorter than its checksum", len(v))
	}
	p := v[:len(v)-crcLen]
	if binary.BigEndian.Uint32(v[len(p):]) != recordSum(key, p) {
		return nil, errChecksum
	}
	return p, nil
}

func logKey(i uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), i) }

func encodeMeta(format uint32, m Meta) []byte {
	b := make([]byte, 0, 14+len(m.Cluster)+crcLen)
	b = binary.BigEndian.AppendUint32(b, format)
	b = binary.BigEndian.AppendUint64(b, m.ClusterID)
	b = binary.BigEndian.AppendUint16(b, m.Node)
	return seal(keyMeta, append(b, m.Cluster...))
}

// decodeMeta reads a meta payload. It reads the format first: a newer
// format's fields are not this one's.
func decodeMeta(p []byte) (format uint32, m Meta, err error) {
	if len(p) < 4 {
		return 0, m, fmt.Errorf("meta record of %d bytes", len(p))
	}
	format = binary.BigEndian.Uint32(p)
	if format != formatVersion {
		return format, m, nil
	}
	if len(p) < 14 {
		return format, m, fmt.Errorf("meta record of %d bytes", len(p))
	}
	m.ClusterID = binary.BigEndian.Uint64(p[4:])
	m.Node = binary.BigEndian.Uint16(p[12:])
	m.Cluster = string(p[14:])
	return format, m, nil
}

func encodeSnap(s *Snapshot) []byte {
	b := make([]byte, 0, 8+len(s.Data)+crcLen)
	b = binary.BigEndian.AppendUint64(b, s.Index)
	return seal(keySnap, append(b, s.Data...))
}

func decodeSnap(p []byte) (*Snapshot, error) {
	if len(p) < 8 {
		return nil, fmt.Errorf("snapshot record of %d bytes", len(p))
	}
	return &Snapshot{Index: binary.BigEndian.Uint64(p), Data: append([]byte{}, p[8:]...)}, nil
}

func appendEntry(e wire.LogEntry) ([]byte, error) { return wire.AppendLogEntry(nil, &e) }

const (
	hasHard = 1 << iota
	hasSnap
)

func encodeContents(st *state) []byte {
	var flags byte
	if st.hard {
		flags |= hasHard
	}
	if st.hasSnap {
		flags |= hasSnap
	}
	return seal(keyContents, binary.BigEndian.AppendUint64([]byte{flags}, st.last))
}

func decodeContents(p []byte) (flags byte, last uint64, err error) {
	if len(p) != 9 || p[0] > hasHard|hasSnap {
		return 0, 0, fmt.Errorf("contents record of %d bytes", len(p))
	}
	return p[0], binary.BigEndian.Uint64(p[1:]), nil
}
