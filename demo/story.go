package demo

import (
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Cause is what the presenter did to the primary.
type Cause uint8

const (
	Kill  Cause = iota + 1 // kill -9
	Pause                  // SIGSTOP: the primary hangs
	Cut                    // its peer traffic dropped: a partition
)

func (c Cause) String() string {
	switch c {
	case Kill:
		return "kill"
	case Pause:
		return "pause"
	case Cut:
		return "cut"
	}
	return "?"
}

// Failover is one fault of the primary and how the cluster got over it,
// as the demo saw it: from the fault, the first view of another node that
// no longer has the old primary (suspected), the first view in which a
// node is primary in a newer epoch (elected), and the first move a bot had
// acknowledged by the new primary (resumed). A zero time: not yet.
type Failover struct {
	Cause Cause
	From  wire.NodeID // the primary at the fault
	To    wire.NodeID // the new primary (0: none yet)
	Epoch wire.Epoch  // the primary's epoch at the fault

	At                              time.Time
	SuspectedAt, ElectedAt, MovedAt time.Time
	// Over: measured to its end, or cut short by the next fault.
	Over bool
	// undone: the presenter undid the fault (resumed, healed) before any
	// node suspected the primary: no failover, unless one suspects it yet.
	undone bool
}

// Suspected, Elected and Moved are the times from the fault (0: not yet).
func (f Failover) Suspected() time.Duration { return since(f.At, f.SuspectedAt) }
func (f Failover) Elected() time.Duration   { return since(f.At, f.ElectedAt) }
func (f Failover) Moved() time.Duration     { return since(f.At, f.MovedAt) }

func since(from, to time.Time) time.Duration {
	if to.IsZero() {
		return 0
	}
	return max(to.Sub(from), time.Nanosecond)
}

// story follows the cluster through the views its nodes send and the
// bots' acknowledgements: who is primary, and how long each failover took.
type story struct {
	views     map[wire.NodeID]wire.ClusterView
	failovers []Failover
	// moves: bots play, so a failover is over only at the first move
	// through the new primary (else at the election).
	moves bool
	// majority is the voters a primary needs, as the last one said.
	majority int
}

func newStory(moves bool) *story {
	return &story{views: map[wire.NodeID]wire.ClusterView{}, moves: moves}
}

// current is the failover under way (nil: none).
func (s *story) current() *Failover {
	if n := len(s.failovers); n > 0 && !s.failovers[n-1].Over {
		return &s.failovers[n-1]
	}
	return nil
}

// fault starts timing a failover of primary from, which led epoch.
func (s *story) fault(c Cause, from wire.NodeID, epoch wire.Epoch, at time.Time) {
	if f := s.current(); f != nil {
		f.Over = true
	}
	s.failovers = append(s.failovers, Failover{Cause: c, From: from, Epoch: epoch, At: at})
}

// undo notes that the fault of node id was undone (it runs again, or
// hears its peers again). Before any node suspected it, the primary kept
// its office: that failover is not shown, unless a node suspects it yet.
func (s *story) undo(id wire.NodeID) {
	if f := s.current(); f != nil && f.From == id && f.SuspectedAt.IsZero() {
		f.undone = true
	}
}

// shown are the failovers that happened (or are under way), oldest first.
func (s *story) shown() []Failover {
	var out []Failover
	for _, f := range s.failovers {
		if !f.undone {
			out = append(out, f)
		}
	}
	return out
}

// forget drops what a node said: it died, or its views are stale.
func (s *story) forget(id wire.NodeID) { delete(s.views, id) }

// view takes a view from the node that made it.
func (s *story) view(v wire.ClusterView, at time.Time) {
	s.views[v.Self] = v
	if leads(v) && v.Quorum > 0 {
		s.majority = int(v.Quorum)
	}
	f := s.current()
	if f == nil {
		return
	}
	if f.SuspectedAt.IsZero() && v.Self != f.From && (v.Primary != f.From || !alive(v, f.From)) {
		f.SuspectedAt, f.undone = at, false
	}
	if f.ElectedAt.IsZero() && v.Epoch.After(f.Epoch) && leads(v) {
		f.ElectedAt, f.To = at, v.Self
		if f.SuspectedAt.IsZero() && v.Self != f.From {
			f.SuspectedAt = at // its election is its suspicion
		}
		f.Over = !s.moves
	}
}

// ack takes a bot's acknowledgement, answered by node.
func (s *story) ack(node wire.NodeID, at time.Time) {
	f := s.current()
	if f == nil || node == 0 || !at.After(f.At) {
		return
	}
	switch {
	case node == f.To && !f.ElectedAt.IsZero():
	case node != f.From:
		if f.ElectedAt.IsZero() {
			// The answer came before the new primary's view did.
			f.ElectedAt, f.To = at, node
			if f.SuspectedAt.IsZero() {
				f.SuspectedAt = at
			}
		}
	default:
		return // the old primary's answer, still on its way at the fault
	}
	f.MovedAt = at
	f.Over = true
}

// primary is the node that leads now, among those counted says to
// believe (running, not hung, not cut off), and its epoch; 0 if none does.
func (s *story) primary(counted func(wire.NodeID) bool) (wire.NodeID, wire.Epoch) {
	var id wire.NodeID
	var epoch wire.Epoch
	for _, v := range s.views {
		if counted(v.Self) && leads(v) && v.Epoch.After(epoch) {
			id, epoch = v.Self, v.Epoch
		}
	}
	return id, epoch
}

// alone says whether node id's last view has it needing only its own
// vote: cut off from its peers, it still leads.
func (s *story) alone(id wire.NodeID) bool {
	v, ok := s.views[id]
	return ok && v.Quorum == 1
}

// leads says whether the node that made v is a serving primary in it.
func leads(v wire.ClusterView) bool {
	if v.Primary != v.Self || v.Self == 0 {
		return false
	}
	for _, n := range v.Nodes {
		if n.ID == v.Self {
			return n.Role == wire.RolePrimary
		}
	}
	return false
}

func alive(v wire.ClusterView, id wire.NodeID) bool {
	for _, n := range v.Nodes {
		if n.ID == id {
			return n.Alive && n.Role != wire.RoleDown
		}
	}
	return false
}
