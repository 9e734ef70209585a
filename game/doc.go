// Package game holds gridlock's rules as a pure, deterministic state machine.
//
// A State is changed only by Apply, one committed log entry at a time. The
// same entries in the same order give the same State on every replica: the
// package does no I/O, starts no goroutines, never reads the clock (time comes
// in the entries, stamped by the primary) and takes randomness only as seeds.
//
// It owns the rules: rooms and their members, puzzles (generated from a seed,
// each with exactly one solution, graded by difficulty), moves and scores,
// claims and their leases, rounds, chat histories, and the sessions that
// name players and make a retried command apply at most once. Snapshot and
// Restore carry the whole State to a replica that catches up.
package game
