//go:build unix

package pipeline

import (
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on f for as long as it is open, so
// that removeStaleTemps leaves a live temporary file alone.
func lock(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// tryLock reports whether an exclusive lock on f could be taken: no live
// writer holds one.
func tryLock(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// keepOwner gives f the owner of fi's file where the process may (root).
func keepOwner(f *os.File, fi os.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return
	}
	f.Chown(int(st.Uid), int(st.Gid))
}
