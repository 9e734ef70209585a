//go:build gridlock_mutant

package replica

// mutantName is the broken variant the mutation suite has switched on
// ("": none). See TestMutantsAreCaught.
var mutantName string

func mutant(name string) bool { return mutantName == name }
