package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

func fetchStatus(ctx context.Context, addr string) (*wire.ClusterView, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := wire.WriteFrame(conn, &wire.Status{}); err != nil {
		return nil, err
	}
	m, err := wire.NewReader(conn, wire.ServerLimits.MaxFrame).ReadMessage(wire.ServerLimits)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		// Not the socket's words ("raw-read …: i/o timeout"): what they mean.
		return nil, fmt.Errorf("%s took the connection but did not answer: the node is paused, hung or overloaded", addr)
	}
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *wire.ClusterView:
		return m, nil
	case *wire.Error:
		// Say what the node said: "too many connections" tells an
		// operator more than the frame's type.
		return nil, fmt.Errorf("%s refused: %s (%s)", addr, m.Text, m.Code)
	}
	return nil, fmt.Errorf("%s answered with a %s: give a node's client port", addr, m.Type())
}

func cmdStatus(args []string) error {
	fs := newFlags("status", "gridlock status [--connect HOST:PORT] [--json]", "gridlock status --connect localhost:8000")
	connect := fs.String("connect", "", "ask this node (client address); default: discover the cluster on the multicast group")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", 3*time.Second, "give up when no primary is found within this time")
	var gf groupFlags
	gf.register(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := gf.check(); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("--timeout %v: more than 0", *timeout)
	}
	if *connect != "" {
		addrs, err := splitAddrs("--connect", *connect)
		if err != nil {
			return err
		}
		*connect = addrs[0] // status asks one node
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var v *wire.ClusterView // the last view heard
	var why error           // the last failure that the timeout did not cause
	for {
		var err error
		var got *wire.ClusterView
		whole := true // not cut short by the timeout
		if *connect != "" {
			got, err = fetchStatus(ctx, *connect)
		} else {
			if dl, _ := ctx.Deadline(); time.Until(dl) < discoverListen {
				whole = false
			}
			got, err = gf.discover(ctx)
			if err == nil {
				got = closerLook(ctx, got, fetchStatus)
			}
		}
		var idle error // the primary named does not act as one
		if err == nil {
			idle = notActing(got)
		}
		switch {
		case err == nil:
			why = idle
		case ctx.Err() == nil:
			why = err
		}
		if err == nil && (whole || v == nil || got.Primary != 0) {
			v = got
		}
		if err == nil && got.Primary != 0 && idle == nil {
			break
		}
		if ctx.Err() != nil {
			if v != nil {
				printStatus(os.Stdout, v, *asJSON)
			}
			if why == nil && v == nil {
				why = err // the view printed above says why otherwise: not a dial cut short by the timeout
			}
			if why != nil {
				return fmt.Errorf("no primary found within %v: %v", *timeout, why)
			}
			return fmt.Errorf("no primary found within %v", *timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	printStatus(os.Stdout, v, *asJSON)
	return nil
}

// closerLook asks a node heard on the group for its own view, which the
// beacons do not make: the primary, which knows lags and the view, or with
// no primary heard the node furthest along, which knows the voters that
// are down and the quorum that is not reachable (the beacons list only the
// nodes that are up). It returns got when that node does not answer.
func closerLook(ctx context.Context, got *wire.ClusterView, fetch func(context.Context, string) (*wire.ClusterView, error)) *wire.ClusterView {
	ask := got.Primary
	if ask == 0 {
		var best *wire.NodeInfo
		for i := range got.Nodes {
			n := &got.Nodes[i]
			if best == nil || n.Epoch.After(best.Epoch) ||
				n.Epoch == best.Epoch && (n.Commit > best.Commit || n.Commit == best.Commit && n.ID > best.ID) {
				best = n
			}
		}
		if best == nil {
			return got
		}
		ask = best.ID
	}
	if v, err := fetch(ctx, addrOf(got, ask)); err == nil {
		return v
	}
	return got
}

// notActing says why the primary v names does not act as one in v's own
// table, if it does not: a node that follows a primary-elect names it while
// it gathers its votes, and names it for good where it never gets them (a
// majority of the voters without their data, in quorum mode).
func notActing(v *wire.ClusterView) error {
	for _, n := range v.Nodes {
		if n.ID == v.Primary && v.Primary != 0 && n.Role != wire.RolePrimary {
			return fmt.Errorf("n%d follows n%d, which is not acting as primary (%s)", v.Self, n.ID, n.Role)
		}
	}
	return nil
}

func addrOf(v *wire.ClusterView, id wire.NodeID) string {
	for _, n := range v.Nodes {
		if n.ID == id {
			return clientAddr(n)
		}
	}
	return ""
}

// clientAddr is where a client reaches n: the address it advertises, if any.
func clientAddr(n wire.NodeInfo) string {
	if n.Advertise != "" {
		return n.Advertise
	}
	return n.ClientAddr
}

// statusJSON is what `gridlock status --json` prints.
type statusJSON struct {
	Primary   int        `json:"primary"`
	Epoch     uint64     `json:"epoch"`
	Commit    uint64     `json:"commit"`
	Quorum    int        `json:"quorum"`
	HasQuorum bool       `json:"has_quorum"`
	Reporter  int        `json:"reported_by"`
	Nodes     []nodeJSON `json:"nodes"`
}

type nodeJSON struct {
	ID         int    `json:"id"`
	Role       string `json:"role"`
	Epoch      uint64 `json:"epoch"`
	Commit     uint64 `json:"commit"`
	Lag        uint64 `json:"lag"`
	Alive      bool   `json:"alive"`
	InView     bool   `json:"in_view"`
	ClientAddr string `json:"client_addr"`
	PeerAddr   string `json:"peer_addr"`
	Advertise  string `json:"advertise,omitempty"`
}

func printStatus(w io.Writer, v *wire.ClusterView, asJSON bool) {
	if asJSON {
		out := statusJSON{int(v.Primary), v.Epoch.Term(), v.Commit, int(v.Quorum), v.HasQuorum, int(v.Self), nil}
		for _, n := range v.Nodes {
			out.Nodes = append(out.Nodes, nodeJSON{int(n.ID), n.Role.String(), n.Epoch.Term(), n.Commit, n.Lag, n.Alive, n.InView, n.ClientAddr, n.PeerAddr, n.Advertise})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return
	}
	nodes := append([]wire.NodeInfo(nil), v.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID > nodes[j].ID })
	if v.Primary == 0 {
		fmt.Fprintf(w, "no primary · epoch %d · commit %d", v.Epoch.Term(), v.Commit)
	} else {
		fmt.Fprintf(w, "primary n%d · epoch %d · commit %d", v.Primary, v.Epoch.Term(), v.Commit)
	}
	if v.Quorum > 0 {
		fmt.Fprintf(w, " · quorum %d (%s)", v.Quorum, map[bool]string{true: "reachable", false: "NOT reachable"}[v.HasQuorum])
	}
	fmt.Fprintf(w, " · as seen by n%d\n", v.Self)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tEPOCH\tCOMMIT\tLAG\tALIVE\tCLIENT\tPEER\tADVERTISE")
	for _, n := range nodes {
		star := " "
		if n.ID == v.Primary {
			star = "★"
		}
		alive := "yes"
		if !n.Alive {
			alive = "no"
		}
		fmt.Fprintf(tw, "%s n%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", star, n.ID, n.Role, n.Epoch.Term(), n.Commit, n.Lag, alive, n.ClientAddr, n.PeerAddr, n.Advertise)
	}
	tw.Flush()
}
