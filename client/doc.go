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
// the room it keeps. Its decisions are a pure part that the replica's
// fault simulation drives too, so the simulated players run this code.
package client
