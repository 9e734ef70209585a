// Package client is the only way the app and the bots talk to a gridlock
// cluster.
//
// A Client finds the primary (from the embedded node in play mode, from the
// addresses it was given, from the cluster views it receives), follows
// redirects and leader changes, resends unanswered commands with the same
// sequence number after a failover (the cluster answers a repeat with its
// first result, so a command is applied at most once), resumes the player's
// session by token, and keeps a copy of the player's room current from the
// events the primary pushes.
//
// It owns the player's connection and nothing else: it never imports the
// replica or the runtime (the embedded node reaches it through the Local
// interface), and the app reads it only through its events, its status and
// the room it keeps.
//
// The package has two parts, after the model of the replica core:
//
//   - Core holds every decision and nothing else: which address to try
//     next (a redirect's, the primary's as last seen, the embedded node,
//     the addresses given, every node known), what to send on a new
//     connection, what each message from a node means, when a silent
//     primary is suspected (StallAfter: watch the other nodes' views) and
//     given up (DeadAfter), and that a view naming a newer primary means
//     moving there. It is driven by inputs (Connected, DialFailed, Receive,
//     Closed, Send, Query, LocalChanged, Reconnect, Stop, and Tick with the
//     time) and hands back a Ready: connections to dial, messages to send,
//     connections to close, events for the app. It reads no clock, starts
//     no goroutine and touches no socket (a test checks), so that the
//     replica's fault simulation runs it as its players' client.
//   - Client is the runtime: it dials, reads and writes each connection in
//     goroutines of its own, wakes the core at its Deadline, relays the
//     embedded node's view, and queues events for the app. It decides
//     nothing the core could.
package client
