package dedup

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/sharegpt/sharegpt/pipeline"
)

// turnMark starts every turn in a multi-turn key text: the byte followed
// by the role name makes one token (word shingles) or a few characters
// (char shingles), so that turn boundaries count and a turn moved from
// one role to the other changes the key.
const turnMark = '\x1e'

// keyText appends the text of rec that opt.Key compares, normalised, to
// dst. ok is false when the record has nothing to compare (no id, no turn
// of the role, only empty turns): such a record is nobody's duplicate.
func (t *textor) keyText(dst []byte, rec *pipeline.Record) (out []byte, ok bool) {
	start := len(dst)
	text := false
	add := func(turn *pipeline.Turn, mark bool) {
		if mark {
			dst = append(dst, turnMark)
			dst = append(dst, turn.From...)
			dst = append(dst, ' ')
		}
		n := len(dst)
		dst = t.appendNorm(dst, turn.Value)
		if len(dst) > n {
			text = true
			dst = append(dst, ' ')
		}
	}
	switch t.key {
	case KeyID:
		if !rec.HasID() || rec.ID == "" {
			return dst, false
		}
		return append(dst, rec.ID...), true
	case KeyFirstTurn:
		// The first human turn; a record without one (a lone system
		// prompt) is compared by its first turn.
		first := -1
		for i := range rec.Conversations {
			if rec.Conversations[i].From == pipeline.RoleHuman {
				first = i
				break
			}
		}
		if first < 0 && len(rec.Conversations) > 0 {
			first = 0
		}
		if first >= 0 {
			add(&rec.Conversations[first], false)
		}
	case KeyHuman, KeyGPT:
		role := pipeline.RoleHuman
		if t.key == KeyGPT {
			role = pipeline.RoleGPT
		}
		for i := range rec.Conversations {
			if rec.Conversations[i].From == role {
				add(&rec.Conversations[i], true)
			}
		}
	default: // KeyConversation
		for i := range rec.Conversations {
			add(&rec.Conversations[i], true)
		}
	}
	if !text {
		return dst[:start], false
	}
	if dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst, true
}

// textor turns records into key texts, exact hashes and shingles. It is
// safe for concurrent use.
type textor struct {
	key        Key
	normalize  bool
	stripPunct bool
	shingle    Shingle
	ngram      int
	folders    sync.Pool // *cases.Caser
}

func newTextor(opt *Options) *textor {
	t := &textor{key: opt.Key, normalize: opt.Normalize, stripPunct: opt.StripPunct, shingle: opt.Shingle, ngram: opt.NGram}
	t.folders.New = func() any { c := cases.Fold(); return &c }
	return t
}

// appendNorm appends s normalised: without normalisation as it is; with
// it in Unicode NFC, case folded, punctuation turned into spaces when
// asked, runs of white space collapsed to one space and trimmed.
func (t *textor) appendNorm(dst []byte, s string) []byte {
	// Normalised text is rarely longer than s: one growth, not a doubling
	// series of copies, for a long turn.
	dst = slices.Grow(dst, len(s)+1)
	if !t.normalize {
		return append(dst, s...)
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	start := len(dst)
	space := true // at the start: drop leading space
	if ascii {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
				c = ' '
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case t.stripPunct && asciiPunct(c):
				c = ' '
			}
			if c == ' ' {
				if space {
					continue
				}
				space = true
			} else {
				space = false
			}
			dst = append(dst, c)
		}
	} else {
		s = norm.NFC.String(s)
		f := t.folders.Get().(*cases.Caser)
		s = f.String(s)
		t.folders.Put(f)
		for _, r := range s {
			if unicode.IsSpace(r) || (t.stripPunct && (unicode.IsPunct(r) || unicode.IsSymbol(r))) {
				if space {
					continue
				}
				space = true
				dst = append(dst, ' ')
				continue
			}
			space = false
			dst = utf8.AppendRune(dst, r)
		}
	}
	if len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

func asciiPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

// Hashing: a small multiply-xor hash in the style of wyhash. Fixed
// constants make hashes, and so every decision, the same on every run.
const (
	k0 = 0xa0761d6478bd642f
	k1 = 0xe7037ed1a0b428db
	k2 = 0x8ebc6af09c88c6e3
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash64 hashes b with a seed.
func hash64(b []byte, seed uint64) uint64 {
	h := seed ^ k0 ^ uint64(len(b))*k2
	for len(b) >= 16 {
		h = mix(binary.LittleEndian.Uint64(b)^k1^h, binary.LittleEndian.Uint64(b[8:])^k2)
		b = b[16:]
	}
	if len(b) >= 8 {
		h = mix(binary.LittleEndian.Uint64(b)^k1^h, k2)
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	return mix(mix(h^tail^k1, k0^uint64(len(b))), k2)
}

// shingles calls emit with the 32-bit hash of every shingle of text: runs
// of ngram words (split at white space) or ngram characters. A text
// shorter than one shingle is one shingle. Repeated shingles are emitted
// again; MinHash does not mind. Only the last ngram units are held
// (window is reused scratch, returned for the next call), so the memory
// does not grow with the text.
func (t *textor) shingles(text []byte, emit func(uint32), window []uint64) []uint64 {
	n := t.ngram
	if cap(window) < n {
		window = make([]uint64, n)
	}
	window = window[:n]
	seen := 0 // units so far; the newest is window[(seen-1)%n]
	unit := func(u uint64) {
		window[seen%n] = u
		seen++
		if seen >= n {
			emit(shingleHash(window, seen%n, n))
		}
	}
	if t.shingle == ShingleChar {
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRune(text[i:])
			unit(uint64(r)*k1 + k2)
			i += size
		}
	} else {
		i := 0
		for i < len(text) {
			for i < len(text) && isSpaceByte(text[i]) {
				i++
			}
			j := i
			for j < len(text) && !isSpaceByte(text[j]) {
				j++
			}
			if j > i {
				unit(hash64(text[i:j], 0))
			}
			i = j
		}
	}
	if seen > 0 && seen < n { // shorter than one shingle: one shingle of all
		emit(shingleHash(window, 0, seen))
	}
	return window
}

// shingleHash hashes n units of the ring window, oldest first from start:
// window[start:] then window[:start], or window[:n] for a short text.
func shingleHash(window []uint64, start, n int) uint32 {
	h := uint64(n)
	first := window[start:min(start+n, len(window))]
	for _, u := range first {
		h = mix(h^u, k0)
	}
	for _, u := range window[:n-len(first)] {
		h = mix(h^u, k0)
	}
	return uint32(h ^ h>>32)
}

// isSpaceByte reports ASCII white space; normalised text holds no other.
// Without normalisation, other Unicode spaces stay inside words.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
