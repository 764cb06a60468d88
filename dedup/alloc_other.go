//go:build !unix

package dedup

func allocChunk(n int) []byte { return make([]byte, n) }

func freeChunk([]byte) {}
