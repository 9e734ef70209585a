package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Discovery that hears the cluster's nodes but cannot verify their beacons
// says so, and which secret to check, rather than that nobody was heard.
func TestDiscoverSaysTheSecretDiffers(t *testing.T) {
	m := NewMemNetwork()
	memCluster(t, m, []wire.NodeID{1}, func(o *Options) { o.Secret = []byte("s3cret") })
	h := m.NewHost()
	for _, tc := range []struct {
		secret string
		want   string
	}{
		{"", "give --secret"},
		{"other", "check --secret"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Discover(ctx, DiscoverOptions{Cluster: testOptions(1).Cluster, Group: memGroup, Secret: []byte(tc.secret), Listen: time.Second, Network: h})
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("secret %q: error %v, want one that says %q", tc.secret, err, tc.want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := Discover(ctx, DiscoverOptions{Cluster: testOptions(1).Cluster, Group: memGroup, Secret: []byte("s3cret"), Listen: time.Second, Network: h}); err != nil || len(v.Nodes) != 1 {
		t.Errorf("with the secret: %v, %v; want n1", v, err)
	}
}

// A beacon of another protocol version on the group is told to the app
// (its events), not only to the log: neither side can see the other's game.
func TestAnotherReleaseOnTheGroupIsTold(t *testing.T) {
	n, m := loneNode(t)
	h := m.NewHost()
	pc, err := h.JoinGroup(context.Background(), memGroup, "lo")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	g, _ := parseGroup(memGroup)
	if _, err := pc.WriteTo([]byte{byte(wire.TBeacon), 0, byte(wire.Version - 1), 0}, g); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a notice of the other release", func() bool {
		notices, _ := n.NoticesSince(0)
		for _, nt := range notices {
			if nt.Kind == wire.NoticeStranger && strings.Contains(nt.Text, "another gridlock release") {
				return true
			}
		}
		return false
	}, n.Watch())
}
