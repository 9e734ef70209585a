package client

import (
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// ClientEventKind says what a ClientEvent carries.
type ClientEventKind uint8

const (
	// KindRoom: the room changed (or was replaced: a welcome, a move to
	// another room). Room is the whole room after the change; Events are
	// the game events that changed it, in order (nil for a replacement).
	KindRoom ClientEventKind = iota + 1
	// KindAck: a command was answered. Ack says which and how.
	KindAck
	// KindView: the cluster view changed. View is the new one.
	KindView
	// KindStatus: the connection changed (connected, primary lost,
	// resumed on another node). Status says how it stands.
	KindStatus
	// KindReply: the answer to a Query.
	KindReply
	// KindNotice: something the local node noticed (play mode only):
	// suspicions, elections, view changes.
	KindNotice
	// KindFatal: the cluster refused this client for good (for example the
	// name is taken). Err says why; the client has stopped.
	KindFatal
)

// ClientEvent is one thing the client library tells the app. Every event
// carries the current Status.
type ClientEvent struct {
	Kind   ClientEventKind
	Time   time.Time
	Status Status
	Room   *game.RoomView // KindRoom: a copy the receiver owns
	Events []game.Event   // KindRoom
	Ack    *Ack           // KindAck
	View   *wire.ClusterView
	Reply  *wire.QueryReply
	Notice *wire.Notice
	Err    error
}

// Ack is the answer to a command the app sent.
type Ack struct {
	Seq    uint64
	Cmd    game.Command
	Result game.Result
	Index  uint64        // log index it committed at (0: answered from the dedupe table)
	RTT    time.Duration // from first send to answer, across failovers
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
}

// Line describes the status the way the app's status line says it, e.g.
// "n3 is primary, epoch 4 · rtt 0.2ms" or "primary n3 lost — electing…".
func (s Status) Line() string {
	switch s.State {
	case Connecting:
		return "looking for the cluster…"
	case Failover:
		if s.Handover != 0 {
			return fmt.Sprintf("n%d handed over — finding the new primary…", s.Handover)
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
