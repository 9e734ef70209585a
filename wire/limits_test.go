package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

type limitCase struct {
	limit string // the Limits field
	field string // the DecodeError's Field
	runes bool   // a string limit in runes (else in bytes)
	str   func(s string) Message
	count func(n int) Message
}

func repeatN[T any](n int, f func(i int) T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = f(i)
	}
	return s
}

func roomWith(mut func(*game.RoomView)) Message {
	r := game.RoomView{
		Puzzle: game.PuzzleView{Size: 1, Givens: []uint8{1}},
		Board:  []game.CellView{{Digit: 1}},
		Chat:   []game.ChatLine{{N: 1}},
	}
	mut(&r)
	return &RoomState{Index: 1, Room: r}
}

func boardRoom(n int) Message {
	return &RoomState{Room: game.RoomView{
		Puzzle: game.PuzzleView{Size: uint8(n), Givens: make([]uint8, n*n)},
		Board:  make([]game.CellView, n*n),
	}}
}

func limitCases() []limitCase {
	entry := func(i int) LogEntry { return LogEntry{Epoch: MakeEpoch(1, 1), Entry: game.Entry{Cmd: game.Tick{}}} }
	item := func(i int) game.RolledBack { return game.RolledBack{Kind: game.CmdPlace} }
	start := func(i int) EpochStart { return EpochStart{Epoch: MakeEpoch(uint64(i), 1), Index: uint64(i)} }
	member := func(i int) game.MemberView { return game.MemberView{Name: "m", Online: true} }
	node := func(i int) NodeInfo { return NodeInfo{ID: NodeID(i)} }
	return []limitCase{
		{limit: "MaxName", field: "name", runes: true, str: func(s string) Message { return &Hello{Version: Version, Name: s} }},
		{limit: "MaxName", field: "cmd.name", runes: true, str: func(s string) Message { return &Command{Cmd: game.OpenSession{Name: s}} }},
		{limit: "MaxName", field: "who", runes: true, str: func(s string) Message { return &Ack{Who: s} }},
		{limit: "MaxName", field: "event.name", runes: true, str: func(s string) Message { return &Events{Events: []game.Event{{Name: s}}} }},
		{limit: "MaxName", field: "chat.from", runes: true, str: func(s string) Message {
			return roomWith(func(r *game.RoomView) { r.Chat[0].From = s })
		}},
		{limit: "MaxName", field: "room.board.owner", runes: true, str: func(s string) Message {
			return roomWith(func(r *game.RoomView) { r.Board[0].Owner = s })
		}},
		{limit: "MaxRoomName", field: "room", runes: true, str: func(s string) Message { return &Query{Kind: QueryWho, Room: s} }},
		{limit: "MaxRoomName", field: "cmd.name", runes: true, str: func(s string) Message { return &Command{Cmd: game.JoinRoom{Name: s}} }},
		{limit: "MaxRoomName", field: "cmd.name", runes: true, str: func(s string) Message { return &Command{Cmd: game.CreateRoom{Name: s}} }},
		{limit: "MaxRoomName", field: "room.name", runes: true, str: func(s string) Message {
			return roomWith(func(r *game.RoomView) { r.Name = s })
		}},
		{limit: "MaxChat", field: "cmd.text", runes: true, str: func(s string) Message { return &Command{Cmd: game.Chat{Text: s}} }},
		{limit: "MaxChat", field: "event.text", runes: true, str: func(s string) Message { return &Events{Events: []game.Event{{Text: s}}} }},
		{limit: "MaxChat", field: "chat.text", runes: true, str: func(s string) Message {
			return roomWith(func(r *game.RoomView) { r.Chat[0].Text = s })
		}},
		{limit: "MaxChat", field: "item.text", runes: true, str: func(s string) Message {
			return &Command{Cmd: game.Rollback{Items: []game.RolledBack{{Text: s}}}}
		}},
		{limit: "MaxText", field: "text", runes: true, str: func(s string) Message { return &Error{Code: ErrMalformed, Text: s} }},
		{limit: "MaxToken", field: "token", str: func(s string) Message { return &Hello{Version: Version, Token: s} }},
		{limit: "MaxToken", field: "cmd.token", str: func(s string) Message { return &Command{Cmd: game.OpenSession{Token: s}} }},
		{limit: "MaxToken", field: "token", str: func(s string) Message { return &Welcome{Token: s} }},
		{limit: "MaxAddr", field: "addr", str: func(s string) Message { return &Redirect{Addr: s} }},
		{limit: "MaxAddr", field: "advertise", str: func(s string) Message { return &Beacon{Version: Version, Advertise: s} }},
		{limit: "MaxAddr", field: "view.nodes.peer addr", str: func(s string) Message {
			return &ClusterView{Nodes: []NodeInfo{{PeerAddr: s}}}
		}},
		{limit: "MaxCluster", field: "cluster", str: func(s string) Message { return &PeerHello{Version: Version, Cluster: s} }},
		{limit: "MaxCluster", field: "cluster", str: func(s string) Message { return &Beacon{Version: Version, Cluster: s} }},
		{limit: "MaxEntries", field: "entries", count: func(n int) Message { return &Append{Entries: repeatN(n, entry)} }},
		{limit: "MaxEntries", field: "tail", count: func(n int) Message { return &Snapshot{Tail: repeatN(n, entry)} }},
		{limit: "MaxEntries", field: "items", count: func(n int) Message {
			return &RolledBack{Items: repeatN(n, item)}
		}},
		{limit: "MaxEntries", field: "cmd.items", count: func(n int) Message { return &Command{Cmd: game.Rollback{Items: repeatN(n, item)}} }},
		{limit: "MaxEvents", field: "events", count: func(n int) Message {
			return &Events{Events: repeatN(n, func(int) game.Event { return game.Event{Kind: game.EvPlaced} })}
		}},
		{limit: "MaxNodes", field: "view.nodes", count: func(n int) Message { return &ClusterView{Nodes: repeatN(n, node)} }},
		{limit: "MaxNodes", field: "view.nodes", count: func(n int) Message { return &Welcome{View: ClusterView{Nodes: repeatN(n, node)}} }},
		{limit: "MaxHistory", field: "history", count: func(n int) Message { return &StateReply{History: repeatN(n, start)} }},
		{limit: "MaxHistory", field: "history", count: func(n int) Message { return &Snapshot{History: repeatN(n, start)} }},
		{limit: "MaxHistory", field: "history", count: func(n int) Message { return &Append{History: repeatN(n, start)} }},
		{limit: "MaxRooms", field: "rooms", count: func(n int) Message {
			return &QueryReply{Rooms: repeatN(n, func(int) game.RoomSummary { return game.RoomSummary{Name: "r"} })}
		}},
		{limit: "MaxMembers", field: "members", count: func(n int) Message { return &QueryReply{Members: repeatN(n, member)} }},
		{limit: "MaxMembers", field: "rooms.players", count: func(n int) Message {
			return &QueryReply{Rooms: []game.RoomSummary{{Players: repeatN(n, func(int) string { return "p" })}}}
		}},
		{limit: "MaxMembers", field: "rooms.watchers", count: func(n int) Message {
			return &QueryReply{Rooms: []game.RoomSummary{{Watchers: repeatN(n, func(int) string { return "w" })}}}
		}},
		{limit: "MaxName", field: "rooms.watchers", runes: true, str: func(s string) Message {
			return &QueryReply{Rooms: []game.RoomSummary{{Watchers: []string{s}}}}
		}},
		{limit: "MaxMembers", field: "room.members", count: func(n int) Message {
			return roomWith(func(r *game.RoomView) { r.Members = repeatN(n, member) })
		}},
		{limit: "MaxMembers", field: "room.scores", count: func(n int) Message {
			return roomWith(func(r *game.RoomView) { r.Scores = make([]game.ScoreView, n) })
		}},
		{limit: "MaxMembers", field: "room.claims", count: func(n int) Message {
			return roomWith(func(r *game.RoomView) { r.Claims = make([]game.ClaimView, n) })
		}},
		{limit: "MaxChatLines", field: "room.chat", count: func(n int) Message {
			return roomWith(func(r *game.RoomView) { r.Chat = make([]game.ChatLine, n) })
		}},
		{limit: "MaxBoard", field: "puzzle.size", count: boardRoom},
		{limit: "MaxBoard", field: "puzzle.size", count: func(n int) Message {
			m := boardRoom(n).(*RoomState)
			m.Room.Notes = make([]uint16, n*n) // notes follow the board
			return m
		}},
		{limit: "MaxBoard", field: "puzzle.size", count: func(n int) Message {
			return &Events{Events: []game.Event{{Puzzle: &game.PuzzleView{Size: uint8(n), Givens: make([]uint8, n*n)}}}}
		}},
	}
}

func setLimit(l *Limits, name string, v int) {
	reflect.ValueOf(l).Elem().FieldByName(name).SetInt(int64(v))
}
func getLimit(l Limits, name string) int { return int(reflect.ValueOf(l).FieldByName(name).Int()) }

// TestLimits checks that every limit accepts a value exactly at the limit and
// refuses one over it with ErrTooLarge naming the field, both at the preset
// value and at a lowered one.
func TestLimits(t *testing.T) {
	covered := map[string]bool{"MaxFrame": true} // TestFrameLimit
	for _, tc := range limitCases() {
		covered[tc.limit] = true
		for _, lowered := range []bool{false, true} {
			lim := PeerLimits
			if lowered {
				setLimit(&lim, tc.limit, 3)
			}
			n := getLimit(lim, tc.limit)
			var at, over []Message
			if tc.str != nil {
				at = append(at, tc.str(strings.Repeat("a", n)))
				over = append(over, tc.str(strings.Repeat("a", n+1)))
				if tc.runes {
					for _, r := range []string{"é", "語", "😀"} {
						at = append(at, tc.str(strings.Repeat(r, n)))
						over = append(over, tc.str(strings.Repeat(r, n+1)))
					}
				}
			} else {
				at, over = []Message{tc.count(n)}, []Message{tc.count(n + 1)}
			}
			name := fmt.Sprintf("%s=%d/%s/%s", tc.limit, n, at[0].Type(), tc.field)
			for i := range at {
				if got, err := DecodeMessage(encode(t, at[i]), lim); err != nil {
					t.Errorf("%s: at the limit: %v", name, err)
				} else if lowered && !reflect.DeepEqual(got, at[i]) {
					t.Errorf("%s: at the limit: round trip differs", name)
				}
				_, err := DecodeMessage(encode(t, over[i]), lim)
				var de *DecodeError
				if !errors.As(err, &de) || de.Code != ErrTooLarge || de.Field != tc.field {
					t.Errorf("%s: one over: got %v, want ErrTooLarge in field %s", name, err, tc.field)
				}
			}
		}
	}
	for i := range reflect.TypeFor[Limits]().NumField() {
		if f := reflect.TypeFor[Limits]().Field(i).Name; !covered[f] {
			t.Errorf("no test case for limit %s", f)
		}
	}
}

func TestPresets(t *testing.T) {
	for name, l := range map[string]Limits{"client": ClientLimits, "server": ServerLimits, "peer": PeerLimits} {
		v := reflect.ValueOf(l)
		for i := range v.NumField() {
			if v.Field(i).Int() <= 0 {
				t.Errorf("%s limits: %s is %d", name, v.Type().Field(i).Name, v.Field(i).Int())
			}
		}
	}
	want := map[string]int{"MaxName": 24, "MaxRoomName": 24, "MaxChat": 500, "MaxToken": 64, "MaxAddr": 255, "MaxCluster": 64, "MaxNodes": 256}
	for f, n := range want {
		if got := getLimit(ClientLimits, f); got != n {
			t.Errorf("ClientLimits.%s = %d, want %d", f, got, n)
		}
	}
	if ClientLimits.MaxFrame != 64<<10 || PeerLimits.MaxFrame != 16<<20 {
		t.Errorf("frame limits %d, %d", ClientLimits.MaxFrame, PeerLimits.MaxFrame)
	}
	// A client's largest message, a chat line of 500 four-byte runes, fits
	// its frame; a room view with 200 full chat lines fits a node's.
	chat := encode(t, &Command{Seq: 1 << 62, Cmd: game.Chat{Text: strings.Repeat("😀", ClientLimits.MaxChat)}})
	if len(chat) > ClientLimits.MaxFrame {
		t.Errorf("largest chat command is %d bytes", len(chat))
	}
	full := roomWith(func(r *game.RoomView) {
		r.Chat = repeatN(200, func(int) game.ChatLine {
			return game.ChatLine{From: strings.Repeat("😀", 24), Text: strings.Repeat("😀", ServerLimits.MaxChat)}
		})
	})
	if b := encode(t, full); len(b) > ServerLimits.MaxFrame {
		t.Errorf("room view with full chat is %d bytes", len(b))
	}
}

// frameOf returns a Snapshot whose body is exactly n bytes.
func frameOf(t *testing.T, n int) *Snapshot {
	base := len(encode(t, &Snapshot{From: 1})) - 1 // without Data's length byte
	for k := 1; k <= binary.MaxVarintLen64; k++ {
		if d := n - base - k; d >= 0 && len(binary.AppendUvarint(nil, uint64(d))) == k {
			m := &Snapshot{From: 1, Data: bytes.Repeat([]byte{'x'}, d)}
			if got := len(encode(t, m)); got != n {
				t.Fatalf("snapshot of %d bytes, want %d", got, n)
			}
			return m
		}
	}
	t.Fatalf("no snapshot of %d bytes", n)
	return nil
}

func TestFrameLimit(t *testing.T) {
	for _, lim := range []Limits{ClientLimits, PeerLimits, withFrame(100)} {
		at := frameOf(t, lim.MaxFrame)
		stream, _ := AppendFrame(nil, at)
		body := stream[4:]
		if _, err := DecodeMessage(body, lim); err != nil {
			t.Errorf("frame of %d at the limit: %v", lim.MaxFrame, err)
		}
		_, err := DecodeMessage(append(body, 0), lim)
		if want := fmt.Sprintf("wire: frame of %d bytes exceeds the %d-byte limit", lim.MaxFrame+1, lim.MaxFrame); err == nil || err.Error() != want || CodeOf(err) != ErrTooLarge {
			t.Errorf("frame one over: got %v, want %q", err, want)
		}
		stream = binary.BigEndian.AppendUint32(stream[:len(stream):len(stream)], uint32(lim.MaxFrame+1))
		r := NewReader(bytes.NewReader(stream), lim.MaxFrame)
		if m, err := r.ReadMessage(lim); err != nil || !bytes.Equal(m.(*Snapshot).Data, at.Data) {
			t.Errorf("reader, frame at the limit: %v", err)
		}
		if _, err := r.ReadFrame(); CodeOf(err) != ErrTooLarge {
			t.Errorf("reader, frame one over: %v", err)
		}
	}
}

func TestMaxBeacon(t *testing.T) {
	b := &Beacon{Version: Version, Cluster: strings.Repeat("c", PeerLimits.MaxCluster),
		From: 0xffff, Instance: ^uint64(0), Epoch: MakeEpochLife(^uint64(0), ^uint64(0), 0xffff), Role: RoleLeaving, Leader: 0xffff,
		Commit: ^uint64(0), Last: ^uint64(0), ClientAddr: strings.Repeat("a", PeerLimits.MaxAddr),
		PeerAddr: strings.Repeat("p", PeerLimits.MaxAddr), Advertise: strings.Repeat("v", PeerLimits.MaxAddr)}
	if err := SignBeacon([]byte("secret"), b); err != nil {
		t.Fatal(err)
	}
	enc := encode(t, b)
	if len(enc) > MaxBeacon {
		t.Fatalf("largest beacon is %d bytes", len(enc))
	}
	t.Logf("largest beacon: %d bytes", len(enc))
	got, err := DecodeBeacon(enc)
	if err != nil || !reflect.DeepEqual(got, b) || !VerifyBeacon([]byte("secret"), got) {
		t.Fatalf("largest beacon: %v", err)
	}
}

// Whatever game lets a room or a session hold at its rules' caps, the limits
// let through: a node must never make a message its peers refuse.
func TestGameCapsFitLimits(t *testing.T) {
	r := game.Rules{ChatHistory: 1 << 30, MaxRooms: 1 << 30, MaxSessions: 1 << 30}.Normalize()
	name := func(i int) string { return fmt.Sprintf("%0*d", game.MaxNameRunes, i) }
	room := roomWith(func(v *game.RoomView) {
		v.Members = repeatN(r.MaxSessions, func(i int) game.MemberView { return game.MemberView{Name: name(i)} })
		v.Scores = repeatN(r.MaxSessions, func(i int) game.ScoreView { return game.ScoreView{Name: name(i), Total: -1 << 31} })
		v.Chat = repeatN(r.ChatHistory, func(i int) game.ChatLine {
			return game.ChatLine{N: uint64(i + 1), From: strings.Repeat("😀", game.MaxNameRunes), Text: strings.Repeat("😀", game.MaxChatRunes)}
		})
	})
	rooms := &QueryReply{Rooms: repeatN(r.MaxRooms, func(i int) game.RoomSummary {
		return game.RoomSummary{Name: fmt.Sprintf("%0*d", game.MaxRoomNameLen, i)}
	})}
	hello := &Hello{Version: Version, Name: name(0), Token: strings.Repeat("t", game.MaxTokenLen)}
	for _, c := range []struct {
		m   Message
		lim Limits
	}{{room, ServerLimits}, {rooms, ServerLimits}, {hello, ClientLimits}} {
		b := encode(t, c.m)
		if _, err := DecodeMessage(b, c.lim); err != nil {
			t.Errorf("%T at game's caps: %v", c.m, err)
		}
	}
}
