package wire

import (
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/game"
)

// Decoders of the values of game that messages carry, mirroring
// encode_game.go.

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
	e.Notes = d.notes("event.notes", d.lim.MaxBoard)
	e.At = d.varint("event.at")
	e.Watch = d.bool("event.watch")
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
			s.RoundRight = d.u32v("room.scores.round right")
			s.RoundWrong = d.u32v("room.scores.round wrong")
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
	r.RoundStart = d.varint("room.round start")
	r.RoundEnd = d.varint("room.round end")
	if n := d.count("room.notes", cells, 1); n > 0 {
		if n != cells {
			d.fail(ErrMalformed, "room.notes", fmt.Sprintf("notes for %d cells on a board of %d", n, cells))
			return
		}
		r.Notes = make([]uint16, n)
		for i := range r.Notes {
			r.Notes[i] = d.notes("room.notes", int(r.Puzzle.Size))
		}
	}
}

// notes reads a cell's candidates: a bit for each digit of a board of the
// given side, at most.
func (d *decoder) notes(field string, side int) uint16 {
	return uint16(d.uvarintMax(field, 1<<side-1))
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
		ms[i].Watching = d.bool("member.watching")
	}
	return ms
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
		g.ClusterID = d.u64("cmd.cluster id")
		g.Voters = d.voters("cmd.voters")
		return g
	case game.CmdMembership:
		v := d.voters("cmd.voters")
		if d.err == nil && v == nil {
			d.fail(ErrMalformed, field, "an empty configuration")
		}
		return game.Membership{Voters: v}
	case game.CmdOpenSession:
		return game.OpenSession{Name: d.name("cmd.name", d.lim.MaxName),
			Token: d.str("cmd.token", d.lim.MaxToken), Watch: d.bool("cmd.watch")}
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
	case game.CmdNote:
		return game.Note{Row: d.u8("cmd.row"), Col: d.u8("cmd.col"), Digit: d.u8("cmd.digit"), On: d.bool("cmd.on")}
	case game.CmdClearNotes:
		return game.ClearNotes{Row: d.u8("cmd.row"), Col: d.u8("cmd.col"), All: d.bool("cmd.all")}
	case game.CmdRelease:
		return game.Release{}
	case game.CmdChat:
		return game.Chat{Text: d.text("cmd.text", d.lim.MaxChat)}
	case game.CmdCreateRoom:
		return game.CreateRoom{Name: d.name("cmd.name", d.lim.MaxRoomName),
			Size: d.u8("cmd.size"), Difficulty: game.Difficulty(d.u8("cmd.difficulty"))}
	case cmdCreateRoomDealt:
		return d.createRoomDealt()
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

// voters reads a configuration (nil: none).
func (d *decoder) voters(field string) []uint16 {
	n := d.count(field, game.MaxVoters, 1)
	if d.err != nil || n == 0 {
		return nil
	}
	v := make([]uint16, n)
	for i := range v {
		v[i] = d.u16v(field)
	}
	if d.err == nil && !game.ValidVoters(v) {
		d.fail(ErrMalformed, field, "not a configuration (sorted node ids, each once)")
	}
	return v
}

func (d *decoder) createRoomDealt() game.Command {
	c := game.CreateRoom{Name: d.name("cmd.name", d.lim.MaxRoomName),
		Size: d.u8("cmd.size"), Difficulty: game.Difficulty(d.u8("cmd.difficulty"))}
	p := &game.Puzzle{Size: c.Size, Difficulty: c.Difficulty,
		BoxRows: d.u8("cmd.box rows"), BoxCols: d.u8("cmd.box cols"), Seed: d.uvarint("cmd.seed")}
	if d.err != nil {
		return nil
	}
	if int(c.Size) > d.lim.MaxBoard {
		d.fail(ErrTooLarge, "cmd.size", fmt.Sprintf("size %d exceeds %d", c.Size, d.lim.MaxBoard))
		return nil
	}
	cells := int(c.Size) * int(c.Size)
	if len(d.b) < 2*cells {
		d.truncated("cmd.dealt")
		return nil
	}
	p.Givens = append([]uint8(nil), d.b[:cells]...)
	p.Solution = append([]uint8(nil), d.b[cells:2*cells]...)
	d.b = d.b[2*cells:]
	if err := p.Check(); err != nil {
		d.fail(ErrMalformed, "cmd.dealt", err.Error())
		return nil
	}
	c.Dealt = p
	return c
}
