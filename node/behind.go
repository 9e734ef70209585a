package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// An app that quits while others play on (availability mode) knows nothing
// of their later moves. Started again before any of them is back, it shows
// the game as it left it, and the moves made on it then are a branch of
// their own, which the branch of more nodes may roll back when they meet.
// The node notes who played on when it left, and says so when it starts
// again, until one of them is heard.

// behindNote is the nodes that played on when this one left, and whether
// the players were told.
type behindNote struct {
	ids  []wire.NodeID
	told bool
}

// behindWait is how long a node listens for them before it tells: one that
// is back is heard within a heartbeat or two.
const behindWait = time.Second

// behindFile is, in a node's data directory, the nodes that still ran when
// it left gracefully.
const behindFile = "left-while-running"

// noteBehind, as the node leaves gracefully, writes down the peers that run
// on (nothing in quorum mode: there no side of a partition acts alone).
func (n *Node) noteBehind() {
	if n.opts.DataDir == "" || n.opts.Config.Quorum {
		return
	}
	var ids []string
	for id := range n.peers {
		if n.core.Alive(id) {
			ids = append(ids, strconv.Itoa(int(id)))
		}
	}
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	if err := os.WriteFile(filepath.Join(n.opts.DataDir, behindFile), []byte(strings.Join(ids, ",")+"\n"), 0o600); err != nil {
		n.log.Warn("cannot note the nodes that play on", "error", err)
	}
}

// loadBehind reads what noteBehind wrote, as the node starts.
func (n *Node) loadBehind() {
	if n.opts.DataDir == "" || n.opts.Config.Quorum {
		return
	}
	b, err := os.ReadFile(filepath.Join(n.opts.DataDir, behindFile))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			n.log.Warn("cannot read the nodes that played on", "error", err)
		}
		return
	}
	for _, f := range strings.Split(strings.TrimSpace(string(b)), ",") {
		if id, err := strconv.Atoi(f); err == nil && id > 0 && id <= 0xffff {
			n.behind.ids = append(n.behind.ids, wire.NodeID(id))
		}
	}
}

// tellBehind says, on the loop, once the node has listened a while and
// heard none of them, that the game may be behind.
func (n *Node) tellBehind() {
	if len(n.behind.ids) == 0 || n.behind.told || time.Since(n.started) < behindWait {
		return
	}
	n.behind.told = true
	var names []string
	for _, id := range n.behind.ids {
		names = append(names, id.String())
	}
	text := fmt.Sprintf("this app quit while %s played on: until one of them is back this game may be behind theirs, and moves made meanwhile may be rolled back when they return", strings.Join(names, ", "))
	n.log.Warn(text)
	n.publish([]wire.Notice{{Time: time.Now().UnixNano(), Kind: wire.NoticeBehind, Node: n.ID(), Text: text}})
}

// heardBehind forgets the note once a node that played on is heard: the
// two games meet.
func (n *Node) heardBehind(id wire.NodeID) {
	if len(n.behind.ids) == 0 || !slices.Contains(n.behind.ids, id) {
		return
	}
	n.behind = behindNote{told: true}
	if err := os.Remove(filepath.Join(n.opts.DataDir, behindFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.log.Warn("cannot remove the note of the nodes that played on", "error", err)
	}
}
