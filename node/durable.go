package node

import (
	"errors"
	"fmt"

	"github.com/gridlock-game/gridlock/node/store"
	"github.com/gridlock-game/gridlock/replica"
)

// Durability: with Options.DataDir the node keeps its log, its hard state
// and snapshots in a store (package store), restarts from it, and makes
// each turn's changes durable before it sends anything of that turn:
// nothing is acknowledged, to a peer or a player, before it is on disk
// (with Fsync, synced: one sync a turn, however much the turn carries).

// openStore opens the data directory. With no id chosen yet, it takes the
// id the directory's data belongs to (an app keeps its id across
// restarts); a new directory is left for boot to create once the id is
// known.
func (n *Node) openStore() error {
	if n.opts.DataDir == "" || n.store != nil {
		return nil
	}
	want := store.Meta{Cluster: n.opts.Cluster, Node: uint16(n.ID())}
	s, ld, err := store.Open(n.opts.DataDir, want, store.Options{Fsync: n.opts.Fsync, Logger: n.log})
	if errors.Is(err, store.ErrEmpty) {
		return nil
	}
	if err != nil {
		return err
	}
	if ld.Recovered != "" {
		n.log.Warn("the data directory was cut back to its last whole transaction", "file", s.Path(), "what", ld.Recovered)
	}
	n.store, n.loaded = s, ld
	if n.ID() == 0 {
		n.id.Store(uint32(ld.Meta.Node))
	}
	return nil
}

// restored turns what the store loaded into what the core restarts from.
func (n *Node) restored() (replica.Restored, error) {
	var r replica.Restored
	ld := n.loaded
	if ld == nil || ld.HardState == nil {
		return r, nil
	}
	h, err := replica.UnmarshalHardState(ld.HardState)
	if err != nil {
		return r, fmt.Errorf("%s: %w", n.store.Path(), err)
	}
	r.HardState = h
	if ld.Snapshot != nil {
		if r.Snapshot, err = replica.UnmarshalSnapshot(ld.Snapshot.Data); err != nil {
			return r, fmt.Errorf("%s: %w", n.store.Path(), err)
		}
		if r.Snapshot.Index != ld.Snapshot.Index {
			return r, fmt.Errorf("%s: the snapshot says index %d, the store %d", n.store.Path(), r.Snapshot.Index, ld.Snapshot.Index)
		}
	}
	r.FirstIndex, r.Entries = ld.FirstIndex, ld.Entries
	return r, nil
}

// persist makes what the turn changed durable. A node that cannot must
// not act on the turn: it stops.
func (n *Node) persist(p *replica.Persist) bool {
	if n.store == nil || p.Empty() {
		return true
	}
	u := store.Update{}
	if p.HardState != nil {
		u.HardState = replica.MarshalHardState(*p.HardState)
	}
	if p.Snapshot != nil {
		u.Snapshot = &store.Snapshot{Index: p.Snapshot.Index, Data: replica.MarshalSnapshot(p.Snapshot)}
	}
	if p.FirstIndex != 0 {
		u.HasTruncate, u.TruncateAfter = true, p.FirstIndex-1
		u.FirstIndex, u.Entries = p.FirstIndex, p.Entries
	}
	if err := n.store.Save(u); err != nil {
		n.log.Error("cannot write to the data directory: stopping (restart the node once the disk is fixed)", "error", err)
		n.stop()
		return false
	}
	return true
}
