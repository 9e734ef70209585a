// Package demo runs `gridlock demo`: a cluster of gridlock nodes as child
// processes on loopback, bots that play on it, and the presenter's means
// to break it (kill -9, pause or cut off the primary; restart the dead;
// add a node), with the story told as it happens: each failover's times
// from the fault to the suspicion, the new primary and the first move it
// acknowledged, and the bots' running count of acknowledged and lost moves.
//
// The nodes are `gridlock serve` processes with a cluster name and a
// multicast group of their own, in quorum mode, each with a data directory
// under the demo's temporary directory (a restarted node comes back from
// its disk). Each is in a process group of its own and gets SIGKILL when
// the demo dies, however it dies; the temporary directory goes when the
// demo ends, and one that a demo killed with kill -9 left is removed by
// the next demo. The demo learns what the nodes do through their status
// connections (their views, pushed at every change) and the bots'
// acknowledgements, never from their logs.
//
// It must not draw anything (the app is the caller's) nor write to the
// terminal: the nodes' output goes to their logs.
package demo
