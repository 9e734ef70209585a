package game

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzNames are the players of FuzzApply; two spellings of alice collide.
var fuzzNames = []string{"alice", "bob", "Carol", "ALICE", "dave", "é"}

// fuzzRooms are the room names it uses, some invalid.
var fuzzRooms = []string{"main", "a", "B", "side-1", "bad name", ""}

// bytesReader hands out the fuzz input; past the end it gives zeros.
type bytesReader struct {
	b []byte
}

func (r *bytesReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *bytesReader) str(max int) string {
	n := int(r.next()) % (max + 1)
	if n > len(r.b) {
		n = len(r.b)
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// fuzzer runs a command sequence decoded from bytes and checks invariants
// after every entry.
type fuzzer struct {
	t      testing.TB
	s      *State
	now    int64
	seq    map[SessionID]uint64
	last   map[SessionID]Entry
	evs    []Event
	boards map[string]fuzzBoard
	totals map[string]map[string]*[2]int32 // room → name key → round, total
	mirror map[string]*RoomView
}

type fuzzBoard struct {
	round uint32
	cells []CellView
}

func newFuzzer(t testing.TB, rb *bytesReader) *fuzzer {
	r := DefaultRules()
	r.MainSize = 4
	r.MainDifficulty = Difficulty(rb.next() % 4)
	r.ChatHistory = 1 + int(rb.next()%8)
	r.MaxRooms = 1 + int(rb.next()%4)
	r.MaxSessions = 1 + int(rb.next()%6)
	r.DedupeWindow = 1 + int(rb.next()%6)
	r.ClaimLease = time.Duration(1+rb.next()%8) * time.Second
	r.SessionGrace = time.Duration(1+rb.next()%30) * time.Second
	r.RoundCountdown = time.Duration(1+rb.next()%5) * time.Second
	fz := &fuzzer{t: t, s: New(DefaultRules()), now: t0, seq: map[SessionID]uint64{}, last: map[SessionID]Entry{},
		boards: map[string]fuzzBoard{}, totals: map[string]map[string]*[2]int32{}, mirror: map[string]*RoomView{}}
	fz.s.Apply(Entry{Time: t0, Cmd: Genesis{Seed: uint64(rb.next()), Rules: r}}, nil)
	v, _ := fz.s.RoomView(MainRoom)
	fz.mirror[MainRoom] = &v
	return fz
}

func (fz *fuzzer) id(name string) SessionID {
	sv, _ := fz.s.SessionByName(name)
	return sv.ID
}

func (fz *fuzzer) run(rb *bytesReader) {
	for steps := 0; len(rb.b) > 0 && steps < 2000; steps++ {
		op := rb.next()
		if op&0x80 != 0 {
			fz.now += int64(rb.next()) * int64(100*time.Millisecond)
		}
		name := fuzzNames[int(rb.next())%len(fuzzNames)]
		id := fz.id(name)
		var e Entry
		player := func(c Command) {
			fz.seq[id]++
			e = Entry{Session: id, Seq: fz.seq[id], Cmd: c}
		}
		switch op & 0x1f {
		case 0:
			e = Entry{Cmd: OpenSession{Name: name, Token: "t" + strings.Repeat("x", int(rb.next()%3))}}
		case 1:
			e = Entry{Cmd: Disconnect{Session: id}}
		case 2:
			player(CloseSession{})
		case 3:
			player(Place{Row: rb.next() % 10, Col: rb.next() % 10, Digit: rb.next() % 11})
		case 4, 5, 6:
			// a right digit somewhere
			sv, _ := fz.s.Session(id)
			p, ok := fz.s.Puzzle(sv.Room)
			if !ok {
				player(Release{})
				break
			}
			v, _ := fz.s.RoomView(sv.Room)
			n := int(p.Size)
			start := int(rb.next())
			for k := 0; k < len(v.Board); k++ {
				i := (start + k) % len(v.Board)
				if v.Board[i].Digit == 0 {
					player(Place{Row: uint8(i / n), Col: uint8(i % n), Digit: p.Solution[i]})
					break
				}
			}
			if e.Cmd == nil {
				player(Place{})
			}
		case 7, 8:
			player(Claim{Row: rb.next() % 10, Col: rb.next() % 10})
		case 9:
			player(Release{})
		case 10:
			player(Chat{Text: rb.str(12)})
		case 11:
			player(CreateRoom{Name: fuzzRooms[int(rb.next())%len(fuzzRooms)], Size: []uint8{4, 6, 5, 9}[rb.next()%4], Difficulty: Difficulty(rb.next() % 5)})
		case 12:
			player(JoinRoom{Name: fuzzRooms[int(rb.next())%len(fuzzRooms)]})
		case 13:
			player(LeaveRoom{})
		case 14:
			e = Entry{Cmd: Tick{}}
		case 15:
			e = Entry{Cmd: ViewChange{Epoch: uint64(rb.next()), Primary: uint16(rb.next())}}
		case 16:
			e = Entry{Cmd: Rollback{Items: []RolledBack{{Room: fuzzRooms[int(rb.next())%len(fuzzRooms)], Name: name,
				Kind: CmdKind(rb.next() % 16), Row: rb.next(), Col: rb.next(), Digit: rb.next(), Text: rb.str(8)}}}}
		case 17:
			if l, ok := fz.last[id]; ok {
				e = l // a retry
			} else {
				e = Entry{Cmd: Tick{}}
			}
		case 18:
			e = Entry{Session: id, Seq: uint64(rb.next()), Cmd: Chat{Text: "raw"}}
		case 19:
			e = Entry{Session: SessionID(rb.next() % 8), Seq: 1, Cmd: Tick{}}
		case 20:
			fz.now += int64(rb.next()) * int64(time.Second)
			e = Entry{Cmd: Tick{}}
		case 21:
			// The state goes through a snapshot; nothing may change.
			snap := fz.s.Snapshot()
			s2, err := Restore(snap)
			if err != nil {
				fz.t.Fatalf("restore: %v", err)
			}
			fz.s = s2
			fz.evs = fz.evs[:0]
			fz.check(Entry{Cmd: Tick{}}, Result{}, false, SessionView{})
			continue
		case 22:
			e = Entry{Cmd: nil}
		case 23, 24:
			player(Note{Row: rb.next() % 10, Col: rb.next() % 10, Digit: rb.next() % 11, On: op&1 == 0})
		case 25:
			player(ClearNotes{Row: rb.next() % 10, Col: rb.next() % 10, All: rb.next()%2 == 0})
		case 26:
			e = Entry{Cmd: OpenSession{Name: name, Token: "w" + strings.Repeat("x", int(rb.next()%3)), Watch: true}}
		default:
			player(Chat{Text: "hi"})
		}
		e.Time = fz.now
		if op&0x40 != 0 {
			e.Time -= int64(time.Second)
		}
		fz.apply(e)
	}
}

func (fz *fuzzer) apply(e Entry) {
	var before SessionView
	if e.Session != 0 {
		before, _ = fz.s.Session(e.Session)
	}
	_, dup := fz.s.Result(e.Session, e.Seq)
	var res Result
	res, fz.evs = fz.s.Apply(e, fz.evs[:0])
	if before.Name != "" {
		fz.last[e.Session] = e
	}
	fz.check(e, res, dup, before)
}

func (fz *fuzzer) check(e Entry, res Result, dup bool, before SessionView) {
	t, s := fz.t, fz.s
	if err := checkState(s); err != nil {
		t.Fatalf("%T %+v: %v", e.Cmd, e.Cmd, err)
	}
	// Follow room lifetimes and rounds through the events.
	for _, ev := range fz.evs {
		switch ev.Kind {
		case EvRoomCreated:
			delete(fz.boards, ev.Room)
			delete(fz.totals, ev.Room)
			fz.mirror[ev.Room] = &RoomView{ChatHistory: s.Rules().ChatHistory}
		case EvRoundStarted:
			// Scores of those in the room when it starts stay (the
			// mirror knows who that was; later events may change it).
			delete(fz.boards, ev.Room)
			kept := map[string]*[2]int32{}
			for _, m := range fz.mirror[ev.Room].Members {
				if tt := fz.totals[ev.Room][NameKey(m.Name)]; tt != nil && !m.Watching {
					tt[0] = 0
					kept[NameKey(m.Name)] = tt
				}
			}
			fz.totals[ev.Room] = kept
		}
		for _, m := range fz.mirror {
			if ev.Kind != EvNotes {
				m.ApplyEvent(ev)
			}
		}
		if ev.Kind == EvNotes {
			// The event says what the session's notes of the cell are
			// now (a later event of the entry may change them again).
			notes := s.Notes(ev.Session)
			v, _ := s.SessionRoomView(ev.Session)
			i := int(ev.Row)*int(v.Puzzle.Size) + int(ev.Col)
			var got uint16
			if notes != nil {
				got = notes[i]
			}
			if last := lastNotesEvent(fz.evs, ev.Session, ev.Row, ev.Col); last == ev && got != ev.Notes {
				t.Fatalf("notes event %+v, the session's notes %v", ev, notes)
			}
		}
	}
	// Scores from results.
	if _, live := s.Session(e.Session); !live {
		dup = false
	}
	if pl, ok := e.Cmd.(Place); ok && before.Name != "" && !dup && (res.Err == nil || res.Err.Code == ErrWrong) {
		want := int32(-3)
		if res.Err == nil {
			want = 10
		}
		if res.Points < want || res.Points > want+15 || res.Err != nil && res.Points != -3 {
			t.Fatalf("place %+v: %+v", pl, res)
		}
		if fz.totals[before.Room] == nil {
			fz.totals[before.Room] = map[string]*[2]int32{}
		}
		k := NameKey(before.Name)
		if fz.totals[before.Room][k] == nil {
			fz.totals[before.Room][k] = new([2]int32)
		}
		fz.totals[before.Room][k][0] += res.Points
		fz.totals[before.Room][k][1] += res.Points
	}
	owners := map[string]int{}
	for _, rs := range s.Rooms() {
		v, _ := s.RoomView(rs.Name)
		if m := fz.mirror[rs.Name]; m == nil || !m.Equal(&v) {
			t.Fatalf("%T %+v: mirror of %q differs", e.Cmd, e.Cmd, rs.Name)
		}
		// Filled cells stay as they are within a round.
		if b, ok := fz.boards[rs.Name]; ok && b.round == v.Round {
			for i, c := range b.cells {
				if c.Digit != 0 && v.Board[i] != c {
					t.Fatalf("room %q cell %d changed from %+v to %+v", rs.Name, i, c, v.Board[i])
				}
			}
		}
		fz.boards[rs.Name] = fuzzBoard{round: v.Round, cells: v.Board}
		// Every score is the sum of its moves.
		if len(v.Scores) != len(fz.totals[rs.Name]) {
			t.Fatalf("%T %+v res %+v dup %v: room %q: scores %+v, moves %v", e.Cmd, e.Cmd, res, dup, rs.Name, v.Scores, fz.totals[rs.Name])
		}
		for _, sc := range v.Scores {
			tt := fz.totals[rs.Name][NameKey(sc.Name)]
			if tt == nil || sc.Round != tt[0] || sc.Total != tt[1] {
				t.Fatalf("room %q: score %+v, moves add to %v", rs.Name, sc, tt)
			}
		}
		for _, c := range v.Claims {
			owners[NameKey(c.Owner)]++
		}
		if v.Puzzle.Givens == nil || len(v.Board) != int(v.Puzzle.Size)*int(v.Puzzle.Size) {
			t.Fatal("bad view")
		}
	}
	for name := range fz.mirror {
		if _, ok := s.RoomView(name); !ok {
			delete(fz.mirror, name)
			delete(fz.boards, name)
		}
	}
	for o, n := range owners {
		if n > 1 {
			t.Fatalf("%q holds %d claims", o, n)
		}
	}
	names := map[string]bool{}
	for _, sv := range s.Sessions() {
		if names[NameKey(sv.Name)] {
			t.Fatalf("name %q held twice", sv.Name)
		}
		names[NameKey(sv.Name)] = true
	}
}

// lastNotesEvent is the last EvNotes event of evs for a session's cell.
func lastNotesEvent(evs []Event, id SessionID, row, col uint8) Event {
	var last Event
	for _, ev := range evs {
		if ev.Kind == EvNotes && ev.Session == id && ev.Row == row && ev.Col == col {
			last = ev
		}
	}
	return last
}

func FuzzApply(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rb := &bytesReader{b: data}
		fz := newFuzzer(t, rb)
		fz.run(rb)
	})
}

// fuzzSeeds are inputs that reach deep: sessions open, moves land, rounds end.
func fuzzSeeds() [][]byte {
	header := []byte{1, 3, 3, 5, 3, 2, 5, 2, 7}
	var play []byte
	for _, n := range []byte{0, 1, 2} {
		play = append(play, 0, n, 0) // open alice, bob, Carol
	}
	play = append(play, 26, 4, 1) // dave watches
	for k := 0; k < 40; k++ {
		if k%4 == 0 {
			// notes on and off; dave's are refused
			play = append(play, 24, byte(k%3), byte(k%4), byte(k/4%4), byte(1+k%4))
			play = append(play, 23, byte(k%4), byte(k/4%4), byte(k%4), byte(1+k/4%4))
		}
		if k%13 == 0 {
			play = append(play, 25, byte(k%3), 0, 0, byte(k%2))
		}
		play = append(play, 4, byte(k%3), byte(k*7)) // right digits
		if k%5 == 0 {
			play = append(play, 3, byte(k%3), 1, 2, 3) // a raw place
			play = append(play, 7, byte(k%3), 2, 1)    // a claim
			play = append(play, 17, byte(k%3))         // a retry
			play = append(play, 0x80|14, 0, 30)        // three seconds, tick
		}
	}
	rooms := []byte{11, 0, 1, 0, 0, 12, 1, 1, 13, 0, 10, 1, 4, 'h', 'e', 'y', '!', 15, 0, 3, 1, 20, 0, 200, 16, 0, 1, 5, 1, 2, 3, 0, 21, 0}
	// é watches and tries a move; alice and bob note candidates
	tail := []byte{20, 0, 10, 26, 5, 0, 3, 5, 0, 0, 1, 24, 0, 1, 1, 2, 24, 1, 2, 2, 3, 24, 0, 3, 3, 4, 24, 0, 3, 3, 1}
	play = append(play, tail...)
	var all []byte
	all = append(all, header...)
	all = append(all, play...)
	all = append(all, rooms...)
	all = append(all, play[12:]...)
	return [][]byte{
		append(append([]byte{}, header...), play...),
		all,
		append(append([]byte{}, header...), rooms...),
		{},
	}
}

func TestFuzzApplySeeds(t *testing.T) {
	for i, seed := range fuzzSeeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rb := &bytesReader{b: seed}
			fz := newFuzzer(t, rb)
			fz.run(rb)
		})
	}
}

func FuzzRestore(f *testing.F) {
	for _, s := range restoreSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Restore(data)
		if err != nil {
			return
		}
		got := s.Snapshot()
		if data[len(snapMagic)] == snapVersion && !bytes.Equal(got, data) {
			t.Fatalf("restored state snapshots to other bytes")
		}
		if s2, err := Restore(got); err != nil || !bytes.Equal(s2.Snapshot(), got) {
			t.Fatalf("a restored state's snapshot does not restore as itself: %v", err)
		}
		if err := checkState(s); err != nil {
			t.Fatalf("restored an inconsistent state: %v", err)
		}
		// It must also play on.
		var evs []Event
		now := s.Now()
		for _, c := range []Command{Tick{}, OpenSession{Name: "zoe", Token: "z"}, ViewChange{Epoch: 1}} {
			now += int64(time.Hour)
			_, evs = s.Apply(Entry{Time: now, Cmd: c}, evs[:0])
		}
		for _, sv := range s.Sessions() {
			s.Apply(Entry{Time: now, Session: sv.ID, Seq: 1 << 40, Cmd: Place{Row: 0, Col: 0, Digit: 1}}, evs[:0])
		}
		if err := checkState(s); err != nil {
			t.Fatalf("after play: %v", err)
		}
	})
}

// restoreSeeds are snapshots of states with something in every part.
func restoreSeeds(t testing.TB) [][]byte {
	out := [][]byte{New(testRules()).Snapshot()}
	rb := &bytesReader{b: fuzzSeeds()[1]}
	fz := newFuzzer(t, rb)
	fz.run(rb)
	out = append(out, fz.s.Snapshot())
	h := newHarness(t, testRules())
	a := h.open("alice")
	h.open("bob")
	h.do(a, CreateRoom{Name: "side", Size: 6})
	h.do(a, Claim{Row: 0, Col: 0})
	h.do(a, Chat{Text: "hi"})
	h.do(a, h.wrong("side", h.empties("side")[0]))
	h.sys(Disconnect{Session: a})
	out = append(out, h.s.Snapshot())
	h.do(a, Note{Row: 1, Col: 1, Digit: 2, On: true})
	h.do(a, Note{Row: 1, Col: 1, Digit: 5, On: true})
	h.do(a, Note{Row: 2, Col: 3, Digit: 6, On: true})
	w := h.sys(OpenSession{Name: "watcher", Token: "w", Watch: true}).Session
	h.do(w, JoinRoom{Name: "side"})
	out = append(out, h.s.Snapshot())
	if old, err := os.ReadFile("testdata/snapshot-v3.bin"); err == nil {
		out = append(out, old)
	}
	return out
}

// snapshotsAs reports whether s, restored from b, snapshots as b; b of an
// older version, whether s's snapshot restores as itself.
func snapshotsAs(s *State, b []byte) bool {
	snap := s.Snapshot()
	if b[len(snapMagic)] == snapVersion {
		return bytes.Equal(snap, b)
	}
	s2, err := Restore(snap)
	return err == nil && bytes.Equal(s2.Snapshot(), snap)
}

func TestRestoreRejectsDamage(t *testing.T) {
	for _, snap := range restoreSeeds(t) {
		if s, err := Restore(snap); err != nil || !snapshotsAs(s, snap) {
			t.Fatalf("seed snapshot: %v", err)
		}
		// Every truncation fails cleanly.
		for n := 0; n < len(snap); n++ {
			if _, err := Restore(snap[:n]); err == nil {
				t.Fatalf("a snapshot cut at %d of %d restored", n, len(snap))
			}
		}
		// Every single-byte change either fails or round-trips.
		for i := 0; i < len(snap); i++ {
			for _, x := range []byte{1, 0x80, 0xff} {
				b := bytes.Clone(snap)
				b[i] ^= x
				s, err := Restore(b)
				if err == nil && !snapshotsAs(s, b) {
					t.Fatalf("byte %d ^ %#x: restored to other bytes", i, x)
				}
				if err == nil {
					if err := checkState(s); err != nil {
						t.Fatalf("byte %d ^ %#x: %v", i, x, err)
					}
				}
			}
		}
	}
	if _, err := Restore([]byte("GLST\x05")); err == nil || !strings.Contains(err.Error(), "version 5") {
		t.Fatalf("version: %v", err)
	}
}

// TestWriteFuzzCorpus writes the seed inputs as corpus files under
// testdata/fuzz when GRIDLOCK_WRITE_CORPUS is set (after a format change).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("GRIDLOCK_WRITE_CORPUS") == "" {
		t.Skip("set GRIDLOCK_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, inputs [][]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, in := range inputs {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzApply", fuzzSeeds())
	write("FuzzRestore", restoreSeeds(t))
}
