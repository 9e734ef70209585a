package wire

import "fmt"

// The decoder reads fields (decoder.go); each message type is read in
// DecodeMessage or a method of its own in decode_client.go or
// decode_peer.go, the values of game they carry in decode_game.go.

// DecodeMessage decodes one message body (type byte and fields), the inverse
// of AppendMessage. Every error is a *DecodeError: a body over lim.MaxFrame,
// an unknown message type or command kind, a truncated or out-of-range field,
// invalid UTF-8, a control character in a name, a field or count over its
// limit, trailing bytes, or a protocol version other than Version (Hello,
// PeerHello and Beacon).
//
// The result shares no memory with b. Empty slices decode as nil; commands
// decode as game's value types (game.Place, not *game.Place). Role, QueryKind
// and bools are range-checked; ErrCode and game's enums other than the
// command kind pass through for the receiver to judge. A puzzle's givens and
// a room's board are either empty or hold exactly Size*Size cells.
func DecodeMessage(b []byte, lim Limits) (Message, error) {
	if len(b) > lim.MaxFrame {
		return nil, &DecodeError{Code: ErrTooLarge,
			Msg: fmt.Sprintf("frame of %d bytes exceeds the %d-byte limit", len(b), lim.MaxFrame)}
	}
	if len(b) == 0 {
		return nil, &DecodeError{Code: ErrMalformed, Msg: "empty frame"}
	}
	d := decoder{b: b[1:], lim: lim, typ: Type(b[0])}
	var m Message
	switch d.typ {
	case THello:
		m = d.hello()
	case TWelcome:
		m = d.welcome()
	case TCommand:
		m = &Command{Seq: d.uvarint("seq"), Cmd: d.command("cmd")}
	case TAck:
		m = d.ack()
	case TEvents:
		m = d.events()
	case TClusterView:
		v := new(ClusterView)
		d.clusterView(v)
		m = v
	case TRedirect:
		m = &Redirect{Leader: d.nodeID("leader"), Epoch: d.epoch("epoch"),
			Addr: d.addr("addr", d.lim.MaxAddr), Up: d.u8("up"), Need: d.u8("need")}
	case TPing:
		m = &Ping{Nonce: d.uvarint("nonce"), Time: d.varint("time")}
	case TPong:
		m = &Pong{Nonce: d.uvarint("nonce"), Time: d.varint("time")}
	case TError:
		m = &Error{Code: ErrCode(d.u8("code")), Text: d.line("text", d.lim.MaxText)}
	case TQuery:
		m = d.query()
	case TQueryReply:
		m = d.queryReply()
	case TRoomState:
		r := &RoomState{Index: d.uvarint("index")}
		d.roomView(&r.Room)
		m = r
	case TStatus:
		m = &Status{}
	case TBeacon:
		m = d.beacon()
	case TElection:
		m = &Election{From: d.nodeID("from"), Epoch: d.epoch("epoch")}
	case TElectionOK:
		m = &ElectionOK{From: d.nodeID("from"), Epoch: d.epoch("epoch")}
	case TCoordinator:
		m = &Coordinator{From: d.nodeID("from"), Epoch: d.epoch("epoch"), Reminder: d.bool("reminder")}
	case TLeave:
		m = &Leave{From: d.nodeID("from"), Epoch: d.epoch("epoch")}
	case TStateReply:
		m = &StateReply{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			Last: d.uvarint("last"), Commit: d.uvarint("commit"),
			SnapIndex:  d.uvarint("snap index"),
			History:    d.epochStarts("history", d.lim.MaxHistory),
			Recovering: d.bool("recovering"),
			Voters:     d.nodeIDs("voters", d.lim.MaxNodes),
			Since:      d.epoch("since"),
			Cluster:    d.uvarint("cluster")}
	case TFetch:
		m = &Fetch{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			After: d.uvarint("after"), Snapshot: d.bool("snapshot")}
	case TAppend:
		m = &Append{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			PrevIndex: d.uvarint("prev index"), PrevEpoch: d.epoch("prev epoch"),
			Commit: d.uvarint("commit"), Support: d.u8("support"),
			Sent: d.varint("sent"), Entries: d.logEntries("entries"),
			History: d.epochStarts("history", d.lim.MaxHistory)}
	case TAppendAck:
		m = &AppendAck{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			OK: d.bool("ok"), Match: d.uvarint("match"), Sent: d.varint("sent"),
			NeedSnap: d.bool("need snap")}
	case TSnapshot:
		m = &Snapshot{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			Index: d.uvarint("index"), IndexEpoch: d.epoch("index epoch"),
			Commit:  d.uvarint("commit"),
			History: d.epochStarts("history", d.lim.MaxHistory), Data: d.bytes("data"),
			Before: d.uvarint("before"), Tail: d.logEntries("tail")}
		if s := m.(*Snapshot); d.err == nil && (s.Before > uint64(len(s.Tail)) || s.Before > s.Index) {
			d.fail(ErrMalformed, "before", fmt.Sprintf("%d entries before index %d, of %d", s.Before, s.Index, len(s.Tail)))
		}
	case TRolledBack:
		m = d.rolledBack()
	case TPeerHello:
		p := &PeerHello{Version: d.version(), Cluster: d.str("cluster", d.lim.MaxCluster),
			From: d.nodeID("from"), Instance: d.u64("instance"), Quorum: d.bool("quorum")}
		d.fixed32("nonce", &p.Nonce)
		m = p
	case TPeerAuth:
		p := &PeerAuth{From: d.nodeID("from")}
		d.fixed32("mac", &p.MAC)
		m = p
	default:
		return nil, &DecodeError{Code: ErrUnknownType, Msg: fmt.Sprintf("unknown message type %d", b[0])}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(ErrMalformed, "", fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// Smallest encodings of slice elements: a count is refused before anything
// is allocated when count*min exceeds the bytes left.
const (
	minEpochStart = 6
	minLogEntry   = 7 // epoch (3), time, session, seq, command kind
	minEvent      = 21
	minRolledBack = 8
	minCell       = 3
	minClaim      = 4
	minScore      = 8
	minMember     = 3
	minChatLine   = 4
	minSummary    = 8
	minNodeInfo   = 15
)
