package client

import (
	"testing"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// A resumed session's remembered outcomes are checked against every answer
// the client was given: one gone without an announced rollback is reported
// Undone; one that is there, or whose rollback was announced, is not.
func TestCoreReportsAnswersUndoneOnResume(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{addrOf(1)}})
	e1 := wire.MakeEpoch(1, 1)
	conn := r.session(r.at(0), 1, e1, view(1, e1, 1))
	place := game.Place{Row: 2, Col: 3, Digit: 7}
	chat := game.Chat{Text: "hello"}
	wrong := game.Place{Row: 0, Col: 0, Digit: 1}
	for _, cmd := range []game.Command{place, chat, wrong} {
		r.c.Send(r.now, cmd)
	}
	r.c.Ready()
	r.receive(conn, &wire.Ack{Seq: 1, Index: 10, Points: 10})
	r.receive(conn, &wire.Ack{Seq: 2, Index: 11})
	r.receive(conn, &wire.Ack{Seq: 3, Index: 12, Code: game.ErrWrong, Points: -3})
	// The chat line's rollback is announced while still connected.
	r.receive(conn, &wire.Events{Index: 13, Events: []game.Event{{Kind: game.EvRollback, Name: "Alice", Cmd: game.CmdChat, Text: "hello"}}})

	// The primary is lost; the session resumes on n2, which remembers
	// only the wrong placement.
	e2 := wire.MakeEpoch(2, 2)
	r.c.view = view(2, e2, 2)
	rd := r.closed(conn)
	if len(rd.Dials) == 0 {
		rd = r.at(50 * time.Millisecond)
	}
	id := r.dial(rd, addrOf(2))
	r.connected(id)
	w := welcome(2, e2, 7, view(2, e2, 2))
	w.Done, w.DoneFrom = []game.SeqResult{{Seq: 3, Code: game.ErrWrong, Points: -3}}, 1
	rd = r.receive(id, w)
	var undone []Undone
	for _, e := range rd.Events {
		if u, ok := e.(Undone); ok {
			undone = append(undone, u)
		}
	}
	if len(undone) != 1 || undone[0].Ack.Seq != 1 || undone[0].Ack.Cmd != place {
		t.Fatalf("undone %+v, want only seq 1 (the placement)", undone)
	}
	if ev := undone[0].Rollback(); ev.Kind != game.EvRollback || ev.Row != 2 || ev.Col != 3 || ev.Digit != 7 || ev.Cmd != game.CmdPlace {
		t.Fatalf("its rollback event %+v", ev)
	}
	// Checked once: the next resume does not report it again.
	rd = r.closed(id)
	if len(rd.Dials) == 0 {
		rd = r.at(100 * time.Millisecond)
	}
	id = r.dial(rd, addrOf(2))
	r.connected(id)
	rd = r.receive(id, w)
	for _, e := range rd.Events {
		if u, ok := e.(Undone); ok {
			t.Fatalf("reported again: %+v", u)
		}
	}
}

// A session that did not survive (the cluster gives a new one) undoes
// every answer of the old one.
func TestCoreReportsEverythingOfALostSession(t *testing.T) {
	r := newRig(t, Config{Addrs: []string{addrOf(1)}})
	e1 := wire.MakeEpoch(1, 1)
	conn := r.session(r.at(0), 1, e1, view(1, e1, 1))
	r.c.Send(r.now, game.Chat{Text: "one"})
	r.c.Ready()
	r.receive(conn, &wire.Ack{Seq: 1, Index: 10})
	rd := r.closed(conn)
	if len(rd.Dials) == 0 {
		rd = r.at(50 * time.Millisecond)
	}
	id := r.dial(rd, addrOf(1))
	r.connected(id)
	rd = r.receive(id, welcome(1, wire.MakeEpoch(2, 1), 8, view(1, wire.MakeEpoch(2, 1), 1)))
	n := 0
	for _, e := range rd.Events {
		if _, ok := e.(Undone); ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d answers undone, want 1", n)
	}
}
