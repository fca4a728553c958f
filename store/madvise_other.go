//go:build !linux

package store

// dontNeed does nothing where madvise is not used.
func dontNeed(addr uintptr, n int64) {}
