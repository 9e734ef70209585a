// Package replica is gridlock's replication protocol as a pure state
// machine: membership and failure detection, Bully election with epochs,
// the view change, primary-backup replication and the commit rule.
//
// # Usage
//
// A Core is one node's replica. Its owner (package node in production, the
// fault simulation in tests) drives it from one goroutine:
//
//	c, _ := replica.NewCore(cfg, now)
//	for {
//		// one input at a time: a peer's message, a broken link, a
//		// player's command, or the passing of time
//		c.Tick(now)
//		c.Step(msg)
//		c.LinkDown(peer)
//		c.Propose(session, seq, cmd)
//		rd := c.Ready()
//		// send rd.Messages; answer the players whose commands are in
//		// rd.Committed; show rd.Notices
//		// then wait for the next input, or until c.Due()
//	}
//
// The core starts no goroutine, touches no socket or file and never reads
// a clock: time is what Tick says it is. So the simulation runs thousands of
// schedules of crashes, pauses, partitions and message faults through the
// very code that runs in production, and replays any of them from its seed.
//
// # The protocol
//
// Failure detection. Every node beacons each heartbeat (while the cluster
// is idle, each steady period: see Due). A peer is suspected after the
// suspicion timeout with no word from it, or at once when the runtime
// reports its link broken: a crashed primary is noticed in milliseconds, a
// hung one within the timeout.
//
// Election. Bully: a node that suspects the primary sends ELECTION to the
// live nodes with higher ids; any that answers takes the election over; a
// node that hears no answer takes office. Every message carries an epoch
// (term, incarnation, node): a higher epoch deposes, an older one is
// refused.
//
// View change. Bully decides who leads; the new primary then decides what
// the state is: it asks every live node for its log's shape (its epoch
// history and last index), keeps the best log (a log that contains another
// wins; between branches, the one with committed entries held by the most
// nodes), fetches what it lacks, and only then serves. Its first entry is a
// ViewChange that commits the new epoch.
//
// Replication. The primary orders commands into its log and streams them
// to the backups in APPEND messages; an entry commits when every backup in
// the view holds it (with a quorum, when a quorum does), and only then is
// it applied and its player answered. A backup that does not acknowledge in
// time leaves the view, and the primary takes office anew in a new epoch,
// so that each epoch records the view that committed its entries.
//
// Rollbacks. Without a quorum, both sides of a partition may commit. When
// they meet, the branch kept is the one that held more nodes; each node
// that drops a player's command reports it until a Rollback entry names it,
// so that every player whose acknowledged command was undone is told.
//
// The core must never acknowledge a command before the rule says it is
// committed, never apply an entry twice or out of order, and never take
// office with less than every committed entry.
package replica
