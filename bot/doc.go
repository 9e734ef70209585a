// Package bot runs automated players against a gridlock cluster, for load,
// demos and tests.
//
// Each bot is a real client (package client): it joins a room, places
// digits (some wrong on purpose), claims cells and chats at the rate it is
// given, across failovers, and remembers every command the cluster
// acknowledged. At the end it takes a fresh copy of its room from the
// primary and checks that nothing acknowledged was lost: every placement it
// was told was right is on the board (or its rollback was announced), every
// chat line it was told was logged is in the history, once and in order.
// Run returns a Report with the latencies, reconnects, rollbacks and losses.
// While they play, each bot also checks its room whenever it comes whole
// from a primary (after every failover), and Options.Progress hears the
// running tally. When they end, the bots close their sessions, as a player
// who quits does, so that their names are free at once.
//
// A bot never reads the cluster's state other than as a player does.
package bot
