package node

import "testing"

// A node whose static peers are all on this host binds its ports where
// only this host reaches them, as one that finds its peers on lo does;
// a peer elsewhere (or another interface) needs every address.
func TestListenDefault(t *testing.T) {
	for _, tc := range []struct {
		iface string
		peers []string
		want  string
	}{
		{"lo", nil, "127.0.0.1"},
		{"lo", []string{"127.0.0.1:8020", "localhost:8021", "[::1]:8022"}, "127.0.0.1"},
		{"lo", []string{"127.0.0.1:8020", "172.30.80.12:8021"}, "0.0.0.0"},
		{"lo", []string{"server2:8021"}, "0.0.0.0"},
		{"eth0", nil, "0.0.0.0"},
		{"eth0", []string{"127.0.0.1:8020"}, "0.0.0.0"},
	} {
		o := Options{Iface: tc.iface, Peers: tc.peers}
		o.fill()
		if o.Listen != tc.want {
			t.Errorf("--iface %s --peers %v: binds %s, want %s", tc.iface, tc.peers, o.Listen, tc.want)
		}
	}
}
