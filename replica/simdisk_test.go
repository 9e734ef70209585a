package replica

import (
	"fmt"
	"slices"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// The simulated disk (durable schedules): what a node's store holds, as
// node/store keeps it, and the writes under way. The simulated runtime
// drives it as node/durable.go does: a Ready whose Persist must be synced
// is held (nothing in it is sent, answered or applied to what players
// see) while the core goes on taking inputs, and acted on once the write
// completes, after Synced; the next Ready is taken then. A primary's Ready
// that only appends (Persist.Ahead) is acted on at once while it is
// written. A Persist that only moves the commit index is written at
// leisure, after its Ready is acted on. Writes complete in order, one at
// a time.
//
// A crash keeps what was synced and a random prefix of the writes under
// way (synced just before the process died, which never heard of it); the
// rest is lost. A restart from disk rebuilds the core with RestartCore from
// what is kept.

type simDisk struct {
	hard    *HardState
	snap    *SnapshotRecord
	entries []wire.LogEntry // entries[i] has index snapIndex()+1+i
	pending []simWrite      // written, not yet synced, in order
	doneAt  int64           // when the last write under way completes
	writes  int             // syncs done, for the figures
	// olderSnaps counts snapshots older than the one stored (see apply).
	olderSnaps int
}

type simWrite struct {
	rd    Ready
	wait  bool // the node takes no Ready until this is on disk
	acted bool // rd was acted on already (Persist.Ahead)
}

func (d *simDisk) snapIndex() uint64 {
	if d.snap == nil {
		return 0
	}
	return d.snap.Index
}

func (d *simDisk) last() uint64 { return d.snapIndex() + uint64(len(d.entries)) }

// setDisk gives n a new disk, keeping the old one for answers still on
// their way (unless it is empty and a fuller one was lost just before).
func (n *simNode) setDisk(s *sim, d *simDisk) {
	if old := n.disk; old != nil && (old.last() > 0 || s.now-n.lastEnd >= int64(10*time.Millisecond)) {
		n.lastDisk, n.lastEnd = old, s.now
	}
	n.disk = d
}

// holds reports whether the disk holds entry i of epoch e.
func (d *simDisk) holds(i uint64, e wire.Epoch) bool {
	if d == nil || i > d.last() || i == 0 {
		return false
	}
	switch si := d.snapIndex(); {
	case i > si:
		return d.entries[i-si-1].Epoch == e
	case i == si:
		return d.snap.Epoch == e
	default:
		return historyEpoch(d.snap.History, i) == e
	}
}

// apply writes a Persist as the store's plan does, refusing what the
// store would refuse.
func (d *simDisk) apply(p *Persist) error {
	if sn := p.Snapshot; sn != nil {
		if sn.Index < d.snapIndex() {
			// A rollback to a shorter branch (availability mode) after
			// the longer one was compacted: the state installed is older
			// than the one stored, and replaces it and every entry.
			// node/store refuses this write today (and the node stops);
			// the simulation counts it and goes on as a store that takes
			// it would.
			d.olderSnaps++
			d.entries = nil
		} else if sn.Index >= d.last() {
			d.entries = nil
		} else {
			d.entries = d.entries[sn.Index-d.snapIndex():]
		}
		c := *sn
		c.History = slices.Clone(sn.History)
		d.snap = &c
	}
	if p.FirstIndex != 0 {
		after := p.FirstIndex - 1
		if after < d.snapIndex() {
			return fmt.Errorf("truncation after index %d cuts into the snapshot at %d", after, d.snapIndex())
		}
		if after < d.last() {
			d.entries = d.entries[:after-d.snapIndex()]
		}
		if len(p.Entries) > 0 {
			if p.FirstIndex != d.last()+1 {
				return fmt.Errorf("entries at index %d, but the log ends at %d", p.FirstIndex, d.last())
			}
			d.entries = append(d.entries, p.Entries...)
		}
	}
	if p.HardState != nil {
		h := *p.HardState
		h.History = slices.Clone(h.History)
		h.RecoverEpochs = slices.Clone(h.RecoverEpochs)
		d.hard = &h
	}
	return nil
}

// restored is what a restart finds, as node.restored builds it.
func (d *simDisk) restored() Restored {
	if d.hard == nil {
		return Restored{}
	}
	r := Restored{HardState: *d.hard, Snapshot: d.snap, FirstIndex: d.snapIndex() + 1, Entries: slices.Clone(d.entries)}
	r.HardState.History = slices.Clone(r.HardState.History)
	r.HardState.RecoverEpochs = slices.Clone(r.HardState.RecoverEpochs)
	return r
}

// write queues a Persist; its completion is an event for the node's
// current start.
func (s *sim) write(n *simNode, w simWrite) {
	d := n.disk
	lat := int64(50+s.rng.IntN(s.opts.syncMax)) * int64(time.Microsecond)
	d.doneAt = max(d.doneAt, s.now) + lat
	d.pending = append(d.pending, w)
	s.push(&msgEvent{at: d.doneAt, to: n.id, disk: n.boot})
}

// synced: the oldest write under way is on disk.
func (s *sim) synced(n *simNode) {
	d := n.disk
	if len(d.pending) == 0 {
		return
	}
	w := d.pending[0]
	d.pending = d.pending[1:]
	d.writes++
	if err := d.apply(&w.rd.Persist); err != nil {
		s.check.fail("n%d: the store refuses a write: %v", n.id, err)
	}
	if !w.wait {
		return
	}
	n.saving = false
	n.core.Synced(w.rd.Persist.UpTo)
	if !w.acted {
		s.process(n, w.rd)
	}
}

// diskCrash: the process died. A random prefix of the writes under way
// made it to disk; the rest is lost.
func (s *sim) diskCrash(n *simNode) {
	d := n.disk
	if d == nil {
		return
	}
	k := s.rng.IntN(len(d.pending) + 1)
	for _, w := range d.pending[:k] {
		if err := d.apply(&w.rd.Persist); err != nil {
			s.check.fail("n%d: the store refuses a write: %v", n.id, err)
		}
	}
	if lost := len(d.pending) - k; lost > 0 {
		s.logf("n%d: %d writes not synced are lost", n.id, lost)
	}
	d.pending = nil
	d.doneAt = 0
	n.saving = false
}
