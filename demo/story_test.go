package demo

import (
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

var t0 = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func ms(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }

// view is what node self says: primary leads in epoch term; down are the
// nodes it no longer hears.
func view(self, primary wire.NodeID, term uint64, down ...wire.NodeID) wire.ClusterView {
	v := wire.ClusterView{Self: self, Primary: primary, Epoch: wire.MakeEpoch(term, primary), Quorum: 2}
	for id := wire.NodeID(1); id <= 3; id++ {
		n := wire.NodeInfo{ID: id, Role: wire.RoleBackup, Alive: true}
		if id == primary {
			n.Role = wire.RolePrimary
		}
		for _, d := range down {
			if d == id {
				n.Alive, n.Role = false, wire.RoleDown
			}
		}
		v.Nodes = append(v.Nodes, n)
	}
	return v
}

func all(wire.NodeID) bool { return true }

// A kill: the survivors' views time the suspicion and the election, the
// first answer from the new primary the first move; the old primary's
// answers and views after the fault time nothing.
func TestStoryTimesAFailover(t *testing.T) {
	s := newStory(true)
	s.view(view(3, 3, 4), ms(-10))
	s.view(view(2, 3, 4), ms(-10))
	if p, _ := s.primary(all); p != 3 {
		t.Fatalf("primary %d before the fault, want 3", p)
	}
	_, epoch := s.primary(all)
	s.fault(Kill, 3, epoch, t0)
	s.ack(3, ms(0.5))            // an answer of n3 on its way at the fault
	s.view(view(3, 3, 4), ms(1)) // n3's own word counts for nothing
	s.view(view(1, 3, 4), ms(1.2))
	s.view(view(2, 0, 4, 3), ms(2)) // n2 suspects n3
	s.view(view(2, 2, 5, 3), ms(7)) // and leads
	s.ack(2, ms(9))
	s.ack(2, ms(12))
	f := s.failovers[0]
	if f.Suspected() != 2*time.Millisecond || f.Elected() != 7*time.Millisecond || f.Moved() != 9*time.Millisecond || f.To != 2 || !f.Over {
		t.Fatalf("failover %+v: want suspected 2ms, n2 elected 7ms, moved 9ms, over", f)
	}
	if s.majority != 2 {
		t.Errorf("majority %d, want 2", s.majority)
	}
	// Later views change nothing of it.
	s.view(view(3, 3, 6), ms(3000))
	if s.failovers[0] != f {
		t.Errorf("a later view changed the failover: %+v", s.failovers[0])
	}
}

// An answer from the new primary that comes before its view does is the
// election too; with no bots, the election ends the failover.
func TestStoryAnswerBeforeView(t *testing.T) {
	s := newStory(true)
	s.fault(Kill, 3, wire.MakeEpoch(4, 3), t0)
	s.ack(2, ms(5))
	f := s.failovers[0]
	if f.Elected() != 5*time.Millisecond || f.Suspected() != 5*time.Millisecond || f.Moved() != 5*time.Millisecond || f.To != 2 || !f.Over {
		t.Fatalf("failover %+v", f)
	}

	s = newStory(false)
	s.fault(Pause, 3, wire.MakeEpoch(4, 3), t0)
	s.view(view(2, 0, 4, 3), ms(510))
	if s.current() == nil {
		t.Fatal("over before a new primary")
	}
	s.view(view(2, 2, 5, 3), ms(515))
	if s.current() != nil || s.failovers[0].Elected() != 515*time.Millisecond {
		t.Fatalf("without bots, not over at the election: %+v", s.failovers[0])
	}
}

// The old primary, back in a newer epoch, ends the failover too; a new
// fault cuts short the one under way.
func TestStoryOldPrimaryBackAndCutShort(t *testing.T) {
	s := newStory(true)
	s.fault(Kill, 2, wire.MakeEpoch(5, 2), t0)
	s.view(view(2, 2, 6), ms(3000))
	s.ack(2, ms(3001))
	if f := s.failovers[0]; f.To != 2 || f.Elected() != 3000*time.Millisecond || !f.Over {
		t.Fatalf("the old primary re-elected: %+v", f)
	}
	// Nobody suspected it (a lone node, killed and restarted).
	if f := s.failovers[0]; f.Suspected() != 0 {
		t.Errorf("the old primary re-elected was suspected at %v: nobody was there to", f.Suspected())
	}
	s.fault(Cut, 2, wire.MakeEpoch(6, 2), ms(4000))
	s.fault(Kill, 1, wire.MakeEpoch(6, 2), ms(4001))
	if f := s.failovers[1]; !f.Over || f.To != 0 {
		t.Errorf("the cut short failover: %+v", f)
	}
	if s.current() != &s.failovers[2] {
		t.Errorf("the new fault is not the one under way")
	}
}

// The primary is the newest epoch's leader among the nodes whose word
// counts: a hung node's last view says it leads, and is not believed.
func TestStoryPrimary(t *testing.T) {
	s := newStory(true)
	s.view(view(3, 3, 4), ms(0))
	s.view(view(2, 2, 5, 3), ms(600))
	if p, e := s.primary(all); p != 2 || e != wire.MakeEpoch(5, 2) {
		t.Errorf("primary %d (epoch %v), want n2", p, e)
	}
	s.view(view(2, 2, 3), ms(0))
	s.view(view(3, 3, 4), ms(0))
	if p, _ := s.primary(func(id wire.NodeID) bool { return id != 3 }); p != 2 {
		t.Errorf("primary %d with n3 hung, want n2", p)
	}
	s.forget(2)
	s.forget(3)
	if p, _ := s.primary(all); p != 0 {
		t.Errorf("primary %d with no views, want none", p)
	}
}

// A pause or a cut undone before any node suspected the primary is no
// failover: it is not shown, and nothing stays "electing"; one undone
// after a node suspected it is shown, and timed to its end.
func TestStoryFaultUndoneInTime(t *testing.T) {
	s := newStory(true)
	s.view(view(3, 3, 4), ms(-10))
	s.view(view(2, 3, 4), ms(-10))
	s.fault(Pause, 3, wire.MakeEpoch(4, 3), t0)
	s.view(view(1, 3, 4), ms(100)) // n1 still hears n3
	s.undo(3)                      // P again at 200 ms
	s.view(view(2, 3, 4), ms(300))
	if f := s.shown(); len(f) != 0 {
		t.Fatalf("a pause undone before it was suspected shows as %+v", f)
	}

	s.fault(Cut, 3, wire.MakeEpoch(4, 3), ms(1000))
	s.undo(3)
	s.view(view(2, 0, 4, 3), ms(1500)) // suspected after all
	s.view(view(2, 2, 5, 3), ms(1510))
	s.ack(2, ms(1520))
	f := s.shown()
	if len(f) != 1 || f[0].Cause != Cut || f[0].To != 2 || !f[0].Over || f[0].Moved() != 520*time.Millisecond {
		t.Fatalf("a cut suspected after it was healed: %+v", f)
	}

	s.fault(Kill, 2, wire.MakeEpoch(5, 2), ms(2000))
	s.view(view(1, 0, 5, 2), ms(2003))
	s.undo(2) // (a kill is not undone, but a suspected fault stays)
	if f := s.shown(); len(f) != 2 {
		t.Fatalf("a suspected fault is not shown: %+v", f)
	}
}
