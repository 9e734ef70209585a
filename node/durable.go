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

// The disk writer. The loop never waits for the disk: it hands a Ready
// whose Persist must be synced to the writer goroutine and goes on taking
// inputs (the core keeps gathering), and acts on the Ready (sends, answers)
// only once the writer says it is on disk; the next Ready is taken then,
// with everything gathered meanwhile in one write (group commit: one sync
// at a time, as large as the load makes it). A primary's Ready that only
// appends (Persist.Ahead) is acted on at once, its write under way. A
// Persist that holds only how far the log is known committed is written
// at leisure, after the Ready is acted on.

type saveJob struct {
	rd    replica.Ready
	wait  bool // the loop takes no Ready until this is on disk
	acted bool // rd was acted on already (Persist.Ahead)
}

type saveDone struct {
	job saveJob
	err error
}

// startWriter runs the writer goroutine (with a store).
func (n *Node) startWriter() {
	if n.store == nil {
		return
	}
	n.saveJobs = make(chan saveJob, 64)
	n.saveDone = make(chan saveDone, 64)
	n.writerDone = make(chan struct{})
	go func() {
		defer close(n.writerDone)
		for job := range n.saveJobs {
			n.saveDone <- saveDone{job: job, err: n.save(&job.rd.Persist)}
		}
	}()
}

// stopWriter lets the writer finish what it was given and waits for it.
func (n *Node) stopWriter() {
	if n.saveJobs == nil {
		return
	}
	close(n.saveJobs)
	for {
		select {
		case <-n.writerDone:
			return
		case <-n.saveDone: // nobody acts on them any more
		}
	}
}

// turnReady takes the core's Ready, unless a write it must wait for is
// under way, and acts on it now or once it is on disk.
func (n *Node) turnReady() {
	n.clusterID.Store(n.core.ClusterID())
	if n.saving {
		return // the next Ready is taken when the write is done
	}
	rd := n.core.Ready()
	switch {
	case n.store == nil || rd.Persist.Empty():
		n.process(rd)
	case rd.Persist.MustSync:
		// Ahead: a primary's new entries go to the backups while they
		// are written here.
		if rd.Persist.Ahead {
			n.process(rd)
		}
		n.saving = true
		n.outstanding++
		n.saveJobs <- saveJob{rd: rd, wait: true, acted: rd.Persist.Ahead}
	default:
		n.process(rd)
		n.outstanding++
		n.saveJobs <- saveJob{rd: rd}
	}
}

// saved acts on a Ready whose write is done.
func (n *Node) saved(d saveDone) bool {
	n.outstanding--
	if d.err != nil {
		n.log.Error("cannot write to the data directory: stopping (restart the node once the disk is fixed)", "error", d.err)
		n.stop()
		return false
	}
	if !d.job.wait {
		return true
	}
	n.saving = false
	n.core.Synced(d.job.rd.Persist.UpTo)
	if !d.job.acted {
		n.process(d.job.rd)
	}
	n.turnReady() // what gathered meanwhile, and what the sync let commit
	return true
}

// flush takes the core's Ready and waits until everything given to the
// writer is on disk and acted on (the graceful leave, before it stops).
func (n *Node) flush() bool {
	n.turnReady()
	for n.outstanding > 0 {
		if !n.saved(<-n.saveDone) {
			return false
		}
	}
	return true
}

// save writes a Persist to the store.
func (n *Node) save(p *replica.Persist) error {
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
	return n.store.Save(u)
}
