package game

import "time"

// Rules are the cluster-wide settings of the game. They travel in the Genesis
// entry and in snapshots, so that every replica plays by the same rules.
type Rules struct {
	ClaimLease     time.Duration // how long a claim holds (default 10 s)
	SessionGrace   time.Duration // how long a disconnected session survives (default 60 s)
	RoundCountdown time.Duration // pause between a round's end and the next puzzle (default 5 s)
	ChatHistory    int           // lines kept per room (default 200)
	MaxRooms       int           // rooms at once, main included (default 32)
	MaxSessions    int           // live sessions at once (default 10000)
	DedupeWindow   int           // results kept per session for retried commands (default 64)
	MainSize       uint8         // size of room main's puzzles (default 9)
	MainDifficulty Difficulty    // difficulty of room main's puzzles (default Medium)
}

// The largest values Normalize lets Rules take. Package wire sizes its
// limits by them, so that a room at the caps still fits one message.
const (
	ChatHistoryCap  = 1000
	MaxRoomsCap     = 1000
	MaxSessionsCap  = 10000
	DedupeWindowCap = 1024
)

// DefaultRules returns the rules a new cluster plays by unless told otherwise.
func DefaultRules() Rules {
	return Rules{
		ClaimLease:     10 * time.Second,
		SessionGrace:   60 * time.Second,
		RoundCountdown: 5 * time.Second,
		ChatHistory:    200,
		MaxRooms:       32,
		MaxSessions:    10000,
		DedupeWindow:   64,
		MainSize:       9,
		MainDifficulty: Medium,
	}
}
