// Package node puts a replica core (package replica) on the network.
//
// A Node owns one replica.Core and the one goroutine that drives it: every
// beacon, peer message, broken link and client command becomes a Step,
// LinkDown or Propose, the passing of time a Tick, and what the core hands
// back in Ready is sent to peers, answered to players and pushed to the
// rooms. Around that loop it runs discovery (multicast beacons on the
// group, or unicast heartbeats to static peers), persistent TCP links to
// the peers (authenticated with the cluster secret when there is one), and
// the client service (HELLO, sessions, commands answered after commit,
// events and cluster views pushed, REDIRECT from a node that does not
// serve).
//
// All its traffic goes through a Network (Options.Network; RealNetwork by
// default): MemNetwork runs whole clusters in one process, with cuts,
// isolation and crashes, so the runtime's tests need no sockets, and
// FaultSwitch cuts a node off its peers while its players still reach it.
//
// The node decides nothing about the protocol: who leads, what is
// committed and what is rolled back are the core's. It must never block its
// loop on a peer or a player: writes go through bounded queues, a room's
// events are encoded once for all its members (fanout.go), and a client
// too slow to keep up gets its room whole later rather than being waited
// for.
package node
