package game

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// seeds returns how many seeds a property loop runs: def, or
// GRIDLOCK_GAME_SEEDS when set (for longer runs).
func seeds(def int) int {
	if v, err := strconv.Atoi(os.Getenv("GRIDLOCK_GAME_SEEDS")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return max(1, def/10)
	}
	return def
}

const t0 = int64(1_700_000_000_000_000_000) // a plausible Unix time in ns

// harness drives a State the way a primary would: it stamps times, numbers
// each session's commands and keeps the log.
type harness struct {
	t   testing.TB
	s   *State
	now int64
	seq map[SessionID]uint64
	log []Entry
	evs []Event // events of the last entry
}

func newHarness(t testing.TB, r Rules) *harness {
	t.Helper()
	h := &harness{t: t, s: New(r), now: t0, seq: map[SessionID]uint64{}}
	h.sys(Genesis{Seed: 42, Rules: r})
	return h
}

// testRules are small and quick: 4×4 main board, short timers.
func testRules() Rules {
	r := DefaultRules()
	r.MainSize = 4
	r.MainDifficulty = Easy
	return r
}

func (h *harness) apply(e Entry) Result {
	h.log = append(h.log, e)
	var res Result
	res, h.evs = h.s.Apply(e, h.evs[:0])
	return res
}

// sys applies a system command at the current time.
func (h *harness) sys(c Command) Result {
	return h.apply(Entry{Time: h.now, Cmd: c})
}

// do applies a player command with the session's next sequence number.
func (h *harness) do(id SessionID, c Command) Result {
	h.seq[id]++
	return h.apply(Entry{Time: h.now, Session: id, Seq: h.seq[id], Cmd: c})
}

// open opens a session and fails the test if it cannot.
func (h *harness) open(name string) SessionID {
	h.t.Helper()
	res := h.sys(OpenSession{Name: name, Token: "tok-" + name})
	if res.Err != nil {
		h.t.Fatalf("open %q: %v", name, res.Err)
	}
	return res.Session
}

func (h *harness) advance(d time.Duration) { h.now += int64(d) }

// puzzle returns the room's current puzzle.
func (h *harness) puzzle(room string) *Puzzle {
	h.t.Helper()
	p, ok := h.s.Puzzle(room)
	if !ok {
		h.t.Fatalf("no room %q", room)
	}
	return p
}

// empties lists the empty cells of a room's board.
func (h *harness) empties(room string) []int {
	v, _ := h.s.RoomView(room)
	var out []int
	for i, c := range v.Board {
		if c.Digit == 0 {
			out = append(out, i)
		}
	}
	return out
}

// right returns the Place of the right digit at cell i of room.
func (h *harness) right(room string, i int) Place {
	p := h.puzzle(room)
	n := int(p.Size)
	return Place{Row: uint8(i / n), Col: uint8(i % n), Digit: p.Solution[i]}
}

// wrong returns a Place of a wrong digit at cell i of room.
func (h *harness) wrong(room string, i int) Place {
	pl := h.right(room, i)
	pl.Digit = pl.Digit%h.puzzle(room).Size + 1
	return pl
}

// kinds lists the kinds of the last entry's events.
func (h *harness) kinds() []EventKind {
	out := make([]EventKind, len(h.evs))
	for i, e := range h.evs {
		out[i] = e.Kind
	}
	return out
}

// wantErr checks a result's code and message.
func wantErr(t testing.TB, res Result, code Code, text string) {
	t.Helper()
	if code == OK {
		if res.Err != nil {
			t.Fatalf("want success, got %v (code %d)", res.Err, res.Err.Code)
		}
		return
	}
	if res.Err == nil {
		t.Fatalf("want error %d %q, got success", code, text)
	}
	if res.Err.Code != code || res.Err.Error() != text {
		t.Fatalf("want error %d %q, got %d %q", code, text, res.Err.Code, res.Err.Error())
	}
}

func wantKinds(t testing.TB, h *harness, want ...EventKind) {
	t.Helper()
	got := h.kinds()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}
