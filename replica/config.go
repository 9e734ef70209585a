package replica

import (
	"errors"
	"fmt"
	"time"

	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Config holds every setting of a replica core. Times are durations of the
// clock the core is ticked with (wall clock in the runtime, simulated time in
// tests).
type Config struct {
	// ID is this node's id, 1..65535. Bully makes the highest live id primary.
	ID wire.NodeID

	// Heartbeat is how often the node sends a beacon, and how often a
	// primary sends an (empty) APPEND to each backup.
	Heartbeat time.Duration

	// Suspicion is how long a peer may stay silent before it is suspected.
	// A broken link is a suspicion at once.
	Suspicion time.Duration

	// ElectionAnswer is how long a node waits for OK from a higher id after
	// sending ELECTION before it takes office itself.
	ElectionAnswer time.Duration

	// AckTimeout is how long a backup in the view may take to acknowledge
	// an entry before the primary drops it from the view (it catches up
	// later and rejoins).
	AckTimeout time.Duration

	// StartupWait is how long a new node listens before it first elects,
	// so that it learns the cluster (and its epochs) before acting.
	StartupWait time.Duration

	// CoordinatorWait is how long a node that got OK waits for the
	// COORDINATOR of the higher node before it starts the election again.
	CoordinatorWait time.Duration

	// SyncWait bounds the view change: a primary-elect waits for the state
	// of every live node, but no longer than this.
	SyncWait time.Duration

	// Quorum, when above 0, is the number of nodes (the primary included)
	// that must hold an entry for it to commit, and that must be reachable
	// for a node to act as primary. Set it to a majority of the cluster.
	Quorum int

	// LogKeep is how many applied entries a node keeps in memory for
	// backups that lag; a backup further behind gets a snapshot.
	LogKeep int

	// MaxBatch is the most entries one APPEND carries.
	MaxBatch int

	// Rules are the game rules the node writes into a new cluster's first
	// entry.
	Rules game.Rules

	// Incarnation tells this process's epochs from those the same id held
	// in an earlier life (the runtime picks it at random).
	Incarnation uint16

	// Seed is the cluster seed a new cluster's first entry carries (the
	// runtime picks it at random; tests fix it).
	Seed uint64

	// UnsafeAsync makes the primary commit entries before any backup holds
	// them. It exists only so that tests can show the checkers catch the
	// loss it causes; never set it otherwise.
	UnsafeAsync bool
}

// DefaultConfig returns the default timings: heartbeat 100 ms, suspicion
// 500 ms, election answer 150 ms, acknowledgement 250 ms.
func DefaultConfig(id wire.NodeID) Config {
	c := Config{
		ID:             id,
		Heartbeat:      100 * time.Millisecond,
		Suspicion:      500 * time.Millisecond,
		ElectionAnswer: 150 * time.Millisecond,
		AckTimeout:     250 * time.Millisecond,
		LogKeep:        4096,
		MaxBatch:       512,
		Rules:          game.DefaultRules(),
	}
	c.fillDerived()
	return c
}

// TestConfig returns timings ten times shorter than the defaults, for
// simulations and tests that run many failovers.
func TestConfig(id wire.NodeID) Config {
	c := DefaultConfig(id)
	c.Heartbeat = 10 * time.Millisecond
	c.Suspicion = 50 * time.Millisecond
	c.ElectionAnswer = 15 * time.Millisecond
	c.AckTimeout = 25 * time.Millisecond
	c.StartupWait, c.CoordinatorWait, c.SyncWait = 0, 0, 0
	c.LogKeep = 256
	c.MaxBatch = 64
	c.fillDerived()
	return c
}

// fillDerived sets the timings that default to a multiple of others.
func (c *Config) fillDerived() {
	if c.StartupWait == 0 {
		c.StartupWait = c.Heartbeat*2 + c.Heartbeat/2
	}
	if c.CoordinatorWait == 0 {
		c.CoordinatorWait = c.Suspicion
	}
	if c.SyncWait == 0 {
		c.SyncWait = c.Suspicion + c.ElectionAnswer
	}
}

// Validate refuses settings that cannot work.
func (c *Config) Validate() error {
	c.fillDerived()
	var errs []error
	if c.ID == 0 {
		errs = append(errs, errors.New("node id must be 1..65535"))
	}
	if c.Heartbeat <= 0 {
		errs = append(errs, errors.New("heartbeat must be positive"))
	}
	if c.Suspicion <= 2*c.Heartbeat {
		errs = append(errs, fmt.Errorf("suspicion (%v) must be more than two heartbeats (%v)", c.Suspicion, 2*c.Heartbeat))
	}
	if c.ElectionAnswer <= 0 {
		errs = append(errs, errors.New("election answer timeout must be positive"))
	}
	if c.AckTimeout <= c.Heartbeat {
		errs = append(errs, fmt.Errorf("acknowledgement timeout (%v) must be more than a heartbeat (%v)", c.AckTimeout, c.Heartbeat))
	}
	if c.CoordinatorWait < c.ElectionAnswer {
		errs = append(errs, errors.New("coordinator wait must be at least the election answer timeout"))
	}
	if c.SyncWait < c.ElectionAnswer {
		errs = append(errs, errors.New("sync wait must be at least the election answer timeout"))
	}
	if c.Quorum < 0 || c.Quorum > 255 {
		errs = append(errs, errors.New("quorum must be 0 (off) or 1..255"))
	}
	if c.LogKeep < 16 {
		errs = append(errs, errors.New("log keep must be at least 16 entries"))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, errors.New("max batch must be at least 1"))
	}
	return errors.Join(errs...)
}
