package dedup

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// shinglesWhole is the shingling of the whole text at once, as it was
// before the window: the reference the streaming form must equal.
func shinglesWhole(t *textor, text []byte) []uint32 {
	var units []uint64
	if t.shingle == ShingleChar {
		for i := 0; i < len(text); {
			r, n := utf8.DecodeRune(text[i:])
			units = append(units, uint64(r)*k1+k2)
			i += n
		}
	} else {
		for _, w := range strings.Fields(string(text)) {
			units = append(units, hash64([]byte(w), 0))
		}
	}
	n := min(t.ngram, len(units))
	var out []uint32
	for i := 0; n > 0 && i+n <= len(units); i++ {
		h := uint64(n)
		for _, u := range units[i : i+n] {
			h = mix(h^u, k0)
		}
		out = append(out, uint32(h^h>>32))
	}
	return out
}

func TestShinglesWindow(t *testing.T) {
	texts := []string{"", "a", "ab", "one two", "one two three four five six seven",
		"héllo wörld ✓ 日本語のテキスト", strings.Repeat("lorem ipsum dolor ", 200), "  spaced\tout\n words  "}
	for _, shingle := range []Shingle{ShingleWord, ShingleChar} {
		for _, n := range []int{1, 2, 5, 9} {
			tx := &textor{shingle: shingle, ngram: n}
			var window []uint64
			for _, text := range texts {
				var got []uint32
				window = tx.shingles([]byte(text), func(x uint32) { got = append(got, x) }, window)
				if want := shinglesWhole(tx, []byte(text)); !slices.Equal(got, want) {
					t.Errorf("shingle %v n=%d %q: %v, want %v", shingle, n, text, got, want)
				}
			}
		}
	}
}

// TestLongTextMemory: signing a 16 MB text allocates a small multiple of
// nothing but the text (before: 12 bytes per character of shingles).
func TestLongTextMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("16 MB text")
	}
	text := []byte(strings.Repeat("word ", 16<<20/5))
	for _, shingle := range []Shingle{ShingleWord, ShingleChar} {
		tx := &textor{shingle: shingle, ngram: 5}
		shing := make([]uint32, 0, shingleChunk)
		sig := make([]uint32, 128)
		m := newMinhasher(128)
		allocs := testing.AllocsPerRun(1, func() {
			m.reset(sig)
			tx.shingles(text, func(x uint32) {
				if shing = append(shing, x); len(shing) == shingleChunk {
					m.add(sig, shing)
					shing = shing[:0]
				}
			}, nil)
		})
		if allocs > 2 {
			t.Errorf("shingle %v: %v allocations signing a long text", shingle, allocs)
		}
	}
}
