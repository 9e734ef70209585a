//go:build race

package replica

// The race detector slows the single-goroutine simulation tenfold and
// finds nothing in it; under -race the default number of schedules is
// smaller (GRIDLOCK_SIM_SCHEDULES still sets it).
const raceEnabled = true
