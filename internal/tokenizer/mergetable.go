package tokenizer

// mergeVal is the result of merging a pair of symbols.
type mergeVal struct {
	merged int32   // piece id of the merged symbol
	score  float32 // priority: higher merges first, leftmost on ties
}

// mergeTable is an open-addressing hash table from a pair of merge ids to
// mergeVal. It is built once and then only read, so it is safe for
// concurrent use.
type mergeTable struct {
	keys  []uint64 // left<<32 | right, emptyKey when unused
	vals  []mergeVal
	mask  uint64
	count int
}

const emptyKey = ^uint64(0)

func newMergeTable(n int) mergeTable {
	size := 16
	for size < 2*n+2 {
		size *= 2
	}
	t := mergeTable{keys: make([]uint64, size), vals: make([]mergeVal, size), mask: uint64(size - 1)}
	for i := range t.keys {
		t.keys[i] = emptyKey
	}
	return t
}

func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

func hashKey(k uint64) uint64 {
	k *= 0x9E3779B97F4A7C15
	return k ^ (k >> 29)
}

func (t *mergeTable) put(l, r int32, v mergeVal) {
	if 2*(t.count+1) > len(t.keys) {
		t.grow()
	}
	k := pairKey(l, r)
	i := hashKey(k) & t.mask
	for {
		switch t.keys[i] {
		case k:
			t.vals[i] = v
			return
		case emptyKey:
			t.keys[i] = k
			t.vals[i] = v
			t.count++
			return
		}
		i = (i + 1) & t.mask
	}
}

func (t *mergeTable) grow() {
	old := *t
	*t = newMergeTable(len(old.keys) - 1) // 2*len(old.keys) slots
	for i, k := range old.keys {
		if k != emptyKey {
			t.put(int32(k>>32), int32(uint32(k)), old.vals[i])
		}
	}
}

func (t *mergeTable) get(l, r int32) (mergeVal, bool) {
	if l < 0 || r < 0 || len(t.keys) == 0 {
		return mergeVal{}, false
	}
	k := pairKey(l, r)
	i := hashKey(k) & t.mask
	for {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case emptyKey:
			return mergeVal{}, false
		}
		i = (i + 1) & t.mask
	}
}
