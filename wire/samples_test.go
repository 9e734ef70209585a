package wire

import (
	"fmt"
	"strings"

	"github.com/gridlock-game/gridlock/game"
)

// Sample values: every message type with every field set (see
// TestSamplesArePopulated), used by the round-trip tests, the fuzz corpus
// and the benchmarks.

const sampleToken = "3f9a0c1e5b7d24680f1e2d3c4b5a6978"

func sampleCommands() []game.Command {
	return []game.Command{
		game.Genesis{Seed: 0xfeedface, Rules: game.DefaultRules(), ClusterID: 0x5eed, Voters: []uint16{1, 2, 3}},
		game.Membership{Voters: []uint16{1, 2, 3, 4}},
		game.OpenSession{Name: "Zoë", Token: sampleToken, Watch: true},
		game.CloseSession{},
		game.Disconnect{Session: 12},
		game.Place{Row: 8, Col: 7, Digit: 9},
		game.Claim{Row: 3, Col: 4},
		game.Note{Row: 2, Col: 6, Digit: 8, On: true},
		game.ClearNotes{Row: 5, Col: 1, All: true},
		game.Release{},
		game.Chat{Text: "nice one — the 7 in box 5 is yours ✓"},
		game.CreateRoom{Name: "den", Size: 6, Difficulty: game.Hard},
		game.JoinRoom{Name: "den"},
		game.LeaveRoom{},
		game.Tick{},
		game.ViewChange{Epoch: 4, Primary: 3, PrevPrimary: 2},
		game.Rollback{Items: sampleRolledBack()},
	}
}

// sampleDealtRoom is a CreateRoom as a primary proposes it, with its puzzle
// (a second value of one command type, so not in sampleCommands).
func sampleDealtRoom() game.CreateRoom {
	p, err := game.GenerateSeed(6, game.Hard, 7)
	if err != nil {
		panic(err)
	}
	return game.CreateRoom{Name: "den", Size: 6, Difficulty: game.Hard, Dealt: p}
}

func sampleRolledBack() []game.RolledBack {
	return []game.RolledBack{
		{Room: "main", Name: "bob", Seq: 17, Kind: game.CmdPlace, Row: 1, Col: 2, Digit: 3},
		{Room: "den", Name: "carol", Seq: 4, Kind: game.CmdChat, Text: "lost line"},
	}
}

func sampleEntries() []game.Entry {
	var es []game.Entry
	for i, c := range append(sampleCommands(), sampleDealtRoom()) {
		es = append(es, game.Entry{Time: 1_700_000_000_000_000_000 + int64(i), Session: game.SessionID(i + 1), Seq: uint64(100 + i), Cmd: c})
	}
	return es
}

func sampleLogEntries() []LogEntry {
	var es []LogEntry
	for i, e := range sampleEntries() {
		es = append(es, LogEntry{Epoch: MakeEpochLife(uint64(1+i/4), 0x5eed, 3), Entry: e})
	}
	return es
}

func sampleHistory() []EpochStart {
	return []EpochStart{{Epoch: MakeEpochLife(1, 0x5eed+1, 3), Index: 1, Support: 3, Committed: 39}, {Epoch: MakeEpochLife(2, 1, 5), Index: 40, Support: 2, Committed: 57}}
}

var sampleNames = []string{"alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy"}

// sampleRoom is a 9×9 room in play: every cell filled (givens and owned
// cells), 3 claims, 10 scores, 10 members and the given number of chat lines
// of about 60 characters.
func sampleRoom(chat int) game.RoomView {
	p := game.PuzzleView{Size: 9, BoxRows: 3, BoxCols: 3, Difficulty: game.Medium, Seed: 0xabcdef12345}
	r := game.RoomView{
		Name: "main", Round: 3, State: game.RoundOver, Winner: "alice",
		NextRoundAt: 1_700_000_005_000_000_000, ChatHistory: 200,
		RoundStart: 1_699_999_800_000_000_000, RoundEnd: 1_700_000_000_000_000_000,
		Notes: make([]uint16, 81),
	}
	r.Notes[40], r.Notes[80] = 0x1ff, 1<<4|1<<6
	for i := range 81 {
		d := uint8((i*7+i/9*3)%9 + 1)
		given := i%3 == 0
		g := uint8(0)
		if given {
			g = d
		}
		p.Givens = append(p.Givens, g)
		c := game.CellView{Digit: d, Given: given}
		if !given {
			c.Owner = sampleNames[i%len(sampleNames)]
		}
		r.Board = append(r.Board, c)
	}
	r.Puzzle = p
	for i := range 3 {
		r.Claims = append(r.Claims, game.ClaimView{Row: uint8(i), Col: uint8(8 - i), Owner: sampleNames[i], Until: 1_700_000_010_000_000_000})
	}
	for i, n := range sampleNames {
		r.Scores = append(r.Scores, game.ScoreView{Name: n, Round: int32(100 - 7*i), Total: int32(400 - 13*i), Right: uint32(20 - i), Wrong: uint32(i), Wins: uint32(i % 3),
			RoundRight: uint32(10 - i), RoundWrong: uint32(i / 2)})
		r.Members = append(r.Members, game.MemberView{Name: n, Online: i%4 != 3, Watching: i == 9})
	}
	for i := range chat {
		from := sampleNames[i%len(sampleNames)]
		if i%50 == 0 {
			from = "" // a system line
		}
		text := fmt.Sprintf("line %03d: %s", i, strings.Repeat("watch the seven in box five ", 2))
		r.Chat = append(r.Chat, game.ChatLine{N: uint64(1000 + i), Time: 1_700_000_000_000_000_000 + int64(i)*1e9, From: from, Text: text[:60]})
	}
	return r
}

func sampleView() ClusterView {
	v := ClusterView{Self: 2, Primary: 3, Epoch: MakeEpochLife(4, 0x5eed+4, 3), Commit: 1234, Quorum: 2, HasQuorum: true}
	for i := 1; i <= 3; i++ {
		v.Nodes = append(v.Nodes, NodeInfo{
			ID: NodeID(i), Role: RoleBackup, Epoch: MakeEpochLife(4, 0x5eed+4, 3), Commit: 1234, Last: 1235, Lag: uint64(3 - i),
			Alive: true, InView: i != 1, Voter: i != 1, Recovering: i == 1,
			ClientAddr: fmt.Sprintf("127.0.0.1:%d", 8000+i), PeerAddr: fmt.Sprintf("127.0.0.1:%d", 9000+i),
			Advertise: fmt.Sprintf("server%d:8000", i),
		})
	}
	v.Nodes[2].Role = RolePrimary
	return v
}

func sampleEvents() []game.Event {
	puzzle := sampleRoom(0).Puzzle
	return []game.Event{
		// every field, to prove that each one travels
		{Kind: game.EvRollback, Room: "main", Session: 7, Name: "bob", Row: 1, Col: 2, Digit: 3,
			Reason: game.ReleasedByExpiry, Points: -3, Round: 4, Until: 1_700_000_000_000_000_000,
			Epoch: 5, Node: 3, PrevNode: 2, Cmd: game.CmdPlace, Text: "gone", Notes: 1<<0 | 1<<8,
			At: 1_699_999_999_000_000_000, Watch: true,
			Line:   &game.ChatLine{N: 9, Time: 1_700_000_000_000_000_001, From: "bob", Text: "hi"},
			Puzzle: &puzzle},
		{Kind: game.EvPlaced, Room: "main", Name: "alice", Row: 4, Col: 4, Digit: 5, Points: 15},
		{Kind: game.EvChat, Room: "main", Line: &game.ChatLine{N: 10, Time: 1_700_000_000_000_000_002, Text: "n3 is primary (epoch 5)"}},
	}
}

func sampleMAC(seed byte) (m [32]byte) {
	for i := range m {
		m[i] = seed + byte(i)
	}
	return m
}

// sampleMessages has one fully populated value of every message type.
func sampleMessages() []Message {
	return []Message{
		&Hello{Version: Version, Name: "alice", Token: sampleToken, LastLine: 1199, Watch: true},
		&Welcome{Node: 3, Epoch: MakeEpochLife(4, 0x5eed+4, 3), Session: 9, Name: "alice", Token: sampleToken, Index: 5000, Room: sampleRoom(20), View: sampleView(),
			Done: []game.SeqResult{{Seq: 7, Code: game.OK, Points: 10}, {Seq: 8, Code: game.ErrWrong, Points: -3}}, DoneFrom: 1, Watch: true, Cluster: 0x9e3779b97f4a7c15},
		&Command{Seq: 42, Cmd: game.Place{Row: 1, Col: 2, Digit: 3}},
		&Ack{Seq: 42, Index: 5001, Code: game.ErrClaimed, Who: "bob", Room: "main", Points: -3},
		&Events{Index: 5002, Events: sampleEvents()},
		func() *ClusterView { v := sampleView(); return &v }(),
		&Redirect{Leader: 3, Epoch: MakeEpochLife(4, 0x5eed+4, 3), Addr: "127.0.0.1:8002", Up: 1, Need: 2},
		&Ping{Nonce: 77, Time: 1_700_000_000_123_456_789},
		&Pong{Nonce: 77, Time: -1},
		&Error{Code: ErrTooLarge, Text: "wire: hello: field name: 31 runes exceeds 24"},
		&Query{Seq: 43, Kind: QueryWho, Room: "den"},
		&QueryReply{Seq: 43,
			Rooms: []game.RoomSummary{
				{Name: "main", Size: 9, Difficulty: game.Expert, Round: 3, Filled: 60, Cells: 81, Players: []string{"alice", "bob"}, Watchers: []string{"presenter"}},
				{Name: "den", Size: 4, Difficulty: game.Easy, Round: 1, Filled: 0, Cells: 16},
			},
			Members: []game.MemberView{{Name: "alice", Online: true}, {Name: "bob"}, {Name: "presenter", Online: true, Watching: true}}},
		&RoomState{Index: 5003, Room: sampleRoom(3)},
		&Status{},
		&Beacon{Version: Version, Cluster: "demo", From: 3, Instance: 0x0123456789abcdef, Epoch: MakeEpochLife(4, 0x5eed+4, 3),
			Role: RolePrimary, Leader: 3, Commit: 1234, Last: 1235, Quorum: true, Recovering: true, FixedID: true,
			ClientAddr: "127.0.0.1:8002", PeerAddr: "127.0.0.1:9002", Advertise: "server3:8000", ClusterID: 0x9e3779b97f4a7c15, MAC: sampleMAC(1)},
		&Election{From: 2, Epoch: MakeEpochLife(4, 0x5eed+4, 3)},
		&ElectionOK{From: 3, Epoch: MakeEpochLife(4, 0x5eed+4, 3)},
		&Coordinator{From: 3, Epoch: MakeEpochLife(5, 0x5eed+5, 3), Reminder: true},
		&StateReply{From: 2, Epoch: MakeEpochLife(5, 0x5eed+5, 3), Last: 1235, Commit: 1234, SnapIndex: 1000, History: sampleHistory(),
			Recovering: true, Voters: []NodeID{1, 2, 3}, Since: MakeEpochLife(1, 0x5eed+1, 3), Cluster: 0x9e3779b97f4a7c15},
		&Fetch{From: 3, Epoch: MakeEpochLife(5, 0x5eed+5, 3), After: 1200, Snapshot: true},
		&Append{From: 3, Epoch: MakeEpochLife(5, 0x5eed+5, 3), PrevIndex: 1235, PrevEpoch: MakeEpochLife(4, 0x5eed+4, 3), Commit: 1234, Support: 3,
			Sent: 1_700_000_000_000_000_000, Entries: sampleLogEntries(), History: sampleHistory()},
		&AppendAck{From: 2, Epoch: MakeEpochLife(5, 0x5eed+5, 3), OK: true, Match: 1250, Sent: 1_700_000_000_000_000_000, NeedSnap: true},
		&Snapshot{From: 3, Epoch: MakeEpochLife(5, 0x5eed+5, 3), Index: 1200, IndexEpoch: MakeEpochLife(4, 0x5eed+4, 3), Commit: 1234,
			History: sampleHistory(), Data: []byte("\x00opaque game state\xff"), Before: 1, Tail: sampleLogEntries()},
		&Leave{From: 2, Epoch: MakeEpochLife(5, 0x5eed+5, 3)},
		&RolledBack{From: 2, Epoch: MakeEpochLife(5, 0x5eed+5, 3), Items: sampleRolledBack()},
		&PeerHello{Version: Version, Cluster: "demo", From: 2, Instance: 0xfedcba9876543210, Quorum: true, Nonce: sampleMAC(2)},
		&PeerAuth{From: 2, MAC: sampleMAC(3)},
	}
}
