package wire

import "fmt"

// Notices are what a node tells its own app and log of the cluster: not sent
// on the wire, but shared by the replica, the runtime and the client.

// NoticeKind classifies a notice.
type NoticeKind uint8

const (
	NoticeJoined NoticeKind = iota + 1
	NoticeSuspected
	NoticeElection
	NoticeElected
	NoticeFollowing
	NoticeStepDown
	NoticeViewDrop
	NoticeViewJoin
	NoticeRollback
	NoticeNoQuorum
	NoticeLeft
	NoticeSnapshot
	// NoticeStranger: a node on the group that cannot play with this one
	// (another protocol version).
	NoticeStranger
	// NoticeBehind: this node quit while others played on, and has not
	// heard them since: its game may be behind theirs.
	NoticeBehind
	// NoticeDetail is for the log file, not for players' screens.
	NoticeDetail
	// NoticeRefused: a node of this cluster's name that cannot join it
	// (its settings differ); the text says why.
	NoticeRefused
)

// Notice is something worth a line in the event log.
type Notice struct {
	Time  int64
	Kind  NoticeKind
	Node  NodeID
	Epoch Epoch
	Text  string
}

// NoQuorumText is the text of the NoticeNoQuorum a node gives when it will
// not act as primary: reachable voters (itself included) of the majority
// needed.
func NoQuorumText(reachable, quorum int) string {
	return fmt.Sprintf("only %d of the %d voters needed are reachable: not acting as primary", reachable, quorum)
}
