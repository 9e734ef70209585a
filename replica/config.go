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

	// Quorum turns on quorum mode: an entry commits when a majority of the
	// configuration's voters hold it, and a node takes office only with the
	// answers of such a majority, so that no partition ever has two sides
	// that commit. Off (availability mode), every backup in the primary's
	// view must hold an entry, and a lone node plays on; what a losing side
	// of a partition committed is rolled back, and its players told.
	Quorum bool

	// Durable: the runtime keeps what each Ready's Persist holds on disk,
	// and says with Synced when it is there. A primary then counts its own
	// entries toward a commit only once they are synced (backups
	// acknowledge only once theirs are: their acknowledgements are sent
	// after the write).
	Durable bool

	// Bootstrap lists the voters of a new cluster that this node may create
	// when it has no data: it does so only when it hears no node that has
	// any, and every node listed is up and empty (none may hold a game that
	// would be lost). Empty: the node never creates a cluster; it waits to
	// join one.
	Bootstrap []wire.NodeID
	// BootstrapAny lets the highest node with no data create a cluster of
	// its own when it hears no node that has data (play: a lone app starts
	// a game; others join it).
	BootstrapAny bool

	// ClusterID is the id a cluster this node creates gets (the runtime
	// picks it at random; tests fix it).
	ClusterID uint64

	// LogKeep is how many applied entries a node keeps in memory for
	// backups that lag; a backup further behind gets a snapshot.
	LogKeep int

	// MaxBatch is the most entries one APPEND carries.
	MaxBatch int

	// Rules are the game rules the node writes into a new cluster's first
	// entry.
	Rules game.Rules

	// Life tells this process's epochs from those the same id held in an
	// earlier life: the runtime draws a random 64-bit number at each start
	// (a node restarted from disk never reuses an epoch anyway: it keeps
	// the last one it took). Tests give each start its own.
	Life uint64

	// Seed is the cluster seed a new cluster's first entry carries (the
	// runtime picks it at random; tests fix it).
	Seed uint64

	// UnsafeAsync makes the primary commit entries before any backup holds
	// them, and ship them with its heartbeats, as lazy replication does.
	// It exists only so that tests can show the checkers catch the loss it
	// causes; never set it otherwise.
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
	if len(c.Bootstrap) > game.MaxVoters {
		errs = append(errs, fmt.Errorf("at most %d bootstrap voters", game.MaxVoters))
	}
	for _, id := range c.Bootstrap {
		if id == 0 {
			errs = append(errs, errors.New("bootstrap voters are node ids 1..65535"))
			break
		}
	}
	if c.LogKeep < 16 {
		errs = append(errs, errors.New("log keep must be at least 16 entries"))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, errors.New("max batch must be at least 1"))
	}
	return errors.Join(errs...)
}
