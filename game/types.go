package game

import "fmt"

// SessionID names a player's session. It is assigned by the state machine
// (deterministically, in log order) when a session opens; 0 means "no session"
// and is used by system commands.
type SessionID uint64

// Difficulty of a puzzle. See difficulty.go for what each level means.
type Difficulty uint8

const (
	Easy Difficulty = iota
	Medium
	Hard
	Expert
)

// Entry is one committed log entry: the primary's timestamp (Unix
// nanoseconds), the session and per-session sequence number that identify the
// command for deduplication, and the command itself. System commands carry
// Session 0 and Seq 0.
type Entry struct {
	Time    int64
	Session SessionID
	Seq     uint64
	Cmd     Command
}

// Command is one of the concrete command types below. The set is closed.
type Command interface {
	Kind() CmdKind
	isCommand()
}

// CmdKind identifies a command type. Append-only: values are on the wire and
// in snapshots.
type CmdKind uint8

const (
	CmdGenesis      CmdKind = 1
	CmdOpenSession  CmdKind = 2
	CmdCloseSession CmdKind = 3
	CmdDisconnect   CmdKind = 4
	CmdPlace        CmdKind = 5
	CmdClaim        CmdKind = 6
	CmdRelease      CmdKind = 7
	CmdChat         CmdKind = 8
	CmdCreateRoom   CmdKind = 9
	CmdJoinRoom     CmdKind = 10
	CmdLeaveRoom    CmdKind = 11
	CmdTick         CmdKind = 12
	CmdViewChange   CmdKind = 13
	CmdRollback     CmdKind = 14
	CmdMembership   CmdKind = 15
	CmdNote         CmdKind = 16
	CmdClearNotes   CmdKind = 17
	// 18 is taken on the wire: a CreateRoom with its Dealt puzzle.
)

// Genesis is the first entry of a new cluster's log: it fixes the rules and
// the seed from which every puzzle of the cluster is derived. It is accepted
// only while nothing else has been applied.
type Genesis struct {
	Seed  uint64
	Rules Rules
	// ClusterID names this cluster's history: data of another cluster is
	// never taken for this one's.
	ClusterID uint64
	// Voters are the first configuration: the nodes whose majority
	// commits entries and elects (in quorum mode).
	Voters []uint16
}

// OpenSession opens a session for Name, or resumes the live session that
// already holds Token (the client chooses the token, 16+ random bytes, so a
// retried HELLO is idempotent). Session 0 in the entry. Watch opens a
// spectator's session: it sees its room and chats, but is on no
// scoreboard and cannot move. A resumed session keeps the kind it was
// opened as.
type OpenSession struct {
	Name  string
	Token string
	Watch bool
}

// CloseSession ends the entry's session at once (the player quit): it leaves
// its room and its name is free.
type CloseSession struct{}

// Disconnect marks a session as disconnected; it survives for Rules.SessionGrace
// and is resumed by OpenSession with its token. System command (Session 0).
type Disconnect struct{ Session SessionID }

// Place puts Digit at (Row, Col) of the player's room board.
type Place struct{ Row, Col, Digit uint8 }

// Claim takes the player's one claim (lock) on an empty cell for Rules.ClaimLease.
// Claiming the cell the player already holds renews the lease.
type Claim struct{ Row, Col uint8 }

// Release gives up the player's claim, if any.
type Release struct{}

// Chat adds a line to the player's room.
type Chat struct{ Text string }

// CreateRoom creates a room with its own puzzle and moves the player into it.
type CreateRoom struct {
	Name       string
	Size       uint8 // 4, 6 or 9
	Difficulty Difficulty
	// Dealt is the room's first puzzle, made by the primary before it
	// proposes the entry (State.RoomPuzzle), so that no replica generates
	// it in Apply. Players leave it nil.
	Dealt *Puzzle
}

// JoinRoom moves the player into an existing room.
type JoinRoom struct{ Name string }

// LeaveRoom moves the player back to room "main".
type LeaveRoom struct{}

// Tick lets time pass: claims and session grace periods that ran out before
// the entry's time expire, and rounds whose countdown is over start. The
// primary appends one when State.NextDeadline has passed. System command.
type Tick struct{}

// ViewChange is appended by a new primary as the first entry of its epoch. All
// sessions become disconnected (their clients were connected to the old
// primary) and start their grace period; each room gets a system chat line.
// System command.
type ViewChange struct {
	Epoch       uint64 // the epoch as a plain number, for display
	Primary     uint16 // the new primary's node id
	PrevPrimary uint16 // 0 if unknown
}

// Rollback reports commands that a losing branch of a partition had committed
// and that the merged log does not hold. Applying it changes no board; it
// emits an EvRollback event per item, in the item's room, but for notes,
// which are their player's alone. System command.
type Rollback struct{ Items []RolledBack }

// Note sets (On) or clears a candidate Digit in the player's own notes
// (pencil marks) for the empty cell (Row, Col). Notes are the session's:
// nobody else sees them. They go when the player leaves the room, when the
// round ends, and, for a digit placed right by anyone, from the cell and
// from its row, column and box.
type Note struct {
	Row, Col, Digit uint8
	On              bool
}

// ClearNotes clears the player's notes of the cell (Row, Col), or of the
// whole board with All.
type ClearNotes struct {
	Row, Col uint8
	All      bool
}

// Membership replaces the configuration: the nodes that vote. The replica
// appends one to promote a learner that has caught up or to remove a node
// that left, one change at a time. System command.
type Membership struct{ Voters []uint16 }

// MaxVoters bounds a configuration.
const MaxVoters = 255

// RolledBack describes one command that was rolled back.
type RolledBack struct {
	Room  string
	Name  string // the player
	Seq   uint64 // the player's sequence number of the command
	Kind  CmdKind
	Row   uint8
	Col   uint8
	Digit uint8
	Text  string // chat lines
}

func (Genesis) Kind() CmdKind      { return CmdGenesis }
func (OpenSession) Kind() CmdKind  { return CmdOpenSession }
func (CloseSession) Kind() CmdKind { return CmdCloseSession }
func (Disconnect) Kind() CmdKind   { return CmdDisconnect }
func (Place) Kind() CmdKind        { return CmdPlace }
func (Claim) Kind() CmdKind        { return CmdClaim }
func (Release) Kind() CmdKind      { return CmdRelease }
func (Chat) Kind() CmdKind         { return CmdChat }
func (CreateRoom) Kind() CmdKind   { return CmdCreateRoom }
func (JoinRoom) Kind() CmdKind     { return CmdJoinRoom }
func (LeaveRoom) Kind() CmdKind    { return CmdLeaveRoom }
func (Tick) Kind() CmdKind         { return CmdTick }
func (ViewChange) Kind() CmdKind   { return CmdViewChange }
func (Rollback) Kind() CmdKind     { return CmdRollback }
func (Membership) Kind() CmdKind   { return CmdMembership }
func (Note) Kind() CmdKind         { return CmdNote }
func (ClearNotes) Kind() CmdKind   { return CmdClearNotes }

func (Genesis) isCommand()      {}
func (OpenSession) isCommand()  {}
func (CloseSession) isCommand() {}
func (Disconnect) isCommand()   {}
func (Place) isCommand()        {}
func (Claim) isCommand()        {}
func (Release) isCommand()      {}
func (Chat) isCommand()         {}
func (CreateRoom) isCommand()   {}
func (JoinRoom) isCommand()     {}
func (LeaveRoom) isCommand()    {}
func (Tick) isCommand()         {}
func (ViewChange) isCommand()   {}
func (Rollback) isCommand()     {}
func (Membership) isCommand()   {}
func (Note) isCommand()         {}
func (ClearNotes) isCommand()   {}

// Code is the outcome of a command. Append-only: values are on the wire.
type Code uint8

const (
	OK             Code = 0
	ErrWrong       Code = 1  // that digit is wrong here (−3)
	ErrFilled      Code = 2  // cell is already filled
	ErrGiven       Code = 3  // cell is a given
	ErrClaimed     Code = 4  // cell is claimed by another player (Who)
	ErrBadCell     Code = 5  // row/col outside the board or digit out of range
	ErrRoundOver   Code = 6  // the round is over; the next starts soon
	ErrNameTaken   Code = 7  // name is held by a live session
	ErrBadName     Code = 8  // name is empty, too long or not printable
	ErrNoSession   Code = 9  // unknown or expired session / token
	ErrRoomExists  Code = 10 // a room with that name exists
	ErrNoRoom      Code = 11 // no room with that name
	ErrBadRoomName Code = 12 // room name breaks the rules
	ErrRoomLimit   Code = 13 // the limit of rooms is reached
	ErrBadText     Code = 14 // chat line empty, too long or not printable
	ErrBadSize     Code = 15 // puzzle size or difficulty not supported
	ErrNotClaimed  Code = 16 // release without a claim
	ErrStale       Code = 17 // sequence number older than the dedupe window
	ErrGenesis     Code = 18 // genesis after the state has started
	ErrInRoom      Code = 19 // already in that room
	ErrUnknownCmd  Code = 20 // command kind unknown to this version
	ErrFull        Code = 21 // the limit of sessions is reached
	ErrBadConfig   Code = 22 // a configuration that is empty, unsorted or too large
	ErrSpectator   Code = 23 // a spectator's session cannot move
)

// Error is a rule's rejection, typed so that a client can show it.
type Error struct {
	Code Code
	Who  string // the other player, for ErrClaimed and ErrNameTaken
	Room string // the room, for room errors
}

func (e *Error) Error() string {
	switch e.Code {
	case ErrWrong:
		return "that digit is wrong here"
	case ErrFilled:
		return "cell is already filled"
	case ErrGiven:
		return "cell is a given"
	case ErrClaimed:
		return "cell is claimed by " + e.Who
	case ErrBadCell:
		return "no such cell or digit on this board"
	case ErrRoundOver:
		return "the round is over; the next one starts soon"
	case ErrNameTaken:
		return fmt.Sprintf("the name %q is taken (a name is held a while after its player drops)", e.Who)
	case ErrBadName:
		return "a name is 1 to 24 printable characters"
	case ErrNoSession:
		return "no such session (it may have expired)"
	case ErrRoomExists:
		return fmt.Sprintf("room %q already exists", e.Room)
	case ErrNoRoom:
		return fmt.Sprintf("there is no room %q", e.Room)
	case ErrBadRoomName:
		return "a room name is 1 to 24 characters: a-z, 0-9, - and _"
	case ErrRoomLimit:
		return "the limit of rooms is reached"
	case ErrBadText:
		return "a chat line is 1 to 500 printable characters"
	case ErrBadSize:
		return "sizes are 4, 6 and 9; difficulties easy, medium, hard and expert"
	case ErrNotClaimed:
		return "you hold no claim"
	case ErrStale:
		return "command is too old to answer"
	case ErrGenesis:
		return "the game has already started"
	case ErrBadConfig:
		return "a configuration names 1 to 255 nodes, sorted, each once"
	case ErrInRoom:
		return fmt.Sprintf("you are already in %q", e.Room)
	case ErrUnknownCmd:
		return "unknown command"
	case ErrFull:
		return "the game is full"
	case ErrSpectator:
		return "you are watching: spectators cannot move"
	}
	return fmt.Sprintf("error %d", e.Code)
}

// Result is what a command returned. Err is nil on success. Points is the
// score change a placement caused (+10 and +5 per completed unit, or −3).
// Session is the session an OpenSession opened or resumed.
type Result struct {
	Err     *Error
	Points  int32
	Session SessionID
}

// EventKind identifies an event. Append-only.
type EventKind uint8

const (
	EvSessionOpened  EventKind = 1  // Session, Name, Room (the session's room, as for the next three), Watch
	EvSessionResumed EventKind = 2  // Session, Name, Room, Watch
	EvDisconnected   EventKind = 3  // Session, Name, Room, Until (grace period starts; it ends at Until)
	EvSessionClosed  EventKind = 4  // Session, Name, Room (quit or grace ran out)
	EvJoined         EventKind = 5  // Room, Name, Session, Until (0: online; else the grace end of a disconnected session), Watch
	EvLeft           EventKind = 6  // Room, Name, Session
	EvPlaced         EventKind = 7  // Room, Name, Row, Col, Digit, Points (right)
	EvMissed         EventKind = 8  // Room, Name, Row, Col, Digit, Points (wrong, −3)
	EvClaimed        EventKind = 9  // Room, Name, Row, Col, Until
	EvReleased       EventKind = 10 // Room, Name, Row, Col, Reason
	EvRoundOver      EventKind = 11 // Room, Round, Name (winner), Points (winner's), Until (next round), At (the round's end)
	EvRoundStarted   EventKind = 12 // Room, Round, Puzzle (givens only), At (the round's start)
	EvChat           EventKind = 13 // Room, Line
	EvRoomCreated    EventKind = 14 // Room, Round, Puzzle, At (the round's start)
	EvViewChange     EventKind = 15 // Epoch, Node (new primary), PrevNode
	EvRollback       EventKind = 16 // Room, Name, Row, Col, Digit, Text, Cmd
	EvNotes          EventKind = 17 // Room, Session, Name, Row, Col, Notes: the cell's notes now (for the session alone)
)

// ReleaseReason says why a claim ended.
type ReleaseReason uint8

const (
	ReleasedByPlayer ReleaseReason = 1
	ReleasedByPlace  ReleaseReason = 2 // the cell was filled
	ReleasedByMove   ReleaseReason = 3 // the player claimed elsewhere
	ReleasedByLeave  ReleaseReason = 4 // the player left or the session ended
	ReleasedByExpiry ReleaseReason = 5 // the lease ran out
	ReleasedByRound  ReleaseReason = 6 // the round ended
)

// Event is something a command caused, for clients to see. It is a flat
// struct (fields used depend on Kind, see the constants) so that it is cheap
// to make and to encode.
type Event struct {
	Kind     EventKind
	Room     string
	Session  SessionID
	Name     string
	Row      uint8
	Col      uint8
	Digit    uint8
	Reason   ReleaseReason
	Points   int32
	Round    uint32
	Until    int64 // Unix nanoseconds: claim lease end, next round start
	Epoch    uint64
	Node     uint16
	PrevNode uint16
	Cmd      CmdKind
	Text     string
	Notes    uint16      // EvNotes: bit d-1 set for each candidate digit d
	At       int64       // Unix nanoseconds: a round's start or end
	Watch    bool        // the session is a spectator's
	Line     *ChatLine   // EvChat
	Puzzle   *PuzzleView // EvRoundStarted, EvRoomCreated
}

// ChatLine is one line of a room's chat. N numbers the room's lines from 1,
// without gaps, so that a client can tell a missing or repeated line. From is
// empty for system lines.
type ChatLine struct {
	N    uint64
	Time int64
	From string
	Text string
}

// PuzzleView is a puzzle as clients see it: no solution.
type PuzzleView struct {
	Size       uint8
	BoxRows    uint8
	BoxCols    uint8
	Difficulty Difficulty
	Seed       uint64
	Givens     []uint8 // Size*Size, row-major, 0 = empty
}

// CellView is one cell of a board as clients see it.
type CellView struct {
	Digit uint8  // 0 = empty
	Given bool   //
	Owner string // who placed it (empty for givens and empty cells)
}

// ClaimView is a live claim.
type ClaimView struct {
	Row, Col uint8
	Owner    string
	Until    int64
}

// ScoreView is a player's score in a room.
type ScoreView struct {
	Name       string
	Round      int32 // this round
	Total      int32 // all rounds in this room
	Right      uint32
	Wrong      uint32
	Wins       uint32
	RoundRight uint32 // right moves this round: the cells this player filled
	RoundWrong uint32 // wrong moves this round
}

// MemberView is a player in a room.
type MemberView struct {
	Name     string
	Online   bool // false during the grace period after a disconnect
	Watching bool // a spectator
}

// RoundState of a room.
type RoundState uint8

const (
	RoundPlaying RoundState = 0
	RoundOver    RoundState = 1
)

// RoomView is a room as a client sees it: everything needed to draw it, and
// nothing a player should not know (no solution). A client keeps it current
// by applying the room's events in order with ApplyEvent.
type RoomView struct {
	Name        string
	Round       uint32
	State       RoundState
	Winner      string
	NextRoundAt int64
	Puzzle      PuzzleView
	Board       []CellView // Size*Size, row-major
	Claims      []ClaimView
	Scores      []ScoreView // sorted: round score desc, then name
	Members     []MemberView
	Chat        []ChatLine // the last Rules.ChatHistory lines, oldest first
	ChatHistory int        // Rules.ChatHistory: how many lines ApplyEvent keeps (0: DefaultRules')
	RoundStart  int64      // Unix nanoseconds: when the round started
	RoundEnd    int64      // when it ended (0 while it is played)
	// Notes are one player's own candidates, bit d-1 for digit d, per cell
	// (row-major), in the view that player's session gets; nil when it has
	// none, and always in anyone else's.
	Notes []uint16

	// chatBuf is the array that Chat lies in once its history is full,
	// twice the history long: ApplyEvent moves the kept lines back to its
	// front when Chat reaches its end, instead of allocating a new array
	// every history's worth of lines.
	chatBuf []ChatLine
}

// RoomSummary is one line of the room list.
type RoomSummary struct {
	Name       string
	Size       uint8
	Difficulty Difficulty
	Round      uint32
	Filled     int
	Cells      int
	Players    []string
	Watchers   []string // spectators
}

// SessionView describes a session.
type SessionView struct {
	ID     SessionID
	Name   string
	Room   string
	Online bool
	Watch  bool // a spectator's session
}
