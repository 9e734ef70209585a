package wire

import "github.com/gridlock-game/gridlock/game"

// Limits bound every frame and field that DecodeMessage accepts. A value over
// its limit is refused with a *DecodeError of code ErrTooLarge, before
// anything is allocated for it.
//
// wire checks sizes, UTF-8 and (for names) the absence of control
// characters; game checks what the rules say about the values. A zero Limits
// accepts nothing: start from a preset.
type Limits struct {
	MaxFrame int // bytes of a frame body: the type byte and the fields

	MaxName     int // runes of a player name (no control characters)
	MaxRoomName int // runes of a room name (no control characters)
	MaxChat     int // runes of a chat line, and of rolled-back chat text
	MaxText     int // runes of an Error frame's text
	MaxToken    int // bytes of a session token
	MaxAddr     int // bytes of an address (host:port)
	MaxCluster  int // bytes of a cluster name

	MaxEntries   int // log entries in an Append or a Snapshot tail; items of a RolledBack or a Rollback command
	MaxEvents    int // events in an Events batch
	MaxNodes     int // nodes in a ClusterView
	MaxHistory   int // epoch starts in a StateReply, a Snapshot or an Append
	MaxRooms     int // room summaries in a QueryReply
	MaxMembers   int // members, scores and claims of a room view; players of a room summary; members of a QueryReply
	MaxChatLines int // chat lines in a room view
	MaxBoard     int // side of a puzzle: at most MaxBoard*MaxBoard cells
}

// MaxBeacon is the largest beacon datagram, in bytes: it fits an Ethernet
// MTU without fragmenting. A beacon with every string at its limit encodes
// to 916 bytes.
const MaxBeacon = 1400

// baseLimits takes from game what a valid state can hold, so that a node
// never encodes a room or a command its peers refuse.
var baseLimits = Limits{
	MaxName:     game.MaxNameRunes,
	MaxRoomName: game.MaxRoomNameLen,
	MaxChat:     game.MaxChatRunes,
	MaxText:     500,
	MaxToken:    game.MaxTokenLen,
	MaxAddr:     255,
	MaxCluster:  64,

	MaxEntries:   1 << 16,
	MaxEvents:    1 << 12,
	MaxNodes:     256,
	MaxHistory:   1 << 16,
	MaxRooms:     game.MaxRoomsCap,
	MaxMembers:   game.MaxSessionsCap, // everyone in one room
	MaxChatLines: game.ChatHistoryCap,
	MaxBoard:     16,
}

func withFrame(n int) Limits {
	l := baseLimits
	l.MaxFrame = n
	return l
}

var (
	// ClientLimits is what a node accepts on its client port: a client
	// sends only small messages (the largest is a chat line).
	ClientLimits = withFrame(64 << 10)

	// ServerLimits is what a client accepts from a node: room views with
	// their chat history and member lists, cluster views, event batches.
	ServerLimits = withFrame(8 << 20)

	// PeerLimits is what a node accepts on a peer link: a Snapshot of many
	// rooms with 200 chat lines each reaches several MiB.
	PeerLimits = withFrame(16 << 20)
)
