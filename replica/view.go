package replica

import (
	"strings"

	"github.com/gridlock-game/gridlock/wire"
)

// View is the cluster as this node sees it: itself and every node it has
// heard of, with role, epoch, progress and liveness. Addresses are the
// runtime's to fill in.
func (c *Core) View() wire.ClusterView {
	v := wire.ClusterView{
		Self:      c.id,
		Epoch:     c.epoch,
		Commit:    c.commit,
		HasQuorum: c.quorumReachable(),
	}
	if c.cfg.Quorum {
		v.Quorum = uint8(min(majority(len(c.voters())), 255))
	}
	if c.leader != 0 && (c.leader == c.id || c.Alive(c.leader)) {
		v.Primary = c.leader
	}
	primary := c.role == wire.RolePrimary
	self := wire.NodeInfo{ID: c.id, Role: c.role, Epoch: c.epoch, Commit: c.commit, Last: c.log.last(), Alive: true, InView: primary,
		Voter: c.isVoter(c.id), Recovering: c.recovering}
	v.Nodes = append(v.Nodes, self)
	for _, id := range c.ids {
		p := c.peers[id]
		if !p.known {
			continue
		}
		n := wire.NodeInfo{ID: id, Role: p.role, Epoch: p.epoch, Commit: p.commit, Last: p.last, Alive: c.alive(p),
			Voter: c.isVoter(id), Recovering: p.recovering}
		if m := c.members[id]; primary && m != nil {
			n.InView = m.inView
			if m.match < c.log.last() {
				n.Lag = c.log.last() - m.match
			}
			n.Last = max(n.Last, m.match)
		} else if n.Alive {
			// As of its last beacon: entries logged since are not its lag.
			n.Lag = p.lastAt - min(p.lastAt, p.last)
		}
		if !n.Alive {
			n.Role = wire.RoleDown
		}
		v.Nodes = append(v.Nodes, n)
	}
	return v
}

// InView returns the backups the primary waits for (nil on a backup).
func (c *Core) InView() []wire.NodeID {
	var out []wire.NodeID
	if c.role != wire.RolePrimary {
		return nil
	}
	for _, id := range c.memberIDs() {
		if c.members[id].inView {
			out = append(out, id)
		}
	}
	return out
}

// Forget drops a peer that has been gone for long (the runtime decides when),
// so that views do not list departed apps forever.
func (c *Core) Forget(id wire.NodeID) {
	p, ok := c.peers[id]
	if !ok || c.alive(p) || id == c.leader {
		return
	}
	delete(c.peers, id)
	for i, x := range c.ids {
		if x == id {
			c.ids = append(c.ids[:i], c.ids[i+1:]...)
			break
		}
	}
	delete(c.members, id)
}

// unvoted says which of this node's voters a view change in quorum mode
// could not count: those that did not answer, and those that answered
// without their data, which cannot tell that nothing committed was lost.
func (v *viewChange) unvoted(c *Core) string {
	var silent, empty []string
	for _, id := range c.voters() {
		r := v.replies[id]
		switch {
		case id == c.id:
			if c.recovering || c.log.last() == 0 {
				empty = append(empty, id.String())
			}
		case r == nil:
			silent = append(silent, id.String())
		case (r.Recovering || r.Last == 0) && !founder(r, c.genesisEpoch(v.replies)):
			empty = append(empty, id.String())
		}
	}
	var out []string
	if len(silent) > 0 {
		out = append(out, "no answer from "+strings.Join(silent, ", "))
	}
	if len(empty) == 1 {
		out = append(out, empty[0]+" has lost its data")
	} else if len(empty) > 1 {
		out = append(out, strings.Join(empty, ", ")+" have lost their data")
	}
	if len(empty) >= majority(len(c.voters())) {
		out = append(out, "a majority of the voters without their data stalls the cluster for good: start it afresh")
	}
	if len(out) == 0 {
		return ""
	}
	return ": " + strings.Join(out, "; ")
}
