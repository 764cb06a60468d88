package dedup

import "unsafe"

// minhasher holds k hash functions h_i(x) = (a_i·x + b_i) >> 32 on 32-bit
// shingle hashes x, with random 64-bit a_i, b_i: multiply-add-shift, a
// strongly universal family (Dietzfelbinger 1996). The seed is fixed, so
// signatures are the same on every run and machine.
type minhasher struct {
	a, b []uint64
}

func newMinhasher(k int) *minhasher {
	m := &minhasher{a: make([]uint64, k), b: make([]uint64, k)}
	state := uint64(0x5eed_d0d0_cafe_f00d)
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return z ^ z>>31
	}
	for i := range m.a {
		m.a[i] = next()
		m.b[i] = next()
	}
	return m
}

// reset makes sig the signature of no shingles.
func (m *minhasher) reset(sig []uint32) {
	for i := range sig {
		sig[i] = ^uint32(0)
	}
}

// add folds the shingle hashes xs into sig: the signature of a text can be
// built chunk by chunk.
func (m *minhasher) add(sig []uint32, xs []uint32) {
	a, b := m.a[:len(sig)], m.b[:len(sig)]
	for _, x := range xs {
		xx := uint64(x)
		for i := range sig {
			v := uint32((a[i]*xx + b[i]) >> 32)
			if v < sig[i] {
				sig[i] = v
			}
		}
	}
}

// bandHash hashes rows of a signature into one bucket key of band j.
func bandHash(rows []uint32, j int) uint64 {
	h := uint64(j+1) * k1
	for i := 0; i+1 < len(rows); i += 2 {
		h = mix(h^(uint64(rows[i])|uint64(rows[i+1])<<32), k0)
	}
	if len(rows)%2 == 1 {
		h = mix(h^uint64(rows[len(rows)-1]), k2)
	}
	return mix(h, k1)
}

// similarity is the fraction of equal positions: the MinHash estimate of
// the Jaccard similarity.
func similarity(a, b []uint32) float64 {
	eq := 0
	b = b[:len(a)]
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	return float64(eq) / float64(len(a))
}

func u32bytes(s []uint32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*4)
}

func bytesU32(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func bytesU64(b []byte) []uint64 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
}
