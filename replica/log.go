package replica

import (
	"sort"

	"github.com/gridlock-game/gridlock/wire"
)

// maxHistory bounds the epoch history a node keeps and sends. Divergence
// between logs only ever concerns recent epochs; an index older than the
// oldest record is taken to match.
const maxHistory = 64

// raftLog is the replicated log: entries after snapIndex in memory, the
// entries up to snapIndex folded into the state machine, and the history of
// the epochs in which its entries were made.
type raftLog struct {
	snapIndex uint64
	snapEpoch wire.Epoch
	entries   []wire.LogEntry // entries[i] has index snapIndex+1+i
	history   []wire.EpochStart
}

func (l *raftLog) last() uint64 { return l.snapIndex + uint64(len(l.entries)) }

func (l *raftLog) lastEpoch() wire.Epoch {
	if n := len(l.entries); n > 0 {
		return l.entries[n-1].Epoch
	}
	return l.snapEpoch
}

// entry returns the entry at index i, or nil if it is not in memory.
func (l *raftLog) entry(i uint64) *wire.LogEntry {
	if i <= l.snapIndex || i > l.last() {
		return nil
	}
	return &l.entries[i-l.snapIndex-1]
}

// epochAt is the epoch of the entry at index i (0 for index 0). ok is false
// past the end of the log.
func (l *raftLog) epochAt(i uint64) (wire.Epoch, bool) {
	if i > l.last() {
		return wire.Epoch{}, false
	}
	if i == l.snapIndex {
		return l.snapEpoch, true
	}
	if e := l.entry(i); e != nil {
		return e.Epoch, true
	}
	return historyEpoch(l.history, i), true
}

// matches reports whether the log holds index i made in epoch e.
func (l *raftLog) matches(i uint64, e wire.Epoch) bool {
	got, ok := l.epochAt(i)
	return ok && got == e
}

// append adds entries at the end.
func (l *raftLog) append(es ...wire.LogEntry) {
	for _, e := range es {
		if len(l.history) == 0 || l.history[len(l.history)-1].Epoch != e.Epoch {
			l.history = append(l.history, wire.EpochStart{Epoch: e.Epoch, Index: l.last() + 1})
			if len(l.history) > maxHistory {
				l.history = append(l.history[:0], l.history[len(l.history)-maxHistory:]...)
			}
		}
		l.entries = append(l.entries, e)
	}
}

// setSupport records the view size of epoch e's primary in its history
// record, if the record is there and holds a smaller one.
func (l *raftLog) setSupport(e wire.Epoch, s uint8) {
	for i := len(l.history) - 1; i >= 0; i-- {
		if l.history[i].Epoch == e {
			l.history[i].Support = max(l.history[i].Support, s)
			return
		}
		if l.history[i].Epoch.Before(e) {
			return
		}
	}
}

// setCommitted records that while epoch e was current, entries up to i were
// committed.
func (l *raftLog) setCommitted(e wire.Epoch, i uint64) {
	for k := len(l.history) - 1; k >= 0; k-- {
		if l.history[k].Epoch == e {
			l.history[k].Committed = max(l.history[k].Committed, i)
			return
		}
		if l.history[k].Epoch.Before(e) {
			return
		}
	}
}

// truncate drops every entry after index i (i >= snapIndex).
func (l *raftLog) truncate(i uint64) {
	if i >= l.last() {
		return
	}
	if i < l.snapIndex {
		i = l.snapIndex
	}
	clear(l.entries[i-l.snapIndex:])
	l.entries = l.entries[:i-l.snapIndex]
	for len(l.history) > 0 && l.history[len(l.history)-1].Index > i {
		l.history = l.history[:len(l.history)-1]
	}
}

// compact forgets the entries up to index i, which the state machine holds.
func (l *raftLog) compact(i uint64) {
	if i <= l.snapIndex {
		return
	}
	if i > l.last() {
		i = l.last()
	}
	e, _ := l.epochAt(i)
	n := int(i - l.snapIndex)
	rest := make([]wire.LogEntry, len(l.entries)-n, len(l.entries)-n+64)
	copy(rest, l.entries[n:])
	l.entries = rest
	l.snapIndex, l.snapEpoch = i, e
}

// reset replaces the log with a snapshot at index i (epoch e) and the entries
// after it.
func (l *raftLog) reset(i uint64, e wire.Epoch, history []wire.EpochStart, tail []wire.LogEntry) {
	l.snapIndex, l.snapEpoch = i, e
	l.entries = make([]wire.LogEntry, 0, len(tail)+64)
	l.history = append([]wire.EpochStart(nil), history...)
	// The history must describe the entries up to i; records past i are
	// rebuilt from the tail itself.
	for len(l.history) > 0 && l.history[len(l.history)-1].Index > i {
		l.history = l.history[:len(l.history)-1]
	}
	if i > 0 && (len(l.history) == 0 || l.history[len(l.history)-1].Epoch != e) {
		l.history = append(l.history, wire.EpochStart{Epoch: e, Index: i})
	}
	l.append(tail...)
	l.mergeHistory(history)
}

// mergeHistory takes what another log's history knows of the epochs this
// one holds: the view each epoch's primary had, how far it committed.
func (l *raftLog) mergeHistory(h []wire.EpochStart) {
	for i := range l.history {
		r := &l.history[i]
		for _, o := range h {
			if o.Epoch == r.Epoch {
				r.Support = max(r.Support, o.Support)
				r.Committed = max(r.Committed, o.Committed)
			}
		}
	}
}

// recordsOf returns the history records, other than epoch e's, of the
// entries in (after, upto] that know something: an append carries them so
// that a node catching up learns what weighs their branch.
func (l *raftLog) recordsOf(after, upto uint64, e wire.Epoch) []wire.EpochStart {
	var rs []wire.EpochStart
	for k, r := range l.history {
		if k+1 < len(l.history) && l.history[k+1].Index <= after+1 {
			continue
		}
		if r.Index > upto {
			break
		}
		if r.Epoch != e && (r.Support != 0 || r.Committed != 0) {
			rs = append(rs, r)
		}
	}
	return rs
}

// slice returns copies of the entries in (after, upto].
func (l *raftLog) slice(after, upto uint64) []wire.LogEntry {
	if upto > l.last() {
		upto = l.last()
	}
	if after < l.snapIndex || after >= upto {
		return nil
	}
	return append([]wire.LogEntry(nil), l.entries[after-l.snapIndex:upto-l.snapIndex]...)
}

// historyCopy is the epoch history, for a message.
func (l *raftLog) historyCopy() []wire.EpochStart {
	return append([]wire.EpochStart(nil), l.history...)
}

// historyEpoch returns the epoch of index i according to a history (0 when
// the history does not reach back that far or i is 0).
func historyEpoch(h []wire.EpochStart, i uint64) wire.Epoch {
	if i == 0 {
		return wire.Epoch{}
	}
	k := sort.Search(len(h), func(k int) bool { return h[k].Index > i })
	if k == 0 {
		return wire.Epoch{}
	}
	return h[k-1].Epoch
}

// logShape describes a log by its epoch history and last index: enough to
// find where two logs part.
type logShape struct {
	history []wire.EpochStart
	last    uint64
}

func (s logShape) epochAt(i uint64) wire.Epoch { return historyEpoch(s.history, i) }

// known reports whether d, what common returned for a and b, was compared
// rather than assumed: both histories reach back to it.
func known(a, b logShape, d uint64) bool {
	for _, s := range []logShape{a, b} {
		if len(s.history) > 0 && d > 0 && d < s.history[0].Index {
			return false
		}
	}
	return true
}

// common returns the length of the longest prefix two logs share: the
// largest index at which both hold an entry of the same epoch. Two entries
// with the same index and epoch are the same entry, and so are all before
// them. Indexes older than either history count as shared.
func common(a, b logShape) uint64 {
	hi := min(a.last, b.last)
	oldest := func(s logShape) uint64 {
		if len(s.history) == 0 {
			return 0
		}
		return s.history[0].Index
	}
	floor := max(oldest(a), oldest(b))
	agree := func(i uint64) bool {
		if i == 0 || i < floor {
			return true
		}
		return a.epochAt(i) == b.epochAt(i)
	}
	// agree is true up to the answer and false after it.
	n := sort.Search(int(hi), func(k int) bool { return !agree(uint64(k) + 1) })
	return uint64(n)
}
