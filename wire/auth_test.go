package wire

import (
	"bytes"
	"reflect"
	"testing"
	"testing/iotest"
)

func sampleBeacon() *Beacon {
	for _, m := range sampleMessages() {
		if b, ok := m.(*Beacon); ok {
			return b
		}
	}
	panic("no sample beacon")
}

func TestBeaconMAC(t *testing.T) {
	secret := []byte("correct horse battery staple")
	b := sampleBeacon()
	if err := SignBeacon(secret, b); err != nil {
		t.Fatal(err)
	}
	if b.MAC == ([32]byte{}) {
		t.Fatal("signed beacon has a zero MAC")
	}
	if !VerifyBeacon(secret, b) {
		t.Fatal("signed beacon does not verify")
	}
	// Through the wire and back.
	got, err := DecodeBeacon(encode(t, b))
	if err != nil || !VerifyBeacon(secret, got) {
		t.Fatalf("decoded beacon: %v", err)
	}
	if VerifyBeacon([]byte("wrong secret"), b) {
		t.Error("verifies with a wrong secret")
	}
	if VerifyBeacon(nil, b) {
		t.Error("a node without a secret accepts a signed beacon")
	}
	// Every field is covered by the MAC.
	v := reflect.ValueOf(b).Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).Name == "MAC" {
			continue
		}
		c := *b
		f := reflect.ValueOf(&c).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Struct: // the epoch
			f.Set(reflect.ValueOf(MakeEpochLife(c.Epoch.Term(), c.Epoch.Life()^1, c.Epoch.Node())))
		default:
			f.SetUint(f.Uint() ^ 1)
		}
		if VerifyBeacon(secret, &c) {
			t.Errorf("changing %s keeps the MAC valid", v.Type().Field(i).Name)
		}
	}
	c := *b
	c.MAC[31] ^= 1
	if VerifyBeacon(secret, &c) {
		t.Error("a changed MAC verifies")
	}
	c.MAC = [32]byte{}
	if VerifyBeacon(secret, &c) {
		t.Error("a node with a secret accepts an unsigned beacon")
	}
}

func TestBeaconWithoutSecret(t *testing.T) {
	b := sampleBeacon()
	if err := SignBeacon(nil, b); err != nil {
		t.Fatal(err)
	}
	if b.MAC != ([32]byte{}) {
		t.Fatal("MAC without a secret is not zero")
	}
	if !VerifyBeacon(nil, b) || !VerifyBeacon([]byte{}, b) {
		t.Fatal("unsigned beacon refused without a secret")
	}
	if VerifyBeacon(nil, nil) {
		t.Fatal("nil beacon verifies")
	}
	if err := SignBeacon(nil, nil); err == nil {
		t.Fatal("signed a nil beacon")
	}
	big := *b
	big.Advertise = string(bytes.Repeat([]byte("a"), MaxBeacon))
	if err := SignBeacon([]byte("s"), &big); err == nil {
		t.Fatal("signed a beacon over MaxBeacon")
	}
}

func TestDecodeBeacon(t *testing.T) {
	b := sampleBeacon()
	got, err := DecodeBeacon(encode(t, b))
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("got %v", err)
	}
	if _, err := DecodeBeacon(encode(t, &Election{From: 1})); CodeOf(err) != ErrUnexpected {
		t.Errorf("election as beacon: %v", err)
	}
	if _, err := DecodeBeacon(make([]byte, MaxBeacon+1)); CodeOf(err) != ErrTooLarge {
		t.Errorf("oversized datagram: %v", err)
	}
	if _, err := DecodeBeacon(nil); CodeOf(err) != ErrMalformed {
		t.Errorf("empty datagram: %v", err)
	}
	enc := encode(t, b)
	if _, err := DecodeBeacon(enc[:len(enc)-1]); CodeOf(err) != ErrMalformed {
		t.Errorf("short datagram: %v", err)
	}
}

func TestPeerMAC(t *testing.T) {
	secret := []byte("s3cret")
	nonce, err := NewNonce(nil)
	if err != nil {
		t.Fatal(err)
	}
	mac := PeerMAC(secret, nonce, "demo", 3)
	if !VerifyPeer(secret, nonce, "demo", 3, mac) {
		t.Fatal("right answer refused")
	}
	other := nonce
	other[0] ^= 1
	for name, ok := range map[string]bool{
		"wrong secret":  VerifyPeer([]byte("s3cret!"), nonce, "demo", 3, mac),
		"no secret":     VerifyPeer(nil, nonce, "demo", 3, mac),
		"wrong nonce":   VerifyPeer(secret, other, "demo", 3, mac),
		"wrong id":      VerifyPeer(secret, nonce, "demo", 4, mac),
		"wrong cluster": VerifyPeer(secret, nonce, "demo2", 3, mac),
		"zero mac":      VerifyPeer(secret, nonce, "demo", 3, [32]byte{}),
	} {
		if ok {
			t.Errorf("%s: verifies", name)
		}
	}
	if PeerMAC(nil, nonce, "demo", 3) != ([32]byte{}) || !VerifyPeer(nil, nonce, "demo", 3, [32]byte{}) {
		t.Error("without a secret the MAC is not zero")
	}
}

func TestNewNonce(t *testing.T) {
	a, err := NewNonce(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewNonce(nil)
	if a == b {
		t.Fatal("two nonces are equal")
	}
	src := bytes.Repeat([]byte{7}, 32)
	if n, err := NewNonce(bytes.NewReader(src)); err != nil || !bytes.Equal(n[:], src) {
		t.Fatalf("nonce from reader: %x %v", n, err)
	}
	if _, err := NewNonce(bytes.NewReader(src[:31])); err == nil {
		t.Fatal("short source gave a nonce")
	}
	if _, err := NewNonce(iotest.ErrReader(errTimeout)); err != errTimeout {
		t.Fatalf("failing source: %v", err)
	}
}
