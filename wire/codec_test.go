package wire

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gridlock-game/gridlock/game"
)

// methodReceivers lists the receiver types of the methods named method in the
// non-test Go files matching glob.
func methodReceivers(t *testing.T, glob, method string) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("glob %s: %v (%d files)", glob, err, len(files))
	}
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != method {
				continue
			}
			rt := fd.Recv.List[0].Type
			if st, ok := rt.(*ast.StarExpr); ok {
				rt = st.X
			}
			names = append(names, rt.(*ast.Ident).Name)
		}
	}
	sort.Strings(names)
	return names
}

func typeNamesOf[T any](vs []T) []string {
	var names []string
	for _, v := range vs {
		names = append(names, reflect.Indirect(reflect.ValueOf(v)).Type().Name())
	}
	sort.Strings(names)
	return names
}

// TestSamplesCoverEveryType checks that the sample table holds exactly one
// value of every message type declared in this package and of every command
// type in game, and that the decoder knows exactly those type bytes.
func TestSamplesCoverEveryType(t *testing.T) {
	if got, want := typeNamesOf(sampleMessages()), methodReceivers(t, "*.go", "Type"); !reflect.DeepEqual(got, want) {
		t.Errorf("sample messages %v\nmessage types   %v", got, want)
	}
	if got, want := typeNamesOf(sampleCommands()), methodReceivers(t, "../game/types.go", "Kind"); !reflect.DeepEqual(got, want) {
		t.Errorf("sample commands %v\ncommand types   %v", got, want)
	}
	known := map[Type]bool{}
	for _, m := range sampleMessages() {
		known[m.Type()] = true
	}
	for i := range 256 {
		_, err := DecodeMessage([]byte{byte(i)}, PeerLimits)
		if unknown := CodeOf(err) == ErrUnknownType; unknown == known[Type(i)] {
			t.Errorf("type %d: decoder knows it: %v, samples have it: %v (%v)", i, !unknown, known[Type(i)], err)
		}
	}
	kinds := map[game.CmdKind]bool{}
	for _, c := range sampleCommands() {
		if kinds[c.Kind()] {
			t.Errorf("command kind %d twice", c.Kind())
		}
		kinds[c.Kind()] = true
	}
	b, err := appendCommand(nil, sampleDealtRoom())
	if err != nil {
		t.Fatal(err)
	}
	kinds[game.CmdKind(b[0])] = true // a CreateRoom's second form
	for i := range 256 {
		_, err := DecodeMessage([]byte{byte(TCommand), 0, byte(i)}, PeerLimits)
		if unknown := CodeOf(err) == ErrUnknownType; unknown == kinds[game.CmdKind(i)] {
			t.Errorf("command kind %d: decoder knows it: %v, samples have it: %v (%v)", i, !unknown, kinds[game.CmdKind(i)], err)
		}
	}
}

// zeroPaths records, for every leaf field reachable from v, whether it is
// set in at least one place (slice elements share a path).
func zeroPaths(v reflect.Value, path string, set map[string]bool) {
	mark := func(nonzero bool) { set[path] = set[path] || nonzero }
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			mark(false)
			return
		}
		mark(true)
		e := v.Elem()
		if v.Kind() == reflect.Interface {
			path += "(" + e.Type().String() + ")"
		}
		zeroPaths(e, path, set)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue // not on the wire
			}
			zeroPaths(v.Field(i), path+"."+v.Type().Field(i).Name, set)
		}
	case reflect.Slice:
		if v.Len() == 0 || v.Type().Elem().Kind() != reflect.Struct && v.Type().Elem().Kind() != reflect.Interface {
			mark(v.Len() > 0)
			return
		}
		for i := range v.Len() {
			zeroPaths(v.Index(i), path+"[]", set)
		}
	default:
		mark(!v.IsZero())
	}
}

func TestSamplesArePopulated(t *testing.T) {
	for _, m := range sampleMessages() {
		set := map[string]bool{}
		zeroPaths(reflect.ValueOf(m), m.Type().String(), set)
		for path, ok := range set {
			if !ok {
				t.Errorf("sample field %s is never set", path)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var stream []byte
	for _, m := range sampleMessages() {
		b, err := AppendMessage([]byte("prefix"), m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		if string(b[:6]) != "prefix" || b[6] != byte(m.Type()) {
			t.Fatalf("%s: body does not start with the type byte after dst", m.Type())
		}
		got, err := DecodeMessage(b[6:], PeerLimits)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip\n got %#v\nwant %#v", m.Type(), got, m)
		}
		// Decoding copies: clobbering the input changes nothing.
		for i := range b {
			b[i] = 0xff
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: decoded message shares memory with its input", m.Type())
		}
		if stream, err = AppendFrame(stream, m); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(bytes.NewReader(stream), PeerLimits.MaxFrame)
	for _, want := range sampleMessages() {
		got, err := r.ReadMessage(PeerLimits)
		if err != nil {
			t.Fatalf("%s: %v", want.Type(), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: framed round trip differs", want.Type())
		}
	}
	if _, err := r.ReadMessage(PeerLimits); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestEveryCommandRoundTrips(t *testing.T) {
	for _, c := range append(sampleCommands(), sampleDealtRoom()) {
		m := &Command{Seq: 1, Cmd: c}
		b, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		got, err := DecodeMessage(b, ClientLimits)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%T: got %#v", c, got.(*Command).Cmd)
		}
	}
}

// emptySlices lists the paths of the empty but non-nil slices reachable
// from v.
func emptySlices(v reflect.Value, path string) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = emptySlices(v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out = append(out, emptySlices(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
	case reflect.Slice:
		if v.Len() == 0 && !v.IsNil() {
			out = append(out, path)
		}
		for i := range v.Len() {
			out = append(out, emptySlices(v.Index(i), path+"[]")...)
		}
	}
	return out
}

func TestEmptySlicesDecodeAsNil(t *testing.T) {
	for _, tc := range []struct {
		in    Message
		empty int    // empty slices in the input, to show the check looks there
		set   string // the one field, if any, that decodes nonzero
	}{
		{&Append{Entries: []LogEntry{}}, 1, ""},
		{&Snapshot{History: []EpochStart{}, Data: []byte{}, Tail: []LogEntry{}}, 3, ""},
		{&RoomState{Room: game.RoomView{Puzzle: game.PuzzleView{Givens: []uint8{}}, Board: []game.CellView{},
			Claims: []game.ClaimView{}, Scores: []game.ScoreView{}, Members: []game.MemberView{}, Chat: []game.ChatLine{}, Notes: []uint16{}}}, 7, ""},
		{&QueryReply{Rooms: []game.RoomSummary{{Name: "a", Players: []string{}, Watchers: []string{}}}, Members: []game.MemberView{}}, 3, ".Rooms[].Name"},
		{&Events{Events: []game.Event{{Puzzle: &game.PuzzleView{Givens: []uint8{}}}}}, 1, ".Events[].Puzzle"},
		{&Command{Cmd: game.Rollback{Items: []game.RolledBack{}}}, 1, ".Cmd"},
	} {
		in := tc.in
		if got := emptySlices(reflect.ValueOf(in), ""); len(got) != tc.empty {
			t.Fatalf("%s: input has empty slices %v, want %d", in.Type(), got, tc.empty)
		}
		out, err := DecodeMessage(encode(t, in), PeerLimits)
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		zeroPaths(reflect.ValueOf(out).Elem(), "", set)
		for path, nonzero := range set {
			if nonzero && path != tc.set {
				t.Errorf("%s: %s is set", in.Type(), path)
			}
		}
		for _, path := range emptySlices(reflect.ValueOf(out), "") {
			t.Errorf("%s: %s decodes as an empty slice, not nil", in.Type(), path)
		}
	}
}

type alien struct{}

func (*alien) Type() Type { return 99 }

func TestEncodeErrors(t *testing.T) {
	for _, m := range []Message{
		nil,
		(*Hello)(nil),
		(*Snapshot)(nil),
		&alien{},
		&Command{Seq: 1},
		&Command{Seq: 1, Cmd: &game.Place{Row: 1}},
		&Append{Entries: []LogEntry{{Entry: game.Entry{Cmd: game.Tick{}}}, {}}},
		&Snapshot{Tail: []LogEntry{{Entry: game.Entry{Cmd: &game.Chat{}}}}},
	} {
		dst := []byte("keep")
		got, err := AppendMessage(dst, m)
		if err == nil {
			t.Errorf("%#v: no error", m)
		}
		if string(got) != "keep" || len(got) != 4 {
			t.Errorf("%#v: dst changed to %q", m, got)
		}
		if got, err := AppendFrame(dst, m); err == nil || string(got) != "keep" {
			t.Errorf("%#v: AppendFrame gave %q, %v", m, got, err)
		}
		if err := WriteFrame(io.Discard, m); err == nil {
			t.Errorf("%#v: WriteFrame gave no error", m)
		}
	}
}

func encode(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encodeUnchecked encodes m even where AppendMessage refuses it.
func encodeUnchecked(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := appendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodeRefusesWhatDecodeRefuses: a node must not send a frame that its
// peer rejects under any limits.
func TestEncodeRefusesWhatDecodeRefuses(t *testing.T) {
	room := func(mut func(*game.RoomView)) game.RoomView {
		r := sampleRoom(1)
		mut(&r)
		return r
	}
	shortGivens := room(func(r *game.RoomView) { r.Puzzle.Givens = r.Puzzle.Givens[:80] })
	shortBoard := room(func(r *game.RoomView) { r.Board = r.Board[:80] })
	small := room(func(r *game.RoomView) { r.Puzzle.Size = 4; r.Puzzle.Givens = r.Puzzle.Givens[:16] })
	tail := sampleLogEntries()
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{&Snapshot{Index: 100, Before: uint64(len(tail)) + 1, Tail: tail}, fmt.Sprintf("wire: snapshot: %d entries before index 100, of %d", len(tail)+1, len(tail))},
		{&Snapshot{Index: 0, Before: 1, Tail: tail}, fmt.Sprintf("wire: snapshot: 1 entries before index 0, of %d", len(tail))},
		{&RoomState{Room: shortGivens}, "wire: room state: 80 givens for 81 cells"},
		{&RoomState{Room: shortBoard}, "wire: room state: 80 cells for a board of 81"},
		{&RoomState{Room: small}, "wire: room state: 81 cells for a board of 16"},
		{&Welcome{Room: shortBoard}, "wire: welcome: 80 cells for a board of 81"},
		{&Events{Events: []game.Event{{Kind: game.EvRoundStarted, Puzzle: &shortGivens.Puzzle}}}, "wire: events: 80 givens for 81 cells"},
	} {
		if _, err := DecodeMessage(encodeUnchecked(t, tc.m), PeerLimits); err == nil {
			t.Errorf("%s: DecodeMessage takes it", tc.want)
		}
		if _, err := AppendMessage(nil, tc.m); err == nil || err.Error() != tc.want {
			t.Errorf("AppendMessage: got %v, want %q", err, tc.want)
		}
		if _, err := AppendFrame(nil, tc.m); err == nil || err.Error() != tc.want {
			t.Errorf("AppendFrame: got %v, want %q", err, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hello := encode(t, &Hello{Version: Version, Name: "al"})
	room := func(mut func(*game.RoomView)) []byte {
		r := sampleRoom(1)
		mut(&r)
		return encodeUnchecked(t, &RoomState{Room: r})
	}
	for _, tc := range []struct {
		name  string
		in    []byte
		code  ErrCode
		field string
		msg   string
	}{
		{"empty", nil, ErrMalformed, "", "empty frame"},
		{"unknown type", []byte{200}, ErrUnknownType, "", "unknown message type 200"},
		{"type 0", []byte{0}, ErrUnknownType, "", "unknown message type 0"},
		{"trailing", cat(encode(t, &Status{}), []byte{0}), ErrMalformed, "", "1 trailing bytes"},
		{"truncated", hello[:len(hello)-1], ErrMalformed, "watch", "truncated"},
		{"varint overflow", cat([]byte{byte(TPing)}, bytes.Repeat([]byte{0xff}, 10), []byte{1, 0}), ErrMalformed, "nonce", "varint overflows 64 bits"},
		{"bool", []byte{byte(TFetch), 1, 1, 0, 0, 1, 2}, ErrMalformed, "snapshot", "bool value 2"},
		{"node id", []byte{byte(TLeave), 0x80, 0x80, 0x04, 1}, ErrMalformed, "from", "value 65536 out of range"},
		{"int32", cat([]byte{byte(TAck), 1, 1, 0, 0, 0}, []byte{0x80, 0x80, 0x80, 0x80, 0x10}), ErrMalformed, "points", "value 2147483648 out of range"},
		{"uint32", []byte{byte(TRoomState), 1, 0, 0x80, 0x80, 0x80, 0x80, 0x10}, ErrMalformed, "room.round", "value 4294967296 out of range"},
		{"role", func() []byte {
			b := encode(t, &ClusterView{Nodes: []NodeInfo{{ID: 1}}})
			b[11] = 9
			return b
		}(), ErrMalformed, "view.nodes.role", "unknown role 9"},
		{"query kind", []byte{byte(TQuery), 1, 3, 0}, ErrMalformed, "kind", "unknown query kind 3"},
		{"command kind", []byte{byte(TCommand), 1, 0}, ErrUnknownType, "cmd", "unknown command kind 0"},
		{"command kind in entry", []byte{byte(TAppend), 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 99}, ErrUnknownType, "entry.cmd", "unknown command kind 99"},
		{"utf8 str", []byte{byte(TRedirect), 1, 1, 0, 0, 2, 0xc3, 0x28}, ErrMalformed, "addr", "invalid UTF-8"},
		{"utf8 text", []byte{byte(TError), 1, 1, 0xff}, ErrMalformed, "text", "invalid UTF-8"},
		{"utf8 name", []byte{byte(THello), 0, byte(Version), 2, 0xed, 0xa0}, ErrMalformed, "name", "invalid UTF-8"},
		{"surrogate", []byte{byte(THello), 0, byte(Version), 3, 0xed, 0xa0, 0x80}, ErrMalformed, "name", "invalid UTF-8"},
		{"control in name", []byte{byte(THello), 0, byte(Version), 3, 'a', 0x1b, 'b'}, ErrMalformed, "name", "control character U+001B"},
		{"C1 control in name", []byte{byte(THello), 0, byte(Version), 2, 0xc2, 0x9b}, ErrMalformed, "name", "control character U+009B"},
		{"escape in an error's text", []byte{byte(TError), 1, 3, 'a', 0x1b, 'b'}, ErrMalformed, "text", "control character U+001B"},
		{"escape in an address", []byte{byte(TRedirect), 1, 1, 0, 0, 2, 'a', 0x1b}, ErrMalformed, "addr", "control character U+001B"},
		{"DEL in room", []byte{byte(TQuery), 1, 1, 1, 0x7f}, ErrMalformed, "room", "control character U+007F"},
		{"version", []byte{byte(THello), 0, byte(Version + 1)}, ErrBadVersion, "version", fmt.Sprintf("protocol version %d, want %d", Version+1, Version)},
		{"peer version", []byte{byte(TPeerHello), 1, 0}, ErrBadVersion, "version", fmt.Sprintf("protocol version 256, want %d", Version)},
		{"beacon version", []byte{byte(TBeacon), 0, 0}, ErrBadVersion, "version", fmt.Sprintf("protocol version 0, want %d", Version)},
		{"givens", room(func(r *game.RoomView) { r.Puzzle.Givens = r.Puzzle.Givens[:80] }), ErrMalformed, "puzzle.givens", "80 givens for 81 cells"},
		{"board", room(func(r *game.RoomView) { r.Board = r.Board[:80] }), ErrMalformed, "room.board", "80 cells for a board of 81"},
		{"board over size", room(func(r *game.RoomView) { r.Puzzle.Size = 4; r.Puzzle.Givens = r.Puzzle.Givens[:16] }), ErrTooLarge, "room.board", "81 items exceeds 16"},
		{"notes", room(func(r *game.RoomView) { r.Notes = r.Notes[:80] }), ErrMalformed, "room.notes", "notes for 80 cells on a board of 81"},
		{"notes over the board", room(func(r *game.RoomView) { r.Notes = append(r.Notes, 0) }), ErrTooLarge, "room.notes", "82 items exceeds 81"},
		{"notes past the digits", room(func(r *game.RoomView) { r.Notes[3] = 1 << 9 }), ErrMalformed, "room.notes", "value 512 out of range"},
		{"event notes", func() []byte {
			b := encode(t, &Events{Events: []game.Event{{Kind: game.EvNotes}}})
			b = b[:len(b)-5]
			return cat(b, []byte{0x80, 0x80, 0x04, 0, 0, 0, 0})
		}(), ErrMalformed, "event.notes", "value 65536 out of range"},
		{"count beyond bytes", []byte{byte(TEvents), 1, 100, 0}, ErrMalformed, "events", "truncated"},
		{"huge count", cat([]byte{byte(TEvents), 1}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), ErrTooLarge, "events", "4294967295 items exceeds 4096"},
		{"string beyond bytes", []byte{byte(TError), 1, 5, 'a'}, ErrMalformed, "text", "truncated"},
		{"huge string", cat([]byte{byte(TError), 1}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), ErrMalformed, "text", "truncated"},
		{"huge token", cat([]byte{byte(THello), 0, byte(Version), 0}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), ErrTooLarge, "token", "4294967295 bytes exceeds 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeMessage(tc.in, PeerLimits)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %#v, %v; want a *DecodeError", m, err)
			}
			if m != nil {
				t.Errorf("message %#v returned with the error", m)
			}
			if de.Code != tc.code || de.Field != tc.field || de.Msg != tc.msg {
				t.Errorf("got code %v field %q msg %q; want %v %q %q", de.Code, de.Field, de.Msg, tc.code, tc.field, tc.msg)
			}
			if CodeOf(err) != tc.code {
				t.Errorf("CodeOf = %v", CodeOf(err))
			}
		})
	}
}

// TestEveryPrefixFails cuts every sample at every length: each cut must fail
// with a *DecodeError, never panic and never succeed.
func TestEveryPrefixFails(t *testing.T) {
	for _, m := range sampleMessages() {
		b := encode(t, m)
		for n := range len(b) {
			got, err := DecodeMessage(b[:n], PeerLimits)
			if err == nil {
				t.Fatalf("%s cut to %d of %d bytes decoded as %#v", m.Type(), n, len(b), got)
			}
			if CodeOf(err) == 0 {
				t.Fatalf("%s cut to %d: untyped error %v", m.Type(), n, err)
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&DecodeError{Code: ErrTooLarge, Msg: "frame of 4294967295 bytes exceeds the 65536-byte limit"}, "wire: frame of 4294967295 bytes exceeds the 65536-byte limit"},
		{&DecodeError{Code: ErrTooLarge, Type: THello, Field: "name", Msg: "31 runes exceeds 24"}, "wire: hello: field name: 31 runes exceeds 24"},
		{&DecodeError{Code: ErrUnknownType, Msg: "unknown message type 200"}, "wire: unknown message type 200"},
		{&DecodeError{Code: ErrMalformed, Type: TAppend, Field: "entries", Msg: "truncated"}, "wire: append: field entries: truncated"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	_, err := DecodeMessage(encode(t, &Hello{Version: Version, Name: strings.Repeat("x", 31)}), ClientLimits)
	if got, want := err.Error(), "wire: hello: field name: 31 runes exceeds 24"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Type(200).String(); got != "type(200)" {
		t.Errorf("Type(200) = %q", got)
	}
	for c := ErrMalformed; c <= ErrShutdown; c++ {
		if strings.HasPrefix(c.String(), "code(") {
			t.Errorf("ErrCode %d has no name", c)
		}
	}
	if CodeOf(nil) != 0 || CodeOf(io.EOF) != 0 {
		t.Error("CodeOf of a non-decode error is not 0")
	}
	if CodeOf(errors.Join(io.EOF, &DecodeError{Code: ErrAuth})) != ErrAuth {
		t.Error("CodeOf does not unwrap")
	}
}

func TestCheckVersion(t *testing.T) {
	if err := CheckVersion(Version); err != nil {
		t.Fatal(err)
	}
	err := CheckVersion(Version + 1)
	if CodeOf(err) != ErrBadVersion {
		t.Fatalf("got %v", err)
	}
	// A Hello of another version is refused as such, whatever follows the
	// version: later versions may lay their fields out differently.
	for _, rest := range [][]byte{nil, {0xff, 0xff}, bytes.Repeat([]byte{0x80}, 20)} {
		b := append([]byte{byte(THello), 0, byte(Version + 1)}, rest...)
		if _, err := DecodeMessage(b, ClientLimits); CodeOf(err) != ErrBadVersion {
			t.Errorf("%x: got %v", b, err)
		}
	}
}

// TestMinSizes checks the smallest element encodings that bound counts: a
// bound too high would refuse honest messages, one too low would let a
// count allocate more than the bytes left justify.
func TestMinSizes(t *testing.T) {
	entry, _ := appendLogEntries(nil, []LogEntry{{Entry: game.Entry{Cmd: game.Tick{}}}})
	for name, tc := range map[string]struct {
		enc []byte
		min int
	}{
		"epoch start": {appendHistory(nil, []EpochStart{{}}), 1 + minEpochStart},
		"log entry":   {entry, 1 + minLogEntry},
		"event":       {appendEvent(nil, &game.Event{}), minEvent},
		"rolled back": {appendRolledBackItems(nil, []game.RolledBack{{}}), 1 + minRolledBack},
		"cell":        {appendRoomView(nil, &game.RoomView{Puzzle: game.PuzzleView{Size: 1}, Board: []game.CellView{{}}}), len(appendRoomView(nil, &game.RoomView{Puzzle: game.PuzzleView{Size: 1}})) + minCell},
		"claim":       {appendRoomView(nil, &game.RoomView{Claims: []game.ClaimView{{}}}), len(appendRoomView(nil, &game.RoomView{})) + minClaim},
		"score":       {appendRoomView(nil, &game.RoomView{Scores: []game.ScoreView{{}}}), len(appendRoomView(nil, &game.RoomView{})) + minScore},
		"member":      {appendMember(nil, &game.MemberView{}), minMember},
		"chat line":   {appendChatLine(nil, &game.ChatLine{}), minChatLine},
		"summary":     {appendRoomSummary(nil, &game.RoomSummary{}), minSummary},
		"node info":   {appendClusterView(nil, &ClusterView{Nodes: []NodeInfo{{}}}), len(appendClusterView(nil, &ClusterView{})) + minNodeInfo},
	} {
		if len(tc.enc) != tc.min {
			t.Errorf("%s: smallest encoding %d bytes, bound says %d", name, len(tc.enc), tc.min)
		}
	}
}

func TestErrorFor(t *testing.T) {
	_, err := DecodeMessage([]byte{200}, ClientLimits)
	if got := ErrorFor(err); got.Code != ErrUnknownType || got.Text != "wire: unknown message type 200" {
		t.Errorf("got %+v", got)
	}
	if got := ErrorFor(io.ErrUnexpectedEOF); got.Code != ErrMalformed || got.Text != "unexpected EOF" {
		t.Errorf("got %+v", got)
	}
	long := errors.New(strings.Repeat("é", 600) + "\xff")
	got := ErrorFor(long)
	back, err := DecodeMessage(encode(t, got), ClientLimits)
	if err != nil || !reflect.DeepEqual(back, got) {
		t.Fatalf("long error text does not decode: %v", err)
	}
	if n := len([]rune(got.Text)); n != ClientLimits.MaxText {
		t.Errorf("cut to %d runes", n)
	}
	if got := ErrorFor(nil); got.Code != ErrMalformed || got.Text != "" {
		t.Errorf("nil: %+v", got)
	}
}

func TestPeerHeaders(t *testing.T) {
	for _, m := range sampleMessages() {
		pm, ok := m.(PeerMessage)
		if !ok {
			continue
		}
		v := reflect.ValueOf(m).Elem()
		from, epoch := pm.Header()
		if from != v.FieldByName("From").Interface() || epoch != v.FieldByName("Epoch").Interface() {
			t.Errorf("%s: Header() = %d, %d", m.Type(), from, epoch)
		}
	}
	for r := RoleStarting; r <= RoleRefused; r++ {
		if strings.HasPrefix(r.String(), "role(") {
			t.Errorf("role %d has no name", r)
		}
	}
	if got := (RoleRefused + 1).String(); got != "role(9)" {
		t.Errorf("role past RoleRefused is %q", got)
	}
}
