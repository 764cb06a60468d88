package pipeline

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects a deterministic part of the input: shard Index of Count
// takes the records whose id hashes (64-bit FNV-1a) to Index modulo Count;
// records without an id, and input that could not be read as a record, go
// by a hash of their bytes. Running every shard of a job gives each input
// record to exactly one of them, whatever machine runs it. The zero value
// (Count 0) takes everything.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/N" (0 <= i < N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/N with 0 <= i < N, as 3/8", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "i/N", or "" for the whole input.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// owns reports whether a record with this key belongs to the shard.
func owns[K string | []byte](s Shard, key K) bool {
	h := uint64(14695981039346656037) // FNV-1a, 64 bits
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h%uint64(s.Count) == uint64(s.Index)
}

// ownsItem decides for a decoded (or undecodable) element.
func (s Shard) ownsItem(rec *Record, el Element) bool {
	if s.Count <= 1 {
		return true
	}
	switch {
	case rec != nil && rec.HasID():
		return owns(s, rec.ID)
	case el.Raw != nil:
		return owns(s, el.Raw)
	case rec != nil:
		return owns(s, AppendRecord(nil, rec, OutShareGPT))
	default:
		return owns(s, strconv.FormatInt(el.Index, 10))
	}
}
