// Package sshd serves the game over SSH: `ssh -p 2222 alice@host` plays,
// with nothing to install. It runs beside a node (`gridlock serve --ssh`),
// on Wish and the Charm SSH server.
//
// Every SSH session runs the app (package tui) in this process as a client
// of the cluster (package client), as `gridlock connect` would, reaching
// the primary through the node it runs beside: the app follows the
// primary through a failover like any client. The app is sized to the
// session's terminal and follows its window changes, and draws with the
// session's colour profile and background, not the server's.
//
// Players: the SSH user name is the player's name, or the player is asked
// for one when it is taken or not a valid name. Any public key or
// keyboard-interactive login is a player, unless an authorized keys file
// admits only its keys. A key's session token is derived from the key and
// the name with a secret only the server holds (or the cluster secret,
// which every server of the cluster holds), so a player who comes back
// with the same key resumes the same session; the newest connection with
// a key and name takes the session from an older one. The host key is
// made once and kept, so players are not warned of a new one on every
// restart.
//
// Limits: a cap on sessions and on connections still in their handshake,
// a handshake timeout, an idle timeout, and bounds on what a connection may
// ask before its session starts. A session's output goes through a bounded
// queue: a client that does not read loses frames (then gets a whole one)
// rather than stalling anything else.
//
// It must never import the replica or its runtime: the node is reached
// through the Node interface, and everything the sessions say to the
// cluster goes through the client library.
package sshd
