package replica

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// checker watches a simulation and records every violation.
type checker struct {
	s      *sim
	failed []string

	// committed: the committed log as observed (index -> entry identity).
	committed []committedEntry
	diverged  bool // a committed entry was replaced (a partition's rollback)

	partitioned bool // a cut, or a de-facto partition by losses

	officeAt map[wire.Epoch]uint64 // index of each epoch's ViewChange entry
	acked    []*ackedOp
	ops      map[*simOp]*pendingOp
	history  []porcupine.Operation
	rollback []game.RolledBack     // items of Rollback entries seen committed
	rbSeen   map[indexEpoch]bool   // (index, epoch) of Rollback entries seen
	rbAt     map[rollbackKey]int64 // when each was first reported
	undone   map[rollbackKey]bool  // answers a client found gone on resuming
	solved   map[string][]uint8

	lastDefacto int64
	lines       map[string]map[uint64]string // room -> line number -> text, as clients saw them
	linesSeen   int
	readsOK     int // checked reads answered

	// support: how many nodes held each entry as it committed (the
	// primary and its view), for majorityKept.
	support map[indexEpoch]int
}

type committedEntry struct {
	set     bool
	epoch   wire.Epoch
	session game.SessionID
	seq     uint64
	kind    game.CmdKind
	time    int64
}

type ackedOp struct {
	at     int64 // when the answer arrived
	client *simPlayer
	op     *simOp
	ans    *simAnswer
}

type pendingOp struct {
	client int
	call   int64
	input  placeInput
	place  bool
}

type placeInput struct {
	room    string
	cell    int
	digit   uint8
	correct bool
}

func newChecker(s *sim) *checker {
	return &checker{s: s, support: map[indexEpoch]int{}, officeAt: map[wire.Epoch]uint64{}, ops: map[*simOp]*pendingOp{}, solved: map[string][]uint8{}, rbSeen: map[indexEpoch]bool{}, rbAt: map[rollbackKey]int64{}, undone: map[rollbackKey]bool{}}
}

func (k *checker) fail(format string, args ...any) {
	msg := fmt.Sprintf("%.3fms: ", float64(k.s.now-simBase)/1e6) + fmt.Sprintf(format, args...)
	k.failed = append(k.failed, msg)
	k.s.logf("VIOLATION %s", msg)
}

// applied checks one committed entry a node applied.
func (k *checker) applied(n *simNode, a Applied) {
	if dbgKey != "" {
		if sv, ok := n.core.State().Session(a.Entry.Session); ok && fmt.Sprintf("%s/%d", sv.Name, a.Entry.Seq) == dbgKey {
			fmt.Fprintf(os.Stderr, "DBG %.3fms n%d applied %s at %d epoch %d: %+v -> %v\n", float64(k.s.now-simBase)/1e6, n.id, dbgKey, a.Index, a.Epoch.Term(), a.Entry.Cmd, a.Result.Err)
		}
	}
	for uint64(len(k.committed)) <= a.Index {
		k.committed = append(k.committed, committedEntry{})
	}
	ce := committedEntry{set: true, epoch: a.Epoch, session: a.Entry.Session, seq: a.Entry.Seq, kind: a.Entry.Cmd.Kind(), time: a.Entry.Time}
	if a.Index < uint64(len(n.applied)) && !n.applied[a.Index].IsZero() && n.applied[a.Index] != a.Epoch {
		k.majorityKept(n, a.Index) // the node drops its branch for another
	}
	if a.Index > uint64(len(n.applied)) {
		// A snapshot took the node past what it applied: it may have
		// dropped a branch without applying the other one entry by entry.
		for j := uint64(1); j < uint64(len(n.applied)); j++ {
			if e, ok := n.core.log.epochAt(j); ok && !e.IsZero() && !n.applied[j].IsZero() && e != n.applied[j] {
				k.majorityKept(n, j)
				break
			}
		}
	}
	jumped := a.Index != uint64(len(n.applied))
	if a.Index < uint64(len(n.applied)) {
		n.applied = n.applied[:a.Index]
	}
	for uint64(len(n.applied)) < a.Index {
		n.applied = append(n.applied, wire.Epoch{})
	}
	if jumped {
		// A snapshot: the node now holds its log's branch up to here,
		// not what it applied before.
		for j := uint64(1); j < a.Index; j++ {
			n.applied[j], _ = n.core.log.epochAt(j)
		}
	}
	n.applied = append(n.applied, a.Epoch)
	prev := k.committed[a.Index]
	first := !prev.set || prev.epoch != ce.epoch
	if first && k.s.opts.quorum {
		k.heldByMajority(n, a.Index, a.Epoch)
	}
	if n.core.Role() == wire.RolePrimary && !k.s.opts.durable {
		// The nodes that held it as it committed: the primary and the
		// backups in its view. (With a disk, a Ready is acted on after
		// its write, when the view may have changed: durable schedules
		// leave this check out.) The first is the primary that
		// committed it; a later one applies it catching up, with
		// another view. But the primary of its own epoch counts its
		// holders itself, even after a later one took it in.
		key, held := indexEpoch{a.Index, a.Epoch}, 1+len(n.core.InView())
		switch {
		case a.Epoch == n.core.Epoch():
			k.support[key] = max(k.support[key], held)
		case first && k.support[key] == 0:
			k.support[key] = held
		}
	}
	switch {
	case !prev.set:
		k.committed[a.Index] = ce
	case prev.epoch == ce.epoch:
		if prev != ce {
			k.fail("n%d: entry %d of epoch %d differs between nodes (%+v vs %+v)", n.id, a.Index, ce.epoch.Term(), prev, ce)
		}
	default:
		if !k.partitioned || k.s.opts.quorum {
			k.fail("committed logs diverge at %d: n%d applied epoch %d (n%d), seen before: epoch %d (n%d)",
				a.Index, n.id, ce.epoch.Term(), ce.epoch.Node(), prev.epoch.Term(), prev.epoch.Node())
		}
		k.diverged = true
		k.committed[a.Index] = ce
	}
	if _, ok := a.Entry.Cmd.(game.ViewChange); ok {
		e := a.Epoch
		if at, seen := k.officeAt[e]; seen && at != a.Index {
			k.fail("epoch %d (n%d) took office twice: at %d and %d", e.Term(), e.Node(), at, a.Index)
		}
		k.officeAt[e] = a.Index
	}
	if rb, ok := a.Entry.Cmd.(game.Rollback); ok && !k.rbSeen[indexEpoch{a.Index, a.Epoch}] {
		k.rbSeen[indexEpoch{a.Index, a.Epoch}] = true
		k.rollback = append(k.rollback, rb.Items...)
		for _, it := range rb.Items {
			if _, seen := k.rbAt[keyOf(it)]; !seen {
				k.rbAt[keyOf(it)] = k.s.now
			}
		}
		for _, ev := range a.Events {
			if ev.Kind == game.EvRollback && (ev.Name == "" || ev.Room == "") {
				k.fail("a rollback event does not name the player and the room: %+v", ev)
			}
		}
	}
}

// majorityKept checks, as node n applies at index i an entry of another
// branch than the one it applied there before, that the branch kept held at least as many nodes
// during the split as the one dropped (availability mode: DESIGN.md's
// rule for healing), by the support seen as their entries committed.
func (k *checker) majorityKept(n *simNode, i uint64) {
	// Where the branches part: a snapshot may have replaced entries
	// before i without applying them one by one.
	for j := uint64(1); j < i; j++ {
		if e, ok := n.core.log.epochAt(j); ok && !n.applied[j].IsZero() && !e.IsZero() && e != n.applied[j] {
			i = j
			break
		}
	}
	lost := 0
	for j, e := range n.applied[i:] {
		lost = max(lost, k.support[indexEpoch{i + uint64(j), e}])
	}
	// The current epoch's entries came after the branch was chosen: a
	// merged view commits them, and they do not weigh the branch. (A
	// primary that stayed in office through the heal has its own left
	// out too, which can only make the check fail, not pass.)
	kept := 0
	for j := i; j <= n.core.Commit(); j++ {
		if e, ok := n.core.log.epochAt(j); ok && e != n.core.epoch {
			kept = max(kept, k.support[indexEpoch{j, e}])
		}
	}
	if kept > 0 && kept < lost { // 0: its entries first committed where nobody watched
		k.fail("n%d keeps a branch from %d that held %d nodes and drops one that held %d", n.id, i, kept, lost)
	}
}

// heldByMajority checks, as an entry first commits in quorum mode, that a
// majority of the voters hold it: on disk (durable), else in the memory of
// the life that answered for it.
func (k *checker) heldByMajority(n *simNode, i uint64, e wire.Epoch) {
	conf := n.core.voters()
	held := 0
	for _, id := range conf {
		if int(id) > len(k.s.nodes) {
			continue
		}
		x := k.s.node(id)
		// An answer may still be on its way from a life that has just
		// ended (the fault model kept that safe): it counts for a while.
		recent := k.s.now-x.lastEnd < int64(10*time.Millisecond)
		holds := func(c *Core) bool {
			got, ok := c.log.epochAt(i)
			return ok && got == e
		}
		switch {
		case k.s.opts.durable:
			if x.disk.holds(i, e) || recent && x.lastDisk.holds(i, e) {
				held++
			}
		case holds(x.core) || recent && x.lastCore != nil && holds(x.lastCore):
			held++
		}
	}
	if held < majority(len(conf)) {
		k.fail("entry %d of epoch %d (n%d) committed held by %d of the %d voters %v", i, e.Term(), e.Node(), held, len(conf), conf)
	}
}

// afterStep checks the invariants that hold at every moment.
func (k *checker) afterStep(n *simNode) {
	e := n.core.Epoch()
	if e.Before(n.lastEpoch) {
		k.fail("n%d: epoch went back from %d to %d", n.id, n.lastEpoch.Term(), e.Term())
	}
	n.lastEpoch = e
	if n.core.Role() == wire.RolePrimary && e.Node() != n.id {
		k.fail("n%d is primary in epoch %d, which belongs to n%d", n.id, e.Term(), e.Node())
	}
}

// stepped checks a node's commit index right after a step, before its
// Ready is acted on: with a disk that can come steps later, when the
// node may hold a newer epoch than the one that committed.
func (k *checker) stepped(n *simNode) {
	c, from := n.core.Commit(), n.lastCommit
	n.lastCommit = c
	if c <= from || n.core.Role() != wire.RolePrimary {
		return
	}
	// Raft's figure 8: an entry of an older epoch commits only under one
	// of the primary's own, never by counting its replicas.
	e, _ := n.core.log.epochAt(c)
	if e == n.core.Epoch() {
		return
	}
	if c < uint64(len(k.committed)) && k.committed[c].set && k.committed[c].epoch == e {
		return // committed before, by the primary whose entry it is
	}
	for _, x := range k.s.nodes {
		if x != n && x.core.Commit() >= c && x.core.log.matches(c, e) {
			return // another node knew it committed (a view change fetched it)
		}
	}
	k.fail("n%d (epoch %d) commits entry %d of epoch %d with no entry of its own epoch above it", n.id, n.core.Epoch().Term(), c, e.Term())
}

// tick runs the checks that look at the whole cluster.
func (k *checker) tick() {
	s := k.s
	if s.now-k.lastDefacto < int64(time.Millisecond) {
		return
	}
	k.lastDefacto = s.now
	susp := int64(s.config(1).Suspicion)
	// A de-facto partition: two live nodes that have not heard each other
	// for a suspicion timeout.
	if !k.partitioned {
		for _, a := range s.nodes {
			for _, b := range s.nodes {
				if a == b || !a.up || !b.up || a.paused || b.paused {
					continue
				}
				from := max(a.upSince, b.upSince, s.heard[[2]wire.NodeID{a.id, b.id}], a.resumedAt(), b.resumedAt())
				if s.now-from > susp {
					k.partitioned = true
					s.logf("de-facto partition: n%d not heard by n%d for %v", a.id, b.id, time.Duration(s.now-from))
				}
			}
		}
	}

}

// mayTakeDown applies the fault model: some other live node must still hold
// every acknowledged command.
// voterStays reports whether a node that live allows is a voter with its
// data (one that may lead).
func (k *checker) voterStays(live func(*simNode) bool) bool {
	for _, x := range k.s.nodes {
		if live(x) && x.core.LastIndex() > 0 && !x.core.Recovering() && x.core.isVoter(x.id) {
			return true
		}
	}
	return false
}

func (k *checker) mayTakeDown(n *simNode) bool {
	s := k.s
	live := func(x *simNode) bool { return x.up && !x.paused && x != n }
	others := 0
	for _, x := range s.nodes {
		if live(x) {
			others++
		}
	}
	if others == 0 {
		return false
	}
	if s.opts.quorum {
		// A majority of the voters stays up with its data, in every
		// configuration a live node holds (a join or leave not yet
		// committed leaves two in play, and a view change needs both):
		// the others can always form a quorum that holds every commit.
		known := false
		for _, x := range s.nodes {
			if !x.up {
				continue
			}
			conf, voters := x.core.voters(), 0
			if len(conf) == 0 {
				continue // an empty node knows of none yet
			}
			known = true
			for _, id := range conf {
				if y := s.node(id); live(y) && y.core.LastIndex() > 0 && !y.core.Recovering() {
					voters++
				}
			}
			if voters < majority(len(conf)) {
				return false
			}
		}
		if !known {
			return false // no cluster yet: its founders stay
		}
	} else if s.made() && !k.voterStays(live) {
		return false // learners hold the data, but only voters lead
	}
	if len(k.acked) == 0 && s.opts.async {
		return true
	}
	if !s.opts.async {
		// Literally: no acknowledged command may lose its last live
		// holder, nor may the newest committed entry, before any
		// command is acknowledged too (a lone primary's office).
		holds := func(x *simNode, i uint64, e wire.Epoch) bool {
			got, ok := x.core.log.epochAt(i)
			return ok && got == e
		}
		sole := func(i uint64, e wire.Epoch) bool {
			if e.IsZero() || !holds(n, i, e) {
				return false
			}
			for _, x := range s.nodes {
				if live(x) && holds(x, i, e) {
					return false
				}
			}
			return true
		}
		// What it knows committed (answers to clients may be under way).
		if c := n.core.Commit(); c > 0 {
			if e, ok := n.core.log.epochAt(c); ok && sole(c, e) {
				return false
			}
		}
		// The newest committed entry, whatever it is.
		for i := len(k.committed) - 1; i > 0; i-- {
			if ce := k.committed[i]; ce.set {
				if sole(uint64(i), ce.epoch) {
					return false
				}
				break
			}
		}
		for _, a := range k.acked {
			if sole(a.ans.index, a.ans.entryEpoch) {
				return false
			}
		}
		return true
	}
	// Asynchronous replication (the checker's own test): judge as the
	// primary does, by its view, so that its broken promise shows.
	var prim *simNode
	for _, x := range s.nodes {
		if x.up && !x.paused && x.core.Role() == wire.RolePrimary && (prim == nil || x.core.Epoch().After(prim.core.Epoch())) {
			prim = x
		}
	}
	if prim != nil {
		if prim != n {
			return true
		}
		for _, id := range prim.core.InView() {
			if live(s.node(id)) {
				return true
			}
		}
		return false
	}
	// No primary: judge by the logs.
	var top uint64
	for _, a := range k.acked {
		top = max(top, a.ans.index)
	}
	if top == 0 || top >= uint64(len(k.committed)) {
		return false
	}
	want := k.committed[top].epoch
	for _, x := range s.nodes {
		if live(x) && (x.core.log.matches(top, want) || (top <= x.core.log.snapIndex && x.core.Commit() >= top)) {
			return true
		}
	}
	return false
}

// ---- operations ----

// solution is the solution of a room's puzzle (nil: the room has none).
func (k *checker) solution(v *game.RoomView) []uint8 {
	if v.Puzzle.Size == 0 {
		return nil
	}
	key := fmt.Sprint(v.Puzzle.Size, v.Puzzle.Givens)
	sol, ok := k.solved[key]
	if !ok {
		var solvedOK bool
		sol, solvedOK = game.Solve(v.Puzzle.Size, v.Puzzle.Givens)
		if !solvedOK {
			k.fail("room %s: puzzle has no solution", v.Name)
			return nil
		}
		k.solved[key] = sol
	}
	return sol
}

// roomAt is a room as node id has it, with its solution.
func (k *checker) roomAt(id wire.NodeID, room string) (*game.RoomView, []uint8) {
	v, ok := k.s.node(id).core.State().RoomView(room)
	if !ok {
		return nil, nil
	}
	return &v, k.solution(&v)
}

func (k *checker) invoke(c *simPlayer, op *simOp) {
	p := &pendingOp{client: c.idx, call: k.s.now}
	if pl, ok := op.cmd.(game.Place); ok {
		// The puzzle as the most advanced live node has it.
		var best *simNode
		for _, n := range k.s.nodes {
			if _, has := n.core.State().RoomView(op.room); has && (best == nil || n.core.Applied() > best.core.Applied()) {
				best = n
			}
		}
		var v *game.RoomView
		var sol []uint8
		switch {
		case best != nil:
			v, sol = k.roomAt(best.id, op.room)
		case k.roomUnapplied(op.room):
			// The puzzle as the client has it, from the node that
			// applied the room and went away.
			if cv, _, ok := c.core.Room(); ok && cv.Name == op.room {
				v, sol = cv, k.solution(cv)
			}
		case !k.partitioned || k.s.opts.quorum:
			k.fail("client %s places in room %s, which no node has", c.name, op.room)
			return
		default:
			// The room went with a losing branch, just now: its player
			// has not heard yet, and the move is refused.
			k.ops[op] = p
			return
		}
		if v != nil {
			size := int(v.Puzzle.Size)
			cell := int(pl.Row)*size + int(pl.Col)
			if cell < len(sol) && v.Puzzle.Givens[cell] == 0 {
				p.place = true
				p.input = placeInput{room: op.room, cell: cell, digit: pl.Digit, correct: sol[cell] == pl.Digit}
			}
		}
	}
	k.ops[op] = p
}

// roomUnapplied reports whether a live node holds, above what it applied,
// a CreateRoom of room that the checker saw commit: its primary applied
// it and went away before the backups learned that it committed.
func (k *checker) roomUnapplied(room string) bool {
	for _, n := range k.s.nodes {
		if !n.up {
			continue
		}
		for i := n.core.Applied() + 1; i <= n.core.LastIndex() && i < uint64(len(k.committed)); i++ {
			le := n.core.log.entry(i)
			if le == nil || !k.committed[i].set || k.committed[i].epoch != le.Epoch {
				continue
			}
			if cr, ok := le.Entry.Cmd.(game.CreateRoom); ok && cr.Name == room {
				return true
			}
		}
	}
	return false
}

func (k *checker) complete(c *simPlayer, op *simOp, r *simAnswer) {
	a := &ackedOp{at: k.s.now, client: c, op: op, ans: r}
	k.acked = append(k.acked, a)
	if p := k.ops[op]; p != nil {
		delete(k.ops, op)
		if p.place {
			var out any = game.OK
			if r.result.Err != nil {
				out = r.result.Err.Code
			}
			if r.notSent {
				// The client dropped it with its lost session, in which it
				// may have been made.
				out = unknownOutput{}
			}
			k.history = append(k.history, porcupine.Operation{ClientId: p.client, Input: p.input, Call: p.call, Output: out, Return: k.s.now})
		}
	}
	if r.result.Err != nil && (r.result.Err.Code == game.ErrNoSession || r.result.Err.Code == game.ErrStale) && !k.diverged {
		k.fail("client %s: %v for seq %d", c.name, r.result.Err, op.seq)
	}
}

func (k *checker) resumeMismatch(c *simPlayer, session game.SessionID) {
	if !k.diverged {
		k.fail("client %s resumed into session %d, had %d", c.name, session, c.session)
	}
}

// unknownOutput marks a placement whose answer never came.
type unknownOutput struct{}

// boardModel is the porcupine model of one cell of a board: a placement
// answers right (the cell is taken), wrong, taken, or claimed.
var boardModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			var key string
			switch in := op.Input.(type) {
			case placeInput:
				key = fmt.Sprintf("%s/%d", in.room, in.cell)
			case readInput:
				key = fmt.Sprintf("%s/%d", in.room, in.cell)
			}
			if _, ok := by[key]; !ok {
				keys = append(keys, key)
			}
			by[key] = append(by[key], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, key := range keys {
			out = append(out, by[key])
		}
		return out
	},
	Init: func() []any { return []any{uint8(0)} },
	Step: func(state, input, output any) []any {
		v := state.(uint8)
		if _, read := input.(readInput); read {
			if output.(uint8) == v {
				return []any{v}
			}
			return nil
		}
		in := input.(placeInput)
		if _, unknown := output.(unknownOutput); unknown {
			if v == 0 && in.correct {
				return []any{v, in.digit}
			}
			return []any{v}
		}
		code := output.(game.Code)
		if v != 0 {
			if code == game.ErrFilled || code == game.ErrRoundOver {
				return []any{v}
			}
			return nil
		}
		switch {
		case code == game.ErrClaimed:
			return []any{v}
		case in.correct && code == game.OK:
			return []any{in.digit}
		case !in.correct && code == game.ErrWrong:
			return []any{v}
		}
		return nil
	},
	DescribeOperation: func(input, output any) string {
		if r, read := input.(readInput); read {
			return fmt.Sprintf("read %s/%d -> %v", r.room, r.cell, output)
		}
		in := input.(placeInput)
		return fmt.Sprintf("place %d at %s/%d (right: %v) -> %v", in.digit, in.room, in.cell, in.correct, output)
	},
}

// ---- the end ----

// final runs the checks on a settled cluster.
func (k *checker) final() {
	s := k.s
	if why := s.unsettled(); why != "" {
		k.fail("the cluster did not settle after healing: %s", why)
		return
	}
	prim := s.primary()
	st := prim.core.State()
	digest := st.Digest()
	for _, n := range s.nodes {
		if !n.up {
			continue
		}
		if d := n.core.State().Digest(); d != digest {
			k.fail("n%d's state differs from the primary n%d's at index %d", n.id, prim.id, n.core.Applied())
		}
	}
	rolled := map[rollbackKey]bool{}
	for _, it := range k.rollback {
		rolled[keyOf(it)] = true
	}
	if k.diverged && !k.partitioned {
		k.fail("committed entries were replaced without a partition")
	}
	// Every acknowledged move is on the final board (or reported rolled
	// back); every score is the sum of its acknowledged moves.
	want := map[string]int32{} // by player, over all rooms
	for _, a := range k.acked {
		pl, ok := a.op.cmd.(game.Place)
		if !ok {
			continue
		}
		room := a.op.room
		if a.ans.placedIn != "" {
			room = a.ans.placedIn
		}
		key := keyOf(game.RolledBack{Name: a.client.name, Seq: a.op.wire})
		reported := rolled[key] || k.undone[key]
		want[a.client.name] += a.ans.result.Points
		if a.ans.result.Err != nil {
			continue
		}
		v, ok := st.RoomView(room)
		var cell game.CellView
		if i := int(pl.Row)*int(v.Puzzle.Size) + int(pl.Col); ok && int(pl.Row) < int(v.Puzzle.Size) && int(pl.Col) < int(v.Puzzle.Size) {
			cell = v.Board[i]
		}
		kept := ok && cell.Digit == pl.Digit && strings.EqualFold(cell.Owner, a.client.name)
		if !kept && k.diverged {
			// A rollback may have undone the player's move to another
			// room while the client still believed in it: look in every
			// room.
			for _, rs := range st.Rooms() {
				w, _ := st.RoomView(rs.Name)
				if n := int(w.Puzzle.Size); int(pl.Row) < n && int(pl.Col) < n {
					c := w.Board[int(pl.Row)*n+int(pl.Col)]
					kept = kept || (c.Digit == pl.Digit && strings.EqualFold(c.Owner, a.client.name))
				}
			}
		}
		switch {
		case !kept && !reported:
			k.fail("acknowledged move lost: %s's %d at r%dc%d of %s (seq %d, index %d, answered by n%d); the cell holds %d of %q",
				a.client.name, pl.Digit, pl.Row+1, pl.Col+1, room, a.op.seq, a.ans.index, a.ans.node, cell.Digit, cell.Owner)
		case kept && k.undone[key] && !k.diverged:
			k.fail("%s's client reported its move seq %d undone, but it is on the board", a.client.name, a.op.seq)
		}
	}
	if !k.diverged {
		// Nothing acknowledged may be reported lost when nothing was (a
		// command dropped before it was answered, and then sent again,
		// may be), and every score is the sum of its acknowledged moves.
		for _, a := range k.acked {
			at, reported := k.rbAt[keyOf(game.RolledBack{Name: a.client.name, Seq: a.op.wire})]
			if reported && at > a.at && a.ans.result.Err == nil {
				k.fail("%s's acknowledged command seq %d reported rolled back in a run without divergence", a.client.name, a.op.seq)
			}
		}
		for name, pts := range want {
			var got int32
			for _, rs := range st.Rooms() {
				v, _ := st.RoomView(rs.Name)
				for _, sc := range v.Scores {
					if strings.EqualFold(sc.Name, name) {
						got += sc.Total
					}
				}
			}
			if got != pts {
				k.fail("%s's scores add up to %d; the acknowledged moves sum to %d", name, got, pts)
			}
		}
	}
	// Linearizability of the placements and reads: of every room, or,
	// after a partition's rollback, of the placements in the rooms it did
	// not touch.
	skip := map[string]bool{}
	if k.diverged {
		for _, it := range k.rollback {
			skip[it.Room] = true
			if it.Kind == game.CmdCreateRoom || it.Kind == game.CmdJoinRoom {
				skip[it.Text] = true
			}
		}
		// A command goes in the history under the room its client
		// showed when it was sent; one resent after a rollback moved
		// the player lands in another room (the one its Rollback item
		// names), and its entry under the first is not a move there.
		for _, a := range k.acked {
			if key := keyOf(game.RolledBack{Name: a.client.name, Seq: a.op.wire}); k.undone[key] || rolled[key] {
				skip[a.op.room] = true
			}
		}
	}
	var h []porcupine.Operation
	for _, op := range k.history {
		_, read := op.Input.(readInput)
		if !skip[opRoom(op.Input)] && !(read && k.diverged) {
			// (A primary cut off without a quorum serves its own
			// branch, reads too: after a divergence, only moves count.)
			h = append(h, op)
		}
	}
	end := s.now + 1
	for _, p := range k.ops {
		if p.place && !skip[p.input.room] {
			h = append(h, porcupine.Operation{ClientId: p.client, Input: p.input, Call: p.call, Output: unknownOutput{}, Return: end})
		}
	}
	res := porcupine.CheckOperationsTimeout(boardModel.ToModel(), h, 10*time.Second)
	if res == porcupine.Illegal {
		k.fail("the acknowledged placements are not linearizable (%d operations, diverged %v)%s", len(h), k.diverged, k.illegalCell(h))
	}
}

// opRoom is the room an operation of the history is about.
func opRoom(in any) string {
	if r, ok := in.(readInput); ok {
		return r.room
	}
	return in.(placeInput).room
}

// illegalCell describes the first cell whose history is not linearizable.
func (k *checker) illegalCell(h []porcupine.Operation) string {
	m := boardModel.ToModel()
	for _, part := range boardModel.Partition(h) {
		if porcupine.CheckOperations(m, part) {
			continue
		}
		sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		var b strings.Builder
		b.WriteString(":")
		for _, op := range part {
			fmt.Fprintf(&b, "\n    client %d [%.3f, %.3f]ms %s", op.ClientId, float64(op.Call-simBase)/1e6, float64(op.Return-simBase)/1e6, boardModel.DescribeOperation(op.Input, op.Output))
		}
		return b.String()
	}
	return ""
}

// dbgKey traces one player command ("name/seq") through the nodes.
var dbgKey = os.Getenv("GRIDLOCK_SIM_TRACE")

// indexEpoch names a log entry.
type indexEpoch struct {
	index uint64
	epoch wire.Epoch
}
