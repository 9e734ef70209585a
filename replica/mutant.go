//go:build !gridlock_mutant

package replica

// mutant reports whether the deliberately broken variant name is switched
// on. Only a build with the gridlock_mutant tag has variants (mutant_on.go,
// for the mutation suite); in every other build this is a constant false,
// and the compiler drops the branches it guards.
func mutant(string) bool { return false }
