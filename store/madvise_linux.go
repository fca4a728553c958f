package store

import "syscall"

// dontNeed is madvise(MADV_DONTNEED) over [addr, addr+n): for bbolt's read-only shared mapping of the file
// it only unmaps the pages from the process (a later read maps them again from the page cache).
func dontNeed(addr uintptr, n int64) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(n), syscall.MADV_DONTNEED)
}
