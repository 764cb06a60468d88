//go:build unix

package dedup

import "syscall"

// allocChunk returns zeroed memory outside the Go heap, so that the
// garbage collector neither scans it nor lets the heap grow to twice it.
func allocChunk(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

func freeChunk(b []byte) {
	if syscall.Munmap(b) != nil {
		// it came from make: the garbage collector frees it
		return
	}
}
