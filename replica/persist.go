package replica

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Durability. What a node promised (the epoch it accepted), what its log
// holds and how far it knows the log committed must survive a crash: a
// node that acknowledged an entry and forgot it could let a majority that
// no longer holds it elect a primary without it. So each Ready lists what
// must be on disk before anything else in it is acted on (sent, answered,
// applied to what players see), and a restarted node starts from it.

// HardState is what a node keeps on disk besides its log: its promise, how
// far it knows the log committed, its log's epoch history, and whether it
// is still recovering from a loss of its data.
type HardState struct {
	Epoch         wire.Epoch
	Commit        uint64
	History       []wire.EpochStart
	Recovering    bool
	RecoverEpochs []wire.Epoch
}

// SnapshotRecord is the state machine as of Index, for the disk: the log
// after it is kept as entries.
type SnapshotRecord struct {
	Index   uint64
	Epoch   wire.Epoch // of the entry at Index
	History []wire.EpochStart
	Data    []byte // game.State.Snapshot()
	// Before are the entries up to Index that the log keeps behind the
	// state (LogKeep at most), as in memory: a restarted node can still
	// list the commands of a branch it drops later.
	Before []wire.LogEntry
}

// Persist is what a Ready asks the runtime to make durable first.
type Persist struct {
	// HardState, when not nil, replaces the one on disk.
	HardState *HardState
	// Snapshot, when not nil, replaces the one on disk; the entries it
	// covers are dropped.
	Snapshot *SnapshotRecord
	// Entries replace the log on disk from FirstIndex on (what was there
	// from FirstIndex is dropped first). FirstIndex is 0 when the log's
	// entries did not change.
	FirstIndex uint64
	Entries    []wire.LogEntry
	// UpTo is the log's last index when the Persist was made: once it is
	// on disk, tell the core with Synced(UpTo).
	UpTo uint64
	// MustSync: something here must be on disk before anything else in
	// the Ready is acted on (entries, a snapshot, a promise). Without it
	// only how far the log is known committed changed: that may be
	// written at leisure (a restart learns it again).
	MustSync bool
	// Ahead: the Ready may be acted on while this is written. A primary in
	// an epoch already on disk that only appended entries writes them in
	// parallel with sending them to its backups (as in the Raft thesis,
	// 10.2.1): it counts itself toward a commit only once Synced, and
	// nothing it sends promises what its disk holds.
	Ahead bool
}

// Empty reports whether nothing must be written.
func (p *Persist) Empty() bool { return p.HardState == nil && p.Snapshot == nil && p.FirstIndex == 0 }

// Restored is what a node found on disk when it restarts.
type Restored struct {
	HardState  HardState
	Snapshot   *SnapshotRecord // nil: none (the log starts at index 1)
	FirstIndex uint64          // index of Entries[0]
	Entries    []wire.LogEntry
}

// Synced tells the core that the log is on disk up to index i (Durable).
func (c *Core) Synced(i uint64) {
	if i > c.synced {
		c.synced = min(i, c.log.last())
		c.advanceCommit()
	}
}

// selfMatch is how far this node's own log counts toward a commit.
func (c *Core) selfMatch() uint64 {
	if c.cfg.Durable && !mutant("earlyack") {
		return min(c.log.last(), c.synced)
	}
	return c.log.last()
}

// appended records that the log changed from index i on.
func (c *Core) appended(i uint64) {
	if i <= c.synced {
		c.synced = i - 1 // what was there from i on is gone
	}
	if c.dirtyFrom == 0 || i < c.dirtyFrom {
		c.dirtyFrom = i
	}
}

// truncated records that the log was cut after index i.
func (c *Core) truncated(i uint64) { c.appended(i + 1) }

// hardState is the hard state as it is now.
func (c *Core) hardState() HardState {
	return HardState{
		Epoch:         c.epoch,
		Commit:        c.commit,
		History:       c.log.history,
		Recovering:    c.recovering,
		RecoverEpochs: c.recoverEpochs,
	}
}

// collectPersist fills the Ready's Persist with what changed since the
// last Ready.
func (c *Core) collectPersist() {
	p := &c.out.Persist
	if c.snapToSave {
		c.snapToSave = false
		e, _ := c.log.epochAt(c.applied)
		p.Snapshot = &SnapshotRecord{Index: c.applied, Epoch: e, History: c.log.historyCopy(), Data: c.state.Snapshot(), Before: c.log.slice(c.keptFrom(), c.applied)}
		c.savedSnap = c.applied
		if c.dirtyFrom != 0 && c.dirtyFrom <= c.applied {
			c.dirtyFrom = c.applied + 1
		}
		if c.dirtyFrom == 0 {
			c.dirtyFrom = c.applied + 1
		}
	}
	if c.dirtyFrom != 0 {
		from := max(c.dirtyFrom, c.log.snapIndex+1, c.savedSnap+1)
		p.FirstIndex = from
		p.Entries = c.log.slice(from-1, c.log.last())
		c.dirtyFrom = 0
	}
	h := c.hardState()
	promise := false
	if c.hardChanged || !sameHard(h, c.savedHard) {
		c.hardChanged = false
		promise = !samePromise(h, c.savedHard)
		p.MustSync = p.MustSync || promise
		h.History = slices.Clone(h.History)
		h.RecoverEpochs = slices.Clone(h.RecoverEpochs)
		c.savedHard = h
		p.HardState = &h
	}
	p.MustSync = p.MustSync || (p.Snapshot != nil || p.FirstIndex != 0) && !mutant("earlyack")
	p.Ahead = p.MustSync && !promise && p.Snapshot == nil && c.role == wire.RolePrimary &&
		(p.FirstIndex == 0 || p.FirstIndex > c.handedUpTo)
	p.UpTo = c.log.last()
	c.handedUpTo = p.UpTo
}

// samePromise reports whether two hard states differ at most in how far
// the log is known committed.
func samePromise(a, b HardState) bool {
	if a.Epoch != b.Epoch || a.Recovering != b.Recovering || !slices.Equal(a.RecoverEpochs, b.RecoverEpochs) || len(a.History) != len(b.History) {
		return false
	}
	for i := range a.History {
		x, y := a.History[i], b.History[i]
		if x.Epoch != y.Epoch || x.Index != y.Index || x.Support != y.Support {
			return false
		}
	}
	return true
}

func sameHard(a, b HardState) bool {
	return a.Epoch == b.Epoch && a.Commit == b.Commit && a.Recovering == b.Recovering &&
		slices.Equal(a.History, b.History) && slices.Equal(a.RecoverEpochs, b.RecoverEpochs)
}

// keptFrom is where the entries the log keeps behind the applied state
// begin (LogKeep of them at most), which a snapshot carries with it.
func (c *Core) keptFrom() uint64 {
	return max(c.log.snapIndex, c.applied-min(c.applied, uint64(c.cfg.LogKeep)))
}

// RestartCore returns a core that starts at time now from what a node kept
// on disk. It holds its promise (the epoch), its log and what it knew
// committed; it listens before it acts, as a new node does.
func RestartCore(cfg Config, now int64, r Restored) (*Core, error) {
	c, err := NewCore(cfg, now)
	if err != nil {
		return nil, err
	}
	h := r.HardState
	if r.Snapshot == nil && len(r.Entries) == 0 {
		// No log: as a node with no data, but one that keeps its promise
		// and what it answered as recovering (a founder that never got an
		// entry is still one after a restart: its disk proves it held
		// nothing).
		c.epoch = h.Epoch
		if len(h.RecoverEpochs) > 0 {
			c.recoverEpochs = slices.Clone(h.RecoverEpochs)
		}
		c.savedHard = c.hardState()
		c.savedHard.RecoverEpochs = slices.Clone(c.recoverEpochs)
		return c, nil
	}
	if r.Snapshot != nil {
		st, err := game.Restore(r.Snapshot.Data)
		if err != nil {
			return nil, fmt.Errorf("the snapshot on disk: %w", err)
		}
		c.state = st
		c.log.reset(r.Snapshot.Index, r.Snapshot.Epoch, r.Snapshot.History, nil)
		if n := uint64(len(r.Snapshot.Before)); n > 0 && n <= r.Snapshot.Index {
			start := r.Snapshot.Index - n
			c.log.reset(start, historyEpoch(r.Snapshot.History, start), r.Snapshot.History, r.Snapshot.Before)
		}
		c.applied, c.commit = r.Snapshot.Index, r.Snapshot.Index
		c.savedSnap = r.Snapshot.Index
	}
	if len(r.Entries) > 0 && r.FirstIndex != c.log.last()+1 {
		return nil, fmt.Errorf("the log on disk starts at %d, after a snapshot at %d", r.FirstIndex, c.log.last())
	}
	c.log.append(r.Entries...)
	c.log.mergeHistory(h.History)
	if h.Epoch.Before(c.log.lastEpoch()) {
		return nil, errors.New("the hard state on disk is older than the log")
	}
	c.epoch = h.Epoch
	c.commit = min(max(c.commit, h.Commit), c.log.last())
	c.recovering = h.Recovering
	c.recoverEpochs = slices.Clone(h.RecoverEpochs)
	c.savedHard = c.hardState()
	c.savedHard.History = slices.Clone(c.savedHard.History)
	c.synced = c.log.last()
	c.logChanged()
	c.applyCommitted()
	c.out.Committed = nil // applied before: nobody waits for them
	if c.epoch.Node() != c.id {
		c.leader = c.epoch.Node()
	}
	c.notice(wire.NoticeDetail, c.id, "restarted from disk: log %d..%d, commit %d, epoch %d", c.log.snapIndex, c.log.last(), c.commit, c.epoch.Term())
	return c, nil
}
