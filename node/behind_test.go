package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// An app that quit while another played on, started again alone, says
// its game may be behind; once the other is back the note is gone.
func TestQuitWhileOthersPlayedOnIsTold(t *testing.T) {
	m := NewMemNetwork()
	dirs := map[wire.NodeID]string{1: t.TempDir(), 2: t.TempDir()}
	withDir := func(o *Options) { o.DataDir = dirs[o.ID] }
	hosts := []*MemHost{m.NewHost(), m.NewHost()}
	nodes := startMem(t, hosts, []wire.NodeID{1, 2}, withDir)
	waitFor(t, 10*time.Second, "n2 primary with n1", func() bool {
		v := nodes[1].View()
		return v.Primary == 2 && inView(v) == 2
	}, nodes[1].Watch())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[0].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(dirs[1], behindFile)
	if b, err := os.ReadFile(note); err != nil || strings.TrimSpace(string(b)) != "2" {
		t.Fatalf("after leaving beside n2: %q, %v", b, err)
	}
	nodes[1].Close()

	n1 := startMem(t, hosts[:1], []wire.NodeID{1}, withDir)[0]
	waitFor(t, 10*time.Second, "n1 says its game may be behind n2's", func() bool {
		notices, _ := n1.NoticesSince(0)
		for _, nt := range notices {
			if nt.Kind == wire.NoticeBehind && strings.Contains(nt.Text, "n2 played on") {
				return true
			}
		}
		return false
	}, n1.Watch())
	startMem(t, hosts[1:], []wire.NodeID{2}, withDir)
	waitFor(t, 10*time.Second, "the note gone once n2 is heard", func() bool {
		_, err := os.Stat(note)
		return os.IsNotExist(err)
	}, n1.Watch())
}
