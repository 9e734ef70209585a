package wire

import (
	"fmt"
	"strconv"

	"github.com/gridlock-game/gridlock/game"
)

// Version is the protocol version, carried in HELLO, in peer link hellos and
// in every beacon. A peer or client with another version is refused.
// Version 2: notes, spectators and round results in commands, events and
// room views. Version 3: older epochs' records in appends, and whether a
// node's id is fixed in beacons. Version 4: the cluster's id in Welcome.
// Version 5: the cluster's id in state replies and beacons; zero width joiners in chat
// lines, and no chat line when a primary takes office again (rules every
// replica applies alike). Version 6: the voters up and needed in a
// redirect while too few are up.
const Version uint16 = 6

// NodeID identifies a replica. 0 means "none".
type NodeID uint16

// String is the id as players and logs see it: "n3". Print it with %d for
// the bare number.
func (id NodeID) String() string { return "n" + strconv.FormatUint(uint64(id), 10) }

// Epoch orders primaries. It names a term, the node that is primary in it,
// and the life of that node's process: a random number each process start
// draws (or the life a restarted node keeps on disk), so that a node that
// restarted with no memory never makes an epoch it held before, even with
// the same term: two logs that hold an entry of the same epoch at the same
// index hold the same entry. Epochs order by term, then node, then life.
type Epoch struct {
	term uint64
	node NodeID
	life uint64
}

// MakeEpoch returns the epoch of term led by node (life 0).
func MakeEpoch(term uint64, node NodeID) Epoch { return Epoch{term: term, node: node} }

// MakeEpochLife returns the epoch of term led by node in process life life.
func MakeEpochLife(term uint64, life uint64, node NodeID) Epoch {
	return Epoch{term: term, node: node, life: life}
}

// Term is the epoch's number as players see it ("epoch 4").
func (e Epoch) Term() uint64 { return e.term }

// Life is the primary's process life.
func (e Epoch) Life() uint64 { return e.life }

// Node is the primary of the epoch.
func (e Epoch) Node() NodeID { return e.node }

// IsZero reports whether e is the epoch before any.
func (e Epoch) IsZero() bool { return e == Epoch{} }

// Compare orders epochs: -1 if e is older than f, 0 if they are the same
// epoch, 1 if e is newer.
func (e Epoch) Compare(f Epoch) int {
	switch {
	case e.term != f.term:
		return cmpU(e.term, f.term)
	case e.node != f.node:
		return cmpU(uint64(e.node), uint64(f.node))
	}
	return cmpU(e.life, f.life)
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// Before reports whether e is older than f.
func (e Epoch) Before(f Epoch) bool { return e.Compare(f) < 0 }

// After reports whether e is newer than f.
func (e Epoch) After(f Epoch) bool { return e.Compare(f) > 0 }

// MaxEpoch returns the newer of two epochs.
func MaxEpoch(e, f Epoch) Epoch {
	if e.Before(f) {
		return f
	}
	return e
}

func (e Epoch) String() string { return fmt.Sprintf("%d", e.Term()) }

// Role of a node, as beacons and cluster views report it.
type Role uint8

const (
	RoleStarting Role = 0 // listening before it first acts
	RoleBackup   Role = 1
	RoleElecting Role = 2 // a Bully election is under way at this node
	RoleSyncing  Role = 3 // elected; the view change is under way
	RolePrimary  Role = 4
	RoleNoQuorum Role = 5 // with --quorum: fewer than N nodes reachable
	RoleLeaving  Role = 6
	RoleDown     Role = 7 // in a view: a node not heard from (suspected)
	RoleRefused  Role = 8 // in a view: a node refused for settings that do not match this cluster's
)

func (r Role) String() string {
	switch r {
	case RoleStarting:
		return "starting"
	case RoleBackup:
		return "backup"
	case RoleElecting:
		return "electing"
	case RoleSyncing:
		return "syncing"
	case RolePrimary:
		return "primary"
	case RoleNoQuorum:
		return "no quorum"
	case RoleLeaving:
		return "leaving"
	case RoleDown:
		return "down"
	case RoleRefused:
		return "refused"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Type identifies a message on the wire. Append-only: never renumber.
type Type uint8

const (
	// client <-> node
	THello       Type = 1
	TWelcome     Type = 2
	TCommand     Type = 3
	TAck         Type = 4
	TEvents      Type = 5
	TClusterView Type = 6
	TRedirect    Type = 7
	TPing        Type = 8
	TPong        Type = 9
	TError       Type = 10
	TQuery       Type = 11
	TQueryReply  Type = 12
	TRoomState   Type = 13
	TStatus      Type = 14

	// node <-> node
	TBeacon      Type = 32
	TElection    Type = 33
	TElectionOK  Type = 34
	TCoordinator Type = 35
	TStateReply  Type = 36
	TFetch       Type = 37
	TAppend      Type = 38
	TAppendAck   Type = 39
	TSnapshot    Type = 40
	TLeave       Type = 41
	TRolledBack  Type = 42
	TPeerHello   Type = 43
	TPeerAuth    Type = 44
)

// Message is any message of this package.
type Message interface{ Type() Type }

// PeerMessage is a node <-> node message that names its sender and carries
// the sender's epoch: every one but PeerHello and PeerAuth.
type PeerMessage interface {
	Message
	Header() (from NodeID, epoch Epoch)
}

// ---- client <-> node ----

// Hello opens (Token new to the cluster) or resumes (Token known) a session.
// The client chooses Token: 16 or more random bytes, hex. LastLine is the
// last chat line the client saw in its room (0: none), so that a resuming
// client gets the lines it missed. Watch opens a spectator's session (a
// resumed session stays what it was opened as: Welcome says which).
type Hello struct {
	Version  uint16
	Name     string
	Token    string
	LastLine uint64
	Watch    bool
}

// Welcome answers Hello: the session, the room the session is in, and the
// cluster as the answering (primary) node sees it. Index is the log index the
// room view reflects; Events that follow have higher indexes. The room
// carries the session's own notes; Watch says it is a spectator's.
type Welcome struct {
	Node    NodeID
	Epoch   Epoch
	Session game.SessionID
	Name    string
	Token   string
	Index   uint64
	Room    game.RoomView
	View    ClusterView
	// Done are the outcomes the session remembers (see game.State.Results):
	// a client that resumes checks that every answer it was given is
	// still there, so that no rollback passes unannounced.
	Done []game.SeqResult
	// DoneFrom is the lowest sequence number Done covers.
	DoneFrom uint64
	// Watch: the session is a spectator's.
	Watch bool
	// Cluster is the id of the cluster's history (its genesis's): a
	// session number names the same session only within one.
	Cluster uint64
}

// Command is one player command with its per-session sequence number.
type Command struct {
	Seq uint64
	Cmd game.Command
}

// Ack answers a Command after it committed. Code 0 is success; otherwise Who
// and Room fill in the error text (see game.Error).
type Ack struct {
	Seq    uint64
	Index  uint64
	Code   game.Code
	Who    string
	Room   string
	Points int32
}

// Events pushes committed events of the client's room (and its session), in
// log order. Index is the log index of the last entry they came from.
type Events struct {
	Index  uint64
	Events []game.Event
}

// RoomState pushes a whole room view, after the client changed rooms, with
// the session's own notes.
type RoomState struct {
	Index uint64
	Room  game.RoomView
}

// NodeInfo is one node as a cluster view shows it.
type NodeInfo struct {
	ID         NodeID
	Role       Role
	Epoch      Epoch
	Commit     uint64
	Last       uint64
	Lag        uint64 // entries behind the primary (primary's view)
	Alive      bool
	InView     bool // a backup that the primary waits for
	Voter      bool // in the configuration (as this view's node has it)
	Recovering bool // lost its data, catching up: it neither votes nor leads
	ClientAddr string
	PeerAddr   string
	Advertise  string
}

// DialAddr is where a client reaches n: the address n advertises (with
// --advertise, as seen from outside its network), else its client address.
func (n NodeInfo) DialAddr() string {
	if n.Advertise != "" {
		return n.Advertise
	}
	return n.ClientAddr
}

// ClusterView is the cluster as one node sees it.
type ClusterView struct {
	Self      NodeID // the node that made this view
	Primary   NodeID // 0: none known
	Epoch     Epoch
	Commit    uint64
	Quorum    uint8 // 0: no quorum rule
	HasQuorum bool
	Nodes     []NodeInfo
}

// Redirect tells a client which node is primary. Addr is empty while no
// primary is known; the client then retries. Need, in quorum mode, is how
// many voters a primary takes when fewer (Up) are reachable: no election
// can end until more are back.
type Redirect struct {
	Leader   NodeID
	Epoch    Epoch
	Addr     string
	Up, Need uint8
}

// Ping and Pong measure round trips and keep idle connections alive.
type Ping struct {
	Nonce uint64
	Time  int64
}

type Pong struct {
	Nonce uint64
	Time  int64
}

// ErrCode says what was wrong with a frame or a request.
type ErrCode uint8

const (
	ErrMalformed   ErrCode = 1 // frame could not be decoded
	ErrTooLarge    ErrCode = 2 // frame or field over its limit
	ErrBadVersion  ErrCode = 3
	ErrUnexpected  ErrCode = 4 // a message that makes no sense here (e.g. Command before Hello)
	ErrRateLimited ErrCode = 5
	ErrAuth        ErrCode = 6 // peer failed the challenge
	ErrUnknownType ErrCode = 7
	ErrOverloaded  ErrCode = 8 // too many connections, or a queue full
	ErrSession     ErrCode = 9 // Hello refused: the game's reason is in Text
	ErrShutdown    ErrCode = 10
	ErrSettings    ErrCode = 11 // a peer whose cluster settings differ
)

// Error is sent before a node closes a connection because of bad input, and
// to refuse a Hello.
type Error struct {
	Code ErrCode
	Text string
}

// QueryKind selects what a Query asks.
type QueryKind uint8

const (
	QueryRooms QueryKind = 1 // every room, summarised
	QueryWho   QueryKind = 2 // the members of Room (or the client's room)
)

// Query asks the primary for read-only information (not logged).
type Query struct {
	Seq  uint64
	Kind QueryKind
	Room string
}

// QueryReply answers a Query.
type QueryReply struct {
	Seq     uint64
	Rooms   []game.RoomSummary
	Members []game.MemberView
}

// Status asks any node for its cluster view (gridlock status); the answer is
// a ClusterView. It needs no session.
type Status struct{}

// ---- node <-> node ----

// EpochStart records that entries from Index on were made in Epoch, whose
// primary took office with Support nodes (itself included) in its view, and
// that while Epoch was current, entries up to Committed were committed.
type EpochStart struct {
	Epoch     Epoch
	Index     uint64
	Support   uint8
	Committed uint64
}

// LogEntry is one replicated log entry. Its index is implied by its position.
type LogEntry struct {
	Epoch Epoch
	Entry game.Entry
}

// Beacon is multicast (or sent to --peers) every heartbeat: who the node is,
// where to reach it, and what it believes. MAC is HMAC-SHA256 over the rest
// of the encoded beacon with the cluster secret (zero without a secret).
type Beacon struct {
	Version    uint16
	Cluster    string
	From       NodeID
	Instance   uint64 // random per process start: tells restarts and id collisions apart
	Epoch      Epoch
	Role       Role
	Leader     NodeID
	Commit     uint64
	Last       uint64
	Quorum     bool // quorum mode (a setting the cluster must agree on)
	Recovering bool // lost its data, catching up: it neither votes nor leads
	// FixedID: the node's id was given (--id) or is its data's; an id
	// chosen in this process is given up, not this one, when two collide.
	FixedID    bool
	ClientAddr string
	PeerAddr   string
	Advertise  string
	// ClusterID is the id of the history the node holds (its genesis's;
	// 0: none yet): in quorum mode nodes of two histories of one name
	// refuse each other.
	ClusterID uint64
	MAC       [32]byte
}

// Election is Bully's ELECTION, sent to higher ids.
type Election struct {
	From  NodeID
	Epoch Epoch
}

// ElectionOK is Bully's answer from a higher id: it takes over the election.
type ElectionOK struct {
	From  NodeID
	Epoch Epoch
}

// Coordinator announces a new primary (Epoch.Node()) and opens the view
// change: every receiver answers with a StateReply.
type Coordinator struct {
	From  NodeID
	Epoch Epoch
	// Reminder: the primary is in office already (it answers an ELECTION);
	// the view change is over.
	Reminder bool
}

// StateReply tells a primary (or primary-elect) what a node's log holds: it
// answers Coordinator, and is also how a node asks to (re)join a primary.
type StateReply struct {
	From      NodeID
	Epoch     Epoch
	Last      uint64
	Commit    uint64
	SnapIndex uint64 // entries up to here exist only in the state machine
	History   []EpochStart
	// Recovering: the node lost its data and has not caught up since; its
	// answer does not count as a vote.
	Recovering bool
	// Voters is the configuration as the node's log has it.
	Voters []NodeID
	// Since is a view change a recovering node answered in this life: the
	// oldest its primary-elect's process ran, else the first. If that was
	// no later than the one that made the cluster, by the same process,
	// and the node is still empty, it never held an entry: it has nothing
	// to forget.
	Since Epoch
	// Cluster is the id of the cluster's history (its genesis's) as the
	// node's state has it, 0 before it applied one: a cluster made afresh
	// under the same name has another, and its logs are not weighed
	// against this one's.
	Cluster uint64
}

// Fetch asks a node for its log after index After (entries, or a snapshot
// when Snapshot is set or the entries are gone).
type Fetch struct {
	From     NodeID
	Epoch    Epoch
	After    uint64
	Snapshot bool
}

// Append replicates entries after (PrevIndex, PrevEpoch) and carries the
// primary's commit index. With no entries it is a heartbeat. Support is the
// number of nodes the primary's view held when it took office in Epoch.
// History holds the primary's records of the older epochs the entries belong
// to (a node catching up learns what weighs their branch). Sent is the
// primary's clock when it sent the message; the ack echoes it (leases).
type Append struct {
	From      NodeID
	Epoch     Epoch
	PrevIndex uint64
	PrevEpoch Epoch
	Commit    uint64
	Support   uint8
	Sent      int64
	Entries   []LogEntry
	History   []EpochStart
}

// AppendAck answers Append (and Snapshot). OK with Match = the last index the
// node holds in the primary's log; not OK means the log did not match
// (Match is then a hint: the node's last index) or, with Epoch higher than
// the primary's, that the primary is deposed.
type AppendAck struct {
	From     NodeID
	Epoch    Epoch
	OK       bool
	Match    uint64
	Sent     int64
	NeedSnap bool
}

// Snapshot installs a whole state: the state machine after Index (whose
// entry had IndexEpoch), the epoch history, and log entries. The first
// Before entries of Tail are the last ones the state already holds (kept so
// that the receiver can describe, serve and compare recent history); the
// rest follow Index. Without Data, Tail is the log after Index.
// It answers Fetch, and catches up a backup that is too far behind.
type Snapshot struct {
	From       NodeID
	Epoch      Epoch
	Index      uint64
	IndexEpoch Epoch
	Commit     uint64
	History    []EpochStart
	Data       []byte
	Before     uint64
	Tail       []LogEntry
}

// Leave says the sender is leaving on purpose: do not wait for suspicion.
type Leave struct {
	From  NodeID
	Epoch Epoch
}

// RolledBack reports to the primary the player commands a node dropped to
// take the primary's log (a partition's losing branch). The primary logs
// each (player, sequence number) once, however many nodes report it.
type RolledBack struct {
	From  NodeID
	Epoch Epoch
	Items []game.RolledBack
}

// PeerHello opens a peer link in both directions: it names the node and
// carries a fresh challenge for the other side.
type PeerHello struct {
	Version  uint16
	Cluster  string
	From     NodeID
	Instance uint64
	Quorum   bool // quorum mode: peers must agree on it
	Nonce    [32]byte
}

// PeerAuth answers the other side's challenge: HMAC-SHA256 with the cluster
// secret over its nonce, the cluster name and this node's id.
type PeerAuth struct {
	From NodeID
	MAC  [32]byte
}

func (*Hello) Type() Type       { return THello }
func (*Welcome) Type() Type     { return TWelcome }
func (*Command) Type() Type     { return TCommand }
func (*Ack) Type() Type         { return TAck }
func (*Events) Type() Type      { return TEvents }
func (*ClusterView) Type() Type { return TClusterView }
func (*Redirect) Type() Type    { return TRedirect }
func (*Ping) Type() Type        { return TPing }
func (*Pong) Type() Type        { return TPong }
func (*Error) Type() Type       { return TError }
func (*Query) Type() Type       { return TQuery }
func (*QueryReply) Type() Type  { return TQueryReply }
func (*RoomState) Type() Type   { return TRoomState }
func (*Status) Type() Type      { return TStatus }
func (*Beacon) Type() Type      { return TBeacon }
func (*Election) Type() Type    { return TElection }
func (*ElectionOK) Type() Type  { return TElectionOK }
func (*Coordinator) Type() Type { return TCoordinator }
func (*StateReply) Type() Type  { return TStateReply }
func (*Fetch) Type() Type       { return TFetch }
func (*Append) Type() Type      { return TAppend }
func (*AppendAck) Type() Type   { return TAppendAck }
func (*Snapshot) Type() Type    { return TSnapshot }
func (*Leave) Type() Type       { return TLeave }
func (*RolledBack) Type() Type  { return TRolledBack }
func (*PeerHello) Type() Type   { return TPeerHello }
func (*PeerAuth) Type() Type    { return TPeerAuth }

func (m *Beacon) Header() (NodeID, Epoch)      { return m.From, m.Epoch }
func (m *Election) Header() (NodeID, Epoch)    { return m.From, m.Epoch }
func (m *ElectionOK) Header() (NodeID, Epoch)  { return m.From, m.Epoch }
func (m *Coordinator) Header() (NodeID, Epoch) { return m.From, m.Epoch }
func (m *StateReply) Header() (NodeID, Epoch)  { return m.From, m.Epoch }
func (m *Fetch) Header() (NodeID, Epoch)       { return m.From, m.Epoch }
func (m *Append) Header() (NodeID, Epoch)      { return m.From, m.Epoch }
func (m *AppendAck) Header() (NodeID, Epoch)   { return m.From, m.Epoch }
func (m *Snapshot) Header() (NodeID, Epoch)    { return m.From, m.Epoch }
func (m *Leave) Header() (NodeID, Epoch)       { return m.From, m.Epoch }
func (m *RolledBack) Header() (NodeID, Epoch)  { return m.From, m.Epoch }
