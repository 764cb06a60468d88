package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// byteLevel is a byte-level BPE model (GPT-2's ByteLevel pre-tokenizer and
// decoder) with its normalizer and Split pre-tokenizers, encoded as Hugging
// Face tokenizers does: each pre-tokenized word is cut into bytes, and the
// adjacent pair whose merge has the lowest rank is merged first, the
// leftmost on ties; with ignore_merges a word that is itself in the
// vocabulary is one token. Merging works on raw bytes: a piece "Ġhello"
// is the bytes " hello".
type byteLevel struct {
	byteID       [256]int32       // id of the piece of each single byte
	vocab        map[string]int32 // raw bytes of a model piece -> id
	merges       mergeTable       // score: the merge's rank (lower first)
	pieceLen     []int32          // raw byte length of each id
	raw          []string         // raw bytes of each id, for Decode
	ignoreMerges bool
	nfc          bool
	steps        []*splitStep
}

// byteToRune is GPT-2's bytes_to_unicode: printable bytes stand for
// themselves, the others for U+0100 onwards.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := map[rune]byte{}
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			b2r[b] = rune(b)
		} else {
			b2r[b] = rune(256 + n)
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}()

// byteLevelBytes returns the raw bytes a byte-level piece stands for.
func byteLevelBytes(p string) (string, bool) {
	var sb strings.Builder
	for _, r := range p {
		b, ok := runeToByte[r]
		if !ok {
			return "", false
		}
		sb.WriteByte(b)
	}
	return sb.String(), true
}

// wordCacheMax bounds the per-scratch cache of encoded words.
const (
	wordCacheMax   = 1 << 14
	wordCacheBytes = 64 // longer words are not cached
	naiveBytes     = 48 // longer words are merged with a heap
)

type cacheEnt struct{ off, n int32 }

// blScratch holds per-call buffers of the byte-level encoder.
type blScratch struct {
	ids   []int32
	ranks []float32
	heap  []blCand
	links []blSym
	cache map[string]cacheEnt
	arena []int32
	buf   []byte
	omap  []int32
	omap2 []int32
	owner *byteLevel // the model whose words are in cache
}

type blSym struct {
	id         int32
	prev, next int32
}

type blCand struct {
	rank float32
	pos  int32
}

var blPool = sync.Pool{New: func() any { return &blScratch{cache: map[string]cacheEnt{}} }}

// offMap maps a byte offset in normalized text to the original text.
type offMap struct {
	m    []int32 // nil: the identity
	base int
}

func (m offMap) at(i int) int32 {
	if m.m == nil {
		return int32(m.base + i)
	}
	if i >= len(m.m) {
		if len(m.m) == 0 {
			return int32(m.base)
		}
		return m.m[len(m.m)-1] + int32(m.base)
	}
	return m.m[i] + int32(m.base)
}

// segment encodes seg, a text between added tokens matched in the
// original text, that starts at byte base of it.
func (b *byteLevel) segment(o *output, a *addedVocab, seg string, base int, special bool) {
	s := blPool.Get().(*blScratch)
	defer b.release(s)
	if s.owner != b {
		clear(s.cache)
		s.arena = s.arena[:0]
		s.owner = b
	}
	ns, m := b.normalize(s, seg)
	om := offMap{m: m, base: base}
	if a == nil || a.norm.empty {
		b.pretok(o, s, 0, ns, 0, om)
		return
	}
	a.split(&a.norm, ns, special, func(lo, hi int, id int32) {
		if id >= 0 {
			o.add(id, om.at(lo))
			return
		}
		b.pretok(o, s, 0, ns[lo:hi], lo, om)
	})
}

func (b *byteLevel) release(s *blScratch) {
	if cap(s.ids) > 1<<16 {
		s.ids, s.ranks, s.heap, s.links = nil, nil, nil, nil
	}
	if cap(s.buf) > 1<<20 {
		s.buf, s.omap, s.omap2 = nil, nil, nil
	}
	if len(s.cache) > 0 && s.owner != b {
		clear(s.cache)
	}
	blPool.Put(s)
}

// normalize replaces each byte of invalid UTF-8 by U+FFFD and applies NFC
// when the tokenizer asks for it. The map gives, for each byte of the
// result, its offset in seg; it is nil when the result is seg.
func (b *byteLevel) normalize(s *blScratch, seg string) (string, []int32) {
	valid := utf8.ValidString(seg)
	if valid && (!b.nfc || norm.NFC.IsNormalString(seg)) {
		return seg, nil
	}
	text, m := seg, []int32(nil)
	if !valid {
		buf, om := s.buf[:0], s.omap[:0]
		for i := 0; i < len(seg); {
			r, n := utf8.DecodeRuneInString(seg[i:])
			if r == utf8.RuneError && n <= 1 {
				buf = append(buf, "\uFFFD"...)
				om = append(om, int32(i), int32(i), int32(i))
				i++
				continue
			}
			buf = append(buf, seg[i:i+n]...)
			for k := 0; k < n; k++ {
				om = append(om, int32(i+k))
			}
			i += n
		}
		s.buf, s.omap = buf, om
		text, m = string(buf), om
	}
	if !b.nfc || norm.NFC.IsNormalString(text) {
		return text, m
	}
	var it norm.Iter
	it.InitString(norm.NFC, text)
	var out []byte
	om2 := s.omap2[:0]
	for !it.Done() {
		start := it.Pos()
		seg := it.Next()
		orig := int32(start)
		if m != nil {
			orig = m[start]
		}
		out = append(out, seg...)
		for range seg {
			om2 = append(om2, orig)
		}
	}
	s.omap2 = om2
	return string(out), om2
}

// pretok applies the pre-tokenizer steps from k on text[lo:hi] of the
// normalized segment (text is that piece, at offset off of the segment).
func (b *byteLevel) pretok(o *output, s *blScratch, k int, text string, off int, om offMap) {
	if o.stop || text == "" {
		return
	}
	if k == len(b.steps) {
		b.word(o, s, text, off, om)
		return
	}
	st := b.steps[k]
	if st.llama != nil {
		for i := 0; i < len(text) && !o.stop; {
			j := st.llama.match(text, i)
			b.pretok(o, s, k+1, text[i:j], off+i, om)
			i = j
		}
		return
	}
	var sc []span
	if err := st.split(text, &sc, func(lo, hi int) {
		b.pretok(o, s, k+1, text[lo:hi], off+lo, om)
	}); err != nil {
		panic(err) // regexp2 fails only on a timeout, which is not set
	}
}

// word encodes one pre-tokenized word w starting at offset off.
func (b *byteLevel) word(o *output, s *blScratch, w string, off int, om offMap) {
	if len(w) == 1 {
		o.add(b.byteID[w[0]], om.at(off))
		return
	}
	if b.ignoreMerges {
		if id, ok := b.vocab[w]; ok {
			o.add(id, om.at(off))
			return
		}
	}
	ids := b.bpe(s, w)
	pos := off
	for _, id := range ids {
		o.add(id, om.at(pos))
		pos += int(b.pieceLen[id])
	}
}

// bpe returns the ids of w, from the cache when it is there.
func (b *byteLevel) bpe(s *blScratch, w string) []int32 {
	if len(w) <= wordCacheBytes {
		if e, ok := s.cache[w]; ok {
			return s.arena[e.off : e.off+e.n]
		}
	}
	var ids []int32
	if len(w) <= naiveBytes {
		ids = b.mergeNaive(s, w)
	} else {
		ids = b.mergeHeap(s, w)
	}
	if len(w) <= wordCacheBytes {
		if len(s.cache) >= wordCacheMax || len(s.arena) > 1<<20 {
			clear(s.cache)
			s.arena = s.arena[:0]
		}
		off := len(s.arena)
		s.arena = append(s.arena, ids...)
		s.cache[strings.Clone(w)] = cacheEnt{int32(off), int32(len(ids))}
	}
	return ids
}

const noRank = float32(1 << 30)

func (b *byteLevel) rank(l, r int32) (float32, int32) {
	v, ok := b.merges.get(l, r)
	if !ok {
		return noRank, -1
	}
	return v.score, v.merged
}

// mergeNaive merges a short word by scanning for the best pair.
func (b *byteLevel) mergeNaive(s *blScratch, w string) []int32 {
	ids := s.ids[:0]
	for i := 0; i < len(w); i++ {
		ids = append(ids, b.byteID[w[i]])
	}
	ranks := s.ranks[:0]
	for i := 0; i+1 < len(ids); i++ {
		r, _ := b.rank(ids[i], ids[i+1])
		ranks = append(ranks, r)
	}
	for len(ranks) > 0 {
		best, br := -1, noRank
		for i, r := range ranks {
			if r < br {
				best, br = i, r
			}
		}
		if best < 0 {
			break
		}
		_, merged := b.rank(ids[best], ids[best+1])
		ids[best] = merged
		copy(ids[best+1:], ids[best+2:])
		ids = ids[:len(ids)-1]
		copy(ranks[best:], ranks[best+1:])
		ranks = ranks[:len(ranks)-1]
		if best > 0 {
			ranks[best-1], _ = b.rank(ids[best-1], ids[best])
		}
		if best < len(ranks) {
			ranks[best], _ = b.rank(ids[best], ids[best+1])
		}
	}
	s.ids, s.ranks = ids, ranks
	return ids
}

func blLess(a, c blCand) bool { return a.rank < c.rank || a.rank == c.rank && a.pos < c.pos }

func (s *blScratch) push(c blCand) {
	h := append(s.heap, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !blLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.heap = h
}

func (s *blScratch) pop() blCand {
	h := s.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && blLess(h[r], h[l]) {
			m = r
		}
		if !blLess(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return top
}

// mergeHeap is tokenizers' Word::merge_all: a linked list of symbols and
// a heap of candidate merges ordered by rank, then position. A popped
// candidate is applied if the pair at its position still has its rank.
// Time O(n log n), memory about 20 bytes per byte of w.
func (b *byteLevel) mergeHeap(s *blScratch, w string) []int32 {
	n := int32(len(w))
	syms := s.links[:0]
	for i := int32(0); i < n; i++ {
		syms = append(syms, blSym{id: b.byteID[w[i]], prev: i - 1, next: i + 1})
	}
	syms[n-1].next = -1
	s.heap = s.heap[:0]
	for i := int32(0); i+1 < n; i++ {
		if r, _ := b.rank(syms[i].id, syms[i+1].id); r < noRank {
			s.push(blCand{r, i})
		}
	}
	for len(s.heap) > 0 {
		c := s.pop()
		L := &syms[c.pos]
		if L.id < 0 || L.next < 0 {
			continue
		}
		R := &syms[L.next]
		r, merged := b.rank(L.id, R.id)
		if r != c.rank {
			continue
		}
		L.id = merged
		R.id = -1
		L.next = R.next
		if L.next >= 0 {
			syms[L.next].prev = c.pos
		}
		if L.prev >= 0 {
			if r, _ := b.rank(syms[L.prev].id, L.id); r < noRank {
				s.push(blCand{r, L.prev})
			}
		}
		if L.next >= 0 {
			if r, _ := b.rank(L.id, syms[L.next].id); r < noRank {
				s.push(blCand{r, c.pos})
			}
		}
	}
	ids := s.ids[:0]
	for i := int32(0); i >= 0; i = syms[i].next {
		ids = append(ids, syms[i].id)
	}
	s.links, s.ids = syms, ids
	return ids
}

// decode returns the text of ids: the bytes of each piece (added tokens:
// their content), special tokens skipped, invalid UTF-8 replaced.
func (b *byteLevel) decode(t *Tokenizer, ids []int) string {
	var buf []byte
	for _, id := range ids {
		if id < 0 || id >= len(b.raw) || t.types[id] == pieceControl {
			continue
		}
		buf = append(buf, b.raw[id]...)
	}
	var sb strings.Builder
	for len(buf) > 0 {
		r, n := utf8.DecodeRune(buf)
		if r == utf8.RuneError && n <= 1 {
			sb.WriteString("\uFFFD")
			n = 1
		} else {
			sb.Write(buf[:n])
		}
		buf = buf[n:]
	}
	return sb.String()
}
