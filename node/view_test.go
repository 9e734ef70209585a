package node

import (
	"net"
	"testing"

	"github.com/gridlock-game/gridlock/wire"
)

// A node bound to an unspecified host tells a status request the address
// the request came to; a bound address, and the other nodes', stay as they
// are.
func TestRealClientAddr(t *testing.T) {
	for _, tc := range []struct {
		bound, local, want string
	}{
		{"[::]:8000", "172.30.80.13:8000", "172.30.80.13:8000"},
		{"0.0.0.0:8000", "127.0.0.1:8000", "127.0.0.1:8000"},
		{":8000", "[::1]:8000", "[::1]:8000"},
		{"127.0.0.1:8000", "127.0.0.1:8000", "127.0.0.1:8000"},
		{"10.0.0.5:8000", "127.0.0.1:8000", "10.0.0.5:8000"},
		{"[::]:8000", "", "[::]:8000"}, // no address to say instead
	} {
		v := wire.ClusterView{Self: 2, Nodes: []wire.NodeInfo{{ID: 1, ClientAddr: "0.0.0.0:8001"}, {ID: 2, ClientAddr: tc.bound}}}
		var local net.Addr
		if tc.local != "" {
			a, err := net.ResolveTCPAddr("tcp", tc.local)
			if err != nil {
				t.Fatal(err)
			}
			local = a
		}
		realClientAddr(&v, local)
		if got := v.Nodes[1].ClientAddr; got != tc.want {
			t.Errorf("bound %s, asked at %s: shows %s, want %s", tc.bound, tc.local, got, tc.want)
		}
		if got := v.Nodes[0].ClientAddr; got != "0.0.0.0:8001" {
			t.Errorf("another node's address changed to %s", got)
		}
	}
}
