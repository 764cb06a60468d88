// Package nprand reproduces the parts of numpy's legacy random generator
// (np.random.seed, np.random.shuffle, np.random.permutation: the
// RandomState API) that FastChat's data scripts use, number for number, so
// that a seeded Go run picks the same records as the Python script.
//
// numpy's legacy RandomState is the 32-bit Mersenne Twister (MT19937)
// seeded by Knuth's init_genrand when the seed is an integer (Python's own
// random.seed uses init_by_array instead, so the two differ for the same
// seed). Its shuffle walks i from n-1 down to 1 and swaps element i with
// element j = random_interval(i): the smallest all-ones bit mask covering i
// applied to successive 32-bit outputs until the value is at most i.
package nprand

import "fmt"

const (
	stateLen = 624
	mid      = 397
)

// RandomState is numpy's legacy RandomState generator. The zero value is
// not seeded; use New.
type RandomState struct {
	key [stateLen]uint32
	pos int
}

// New returns the generator np.random.seed(seed) leaves behind.
func New(seed uint32) *RandomState {
	r := &RandomState{}
	s := seed
	for i := range r.key {
		r.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	r.pos = stateLen
	return r
}

func (r *RandomState) generate() {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	for i := range stateLen {
		y := r.key[i]&upper | r.key[(i+1)%stateLen]&lower
		v := r.key[(i+mid)%stateLen] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		r.key[i] = v
	}
	r.pos = 0
}

// Uint32 returns the next 32-bit output (genrand_int32).
func (r *RandomState) Uint32() uint32 {
	if r.pos >= stateLen {
		r.generate()
	}
	y := r.key[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	return y ^ y>>18
}

// Interval returns a uniform integer in [0, max] as numpy's random_interval
// does (the draws it consumes matter as much as the value).
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	mask |= mask >> 32
	if max <= 0xffffffff {
		for {
			if v := uint64(r.Uint32()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		if v := (uint64(r.Uint32())<<32 | uint64(r.Uint32())) & mask; v <= max {
			return v
		}
	}
}

// MaxPermutation is the largest n Permutation accepts: indexes are held
// as uint32 (4 bytes each).
const MaxPermutation = 1<<32 - 1

// Permutation returns what np.random.permutation(n) returns on this
// generator: 0..n-1 in the order np.random.shuffle leaves a list of n
// elements, so element k of the shuffled list is the input's element
// perm[k]. It holds 4 bytes per element.
func (r *RandomState) Permutation(n int64) ([]uint32, error) {
	if n < 0 || n > MaxPermutation {
		return nil, fmt.Errorf("nprand: permutation of %d elements (at most %d)", n, int64(MaxPermutation))
	}
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	for i := n - 1; i >= 1; i-- {
		j := r.Interval(uint64(i))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm, nil
}
