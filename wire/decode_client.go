package wire

import (
	"fmt"

	"github.com/gridlock-game/gridlock/game"
)

// Decoders of the client <-> node messages, mirroring encode_client.go.

func (d *decoder) hello() *Hello {
	return &Hello{
		Version:  d.version(),
		Name:     d.name("name", d.lim.MaxName),
		Token:    d.str("token", d.lim.MaxToken),
		LastLine: d.uvarint("last line"),
		Watch:    d.bool("watch"),
	}
}

func (d *decoder) welcome() *Welcome {
	m := &Welcome{
		Node:    d.nodeID("node"),
		Epoch:   d.epoch("epoch"),
		Session: game.SessionID(d.uvarint("session")),
		Name:    d.name("name", d.lim.MaxName),
		Token:   d.str("token", d.lim.MaxToken),
		Index:   d.uvarint("index"),
	}
	d.roomView(&m.Room)
	d.clusterView(&m.View)
	m.DoneFrom = d.uvarint("done from")
	if n := d.count("done", game.DedupeWindowCap, 3); n > 0 {
		m.Done = make([]game.SeqResult, n)
		for i := range m.Done {
			m.Done[i] = game.SeqResult{Seq: d.uvarint("done.seq"), Code: game.Code(d.u8("done.code")), Points: d.i32("done.points")}
		}
	}
	m.Watch = d.bool("watch")
	m.Cluster = d.uvarint("cluster")
	return m
}

func (d *decoder) ack() *Ack {
	return &Ack{
		Seq:    d.uvarint("seq"),
		Index:  d.uvarint("index"),
		Code:   game.Code(d.u8("code")),
		Who:    d.name("who", d.lim.MaxName),
		Room:   d.name("room", d.lim.MaxRoomName),
		Points: d.i32("points"),
	}
}

func (d *decoder) events() *Events {
	m := &Events{Index: d.uvarint("index")}
	if n := d.count("events", d.lim.MaxEvents, minEvent); n > 0 {
		m.Events = make([]game.Event, n)
		for i := range m.Events {
			d.event(&m.Events[i])
		}
	}
	return m
}

func (d *decoder) query() *Query {
	m := &Query{Seq: d.uvarint("seq"), Kind: QueryKind(d.u8("kind"))}
	if d.err == nil && m.Kind != QueryRooms && m.Kind != QueryWho {
		d.fail(ErrMalformed, "kind", fmt.Sprintf("unknown query kind %d", m.Kind))
	}
	m.Room = d.name("room", d.lim.MaxRoomName)
	return m
}

func (d *decoder) queryReply() *QueryReply {
	m := &QueryReply{Seq: d.uvarint("seq")}
	if n := d.count("rooms", d.lim.MaxRooms, minSummary); n > 0 {
		m.Rooms = make([]game.RoomSummary, n)
		for i := range m.Rooms {
			s := &m.Rooms[i]
			s.Name = d.name("rooms.name", d.lim.MaxRoomName)
			s.Size = d.u8("rooms.size")
			s.Difficulty = game.Difficulty(d.u8("rooms.difficulty"))
			s.Round = d.u32v("rooms.round")
			s.Filled = d.int("rooms.filled")
			s.Cells = d.int("rooms.cells")
			s.Players = d.nameList("rooms.players")
			s.Watchers = d.nameList("rooms.watchers")
		}
	}
	m.Members = d.members("members")
	return m
}

func (d *decoder) clusterView(v *ClusterView) {
	v.Self = d.nodeID("view.self")
	v.Primary = d.nodeID("view.primary")
	v.Epoch = d.epoch("view.epoch")
	v.Commit = d.uvarint("view.commit")
	v.Quorum = d.u8("view.quorum")
	v.HasQuorum = d.bool("view.has quorum")
	n := d.count("view.nodes", d.lim.MaxNodes, minNodeInfo)
	if n == 0 {
		return
	}
	v.Nodes = make([]NodeInfo, n)
	for i := range v.Nodes {
		ni := &v.Nodes[i]
		ni.ID = d.nodeID("view.nodes.id")
		ni.Role = d.role("view.nodes.role")
		ni.Epoch = d.epoch("view.nodes.epoch")
		ni.Commit = d.uvarint("view.nodes.commit")
		ni.Last = d.uvarint("view.nodes.last")
		ni.Lag = d.uvarint("view.nodes.lag")
		ni.Alive = d.bool("view.nodes.alive")
		ni.InView = d.bool("view.nodes.in view")
		ni.Voter = d.bool("view.nodes.voter")
		ni.Recovering = d.bool("view.nodes.recovering")
		ni.ClientAddr = d.addr("view.nodes.client addr", d.lim.MaxAddr)
		ni.PeerAddr = d.addr("view.nodes.peer addr", d.lim.MaxAddr)
		ni.Advertise = d.addr("view.nodes.advertise", d.lim.MaxAddr)
	}
}

// names reads a list of player names.
func (d *decoder) nameList(field string) []string {
	k := d.count(field, d.lim.MaxMembers, 1)
	if k == 0 {
		return nil
	}
	out := make([]string, k)
	for j := range out {
		out[j] = d.name(field, d.lim.MaxName)
	}
	return out
}
