package client

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// rig drives a Core by hand: the test plays the runtime and the nodes.
type rig struct {
	t   *testing.T
	c   *Core
	now time.Time
}

var t0 = time.Unix(1_800_000_000, 0)

func newRig(t *testing.T, cfg Config) *rig {
	if cfg.Token == "" {
		cfg.Token = "0123456789abcdef0123"
	}
	if cfg.Name == "" {
		cfg.Name = "alice"
	}
	r := &rig{t: t, c: NewCore(cfg, t0), now: t0}
	return r
}

// at moves the clock to d after the start and ticks.
func (r *rig) at(d time.Duration) Ready {
	r.now = t0.Add(d)
	r.c.Tick(r.now)
	return r.c.Ready()
}

func (r *rig) connected(id ConnID) Ready {
	r.c.Connected(r.now, id)
	return r.c.Ready()
}

func (r *rig) receive(id ConnID, m wire.Message) Ready {
	r.c.Receive(r.now, id, m)
	return r.c.Ready()
}

func (r *rig) closed(id ConnID) Ready {
	r.c.Closed(r.now, id, errClosed)
	return r.c.Ready()
}

// dial expects rd to dial exactly one connection to addr and returns it.
func (r *rig) dial(rd Ready, addr string) ConnID {
	r.t.Helper()
	if len(rd.Dials) != 1 || rd.Dials[0].Addr != addr || rd.Dials[0].Watch {
		r.t.Fatalf("expected one dial to %s, got %+v", addr, rd.Dials)
	}
	return rd.Dials[0].Conn
}

func view(primary wire.NodeID, epoch wire.Epoch, alive ...wire.NodeID) wire.ClusterView {
	v := wire.ClusterView{Primary: primary, Epoch: epoch}
	for _, id := range alive {
		v.Nodes = append(v.Nodes, wire.NodeInfo{ID: id, Alive: true, ClientAddr: addrOf(id)})
	}
	return v
}

func addrOf(id wire.NodeID) string { return string(rune('a'+id-1)) + ":1" }

func welcome(node wire.NodeID, epoch wire.Epoch, session game.SessionID, v wire.ClusterView) *wire.Welcome {
	return &wire.Welcome{Node: node, Epoch: epoch, Session: session, Name: "alice", Index: 5,
		Room: game.RoomView{Name: "main", Chat: []game.ChatLine{{N: 1}, {N: 2}}}, View: v}
}

// session opens a session on node (at address addrOf(node)) through the
// first candidate, which must be that address.
func (r *rig) session(rd Ready, node wire.NodeID, epoch wire.Epoch, v wire.ClusterView) ConnID {
	r.t.Helper()
	id := r.dial(rd, addrOf(node))
	rd = r.connected(id)
	if len(rd.Sends) != 1 {
		r.t.Fatalf("expected a hello, got %+v", rd.Sends)
	}
	if _, ok := rd.Sends[0].Msg.(*wire.Hello); !ok {
		r.t.Fatalf("expected a hello, got %T", rd.Sends[0].Msg)
	}
	r.receive(id, welcome(node, epoch, 7, v))
	if st := r.c.Status(); st.State != Connected || st.Node != node {
		r.t.Fatalf("not in session with n%d: %+v", node, st)
	}
	return id
}

func commands(rd Ready, id ConnID) []uint64 {
	var seqs []uint64
	for _, s := range rd.Sends {
		if m, ok := s.Msg.(*wire.Command); ok && s.Conn == id {
			seqs = append(seqs, m.Seq)
		}
	}
	return seqs
}

// kinds names the events' types.
func kinds(rd Ready) []string {
	var ks []string
	for _, e := range rd.Events {
		ks = append(ks, strings.TrimPrefix(fmt.Sprintf("%T", e), "client."))
	}
	return ks
}

func TestCoreTriesEachAddressThenBacksOff(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1"}})
	if d := r.c.Deadline(); !d.Equal(t0) {
		t.Fatalf("the first round is due at once, deadline %v", d)
	}
	a := r.dial(r.at(0), "a:1")
	b := r.dial(r.closed(a), "b:1")
	rd := r.closed(b)
	if len(rd.Dials) != 0 {
		t.Fatalf("a round that found nothing must wait, dialled %+v", rd.Dials)
	}
	if d := r.c.Deadline().Sub(t0); d != minBackoff {
		t.Fatalf("next round after %v, want %v", d, minBackoff)
	}
	rd = r.closed(r.dial(r.at(minBackoff), "a:1"))
	r.closed(r.dial(rd, "b:1"))
	if d := r.c.Deadline().Sub(t0); d != 3*minBackoff {
		t.Fatalf("the pause doubles: next round at %v, want %v", d, 3*minBackoff)
	}
	if st := r.c.Status(); st.State != Connecting || st.Attempts != 4 {
		t.Fatalf("status %+v", st)
	}
}

// TestCoreSaysWhyItCannotConnect: a player pointed at a wrong address sees
// why each attempt fails, until one succeeds.
func TestCoreSaysWhyItCannotConnect(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	a := r.dial(r.at(0), "a:1")
	r.c.DialFailed(r.now, a, fmt.Errorf("dial tcp a:1: connect: connection refused"))
	rd := r.c.Ready()
	st := r.c.Status()
	if st.State != Connecting || !strings.Contains(st.Line(), "connection refused") || !slices.Contains(kinds(rd), "StatusChanged") {
		t.Fatalf("status %+v, line %q, events %v", st, st.Line(), kinds(rd))
	}
	// A node that refuses the hello (a name it cannot take): the same.
	a = r.dial(r.at(minBackoff), "a:1")
	r.connected(a)
	r.receive(a, &wire.Error{Code: wire.ErrTooLarge, Text: "hello: field name: 100 bytes exceeds 24 runes"})
	if st := r.c.Status(); !strings.Contains(st.Line(), "a:1 refused the hello: hello: field name") {
		t.Fatalf("status %+v, line %q", st, st.Line())
	}
	// An address that is not a node's client port (its peer port answers
	// with its own hello): the same.
	a = r.dial(r.at(3*minBackoff), "a:1")
	r.connected(a)
	r.receive(a, &wire.PeerHello{Version: wire.Version, Cluster: "gridlock", From: 2})
	if st := r.c.Status(); !strings.Contains(st.Line(), "a:1 answered the hello with a peer hello: give a node's client port") {
		t.Fatalf("status %+v, line %q", st, st.Line())
	}
	e := wire.MakeEpoch(1, 1)
	r.session(r.at(7*minBackoff), 1, e, view(1, e, 1))
	if st := r.c.Status(); st.LastError != "" {
		t.Fatalf("a session began, and the last failure is still shown: %+v", st)
	}
}

func TestCoreFollowsARedirectFirst(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1"}})
	a := r.dial(r.at(0), "a:1")
	r.connected(a)
	rd := r.receive(a, &wire.Redirect{Leader: 3, Addr: "c:1"})
	if !slices.Contains(rd.Closes, a) || len(rd.Dials) != 0 {
		t.Fatalf("a redirect ends the round: %+v", rd)
	}
	r.session(r.at(minBackoff), 3, wire.MakeEpoch(1, 3), view(3, wire.MakeEpoch(1, 3), 1, 2, 3))
}

func TestCoreCandidatesOrder(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"x:1", "b:1"}, Local: true})
	r.c.prefer = "r:1"
	r.c.view = view(2, wire.MakeEpoch(1, 2), 1, 2)
	r.c.local = localNode{known: true, addr: "l:1", view: view(3, wire.MakeEpoch(2, 3), 3, 4)}
	got := r.c.candidates()
	want := []string{"r:1", "c:1", "b:1", "l:1", "x:1", "d:1", "a:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v (redirect, primary as last seen, embedded node, given, every node)", got, want)
	}
}

func TestCoreResendsOnANewConnectionWithTheSameSeq(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e1, e2 := wire.MakeEpoch(1, 1), wire.MakeEpoch(2, 2)
	a := r.session(r.at(0), 1, e1, view(1, e1, 1, 2))
	r.now = t0.Add(time.Millisecond)
	seq := r.c.Send(r.now, game.Place{Row: 1, Col: 2, Digit: 3})
	if got := commands(r.c.Ready(), a); !slices.Equal(got, []uint64{seq}) {
		t.Fatalf("sent %v, want [%d]", got, seq)
	}
	rd := r.closed(a)
	if st := r.c.Status(); st.State != Failover || st.Lost != 1 || st.Pending != 1 {
		t.Fatalf("status after the primary broke: %+v", st)
	}
	// The next round: the primary as last seen first (n1), then the
	// address given (also n1's), then the nodes known.
	b := r.dial(rd, "a:1")
	rd = r.closed(b)
	b = r.dial(rd, "b:1")
	rd = r.connected(b)
	if h := rd.Sends[0].Msg.(*wire.Hello); h.Token != r.c.cfg.Token || h.LastLine != 2 {
		t.Fatalf("hello %+v: the token, and the last chat line seen (2)", h)
	}
	rd = r.receive(b, welcome(2, e2, 7, view(2, e2, 2)))
	if got := commands(rd, b); !slices.Equal(got, []uint64{seq}) {
		t.Fatalf("resent %v, want [%d] with the same seq", got, seq)
	}
	if st := r.c.Status(); !st.Resumed || st.Node != 2 {
		t.Fatalf("status %+v: resumed on n2", st)
	}
	r.now = t0.Add(5 * time.Millisecond)
	rd = r.receive(b, &wire.Ack{Seq: seq, Index: 9, Points: 10})
	if got := kinds(rd); !slices.Equal(got, []string{"Answered"}) {
		t.Fatalf("events %v", got)
	}
	ack := rd.Events[0].(Answered).Ack
	if ack.Seq != seq || ack.Result.Points != 10 || ack.RTT != 4*time.Millisecond {
		t.Fatalf("ack %+v: RTT runs from the first send, across the failover", ack)
	}
	if rd := r.receive(b, &wire.Ack{Seq: seq}); len(rd.Events) != 0 {
		t.Fatalf("a second answer to the same command must be dropped: %v", kinds(rd))
	}
}

// A session the cluster lost (it expired, or a restart forgot it): the
// moves aimed at its board are answered here, not sent into the new one;
// a chat line for the same room, and a room command, still go.
func TestCoreDropsMovesOfALostSession(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e1, e2 := wire.MakeEpoch(1, 1), wire.MakeEpoch(2, 2)
	a := r.session(r.at(0), 1, e1, view(1, e1, 1, 2))
	r.now = t0.Add(time.Millisecond)
	place := r.c.Send(r.now, game.Place{Row: 1, Col: 2, Digit: 3})
	chat := r.c.Send(r.now, game.Chat{Text: "hi"})
	claim := r.c.Send(r.now, game.Claim{Row: 0, Col: 0})
	join := r.c.Send(r.now, game.JoinRoom{Name: "side"})
	r.c.Ready()
	rd := r.closed(a)
	b := r.dial(rd, "a:1")
	r.connected(b)
	rd = r.receive(b, welcome(1, e2, 8, view(1, e2, 1, 2)))
	if got := commands(rd, b); !slices.Equal(got, []uint64{chat, join}) {
		t.Fatalf("sent %v in the new session, want the chat line and the join %v", got, []uint64{chat, join})
	}
	var dropped []uint64
	for _, e := range rd.Events {
		if a, ok := e.(Answered); ok {
			if a.Ack.Result.Err == nil || a.Ack.Result.Err.Code != game.ErrNoSession || !a.Ack.NotSent {
				t.Fatalf("answer %+v: want ErrNoSession from the client", a.Ack)
			}
			dropped = append(dropped, a.Ack.Seq)
		}
	}
	if !slices.Equal(dropped, []uint64{place, claim}) {
		t.Fatalf("answered %v here, want the move and the claim %v", dropped, []uint64{place, claim})
	}
	if st := r.c.Status(); st.Pending != 2 || st.Session != 8 {
		t.Fatalf("status %+v: two commands pending in session 8", st)
	}

	// A resumed session keeps everything; a new one in another room drops
	// the chat lines typed for the room before.
	line := r.c.Send(r.now, game.Chat{Text: "to main"})
	r.c.Ready()
	rd = r.closed(b)
	c := r.dial(rd, "a:1")
	r.connected(c)
	if got := commands(r.receive(c, welcome(1, e2, 8, view(1, e2, 1, 2))), c); !slices.Equal(got, []uint64{chat, join, line}) {
		t.Fatalf("resumed and sent %v, want %v", got, []uint64{chat, join, line})
	}
	rd = r.closed(c)
	d := r.dial(rd, "a:1")
	r.connected(d)
	w := welcome(1, e2, 9, view(1, e2, 1, 2))
	w.Room.Name = "side"
	rd = r.receive(d, w)
	if got := commands(rd, d); !slices.Equal(got, []uint64{join}) {
		t.Fatalf("sent %v in another room, want only the join [%d]", got, join)
	}
	if got := kinds(rd); slices.Index(got, "Answered") < 0 || r.c.Status().Pending != 1 {
		t.Fatalf("events %v, status %+v: both lines answered here", got, r.c.Status())
	}
}

// A cluster made afresh numbers its sessions from 1 again: the same
// number there is another session.
func TestCoreTellsSessionsOfAnotherClusterApart(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e1 := wire.MakeEpoch(1, 1)
	w := welcome(1, e1, 7, view(1, e1, 1))
	w.Cluster = 11
	id := r.dial(r.at(0), "a:1")
	r.connected(id)
	r.receive(id, w)
	place := r.c.Send(r.now, game.Place{Row: 1, Col: 2, Digit: 3})
	r.c.Ready()
	rd := r.closed(id)
	id = r.dial(rd, "a:1")
	r.connected(id)
	w = welcome(1, e1, 7, view(1, e1, 1))
	w.Cluster = 12
	rd = r.receive(id, w)
	if got := commands(rd, id); len(got) != 0 {
		t.Fatalf("sent %v into session 7 of another cluster", got)
	}
	if got := kinds(rd); !slices.Contains(got, "Answered") || r.c.Status().Resumed {
		t.Fatalf("events %v, status %+v: the move %d answered here, the session not resumed", got, r.c.Status(), place)
	}
}

func TestCoreWindow(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}, Window: 2})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	for range 3 {
		r.c.Send(r.now, game.Release{})
	}
	if got := commands(r.c.Ready(), a); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("sent %v, want the window's two", got)
	}
	if got := commands(r.receive(a, &wire.Ack{Seq: 1}), a); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("after an answer: sent %v, want [3]", got)
	}
}

func TestCoreStallWatchesOthersAndMoves(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1", "c:1"}})
	e1, e2 := wire.MakeEpoch(1, 1), wire.MakeEpoch(2, 3)
	a := r.session(r.at(0), 1, e1, view(1, e1, 1, 2, 3))
	r.c.Send(r.now, game.Release{})
	r.c.Ready()
	if d := r.c.Deadline().Sub(t0); d != r.c.cfg.StallAfter {
		t.Fatalf("deadline %v, want the stall check at %v", d, r.c.cfg.StallAfter)
	}
	rd := r.at(r.c.cfg.StallAfter - time.Millisecond)
	if len(rd.Dials) != 0 {
		t.Fatalf("watching too early: %+v", rd.Dials)
	}
	rd = r.at(r.c.cfg.StallAfter)
	var watched []string
	for _, d := range rd.Dials {
		if !d.Watch {
			t.Fatalf("a dial that is not a watch: %+v", d)
		}
		watched = append(watched, d.Addr)
	}
	if !slices.Equal(watched, []string{"b:1", "c:1"}) {
		t.Fatalf("watched %v, want the other nodes", watched)
	}
	w := rd.Dials[1].Conn
	if rd := r.connected(w); len(rd.Sends) != 1 || rd.Sends[0].Msg.Type() != wire.TStatus {
		t.Fatalf("a watch asks for the view: %+v", rd.Sends)
	}
	// A view with the same primary changes nothing.
	if rd := r.receive(w, ptr(view(1, e1, 1, 2, 3))); len(rd.Closes) != 0 {
		t.Fatalf("moved on an old view: %+v", rd)
	}
	// A newer primary: move there; n1 still alive, so a handover.
	rd = r.receive(w, ptr(view(3, e2, 1, 2, 3)))
	if !slices.Contains(rd.Closes, a) || len(r.c.watch) != 0 {
		t.Fatalf("the session and the watch must close: %+v", rd.Closes)
	}
	if st := r.c.Status(); st.State != Failover || st.Handover != 1 || st.Successor != 3 || st.Lost != 0 {
		t.Fatalf("status %+v", st)
	}
	r.dial(rd, "c:1")
}

func ptr[T any](v T) *T { return &v }

func TestCoreGivesUpASilentConnection(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	r.c.Send(r.now, game.Release{})
	r.c.Ready()
	r.at(r.c.cfg.StallAfter)
	rd := r.at(r.c.cfg.DeadAfter - time.Millisecond)
	if slices.Contains(rd.Closes, a) {
		t.Fatal("gave up too early")
	}
	// Pings do not reset the silence.
	rd = r.at(r.c.cfg.DeadAfter)
	if !slices.Contains(rd.Closes, a) {
		t.Fatalf("a connection silent for DeadAfter must close: %+v", rd)
	}
	if st := r.c.Status(); st.State != Failover || st.Lost != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestCoreAnsweredStallStopsTheWatch(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1, 2))
	seq := r.c.Send(r.now, game.Release{})
	r.c.Ready()
	rd := r.at(r.c.cfg.StallAfter)
	if len(rd.Dials) != 1 {
		t.Fatalf("dials %+v", rd.Dials)
	}
	w := rd.Dials[0].Conn
	r.receive(a, &wire.Ack{Seq: seq})
	rd = r.at(r.c.cfg.StallAfter + time.Millisecond)
	if !slices.Contains(rd.Closes, w) {
		t.Fatalf("the watch must end once the primary answers: %+v", rd)
	}
}

func TestCoreFatalRefusal(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	a := r.dial(r.at(0), "a:1")
	r.connected(a)
	rd := r.receive(a, &wire.Error{Code: wire.ErrSession, Text: "name taken"})
	if got := kinds(rd); !slices.Equal(got, []string{"Refused", "StatusChanged"}) {
		t.Fatalf("events %v", got)
	}
	if !r.c.Stopped() || r.c.Fatal() == nil || r.c.Status().State != Closed || !r.c.Deadline().IsZero() {
		t.Fatalf("a refused client stops: %+v", r.c.Status())
	}
}

func TestCoreRateLimitedResends(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	seq := r.c.Send(r.now, game.Release{})
	r.c.Ready()
	rd := r.receive(a, &wire.Error{Code: wire.ErrRateLimited, Text: "slow down"})
	if got := kinds(rd); !slices.Equal(got, []string{"Throttled"}) {
		t.Fatalf("events %v, want the app told once", got)
	}
	if got := kinds(r.receive(a, &wire.Error{Code: wire.ErrRateLimited, Text: "slow down"})); len(got) != 0 {
		t.Fatalf("told again within the pause: %v", got)
	}
	if got := commands(r.at(ratePause-time.Millisecond), a); len(got) != 0 {
		t.Fatalf("resent before the pause: %v", got)
	}
	if got := commands(r.at(ratePause), a); !slices.Equal(got, []uint64{seq}) {
		t.Fatalf("resent %v after the pause, want [%d]", got, seq)
	}
}

func TestCoreRedirectInSessionIsAHandover(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1, 2))
	rd := r.receive(a, &wire.Redirect{Leader: 2, Addr: "b:1"})
	if st := r.c.Status(); st.State != Failover || st.Handover != 1 || st.Successor != 2 || st.Line() != "n1 handed over to n2 — moving there…" {
		t.Fatalf("status %+v, line %q", st, st.Line())
	}
	r.dial(rd, "b:1")
}

// A redirect that names no primary (a lone node that leaves, or one that
// renews its office) is no handover to anyone: the status says the node
// stepped down and that the client looks for the cluster.
func TestCoreRedirectWithoutASuccessor(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	rd := r.receive(a, &wire.Redirect{Epoch: e})
	st := r.c.Status()
	if st.State != Failover || st.Handover != 1 || st.Successor != 0 || st.Lost != 0 {
		t.Fatalf("status %+v", st)
	}
	if got, want := st.Line(), "n1 stepped down — looking for the cluster…"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	r.dial(rd, "a:1")
}

func TestCoreHelloTimeout(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1"}})
	a := r.dial(r.at(0), "a:1")
	r.connected(a)
	rd := r.at(r.c.cfg.HelloTimeout)
	if !slices.Contains(rd.Closes, a) {
		t.Fatalf("an unanswered hello must close: %+v", rd)
	}
	r.dial(rd, "b:1")
}

func TestCoreLocalViewMoves(t *testing.T) {
	r := newRig(t, Config{Local: true})
	e1, e2 := wire.MakeEpoch(1, 1), wire.MakeEpoch(2, 2)
	r.c.LocalChanged(r.now, "b:1", view(1, e1, 1, 2), nil)
	rd := r.c.Ready()
	if got := kinds(rd); !slices.Equal(got, []string{"ViewChanged"}) {
		t.Fatalf("events %v", got)
	}
	a := r.session(r.at(0), 1, e1, view(1, e1, 1, 2))
	r.now = t0.Add(time.Millisecond)
	r.c.LocalChanged(r.now, "b:1", view(2, e2, 2), []wire.Notice{{Text: "n1 suspected"}})
	rd = r.c.Ready()
	if got := kinds(rd); !slices.Equal(got, []string{"ViewChanged", "Noticed", "StatusChanged"}) {
		t.Fatalf("events %v", got)
	}
	if !slices.Contains(rd.Closes, a) {
		t.Fatalf("the embedded node's newer primary must move the session: %+v", rd)
	}
	if st := r.c.Status(); st.Lost != 1 {
		t.Fatalf("status %+v: n1 is gone from the view, so lost", st)
	}
	r.dial(rd, "b:1")
}

// A node republishes the same view as it ticks: the app hears of a view
// only when it changes, a notice always.
func TestCoreLocalViewOnlyChanges(t *testing.T) {
	r := newRig(t, Config{Local: true})
	e1 := wire.MakeEpoch(1, 1)
	r.c.LocalChanged(r.now, "b:1", view(1, e1, 1, 2), nil)
	r.c.Ready()
	r.c.LocalChanged(r.now, "b:1", view(1, e1, 1, 2), nil)
	if got := kinds(r.c.Ready()); len(got) != 0 {
		t.Fatalf("the same view again gave events %v", got)
	}
	r.c.LocalChanged(r.now, "b:1", view(1, e1, 1, 2), []wire.Notice{{Text: "n3 is up"}})
	if got := kinds(r.c.Ready()); !slices.Equal(got, []string{"Noticed"}) {
		t.Fatalf("a notice with the same view gave events %v", got)
	}
	v := view(1, e1, 1, 2)
	v.Nodes[1].Lag = 3
	r.c.LocalChanged(r.now, "b:1", v, nil)
	if got := kinds(r.c.Ready()); !slices.Equal(got, []string{"ViewChanged"}) {
		t.Fatalf("a backup's lag changed and gave events %v", got)
	}
}

func TestCorePingMeasuresRTT(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	if d := r.c.Deadline().Sub(t0); d != r.c.cfg.PingEvery {
		t.Fatalf("deadline %v, want the first ping", d)
	}
	rd := r.at(r.c.cfg.PingEvery)
	p, ok := rd.Sends[0].Msg.(*wire.Ping)
	if !ok {
		t.Fatalf("sends %+v", rd.Sends)
	}
	r.now = r.now.Add(3 * time.Millisecond)
	r.receive(a, &wire.Pong{Nonce: p.Nonce, Time: p.Time})
	if rtt := r.c.Status().RTT; rtt != 3*time.Millisecond {
		t.Fatalf("rtt %v", rtt)
	}
}

func TestCoreStopClosesEverything(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1, 2))
	r.c.Send(r.now, game.Release{})
	r.c.Ready()
	w := r.at(r.c.cfg.StallAfter).Dials[0].Conn
	r.c.Stop(r.now)
	rd := r.c.Ready()
	if !slices.Contains(rd.Closes, a) || !slices.Contains(rd.Closes, w) {
		t.Fatalf("closes %v", rd.Closes)
	}
	if got := kinds(rd); !slices.Equal(got, []string{"StatusChanged"}) || rd.Events[0].Info().Status.State != Closed {
		t.Fatalf("events %v", got)
	}
	r.c.Tick(r.now.Add(time.Hour))
	if rd := r.c.Ready(); len(rd.Dials)+len(rd.Sends)+len(rd.Events) != 0 {
		t.Fatalf("a stopped core acted: %+v", rd)
	}
}

func TestCoreRoomEvents(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.dial(r.at(0), "a:1")
	r.connected(a)
	rd := r.receive(a, welcome(1, e, 7, view(1, e, 1)))
	if got := kinds(rd); !slices.Equal(got, []string{"ViewChanged", "StatusChanged", "RoomChanged"}) {
		t.Fatalf("events %v", got)
	}
	rc := rd.Events[2].(RoomChanged)
	if !rc.Replaced || rc.Events != nil || rc.Room == nil || rc.Room.Name != "main" || rc.Info().Status.State != Connected {
		t.Fatalf("a welcome replaces the room: %+v", rc)
	}
	line := game.ChatLine{N: 3, From: "bob", Text: "hi"}
	rd = r.receive(a, &wire.Events{Index: 6, Events: []game.Event{{Kind: game.EvChat, Room: "main", Line: &line}, {Kind: game.EvChat, Room: "side"}}})
	rc = rd.Events[0].(RoomChanged)
	if rc.Replaced || len(rc.Events) != 2 || len(rc.Room.Chat) != 3 {
		t.Fatalf("events change the room: %+v", rc)
	}
	room, index, _ := r.c.Room()
	if index != 6 || len(room.Chat) != 3 || room == rc.Room {
		t.Fatalf("the core's room (index %d, %d lines) and the event's copy", index, len(room.Chat))
	}
	rd = r.receive(a, &wire.RoomState{Index: 8, Room: game.RoomView{Name: "side"}})
	if rc = rd.Events[0].(RoomChanged); !rc.Replaced || rc.Room.Name != "side" {
		t.Fatalf("a move replaces the room: %+v", rc)
	}
	// The next hello tells the last line seen of the current room: none
	// of side's.
	b := r.dial(r.closed(a), "a:1")
	if h := r.connected(b).Sends[0].Msg.(*wire.Hello); h.LastLine != 0 || r.c.lastLine["main"] != 3 {
		t.Fatalf("hello says line %d; main's last line seen is %d, want 0 and 3", h.LastLine, r.c.lastLine["main"])
	}
}

// A client that left a silent primary for a newer one does not go back to
// it while the new one is still taking office: the old one may be hung
// (it accepts a connection and answers nothing) or stale (it redirects
// there).
func TestCoreSkipsThePrimaryItLeft(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1", "b:1", "c:1"}})
	e1, e2 := wire.MakeEpoch(1, 1), wire.MakeEpoch(2, 3)
	a := r.session(r.at(0), 1, e1, view(1, e1, 1, 2, 3))
	r.c.Send(r.now, game.Release{})
	r.c.Ready()
	rd := r.at(r.c.cfg.StallAfter)
	w := rd.Dials[1].Conn // c:1
	r.connected(w)
	rd = r.receive(w, ptr(view(3, e2, 1, 2, 3)))
	if !slices.Contains(rd.Closes, a) {
		t.Fatalf("did not move: %+v", rd)
	}
	// n3 is still gathering state: no address to go to.
	c := r.dial(rd, "c:1")
	r.connected(c)
	b := r.dial(r.receive(c, &wire.Redirect{}), "b:1")
	r.connected(b)
	// n2 has not heard of n3 yet and sends the client back to n1.
	rd = r.receive(b, &wire.Redirect{Leader: 1, Addr: "a:1"})
	if len(rd.Dials) != 0 {
		t.Fatalf("went back to the primary it left: %+v", rd.Dials)
	}
	c = r.dial(r.at(r.c.cfg.StallAfter+minBackoff), "c:1")
	r.connected(c)
	r.receive(c, welcome(3, e2, 7, view(3, e2, 1, 2, 3)))
	if r.c.leftAddr != "" || !slices.Contains(r.c.candidates(), "a:1") {
		t.Fatalf("after a welcome every node is a candidate again: %v", r.c.candidates())
	}
}

// A spectator asks for a spectator's session, and the welcome says what
// the session is; notes events of another session never reach the room.
func TestCoreWatchAndOwnNotes(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}, Watch: true})
	id := r.dial(r.at(0), "a:1")
	rd := r.connected(id)
	if h, ok := rd.Sends[0].Msg.(*wire.Hello); !ok || !h.Watch {
		t.Fatalf("hello %+v", rd.Sends[0].Msg)
	}
	w := welcome(1, wire.MakeEpoch(1, 1), 7, view(1, wire.MakeEpoch(1, 1), 1))
	w.Watch = true
	w.Room.Puzzle = game.PuzzleView{Size: 4, BoxRows: 2, BoxCols: 2, Givens: make([]uint8, 16)}
	w.Room.Board = make([]game.CellView, 16)
	r.receive(id, w)
	if !r.c.Status().Watch {
		t.Fatal("the status does not say the session watches")
	}
	r.receive(id, &wire.Events{Index: 6, Events: []game.Event{
		{Kind: game.EvNotes, Room: "main", Session: 8, Row: 1, Col: 1, Notes: 3},
		{Kind: game.EvNotes, Room: "main", Session: 7, Row: 2, Col: 2, Notes: 4},
	}})
	room, _, _ := r.c.Room()
	want := make([]uint16, 16)
	want[10] = 4
	if !slices.Equal(room.Notes, want) {
		t.Fatalf("notes %v, want %v", room.Notes, want)
	}
}

// An app restarted with the session's token resumes a session whose
// commands an earlier run numbered: its own go on from the highest the
// session answered, or the cluster would answer them with the old results.
func TestCoreNumbersOnInASessionResumedFromAnotherRun(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e1 := wire.MakeEpoch(1, 1)
	v := view(1, e1, 1)
	rd := r.at(0)
	a := r.dial(rd, addrOf(1))
	r.connected(a)
	w := welcome(1, e1, 7, v)
	w.Done = []game.SeqResult{{Seq: 4, Points: 10}, {Seq: 5, Points: 10}}
	w.DoneFrom = 1
	r.receive(a, w)
	r.now = t0.Add(time.Millisecond)
	seq := r.c.Send(r.now, game.Place{Row: 1, Col: 2, Digit: 3})
	if got := commands(r.c.Ready(), a); !slices.Equal(got, []uint64{6}) {
		t.Fatalf("sent %v, want [6]: after the 5 the session answered", got)
	}
	rd = r.receive(a, &wire.Ack{Seq: 6, Index: 9, Points: -3, Code: game.ErrWrong})
	if got := kinds(rd); !slices.Equal(got, []string{"Answered"}) {
		t.Fatalf("events %v", got)
	}
	if ack := rd.Events[0].(Answered).Ack; ack.Seq != seq || ack.Result.Err == nil || ack.Result.Err.Code != game.ErrWrong {
		t.Fatalf("ack %+v: the app's seq %d, the cluster's answer", ack, seq)
	}
	// Resumed again by this run (a failover): the numbers stay.
	rd = r.closed(a)
	b := r.dial(rd, addrOf(1))
	r.connected(b)
	w2 := welcome(1, e1, 7, v)
	w2.Done = []game.SeqResult{{Seq: 4, Points: 10}, {Seq: 5, Points: 10}, {Seq: 6, Points: -3, Code: game.ErrWrong}}
	w2.DoneFrom = 1
	if rd := r.receive(b, w2); len(kinds(rd)) == 0 || slices.Contains(kinds(rd), "Undone") {
		t.Fatalf("events %v: the answer is still there, nothing undone", kinds(rd))
	}
	r.c.Send(r.now, game.Chat{Text: "hi"})
	if got := commands(r.c.Ready(), b); !slices.Equal(got, []uint64{7}) {
		t.Fatalf("sent %v, want [7]", got)
	}
}

// A node that cannot elect a primary for want of voters says how many are
// up and how many it takes: the status says so rather than "electing…",
// and a welcome clears it.
func TestCoreSaysWhenTooFewVotersAreUp(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{"a:1"}})
	e := wire.MakeEpoch(1, 1)
	a := r.session(r.at(0), 1, e, view(1, e, 1))
	rd := r.closed(a)
	if st := r.c.Status(); st.State != Failover {
		t.Fatalf("status %+v", st)
	}
	b := r.dial(rd, "a:1")
	r.connected(b)
	r.receive(b, &wire.Redirect{Epoch: e, Up: 1, Need: 2})
	if st := r.c.Status(); st.State != Failover || st.Line() != "no primary: 1 up, 2 needed" {
		t.Fatalf("status %+v, line %q", st, st.Line())
	}
	c := r.dial(r.at(time.Minute), "a:1")
	r.connected(c)
	r.receive(c, welcome(1, wire.MakeEpoch(2, 1), 7, view(1, wire.MakeEpoch(2, 1), 1)))
	if st := r.c.Status(); st.State != Connected || st.VotersNeeded != 0 || strings.Contains(st.Line(), "needed") {
		t.Fatalf("status %+v, line %q", st, st.Line())
	}
}
