package node

import (
	"net"
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/wire"
)

// A node bound to an unspecified host tells a status request the address
// the request came to, for its client and its peer port; a bound address,
// and the other nodes', stay as they are.
func TestReachableAddrs(t *testing.T) {
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
		peer := strings.Replace(tc.bound, ":8000", ":8010", 1)
		v := wire.ClusterView{Self: 2, Nodes: []wire.NodeInfo{{ID: 1, ClientAddr: "0.0.0.0:8001"}, {ID: 2, ClientAddr: tc.bound, PeerAddr: peer}}}
		var local net.Addr
		if tc.local != "" {
			a, err := net.ResolveTCPAddr("tcp", tc.local)
			if err != nil {
				t.Fatal(err)
			}
			local = a
		}
		reachableAddrs(&v, local)
		if got := v.Nodes[1].ClientAddr; got != tc.want {
			t.Errorf("bound %s, asked at %s: shows %s, want %s", tc.bound, tc.local, got, tc.want)
		}
		if got, want := v.Nodes[1].PeerAddr, strings.Replace(tc.want, ":8000", ":8010", 1); got != want {
			t.Errorf("peer bound %s, asked at %s: shows %s, want %s", peer, tc.local, got, want)
		}
		if got := v.Nodes[0].ClientAddr; got != "0.0.0.0:8001" {
			t.Errorf("another node's address changed to %s", got)
		}
	}
}
