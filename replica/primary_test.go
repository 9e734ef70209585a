package replica

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// pump is a network for a few cores that the test steps by hand: held
// messages wait until the test lets them go.
type pump struct {
	t     *testing.T
	now   int64
	cores map[wire.NodeID]*Core
	held  []Envelope // from the primary, by destination
	hold  func(from wire.NodeID, env Envelope) bool
	said  []string // the notices' texts, by any core
}

func newPump(t *testing.T, n int) *pump {
	p := &pump{t: t, now: simBase, cores: map[wire.NodeID]*Core{}}
	for id := wire.NodeID(1); id <= wire.NodeID(n); id++ {
		cfg := TestConfig(id)
		for b := wire.NodeID(1); b <= wire.NodeID(n); b++ {
			cfg.Bootstrap = append(cfg.Bootstrap, b)
		}
		c, err := NewCore(cfg, p.now)
		if err != nil {
			t.Fatal(err)
		}
		p.cores[id] = c
	}
	return p
}

// deliver passes messages until none is left, except those held.
func (p *pump) deliver() {
	for rounds, busy := 0, true; busy; rounds++ {
		if rounds == 1000 {
			p.t.Fatal("the cores never stop answering each other")
		}
		busy = false
		for id := wire.NodeID(1); int(id) <= len(p.cores); id++ {
			rd := p.cores[id].Ready()
			for _, nt := range rd.Notices {
				p.said = append(p.said, nt.Text)
			}
			for _, env := range rd.Messages {
				for to, c := range p.cores {
					if to == id || (env.To != 0 && env.To != to) {
						continue
					}
					if p.hold != nil && p.hold(id, Envelope{To: to, Msg: env.Msg}) {
						p.held = append(p.held, Envelope{To: to, Msg: env.Msg})
						continue
					}
					c.Step(env.Msg)
					busy = true
				}
			}
		}
	}
}

// run advances the clock by d in steps, delivering as it goes.
func (p *pump) run(d time.Duration) {
	for end := p.now + int64(d); p.now < end; {
		p.now += int64(time.Millisecond)
		for _, c := range p.cores {
			c.Tick(p.now)
		}
		p.deliver()
	}
}

// playing lets the cores elect the highest as primary with every other in
// its view, has it commit five entries, and returns it.
func (p *pump) playing() *Core {
	p.run(2 * time.Second)
	c := p.cores[wire.NodeID(len(p.cores))]
	if c.Role() != wire.RolePrimary || len(c.InView()) != len(p.cores)-1 {
		p.t.Fatalf("after 2 s: %s", c)
	}
	for range 5 {
		if _, err := c.Propose(0, 0, game.Tick{}); err != nil {
			p.t.Fatal(err)
		}
	}
	p.run(100 * time.Millisecond)
	return c
}

// A node that asks to join with a log the primary's history cannot place
// (the histories are trimmed above where the logs part) gets a snapshot:
// appends from where common() guessed would be refused forever.
func TestJoinBeyondTheHistoriesGetsASnapshot(t *testing.T) {
	p := newPump(t, 2)
	c2 := p.playing()
	// n2's history as if older epochs had been trimmed away: it starts
	// above n1's whole (other) branch.
	h := c2.log.history[len(c2.log.history)-1]
	h.Index = 4
	c2.log.history = []wire.EpochStart{h}
	delete(c2.members, 1)
	c2.onJoin(&wire.StateReply{From: 1, Epoch: c2.Epoch(), Last: 3, History: []wire.EpochStart{{Epoch: wire.MakeEpoch(77, 1), Index: 1}}})
	m := c2.members[1]
	if m == nil || !m.needSnap {
		t.Fatalf("n1 joins with member %+v, want a snapshot", m)
	}
}

// A backup that restarted without its data, while a report from its old
// life that it held the whole log came late, refuses every append: the
// primary goes back to what the refusals say it holds, and it catches up.
func TestLateReportFromALostLogStillCatchesUp(t *testing.T) {
	p := newPump(t, 3)
	c3 := p.playing()
	last := c3.log.last()
	if m := c3.members[1]; m == nil || m.match != last {
		t.Fatalf("n1 before its restart: %+v, want match %d", m, last)
	}
	// n1 restarts empty; the primary has let it go, and then hears its
	// old report of the whole log.
	fresh, err := NewCore(TestConfig(1), p.now)
	if err != nil {
		t.Fatal(err)
	}
	p.cores[1] = fresh
	delete(c3.members, 1)
	// Its new report comes first (nothing from the primary reaches it
	// meanwhile), then the old one.
	p.hold = func(from wire.NodeID, env Envelope) bool {
		_, beacon := env.Msg.(*wire.Beacon)
		return from == 3 && env.To == 1 && !beacon
	}
	for k := 0; k < 100 && c3.members[1] == nil; k++ {
		p.run(time.Millisecond)
	}
	if c3.members[1] == nil {
		t.Fatal("the restarted n1 did not report to the primary")
	}
	c3.onJoin(&wire.StateReply{From: 1, Epoch: c3.Epoch(), Commit: c3.Commit(), Last: last, History: c3.log.history})
	p.hold, p.held = nil, nil
	p.run(time.Second)
	if got := fresh.log.last(); got < last {
		t.Fatalf("n1 holds %d entries a second after its restart, the primary %d: member %+v", got, c3.log.last(), c3.members[1])
	}
}

// A backup of another live primary says it exists to this primary (whose
// epoch is newer): the primaries meet in a view change, which weighs
// their branches, before this one takes the backup and sends it its own
// branch over its primary's (seed 241040: the backup, catching up after
// losing its data, dropped the heavier branch for the lighter one). The
// other primary itself, with nothing committed beyond this branch, is
// simply taken in.
func TestBackupOfAnotherPrimaryCallsAViewChange(t *testing.T) {
	p := newPump(t, 3)
	c3 := p.playing()
	older := wire.MakeEpoch(1, 2)
	if !older.Before(c3.Epoch()) {
		t.Fatalf("epoch %v is not older than the primary's %v", older, c3.Epoch())
	}
	delete(c3.members, 2)
	c3.onJoin(&wire.StateReply{From: 2, Epoch: older})
	if c3.members[2] == nil || c3.Role() != wire.RolePrimary {
		t.Fatalf("n2, a primary with no commits of its own, is not taken in (role %v)", c3.Role())
	}
	delete(c3.members, 1)
	c3.onJoin(&wire.StateReply{From: 1, Epoch: older, Recovering: true})
	if m := c3.members[1]; m != nil || c3.Role() == wire.RolePrimary {
		t.Fatalf("n1, n2's backup, made a member %+v, the primary still %v", m, c3.Role())
	}
}

// A primary that may no longer lead and must let another elect tells any
// other primary its epoch: that one, older, would otherwise never take it
// in (seed 2901 with the rule above).
func TestPrimaryThatMayNotLeadTellsTheOtherPrimary(t *testing.T) {
	p := newPump(t, 3)
	c3 := p.playing()
	c3.Ready()
	c3.peers[2].role = wire.RolePrimary // n2 leads a side of its own
	c3.recovering = true                // as if it may no longer lead
	c3.startElection("a test")
	if c3.Role() == wire.RolePrimary {
		t.Fatalf("n3 still leads")
	}
	told := map[wire.NodeID]bool{}
	for _, env := range c3.Ready().Messages {
		if r, ok := env.Msg.(*wire.StateReply); ok && r.Epoch == c3.Epoch() {
			told[env.To] = true
		}
	}
	if !told[2] || told[1] {
		t.Fatalf("n3 told %v of its epoch, want n2 only", told)
	}
}

// A node that may not lead (here: catching up after losing its data),
// left with the epoch of a primary now gone that is newer than the live
// primary's, tells that primary of its epoch: the live one never contacts
// a node outside its view, and the node follows no older epoch, so it was
// left out for good. The primary elects anew and takes it in.
func TestNodeOfANewerEpochTellsAnOlderPrimary(t *testing.T) {
	p := newPump(t, 4)
	c4 := p.playing()
	c1 := p.cores[1]
	c1.epoch = wire.MakeEpoch(c4.Epoch().Term()+3, 5) // n5 led it elsewhere, and is gone
	c1.leader = 5
	c1.recovering = true
	c1.lastFromLeader = p.now
	gone := c1.epoch
	delete(c4.members, 1) // as if it had dropped n1
	p.run(10 * time.Second)
	if c4.Role() != wire.RolePrimary || len(c4.InView()) != 3 || c1.Leader() != 4 ||
		!c4.Epoch().After(gone) || c1.Epoch() != c4.Epoch() {
		t.Fatalf("after 10 s: %s with %v in view; %s", c4, c4.InView(), c1)
	}
}

// A node still listening before it may make a cluster answers a lower
// node's election with OK: the lower one waits for it instead of making
// the cluster beside it, to be replaced at once (or, with packets lost,
// to leave a cluster's first entries on one node).
func TestListeningNodeHoldsBackLowerOnes(t *testing.T) {
	p := newPump(t, 3)
	p.run(30 * time.Millisecond)
	c3, err := NewCore(p.cores[3].cfg, p.now) // n3 starts 30 ms after the others
	if err != nil {
		t.Fatal(err)
	}
	p.cores[3] = c3
	p.run(2 * time.Second)
	for id, c := range p.cores {
		if c.Epoch().Term() != 1 || c.Epoch().Node() != 3 {
			t.Fatalf("n%d is in %s's epoch %d: another node took office before n3", id, c.Epoch().Node(), c.Epoch().Term())
		}
	}
	if c3.Role() != wire.RolePrimary {
		t.Fatalf("n3: %s", c3)
	}
}

// A node that takes office, and each backup that follows it, beacons at
// once: every node's view (every app's sidebar) shows the new roles in the
// same round of messages, not a beacon period later.
func TestNewRolesAreAnnouncedAtOnce(t *testing.T) {
	p := newPump(t, 4)
	c4 := p.playing()
	delete(p.cores, 4)
	for _, c := range p.cores {
		c.LinkDown(4)
	}
	c3 := p.cores[3]
	for range 200 {
		p.run(time.Millisecond)
		if c3.Role() == wire.RolePrimary {
			break
		}
	}
	if c3.Role() != wire.RolePrimary || !c3.Epoch().After(c4.Epoch()) {
		t.Fatalf("after the crash: %s", c3)
	}
	for _, id := range []wire.NodeID{1, 2} {
		for _, n := range p.cores[id].View().Nodes {
			want := wire.RoleBackup
			if n.ID == 3 {
				want = wire.RolePrimary
			}
			if n.ID != 4 && (n.Role != want || n.Epoch != c3.Epoch()) {
				t.Errorf("n%d sees n%d as %s in epoch %d the moment n3 leads epoch %d", id, n.ID, n.Role, n.Epoch.Term(), c3.Epoch().Term())
			}
		}
	}
}

// A backup's view of another backup: the entries both logged since that
// backup's last beacon are not its lag.
func TestAnotherBackupsLagIsAsOfItsBeacon(t *testing.T) {
	p := newPump(t, 3)
	c3 := p.playing()
	for range 4 {
		if _, err := c3.Propose(0, 0, game.Tick{}); err != nil {
			t.Fatal(err)
		}
	}
	p.run(time.Millisecond)
	if c1, c2 := p.cores[1], p.cores[2]; c1.log.last() != c3.log.last() || c2.log.last() != c3.log.last() {
		t.Fatalf("the backups hold %d and %d of %d", c1.log.last(), c2.log.last(), c3.log.last())
	}
	for _, n := range p.cores[1].View().Nodes {
		if n.Lag != 0 {
			t.Errorf("n1 sees n%d %d behind; every node holds all %d entries", n.ID, n.Lag, c3.log.last())
		}
	}
}

// A node that first answered another view change is still a founder of
// the cluster made after it (seeds 691279 and 697524), and keeps that
// evidence however many view changes it answers; an epoch of another
// process, or a later one, proves nothing.
func TestFounderAnsweredTheMakerFirst(t *testing.T) {
	e1 := wire.MakeEpochLife(1, 7, 4) // n4's, never served
	g := wire.MakeEpochLife(2, 9, 3)  // n3 made the cluster in it
	c := &Core{recovering: true, recoverEpochs: []wire.Epoch{e1}}
	for term := uint64(2); term < 40; term++ {
		c.recoverEpochs = append(c.recoverEpochs, wire.MakeEpochLife(term, 9, 3))
		if len(c.recoverEpochs) > 16 {
			c.recoverEpochs = trimAnswered(c.recoverEpochs)
		}
	}
	c.epoch = c.recoverEpochs[len(c.recoverEpochs)-1]
	r := &wire.StateReply{Recovering: true, Since: c.recoveringSince()}
	if r.Since != g || !founder(r, g) {
		t.Fatalf("since %v: not a founder of %v", r.Since, g)
	}
	if c.recoverEpochs[0] != e1 || len(c.recoverEpochs) != 16 {
		t.Fatalf("answered %v", c.recoverEpochs)
	}
	for _, s := range []wire.Epoch{e1, wire.MakeEpochLife(2, 8, 3), wire.MakeEpochLife(3, 9, 3)} {
		if founder(&wire.StateReply{Recovering: true, Since: s}, g) {
			t.Errorf("since %v counted as a founder of %v", s, g)
		}
	}
}

// A node that holds another cluster's history under the same name (an old
// data directory beside a cluster made afresh) is left out of a view
// change: its log, longer and of the same epochs, used to win, and the
// cluster's committed entries were overwritten by the other history.
func TestAnotherClustersLogIsLeftOut(t *testing.T) {
	cluster := func(id uint64, entries int) *pump {
		p := newPump(t, 3)
		for _, c := range p.cores {
			c.cfg.Quorum, c.cfg.ClusterID = true, id
		}
		c := p.playing()
		for range entries - 5 {
			if _, err := c.Propose(0, 0, game.Tick{}); err != nil {
				t.Fatal(err)
			}
		}
		p.run(100 * time.Millisecond)
		return p
	}
	old, now := cluster(0xa1, 12), cluster(0xb2, 5)
	c3 := now.cores[3]
	last, commit := c3.log.last(), c3.Commit()
	if old.cores[1].log.last() <= last {
		t.Fatalf("the old cluster's log (last %d) must be the longer one", old.cores[1].log.last())
	}
	// n1 of the old cluster is started where the new cluster's n1 was.
	now.cores[1] = old.cores[1]
	now.run(200 * time.Millisecond)
	c3.beginViewChange()
	now.run(time.Second)
	if got := c3.state.ClusterID(); got != 0xb2 || c3.Commit() < commit || c3.log.last() < last {
		t.Fatalf("n3 after the view change: cluster %x, commit %d, last %d; want cluster b2 with its commit %d and last %d kept", got, c3.Commit(), c3.log.last(), commit, last)
	}
	for i := last + 1; i <= c3.log.last(); i++ {
		if e, _ := c3.log.epochAt(i); e != c3.Epoch() {
			t.Fatalf("n3 took entry %d of epoch %v from the other cluster's log (its own office is %v)", i, e, c3.Epoch())
		}
	}
	if c3.Role() != wire.RolePrimary || slices.Contains(c3.InView(), 1) {
		t.Fatalf("n3 %s, view %v: want primary without n1", c3.Role(), c3.InView())
	}
	if !slices.ContainsFunc(now.said, func(s string) bool { return strings.Contains(s, "n1 holds the data of another cluster") }) {
		t.Errorf("n3 does not say why n1 is left out")
	}
}

// A node of another cluster's history with the highest id cannot take
// office (it counts no answer of this cluster), nor may it depose this
// cluster's primary again and again: once it knows the others hold
// another history, it does not count them as reachable voters, and it
// stops calling elections it cannot win.
func TestAnotherClustersHigherNodeDoesNotChurn(t *testing.T) {
	cluster := func(id uint64) *pump {
		p := newPump(t, 3)
		for n, c := range p.cores {
			c.cfg.Quorum, c.cfg.ClusterID = true, id
			c.cfg.Life = id<<8 | uint64(n) // each process its own
		}
		p.playing()
		return p
	}
	old, now := cluster(0xa1), cluster(0xb2)
	// n3 of the old cluster is started where the new cluster's n3 was.
	now.cores[3] = old.cores[3]
	now.run(3 * time.Second)
	c2 := now.cores[2]
	if c2.Role() != wire.RolePrimary {
		t.Fatalf("after 3 s: %s; want n2 primary", c2)
	}
	e := c2.Epoch()
	now.run(3 * time.Second)
	if c2.Role() != wire.RolePrimary || c2.Epoch() != e {
		t.Fatalf("3 s later: %s (was primary in epoch %v); want it still primary in the same epoch", c2, e)
	}
	if got := now.cores[3].state.ClusterID(); got != 0xa1 {
		t.Fatalf("the other n3 holds cluster %x", got)
	}
}
