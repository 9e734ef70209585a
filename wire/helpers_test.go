package wire

import (
	"fmt"
	"testing"
)

func TestNodeIDString(t *testing.T) {
	for id, want := range map[NodeID]string{0: "n0", 3: "n3", 10: "n10", 65535: "n65535"} {
		if got := id.String(); got != want {
			t.Errorf("NodeID(%d).String() = %q, want %q", uint16(id), got, want)
		}
		if got := fmt.Sprint(id); got != want {
			t.Errorf("fmt.Sprint(NodeID(%d)) = %q, want %q", uint16(id), got, want)
		}
	}
	// %d still prints the bare number.
	if got := fmt.Sprintf("%d", NodeID(3)); got != "3" {
		t.Errorf("%%d of NodeID(3) = %q", got)
	}
}

func TestNodeInfoDialAddr(t *testing.T) {
	for _, tc := range []struct {
		client, advertise, want string
	}{
		{"127.0.0.1:8001", "", "127.0.0.1:8001"},
		{"127.0.0.1:8001", "server1:8000", "server1:8000"},
		{"", "server1:8000", "server1:8000"},
		{"", "", ""},
	} {
		n := NodeInfo{ID: 1, ClientAddr: tc.client, PeerAddr: "127.0.0.1:9001", Advertise: tc.advertise}
		if got := n.DialAddr(); got != tc.want {
			t.Errorf("client %q, advertise %q: DialAddr %q, want %q", tc.client, tc.advertise, got, tc.want)
		}
	}
}

func TestNoQuorumText(t *testing.T) {
	const want = "only 1 of the 2 voters needed are reachable: not acting as primary"
	if got := NoQuorumText(1, 2); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
