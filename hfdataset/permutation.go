package hfdataset

// mt19937 is the Mersenne Twister as numpy's legacy RandomState runs it.
type mt19937 struct {
	key [624]uint32
	pos int
}

// seed is numpy's mt19937_seed (Knuth's initialisation, init_genrand).
func (m *mt19937) seed(s uint32) {
	for i := range m.key {
		m.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	m.pos = len(m.key)
}

func (m *mt19937) generate() {
	const n, mid = 624, 397
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	for i := 0; i < n; i++ {
		y := m.key[i]&upper | m.key[(i+1)%n]&lower
		v := m.key[(i+mid)%n] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		m.key[i] = v
	}
	m.pos = 0
}

func (m *mt19937) uint32() uint32 {
	if m.pos >= len(m.key) {
		m.generate()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	return y ^ y>>18
}

func (m *mt19937) uint64() uint64 {
	return uint64(m.uint32())<<32 | uint64(m.uint32())
}

// interval returns a uniform integer in [0, max] as numpy's random_interval
// does: rejection sampling under the smallest all-ones mask >= max.
func (m *mt19937) interval(max uint64) uint64 {
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
			if v := uint64(m.uint32()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		if v := m.uint64() & mask; v <= max {
			return v
		}
	}
}

// Permutation returns what np.random.seed(seed); np.random.permutation(n)
// returns: the numbers 0..n-1 shuffled by numpy's legacy RandomState
// (Fisher–Yates from the end, j = random_interval(i)).
func Permutation(n int, seed uint32) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	var m mt19937
	m.seed(seed)
	for i := n - 1; i >= 1; i-- {
		j := int(m.interval(uint64(i)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// SplitPoint returns the number of training examples FastChat's
// split_train_test keeps: int(ratio * n).
func SplitPoint(n int, ratio float64) int {
	return int(ratio * float64(n))
}
