package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/wire"
)

func (m *Model) sidebar() ([]string, []bool) {
	L := m.lay
	w, rows := L.sideW, L.body
	lines := make([]string, 0, rows)
	sep := make([]bool, rows)
	cl := m.clusterLines(w)
	sc := m.scoreLines(w)
	nc := min(len(cl), max(rows/3, 1))
	pl := m.presenterLines(w, rows-nc-2-3-2) // scores and events keep 3 and 2
	ns := min(len(sc), max(rows-nc-len(pl)-2-4, 1))
	if len(pl) > 0 {
		ns = min(len(sc), max(rows-nc-len(pl)-2-2, 1))
	}
	ne := rows - nc - len(pl) - ns - 2
	lines = append(lines, cl[:nc]...)
	if len(pl) > 0 {
		sep[len(lines)] = true
		lines = append(lines, pl...)
	}
	var b strings.Builder
	m.titled(&b, w, []seg{{m.th.title, "scores"}}, m.th.border)
	sep[len(lines)] = true
	lines = append(lines, b.String())
	if ns < len(sc) {
		sc = m.trimScores(sc, ns)
	}
	lines = append(lines, sc[:ns]...)
	b.Reset()
	m.titled(&b, w, []seg{{m.th.title, "events"}}, m.th.border)
	sep[len(lines)] = true
	lines = append(lines, b.String())
	lines = append(lines, m.eventLines(w, ne)...)
	return lines, sep
}

func (m *Model) clusterLines(w int) []string {
	th := m.th
	v := m.view
	if v == nil || len(v.Nodes) == 0 {
		return []string{fit(" "+th.hint.r("waiting for the cluster…"), w)}
	}
	nodes := slices.Clone(v.Nodes)
	slices.SortFunc(nodes, func(a, b wire.NodeInfo) int { return int(b.ID) - int(a.ID) })
	var lost wire.NodeID
	if m.status.State == client.Failover {
		lost = m.status.Lost
	}
	idW, roleW := 2, 7
	for _, n := range nodes {
		idW = max(idW, width(n.ID.String()))
		roleW = max(roleW, width(n.Role.String()))
	}
	out := make([]string, 0, len(nodes))
	u := w - 2
	for _, n := range nodes {
		alive := n.Alive && n.ID != lost
		primary := alive && n.ID == v.Primary
		role, rp := n.Role.String(), th.text
		switch {
		case n.ID == lost:
			role, rp = "lost", th.err
		case n.Role == wire.RoleRefused:
			// Heard, but its settings differ: not a node that went down.
			rp = th.err
		case !n.Alive:
			role, rp = "down", th.dim
		case primary || n.Role == wire.RolePrimary:
			rp = th.gold
		case n.Role == wire.RoleElecting || n.Role == wire.RoleSyncing:
			rp = th.warn
		case n.Role == wire.RoleNoQuorum:
			rp = th.err
		case n.Role == wire.RoleStarting || n.Role == wire.RoleLeaving:
			rp = th.dim
		}
		detail, dp, short := "", th.dim, ""
		switch {
		case primary || alive && n.Role == wire.RolePrimary:
			e := n.Epoch.Term()
			if n.ID == v.Primary && !v.Epoch.IsZero() {
				e = v.Epoch.Term()
			}
			detail, short = fmt.Sprintf("epoch %d", e), fmt.Sprintf("e%d", e)
		case alive:
			detail, short = fmt.Sprintf("lag %d", n.Lag), fmt.Sprintf("lag%d", n.Lag)
			if n.Lag > 0 || !n.InView && n.Role == wire.RoleBackup {
				dp = th.warn
			}
		}
		star, sp := " ", paint{}
		if primary {
			star, sp = "★", th.gold
		}
		you := ""
		if m.self() != 0 && n.ID == m.self() {
			you = "you "
		}
		dot, dotp := "●", th.ok
		if !alive {
			dot, dotp = "○", th.dead
		}
		id := n.ID.String()
		idp := th.bold
		if !alive {
			idp = th.dim
		}
		if you != "" {
			idp = th.selected
		}
		// star id role detail … you dot
		base := 2 + idW + 1 + roleW
		// A short detail, or none, before no "you": the highlighted id
		// alone is easy to miss.
		if base+1+width(detail)+1+width(you)+1 > u {
			detail = short
		}
		if you != "" && base+1+width(detail)+1+width(you)+1 > u {
			detail = ""
		}
		if base+1+width(detail)+1+width(you)+1 > u {
			you = ""
		}
		if base+1+width(detail)+1+1 > u {
			detail = short
		}
		var l line
		l.addW(paint{}, " ", 1)
		l.addW(sp, star, 1)
		l.addW(paint{}, " ", 1)
		l.add(idp, id)
		l.pad(1 + 2 + idW + 1)
		l.addMax(rp, role, w-1)
		l.pad(1 + base + 1)
		l.addMax(dp, detail, w-1)
		l.pad(w - 1 - width(you) - 1)
		l.add(th.youTag, you)
		l.add(dotp, dot)
		l.pad(w)
		out = append(out, fit(l.String(), w))
	}
	return out
}
