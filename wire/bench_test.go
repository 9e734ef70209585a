package wire

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// The codec was chosen by these benchmarks:
//
//	go test -run '^$' -bench 'Move|RoomSnapshot' -benchmem -cpu 1 ./wire/
//
// Each op is one encode and one decode. json cannot decode an interface, so
// it gets a concrete mirror of the move (which favours it); gob streams over
// one Encoder/Decoder pair, so it sends its type descriptions only once.

func moveMsg() *Command { return &Command{Seq: 1234, Cmd: game.Place{Row: 4, Col: 7, Digit: 9}} }

func roomMsg() *RoomState { return &RoomState{Index: 98765, Room: sampleRoom(200)} }

type jsonMove struct {
	Seq  uint64
	Kind game.CmdKind
	Cmd  game.Place
}

func benchWire(b *testing.B, m Message, lim Limits) {
	b.ReportAllocs()
	var buf []byte
	var err error
	for b.Loop() {
		if buf, err = AppendMessage(buf[:0], m); err != nil {
			b.Fatal(err)
		}
		if _, err = DecodeMessage(buf, lim); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/msg")
}

func benchJSON[T any](b *testing.B, m *T) {
	b.ReportAllocs()
	var n int
	for b.Loop() {
		enc, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		var out T
		if err := json.Unmarshal(enc, &out); err != nil {
			b.Fatal(err)
		}
		n = len(enc)
	}
	b.ReportMetric(float64(n), "bytes/msg")
}

func benchGob[T any](b *testing.B, m *T) {
	gob.Register(game.Place{})
	b.ReportAllocs()
	var stream bytes.Buffer
	enc, dec := gob.NewEncoder(&stream), gob.NewDecoder(&stream)
	var n int
	for b.Loop() {
		if err := enc.Encode(m); err != nil {
			b.Fatal(err)
		}
		n = stream.Len()
		var out T
		if err := dec.Decode(&out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "bytes/msg")
}

func BenchmarkMove(b *testing.B) {
	b.Run("wire", func(b *testing.B) { benchWire(b, moveMsg(), ClientLimits) })
	b.Run("json", func(b *testing.B) {
		m := moveMsg()
		benchJSON(b, &jsonMove{Seq: m.Seq, Kind: m.Cmd.Kind(), Cmd: m.Cmd.(game.Place)})
	})
	b.Run("gob", func(b *testing.B) { benchGob(b, moveMsg()) })
}

func BenchmarkRoomSnapshot(b *testing.B) {
	b.Run("wire", func(b *testing.B) { benchWire(b, roomMsg(), ServerLimits) })
	b.Run("json", func(b *testing.B) { benchJSON(b, roomMsg()) })
	b.Run("gob", func(b *testing.B) { benchGob(b, roomMsg()) })
}

func BenchmarkEncodeMove(b *testing.B) {
	b.ReportAllocs()
	m := moveMsg()
	var buf []byte
	for b.Loop() {
		buf, _ = AppendFrame(buf[:0], m)
	}
}

func BenchmarkDecodeMove(b *testing.B) {
	b.ReportAllocs()
	buf := encode(b, moveMsg())
	for b.Loop() {
		if _, err := DecodeMessage(buf, ClientLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadMoves reads a stream of move frames, as a node's client
// connection does.
func BenchmarkReadMoves(b *testing.B) {
	b.ReportAllocs()
	var stream []byte
	for range 1000 {
		stream, _ = AppendFrame(stream, moveMsg())
	}
	src := bytes.NewReader(stream)
	r := NewReader(src, ClientLimits.MaxFrame)
	for b.Loop() {
		if _, err := r.ReadMessage(ClientLimits); err == io.EOF {
			src.Reset(stream)
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchmarkMessagesRoundTrip keeps the benchmarks honest: every codec
// decodes what it encoded.
func TestBenchmarkMessagesRoundTrip(t *testing.T) {
	for _, m := range []Message{moveMsg(), roomMsg()} {
		got, err := DecodeMessage(encode(t, m), ServerLimits)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("%s: %v", m.Type(), err)
		}
	}
	room := roomMsg()
	enc, _ := json.Marshal(room)
	var out RoomState
	if err := json.Unmarshal(enc, &out); err != nil || !reflect.DeepEqual(&out, room) {
		t.Fatalf("json room: %v", err)
	}
}

// pushMsg is a room's push as a player's app reads it under load: ten
// players' moves and a chat line.
func pushMsg() *Events {
	m := &Events{Index: 123456}
	for i := range 10 {
		m.Events = append(m.Events, game.Event{Kind: game.EvPlaced, Room: "room7", Session: game.SessionID(1000 + i),
			Name: "r7p" + string(rune('a'+i)), Row: uint8(i % 9), Col: uint8(i * 2 % 9), Digit: uint8(1 + i%9), Points: 10, Round: 3})
	}
	m.Events = append(m.Events, game.Event{Kind: game.EvChat, Room: "room7", Name: "r7pa",
		Line: &game.ChatLine{N: 77, Time: 1700000000000000000, From: "r7pa", Text: "nice one (12)"}})
	return m
}

// BenchmarkDecodePush: a player's app decodes every push of its room; in
// a room of 100 the players' machines together decode each event 100 times.
func BenchmarkDecodePush(b *testing.B) {
	b.ReportAllocs()
	buf := encode(b, pushMsg())
	for b.Loop() {
		if _, err := DecodeMessage(buf, ClientLimits); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/11, "ns/event")
}
