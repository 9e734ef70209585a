package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// Authentication. With a cluster secret, a beacon's MAC is HMAC-SHA256 over
// its encoding with the MAC zeroed, and a peer link starts with a challenge
// (PeerHello's nonce) that the other side answers with PeerMAC. Without a
// secret every MAC is zero.
//
// The two sides must agree: a node with a secret refuses beacons and peers
// whose MAC does not verify (a zero MAC included), and a node without one
// refuses non-zero MACs, which it cannot check. So nodes with and without
// the secret ignore each other instead of half-joining.
//
// MACs do not stop replays: an old signed beacon stays valid. Epochs and
// Instance let a node tell stale news; a node must also refuse a PeerHello
// that names its own id, or its own challenge could be reflected back to it.

// DecodeBeacon decodes a beacon datagram: at most MaxBeacon bytes, of type
// TBeacon, within PeerLimits. A datagram of another type is a *DecodeError
// with code ErrUnexpected. It does not verify the MAC.
func DecodeBeacon(b []byte) (*Beacon, error) {
	if len(b) > MaxBeacon {
		return nil, &DecodeError{Code: ErrTooLarge,
			Msg: fmt.Sprintf("beacon of %d bytes exceeds the %d-byte limit", len(b), MaxBeacon)}
	}
	if len(b) > 0 && Type(b[0]) != TBeacon {
		return nil, &DecodeError{Code: ErrUnexpected, Msg: "datagram is a " + Type(b[0]).String() + ", not a beacon"}
	}
	m, err := DecodeMessage(b, PeerLimits)
	if err != nil {
		return nil, err
	}
	return m.(*Beacon), nil
}

// SignBeacon sets b.MAC for secret (zero without a secret). It fails if the
// beacon does not fit MaxBeacon bytes.
func SignBeacon(secret []byte, b *Beacon) error {
	mac, err := beaconMAC(secret, b)
	if err != nil {
		return err
	}
	b.MAC = mac
	return nil
}

// VerifyBeacon reports whether b.MAC is right for secret: the HMAC with a
// secret, zero without one. It compares in constant time.
func VerifyBeacon(secret []byte, b *Beacon) bool {
	want, err := beaconMAC(secret, b)
	return err == nil && hmac.Equal(want[:], b.MAC[:])
}

func beaconMAC(secret []byte, b *Beacon) ([32]byte, error) {
	var mac [32]byte
	if b == nil {
		return mac, errNilMessage
	}
	c := *b
	c.MAC = [32]byte{}
	var buf [MaxBeacon]byte
	enc, err := AppendMessage(buf[:0], &c)
	if err != nil {
		return mac, err
	}
	if len(enc) > MaxBeacon {
		return mac, fmt.Errorf("wire: beacon of %d bytes exceeds the %d-byte limit", len(enc), MaxBeacon)
	}
	if len(secret) == 0 {
		return mac, nil
	}
	h := hmac.New(sha256.New, secret)
	h.Write(enc)
	h.Sum(mac[:0])
	return mac, nil
}

// NewNonce returns 32 random bytes from r, or from crypto/rand when r is nil.
func NewNonce(r io.Reader) ([32]byte, error) {
	var n [32]byte
	if r == nil {
		r = rand.Reader
	}
	_, err := io.ReadFull(r, n[:])
	return n, err
}

// peerContext separates peer MACs from beacon MACs made with the same
// secret.
const peerContext = "gridlock peer auth\x00"

// PeerMAC is node from's answer to the challenge nonce in cluster:
// HMAC-SHA256 with secret over a context string, the nonce, the cluster name
// (length-prefixed) and the id. It is zero without a secret.
func PeerMAC(secret []byte, nonce [32]byte, cluster string, from NodeID) [32]byte {
	var mac [32]byte
	if len(secret) == 0 {
		return mac
	}
	buf := make([]byte, 0, len(peerContext)+32+binary.MaxVarintLen64+len(cluster)+2)
	buf = append(buf, peerContext...)
	buf = append(buf, nonce[:]...)
	buf = appendString(buf, cluster)
	buf = binary.BigEndian.AppendUint16(buf, uint16(from))
	h := hmac.New(sha256.New, secret)
	h.Write(buf)
	h.Sum(mac[:0])
	return mac
}

// VerifyPeer reports whether mac answers the challenge nonce for node from
// in cluster, in constant time. Without a secret only a zero MAC does.
func VerifyPeer(secret []byte, nonce [32]byte, cluster string, from NodeID, mac [32]byte) bool {
	want := PeerMAC(secret, nonce, cluster, from)
	return hmac.Equal(want[:], mac[:])
}
