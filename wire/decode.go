package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gridlock-game/gridlock/game"
)

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
			Addr: d.str("addr", d.lim.MaxAddr)}
	case TPing:
		m = &Ping{Nonce: d.uvarint("nonce"), Time: d.varint("time")}
	case TPong:
		m = &Pong{Nonce: d.uvarint("nonce"), Time: d.varint("time")}
	case TError:
		m = &Error{Code: ErrCode(d.u8("code")), Text: d.text("text", d.lim.MaxText)}
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
		m = &Coordinator{From: d.nodeID("from"), Epoch: d.epoch("epoch")}
	case TLeave:
		m = &Leave{From: d.nodeID("from"), Epoch: d.epoch("epoch")}
	case TStateReply:
		m = &StateReply{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			Last: d.uvarint("last"), Commit: d.uvarint("commit"),
			SnapIndex: d.uvarint("snap index"),
			History:   d.epochStarts("history", d.lim.MaxHistory)}
	case TFetch:
		m = &Fetch{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			After: d.uvarint("after"), Snapshot: d.bool("snapshot")}
	case TAppend:
		m = &Append{From: d.nodeID("from"), Epoch: d.epoch("epoch"),
			PrevIndex: d.uvarint("prev index"), PrevEpoch: d.epoch("prev epoch"),
			Commit: d.uvarint("commit"), Support: d.u8("support"),
			Sent: d.varint("sent"), Entries: d.logEntries("entries")}
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
			From: d.nodeID("from"), Instance: d.u64("instance")}
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
	minEpochStart = 4
	minLogEntry   = 5 // epoch, time, session, seq, command kind
	minEvent      = 18
	minRolledBack = 8
	minCell       = 3
	minClaim      = 4
	minScore      = 6
	minMember     = 2
	minChatLine   = 4
	minSummary    = 7
	minNodeInfo   = 11
)

type decoder struct {
	b   []byte
	lim Limits
	typ Type
	err *DecodeError

	// names holds recently decoded names: a room view repeats a few names
	// in its cells, claims, scores, members and chat lines.
	names [16]string
	next  int
}

func (d *decoder) fail(code ErrCode, field, msg string) {
	if d.err == nil {
		d.err = &DecodeError{Code: code, Type: d.typ, Field: field, Msg: msg}
	}
	d.b = nil
}

func (d *decoder) truncated(field string) { d.fail(ErrMalformed, field, "truncated") }

func (d *decoder) u8(field string) uint8 {
	if len(d.b) < 1 {
		d.truncated(field)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u64(field string) uint64 {
	if len(d.b) < 8 {
		d.truncated(field)
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) fixed32(field string, dst *[32]byte) {
	if len(d.b) < 32 {
		d.truncated(field)
		return
	}
	copy(dst[:], d.b)
	d.b = d.b[32:]
}

func (d *decoder) bool(field string) bool {
	v := d.u8(field)
	if v > 1 {
		d.fail(ErrMalformed, field, fmt.Sprintf("bool value %d", v))
	}
	return v == 1
}

func (d *decoder) version() uint16 {
	if len(d.b) < 2 {
		d.truncated("version")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	if err := CheckVersion(v); err != nil {
		d.fail(ErrBadVersion, "version", err.(*DecodeError).Msg)
	}
	return v
}

func (d *decoder) uvarint(field string) uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		if n == 0 {
			d.truncated(field)
		} else {
			d.fail(ErrMalformed, field, "varint overflows 64 bits")
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	u := d.uvarint(field)
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) uvarintMax(field string, max uint64) uint64 {
	v := d.uvarint(field)
	if v > max {
		d.fail(ErrMalformed, field, fmt.Sprintf("value %d out of range", v))
		return 0
	}
	return v
}

func (d *decoder) varintRange(field string, min, max int64) int64 {
	v := d.varint(field)
	if v < min || v > max {
		d.fail(ErrMalformed, field, fmt.Sprintf("value %d out of range", v))
		return 0
	}
	return v
}

func (d *decoder) u16v(field string) uint16 { return uint16(d.uvarintMax(field, math.MaxUint16)) }
func (d *decoder) u32v(field string) uint32 { return uint32(d.uvarintMax(field, math.MaxUint32)) }
func (d *decoder) nodeID(field string) NodeID {
	return NodeID(d.uvarintMax(field, math.MaxUint16))
}
func (d *decoder) epoch(field string) Epoch { return Epoch(d.uvarint(field)) }
func (d *decoder) i32(field string) int32 {
	return int32(d.varintRange(field, math.MinInt32, math.MaxInt32))
}
func (d *decoder) int(field string) int {
	return int(d.varintRange(field, math.MinInt, math.MaxInt))
}

// count reads a slice length: at most max, and no more elements of at least
// minSize bytes than the bytes left can hold.
func (d *decoder) count(field string, max, minSize int) int {
	v := d.uvarint(field)
	if v > uint64(max) {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d items exceeds %d", v, max))
		return 0
	}
	if v > uint64(len(d.b)/minSize) {
		d.truncated(field)
		return 0
	}
	return int(v)
}

// raw reads a length-prefixed byte string without copying it.
func (d *decoder) raw(field string) []byte {
	n := d.uvarint(field)
	if n > uint64(len(d.b)) {
		d.truncated(field)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(field string) []byte {
	v := d.raw(field)
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// str reads a UTF-8 string of at most max bytes.
func (d *decoder) str(field string, max int) string {
	n := d.uvarint(field)
	if n > uint64(max) {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d bytes exceeds %d", n, max))
		return ""
	}
	if n > uint64(len(d.b)) {
		d.truncated(field)
		return ""
	}
	v := d.b[:n]
	d.b = d.b[n:]
	if !utf8.Valid(v) {
		d.fail(ErrMalformed, field, "invalid UTF-8")
		return ""
	}
	return string(v)
}

// text reads a UTF-8 string of at most max runes.
func (d *decoder) text(field string, max int) string {
	v := d.raw(field)
	if d.checkRunes(field, v, max, false) {
		return string(v)
	}
	return ""
}

// name reads a UTF-8 string of at most max runes without control
// characters, sharing the string with an equal name decoded before.
func (d *decoder) name(field string, max int) string {
	v := d.raw(field)
	if len(v) == 0 || !d.checkRunes(field, v, max, true) {
		return ""
	}
	for i := range d.names {
		if d.names[i] == string(v) {
			return d.names[i]
		}
	}
	s := string(v)
	d.names[d.next] = s
	d.next = (d.next + 1) % len(d.names)
	return s
}

func (d *decoder) checkRunes(field string, v []byte, max int, names bool) bool {
	if d.err != nil {
		return false
	}
	if len(v) > utf8.UTFMax*max {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d bytes exceeds %d runes", len(v), max))
		return false
	}
	if !names {
		if !utf8.Valid(v) {
			d.fail(ErrMalformed, field, "invalid UTF-8")
			return false
		}
		if n := len(v); n > max {
			if n = utf8.RuneCount(v); n > max {
				d.fail(ErrTooLarge, field, fmt.Sprintf("%d runes exceeds %d", n, max))
				return false
			}
		}
		return true
	}
	n := 0
	for i := 0; i < len(v); n++ {
		if c := v[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				d.fail(ErrMalformed, field, fmt.Sprintf("control character %U", c))
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size == 1 {
			d.fail(ErrMalformed, field, "invalid UTF-8")
			return false
		}
		if unicode.IsControl(r) {
			d.fail(ErrMalformed, field, fmt.Sprintf("control character %U", r))
			return false
		}
		i += size
	}
	if n > max {
		d.fail(ErrTooLarge, field, fmt.Sprintf("%d runes exceeds %d", n, max))
		return false
	}
	return true
}

func (d *decoder) hello() *Hello {
	return &Hello{
		Version:  d.version(),
		Name:     d.name("name", d.lim.MaxName),
		Token:    d.str("token", d.lim.MaxToken),
		LastLine: d.uvarint("last line"),
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

func (d *decoder) event(e *game.Event) {
	e.Kind = game.EventKind(d.u8("event.kind"))
	e.Room = d.name("event.room", d.lim.MaxRoomName)
	e.Session = game.SessionID(d.uvarint("event.session"))
	e.Name = d.name("event.name", d.lim.MaxName)
	e.Row = d.u8("event.row")
	e.Col = d.u8("event.col")
	e.Digit = d.u8("event.digit")
	e.Reason = game.ReleaseReason(d.u8("event.reason"))
	e.Points = d.i32("event.points")
	e.Round = d.u32v("event.round")
	e.Until = d.varint("event.until")
	e.Epoch = d.uvarint("event.epoch")
	e.Node = d.u16v("event.node")
	e.PrevNode = d.u16v("event.prev node")
	e.Cmd = game.CmdKind(d.u8("event.cmd"))
	e.Text = d.text("event.text", d.lim.MaxChat)
	if d.bool("event.line") {
		e.Line = new(game.ChatLine)
		d.chatLine(e.Line)
	}
	if d.bool("event.puzzle") {
		e.Puzzle = new(game.PuzzleView)
		d.puzzle(e.Puzzle)
	}
}

func (d *decoder) chatLine(l *game.ChatLine) {
	l.N = d.uvarint("chat.n")
	l.Time = d.varint("chat.time")
	l.From = d.name("chat.from", d.lim.MaxName)
	l.Text = d.text("chat.text", d.lim.MaxChat)
}

func (d *decoder) puzzle(p *game.PuzzleView) {
	p.Size = d.u8("puzzle.size")
	p.BoxRows = d.u8("puzzle.box rows")
	p.BoxCols = d.u8("puzzle.box cols")
	p.Difficulty = game.Difficulty(d.u8("puzzle.difficulty"))
	p.Seed = d.uvarint("puzzle.seed")
	if int(p.Size) > d.lim.MaxBoard {
		d.fail(ErrTooLarge, "puzzle.size", fmt.Sprintf("size %d exceeds %d", p.Size, d.lim.MaxBoard))
		return
	}
	cells := int(p.Size) * int(p.Size)
	if n := d.count("puzzle.givens", cells, 1); n > 0 {
		if n != cells {
			d.fail(ErrMalformed, "puzzle.givens", fmt.Sprintf("%d givens for %d cells", n, cells))
			return
		}
		p.Givens = append([]uint8(nil), d.b[:n]...)
		d.b = d.b[n:]
	}
}

func (d *decoder) roomView(r *game.RoomView) {
	r.Name = d.name("room.name", d.lim.MaxRoomName)
	r.Round = d.u32v("room.round")
	r.State = game.RoundState(d.u8("room.state"))
	r.Winner = d.name("room.winner", d.lim.MaxName)
	r.NextRoundAt = d.varint("room.next round at")
	d.puzzle(&r.Puzzle)
	cells := int(r.Puzzle.Size) * int(r.Puzzle.Size)
	if n := d.count("room.board", cells, minCell); n > 0 {
		if n != cells {
			d.fail(ErrMalformed, "room.board", fmt.Sprintf("%d cells for a board of %d", n, cells))
			return
		}
		r.Board = make([]game.CellView, n)
		for i := range r.Board {
			c := &r.Board[i]
			c.Digit = d.u8("room.board.digit")
			c.Given = d.bool("room.board.given")
			c.Owner = d.name("room.board.owner", d.lim.MaxName)
		}
	}
	if n := d.count("room.claims", d.lim.MaxMembers, minClaim); n > 0 {
		r.Claims = make([]game.ClaimView, n)
		for i := range r.Claims {
			c := &r.Claims[i]
			c.Row = d.u8("room.claims.row")
			c.Col = d.u8("room.claims.col")
			c.Owner = d.name("room.claims.owner", d.lim.MaxName)
			c.Until = d.varint("room.claims.until")
		}
	}
	if n := d.count("room.scores", d.lim.MaxMembers, minScore); n > 0 {
		r.Scores = make([]game.ScoreView, n)
		for i := range r.Scores {
			s := &r.Scores[i]
			s.Name = d.name("room.scores.name", d.lim.MaxName)
			s.Round = d.i32("room.scores.round")
			s.Total = d.i32("room.scores.total")
			s.Right = d.u32v("room.scores.right")
			s.Wrong = d.u32v("room.scores.wrong")
			s.Wins = d.u32v("room.scores.wins")
		}
	}
	r.Members = d.members("room.members")
	if n := d.count("room.chat", d.lim.MaxChatLines, minChatLine); n > 0 {
		r.Chat = make([]game.ChatLine, n)
		for i := range r.Chat {
			d.chatLine(&r.Chat[i])
		}
	}
	r.ChatHistory = d.int("room.chat history")
}

func (d *decoder) members(field string) []game.MemberView {
	n := d.count(field, d.lim.MaxMembers, minMember)
	if n == 0 {
		return nil
	}
	ms := make([]game.MemberView, n)
	for i := range ms {
		ms[i].Name = d.name("member.name", d.lim.MaxName)
		ms[i].Online = d.bool("member.online")
	}
	return ms
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
		ni.ClientAddr = d.str("view.nodes.client addr", d.lim.MaxAddr)
		ni.PeerAddr = d.str("view.nodes.peer addr", d.lim.MaxAddr)
		ni.Advertise = d.str("view.nodes.advertise", d.lim.MaxAddr)
	}
}

func (d *decoder) role(field string) Role {
	r := Role(d.u8(field))
	if r > RoleDown {
		d.fail(ErrMalformed, field, fmt.Sprintf("unknown role %d", r))
		return 0
	}
	return r
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
			if k := d.count("rooms.players", d.lim.MaxMembers, 1); k > 0 {
				s.Players = make([]string, k)
				for j := range s.Players {
					s.Players[j] = d.name("rooms.players", d.lim.MaxName)
				}
			}
		}
	}
	m.Members = d.members("members")
	return m
}

func (d *decoder) beacon() *Beacon {
	m := &Beacon{
		Version:    d.version(),
		Cluster:    d.str("cluster", d.lim.MaxCluster),
		From:       d.nodeID("from"),
		Instance:   d.u64("instance"),
		Epoch:      d.epoch("epoch"),
		Role:       d.role("role"),
		Leader:     d.nodeID("leader"),
		Commit:     d.uvarint("commit"),
		Last:       d.uvarint("last"),
		ClientAddr: d.str("client addr", d.lim.MaxAddr),
		PeerAddr:   d.str("peer addr", d.lim.MaxAddr),
		Advertise:  d.str("advertise", d.lim.MaxAddr),
	}
	d.fixed32("mac", &m.MAC)
	return m
}

func (d *decoder) epochStarts(field string, max int) []EpochStart {
	n := d.count(field, max, minEpochStart)
	if n == 0 {
		return nil
	}
	h := make([]EpochStart, n)
	for i := range h {
		h[i] = EpochStart{Epoch: d.epoch(field), Index: d.uvarint(field), Support: d.u8(field), Committed: d.uvarint(field)}
	}
	return h
}

func (d *decoder) logEntries(field string) []LogEntry {
	n := d.count(field, d.lim.MaxEntries, minLogEntry)
	if n == 0 {
		return nil
	}
	es := make([]LogEntry, n)
	for i := range es {
		es[i].Epoch = d.epoch("entry.epoch")
		d.entry(&es[i].Entry)
	}
	return es
}

func (d *decoder) rolledBack() *RolledBack {
	return &RolledBack{From: d.nodeID("from"), Epoch: d.epoch("epoch"), Items: d.rolledBackItems("items")}
}

func (d *decoder) rolledBackItems(field string) []game.RolledBack {
	n := d.count(field, d.lim.MaxEntries, minRolledBack)
	if n == 0 {
		return nil
	}
	items := make([]game.RolledBack, n)
	for i := range items {
		it := &items[i]
		it.Room = d.name("item.room", d.lim.MaxRoomName)
		it.Name = d.name("item.name", d.lim.MaxName)
		it.Seq = d.uvarint("item.seq")
		it.Kind = game.CmdKind(d.u8("item.kind"))
		it.Row = d.u8("item.row")
		it.Col = d.u8("item.col")
		it.Digit = d.u8("item.digit")
		it.Text = d.text("item.text", d.lim.MaxChat)
	}
	return items
}

func (d *decoder) entry(e *game.Entry) {
	e.Time = d.varint("entry.time")
	e.Session = game.SessionID(d.uvarint("entry.session"))
	e.Seq = d.uvarint("entry.seq")
	e.Cmd = d.command("entry.cmd")
}

func (d *decoder) command(field string) game.Command {
	k := game.CmdKind(d.u8(field))
	if d.err != nil {
		return nil
	}
	switch k {
	case game.CmdGenesis:
		g := game.Genesis{Seed: d.uvarint("cmd.seed")}
		r := &g.Rules
		r.ClaimLease = time.Duration(d.varint("cmd.claim lease"))
		r.SessionGrace = time.Duration(d.varint("cmd.session grace"))
		r.RoundCountdown = time.Duration(d.varint("cmd.round countdown"))
		r.ChatHistory = d.int("cmd.chat history")
		r.MaxRooms = d.int("cmd.max rooms")
		r.MaxSessions = d.int("cmd.max sessions")
		r.DedupeWindow = d.int("cmd.dedupe window")
		r.MainSize = d.u8("cmd.main size")
		r.MainDifficulty = game.Difficulty(d.u8("cmd.main difficulty"))
		return g
	case game.CmdOpenSession:
		return game.OpenSession{Name: d.name("cmd.name", d.lim.MaxName),
			Token: d.str("cmd.token", d.lim.MaxToken)}
	case game.CmdCloseSession:
		return game.CloseSession{}
	case game.CmdDisconnect:
		return game.Disconnect{Session: game.SessionID(d.uvarint("cmd.session"))}
	case game.CmdPlace:
		if len(d.b) < 3 {
			d.truncated(field)
			return nil
		}
		c := game.Place{Row: d.b[0], Col: d.b[1], Digit: d.b[2]}
		d.b = d.b[3:]
		return c
	case game.CmdClaim:
		return game.Claim{Row: d.u8("cmd.row"), Col: d.u8("cmd.col")}
	case game.CmdRelease:
		return game.Release{}
	case game.CmdChat:
		return game.Chat{Text: d.text("cmd.text", d.lim.MaxChat)}
	case game.CmdCreateRoom:
		return game.CreateRoom{Name: d.name("cmd.name", d.lim.MaxRoomName),
			Size: d.u8("cmd.size"), Difficulty: game.Difficulty(d.u8("cmd.difficulty"))}
	case game.CmdJoinRoom:
		return game.JoinRoom{Name: d.name("cmd.name", d.lim.MaxRoomName)}
	case game.CmdLeaveRoom:
		return game.LeaveRoom{}
	case game.CmdTick:
		return game.Tick{}
	case game.CmdViewChange:
		return game.ViewChange{Epoch: d.uvarint("cmd.epoch"),
			Primary: d.u16v("cmd.primary"), PrevPrimary: d.u16v("cmd.prev primary")}
	case game.CmdRollback:
		return game.Rollback{Items: d.rolledBackItems("cmd.items")}
	}
	d.fail(ErrUnknownType, field, fmt.Sprintf("unknown command kind %d", k))
	return nil
}
