package client

import (
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Event is one thing the client tells the app: a RoomChanged, Answered,
// ViewChanged, StatusChanged, Replied, Noticed, Undone, Throttled or
// Refused. Every event
// carries when it happened and how the connection stood then (Info).
type Event interface {
	Info() EventInfo
	event()
}

// EventInfo is what every event carries.
type EventInfo struct {
	Time   time.Time
	Status Status
}

// Info returns the time and the status an event carries.
func (i EventInfo) Info() EventInfo { return i }

// RoomChanged: the player's room changed, or was replaced (a welcome, a
// move to another room).
type RoomChanged struct {
	EventInfo
	// Room is the whole room after the change, a copy the receiver owns
	// (nil with NoRoomCopies: read it through Room or WithRoom).
	Room *game.RoomView
	// Events are the game events that changed it, in order; nil when it
	// was replaced. Read-only: they may be shared (SharedPushes).
	Events []game.Event
	// Replaced: the room came whole (a welcome, a move to another room).
	Replaced bool
}

// Answered: a command was answered.
type Answered struct {
	EventInfo
	Ack Ack
}

// ViewChanged: the cluster view changed.
type ViewChanged struct {
	EventInfo
	View wire.ClusterView // a copy the receiver owns
}

// StatusChanged: the connection changed (connected, primary lost, resumed
// on another node); Status says how it stands.
type StatusChanged struct{ EventInfo }

// Replied: the answer to a Query.
type Replied struct {
	EventInfo
	Reply *wire.QueryReply
}

// Undone: a command the cluster answered is not in its state any more (a
// rollback this client did not hear announced, found when it resumed its
// session). The player must be told: Ack is the answer that no longer holds.
type Undone struct {
	EventInfo
	Ack Ack
}

// Noticed: something the embedded node noticed (play mode only):
// suspicions, elections, view changes.
type Noticed struct {
	EventInfo
	Notice wire.Notice
}

// Throttled: the primary refused commands for coming faster than its
// per-session limit; Text is its message. They go out again after a pause.
type Throttled struct {
	EventInfo
	Text string
}

// Refused: the cluster refused this client for good (for example the name
// is taken); Err says why. The client has stopped.
type Refused struct {
	EventInfo
	Err error
}

func (RoomChanged) event()   {}
func (Answered) event()      {}
func (ViewChanged) event()   {}
func (StatusChanged) event() {}
func (Replied) event()       {}
func (Noticed) event()       {}
func (Refused) event()       {}
func (Undone) event()        {}
func (Throttled) event()     {}

// Ack is the answer to a command the app sent.
type Ack struct {
	Seq    uint64
	Cmd    game.Command
	Result game.Result
	Index  uint64        // log index it committed at (0: answered from the dedupe table)
	RTT    time.Duration // from first send to answer, across failovers
	// NotSent: the client answered it (ErrNoSession) instead of sending it
	// into a new session: the one it was made in is gone.
	NotSent bool
	// Wire is the number the cluster knows the command by: Seq plus the
	// offset of a session resumed from another run (0: not sent).
	Wire uint64
}

// ConnState is where the client's connection stands.
type ConnState uint8

const (
	// Connecting: looking for the cluster for the first time.
	Connecting ConnState = iota + 1
	// Connected: in session with the primary.
	Connected
	// Failover: the primary was lost; finding the new one. Commands sent
	// meanwhile wait and go out when it is found.
	Failover
	// Closed: the client stopped.
	Closed
)

func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Failover:
		return "failover"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Status is how the client's connection stands.
type Status struct {
	State    ConnState
	Node     wire.NodeID // the primary it is connected to (Connected)
	Epoch    wire.Epoch
	Addr     string
	Lost     wire.NodeID // Failover: the primary that was lost
	Handover wire.NodeID // Failover: the primary that handed over (it stepped down; not lost)
	Since    time.Time   // when State last changed
	RTT      time.Duration
	Session  game.SessionID
	Name     string
	Pending  int  // commands sent and not answered yet
	Resumed  bool // the session was resumed (not new) at the last welcome
	Attempts int  // connection attempts since the last success
	Watch    bool // the session is a spectator's (it cannot move)
	// Successor is the primary that Handover named (0: none, as when it
	// left the cluster).
	Successor wire.NodeID
	// LastError says why the last attempt failed (empty after a success).
	LastError string
	// VotersUp and VotersNeeded: the last node asked said no primary can
	// be elected (quorum mode) until more voters are back.
	VotersUp, VotersNeeded int
}

// Line describes the status the way the app's status line says it, e.g.
// "n3 is primary, epoch 4 · rtt 0.2ms" or "primary n3 lost — electing…".
func (s Status) Line() string {
	short := s.State == Connecting || s.State == Failover && s.Handover == 0
	if short && s.VotersNeeded > 0 {
		return fmt.Sprintf("no primary: %d up, %d needed", s.VotersUp, s.VotersNeeded)
	}
	switch s.State {
	case Connecting:
		if s.LastError != "" {
			return "looking for the cluster… (the last attempt: " + s.LastError + ")"
		}
		return "looking for the cluster…"
	case Failover:
		if s.Handover != 0 && s.Successor == 0 {
			return fmt.Sprintf("n%d stepped down — looking for the cluster…", s.Handover)
		}
		if s.Handover != 0 {
			return fmt.Sprintf("n%d handed over to n%d — moving there…", s.Handover, s.Successor)
		}
		if s.Lost != 0 {
			return fmt.Sprintf("primary n%d lost — electing…", s.Lost)
		}
		return "primary lost — electing…"
	case Closed:
		return "disconnected"
	}
	line := fmt.Sprintf("n%d is primary, epoch %d", s.Node, s.Epoch.Term())
	if s.Resumed {
		line += " — resumed"
	}
	if s.RTT > 0 {
		line += fmt.Sprintf(" · rtt %s", fmtRTT(s.RTT))
	}
	return line
}

func fmtRTT(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return d.Round(time.Millisecond).String()
}

// Local is the node embedded in the app (play mode): the client reads its
// view and notices, and tries it first.
type Local interface {
	View() wire.ClusterView
	ClientAddr() string
	Watch() <-chan struct{}
	NoticesSince(k int) ([]wire.Notice, int)
	Done() <-chan struct{}
}
