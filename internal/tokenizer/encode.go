package tokenizer

import (
	"sync"
	"unicode/utf8"
)

// nchar is one character of the normalised text.
type nchar struct {
	r     rune
	orig  int32 // byte offset in the original text
	olen  int32 // its length in the original text (0 for the dummy prefix)
	sym   int32 // merge id (encoder.info)
	multi bool  // it occurs in a piece of two or more characters
}

const (
	symChar   = iota // a single character, not merged
	symMerged        // the result of merges: id is a piece id
	symFrozen        // a user-defined piece: id is its piece id, never merged
)

type symbol struct {
	id         int32 // merge id (-1: cannot merge)
	pos        int32 // index of its first character in the chunk
	prev, next int32 // heap path only
	kind       uint8
	alive      bool
}

type cand struct {
	score            float32
	left, right      int32
	lid, rid, merged int32
}

// scratch holds per-call buffers; it is never shared between goroutines.
type scratch struct {
	nc   []nchar
	syms []symbol
	ps   []mergeVal
	heap []cand
	rev  map[int32][2]int32 // merged unused piece -> the pair it came from
	long longScratch
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release returns s to the pool, without the buffers a long stretch
// grew beyond what ordinary text needs.
func (s *scratch) release() {
	if cap(s.nc) > 2*windowChars {
		s.nc = nil
	}
	if cap(s.syms) > 2*windowChars {
		s.syms, s.ps, s.heap = nil, nil, nil
	}
	s.long.trim()
	scratchPool.Put(s)
}

// naiveMax is the largest chunk (in symbols) merged with the quadratic
// scan; longer chunks use a heap.
const naiveMax = 24

// windowChars is how many normalised characters encode holds at a time
// (a variable so that tests can make it small). A chunk that does not fit
// in the window is encoded by encodeLong.
var windowChars = 1 << 14

// output collects ids and, optionally, start offsets; or only counts
// them; or hands them to yield.
type output struct {
	ids       []int
	starts    []int
	offs      bool
	countOnly bool
	yield     func(id, start int) bool
	base      int32 // added to every start offset
	n         int   // tokens added
	stop      bool  // yield asked to stop: later tokens are dropped
	prevUnk   bool  // the last token added is an unknown one (without byte fallback)
}

func (o *output) add(id int32, start int32) {
	if o.stop {
		return
	}
	o.prevUnk = false
	o.n++
	switch {
	case o.countOnly:
	case o.yield != nil:
		o.stop = !o.yield(int(id), int(start+o.base))
	default:
		o.ids = append(o.ids, int(id))
		if o.offs {
			o.starts = append(o.starts, int(start+o.base))
		}
	}
}

// normalizer applies SentencePiece's normaliser (identity rules) to a
// text, a window of characters at a time.
type normalizer struct {
	e         *encoder
	text      string
	i         int  // next byte of text
	ws        rune // what a space becomes
	prevSpace bool // the last character added was a space (removeExtraWhitespaces)
	dummy     bool // the dummy prefix is still to be added
}

func (e *encoder) newNormalizer(text string) normalizer {
	n := normalizer{e: e, ws: ' ', prevSpace: e.removeExtraWhitespaces}
	if e.escapeWhitespaces {
		n.ws = spaceSymbol
	}
	if e.removeExtraWhitespaces {
		// Trailing whitespace (spaces, and "▁" when spaces become "▁")
		// is removed, leading spaces are skipped.
		for len(text) > 0 {
			r, size := utf8.DecodeLastRuneInString(text)
			if r != ' ' && r != n.ws {
				break
			}
			text = text[:len(text)-size]
		}
		for n.i < len(text) && text[n.i] == ' ' {
			n.i++
		}
	}
	n.text = text
	n.dummy = e.addDummyPrefix && n.i < len(text)
	return n
}

// done reports whether every character has been added.
func (n *normalizer) done() bool { return !n.dummy && n.i >= len(n.text) }

// fill appends characters to nc until it holds max of them or the text
// is done.
func (n *normalizer) fill(nc []nchar, max int) []nchar {
	e := n.e
	if n.dummy && len(nc) < max {
		in := e.info(n.ws)
		nc = append(nc, nchar{r: n.ws, orig: int32(n.i), sym: in.sym, multi: in.multi})
		n.dummy = false
	}
	text, i := n.text, n.i
	for len(nc) < max && i < len(text) {
		c := text[i]
		var (
			r    rune
			size int
		)
		if c < utf8.RuneSelf {
			r, size = rune(c), 1
		} else {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		if r == ' ' {
			if n.prevSpace {
				i += size
				continue
			}
			r = n.ws
			n.prevSpace = e.removeExtraWhitespaces
		} else {
			n.prevSpace = false
		}
		in := e.info(r)
		nc = append(nc, nchar{r: r, orig: int32(i), olen: int32(size), sym: in.sym, multi: in.multi})
		i += size
	}
	n.i = i
	return nc
}

// cutBefore reports whether a chunk may start at b, after a: whether no
// piece contains a followed by b, so that no merge can ever join them.
// Encoding the text on either side of such a cut separately gives the
// same ids as encoding it whole (see the package documentation).
func (e *encoder) cutBefore(a, b *nchar) bool {
	if !a.multi || !b.multi {
		return true // one of them is in no piece of two characters
	}
	return b.r == spaceSymbol && a.r != spaceSymbol && !e.isUnsafePrev(a.r)
}

// encode appends the tokens of text to o. It holds at most windowChars
// characters of normalised text at a time: chunks between cuts
// (cutBefore) are encoded as they are found; a chunk longer than the
// window goes to encodeLong.
func (e *encoder) encode(o *output, text string) {
	s := scratchPool.Get().(*scratch)
	defer s.release()
	nz := e.newNormalizer(text)
	if cap(s.nc) == 0 && len(text) > windowChars {
		s.nc = make([]nchar, 0, windowChars+4*checkEvery)
	}
	nc := s.nc[:0]
	start, i := 0, 1 // the open chunk, the next position to test
	for !o.stop {
		nc = nz.fill(nc, windowChars)
		for ; i < len(nc); i++ {
			if e.cutBefore(&nc[i-1], &nc[i]) {
				e.encodeChunk(o, s, nc[start:i])
				start = i
			}
		}
		if nz.done() {
			if start < len(nc) {
				e.encodeChunk(o, s, nc[start:])
			}
			break
		}
		if start == 0 {
			// The chunk fills the window: no cut in windowChars
			// characters.
			nc = e.encodeLong(o, s, &nz, nc)
			start, i = 0, 1
			continue
		}
		nc = nc[:copy(nc, nc[start:])]
		i -= start
		start = 0
	}
	s.nc = nc[:0]
}

func (e *encoder) isUnsafePrev(r rune) bool {
	if len(e.unsafePrev) == 0 {
		return false
	}
	return e.unsafePrev[r]
}

func (e *encoder) pair(s *scratch, a, b *symbol) mergeVal {
	if a.kind == symFrozen || b.kind == symFrozen {
		return mergeVal{merged: -1}
	}
	v, ok := e.merges.get(a.id, b.id)
	if !ok {
		return mergeVal{merged: -1}
	}
	if e.unused != nil && e.unused[v.merged] {
		if s.rev == nil {
			s.rev = map[int32][2]int32{}
		}
		s.rev[v.merged] = [2]int32{a.id, b.id}
	}
	return v
}

func (e *encoder) encodeChunk(o *output, s *scratch, ch []nchar) {
	syms := s.syms[:0]
	for j := 0; j < len(ch); {
		if e.userDefined != nil {
			if id, n := e.matchUser(ch[j:]); n > 0 {
				syms = append(syms, symbol{id: id, pos: int32(j), kind: symFrozen})
				j += n
				continue
			}
		}
		syms = append(syms, symbol{id: ch[j].sym, pos: int32(j)})
		j++
	}
	s.syms = syms
	if s.rev != nil {
		clear(s.rev)
	}
	if len(syms) <= naiveMax {
		syms = e.mergeNaive(s, syms)
		for i := range syms {
			e.emit(o, s, &syms[i], ch)
		}
		return
	}
	e.mergeHeap(s, syms)
	for i := int32(0); i >= 0; i = syms[i].next {
		e.emit(o, s, &syms[i], ch)
	}
}

// matchUser returns the longest user-defined piece at the start of ch.
func (e *encoder) matchUser(ch []nchar) (int32, int) {
	for _, u := range e.userDefined[ch[0].r] {
		if len(u.runes) > len(ch) {
			continue
		}
		ok := true
		for k, r := range u.runes {
			if ch[k].r != r {
				ok = false
				break
			}
		}
		if ok {
			return u.id, len(u.runes)
		}
	}
	return -1, 0
}

func (e *encoder) mergeNaive(s *scratch, syms []symbol) []symbol {
	n := len(syms)
	if n < 2 {
		return syms
	}
	ps := s.ps[:0]
	for i := 0; i+1 < n; i++ {
		ps = append(ps, e.pair(s, &syms[i], &syms[i+1]))
	}
	s.ps = ps
	for {
		best := -1
		var bs float32
		for i := range ps {
			if ps[i].merged >= 0 && (best < 0 || ps[i].score > bs) {
				best, bs = i, ps[i].score
			}
		}
		if best < 0 {
			break
		}
		syms[best].id = ps[best].merged
		syms[best].kind = symMerged
		copy(syms[best+1:], syms[best+2:])
		syms = syms[:len(syms)-1]
		copy(ps[best:], ps[best+1:])
		ps = ps[:len(ps)-1]
		if best > 0 {
			ps[best-1] = e.pair(s, &syms[best-1], &syms[best])
		}
		if best < len(ps) {
			ps[best] = e.pair(s, &syms[best], &syms[best+1])
		}
	}
	return syms
}

func candLess(a, b *cand) bool { // a has higher priority than b
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (s *scratch) push(c cand) {
	h := append(s.heap, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.heap = h
}

func (s *scratch) pop() cand {
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
		if r := l + 1; r < n && candLess(&h[r], &h[l]) {
			m = r
		}
		if !candLess(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return top
}

func (e *encoder) addCand(s *scratch, syms []symbol, l, r int32) {
	v := e.pair(s, &syms[l], &syms[r])
	if v.merged < 0 {
		return
	}
	s.push(cand{score: v.score, left: l, right: r, lid: syms[l].id, rid: syms[r].id, merged: v.merged})
}

// mergeHeap is SentencePiece's bpe_model.cc Encode: a linked list of
// symbols and a priority queue of candidate merges.
func (e *encoder) mergeHeap(s *scratch, syms []symbol) {
	n := int32(len(syms))
	for i := int32(0); i < n; i++ {
		syms[i].prev = i - 1
		syms[i].next = i + 1
		syms[i].alive = true
	}
	syms[n-1].next = -1
	s.heap = s.heap[:0]
	for i := int32(1); i < n; i++ {
		e.addCand(s, syms, i-1, i)
	}
	for len(s.heap) > 0 {
		c := s.pop()
		L, R := &syms[c.left], &syms[c.right]
		if !L.alive || !R.alive || L.next != c.right || L.id != c.lid || R.id != c.rid {
			continue
		}
		L.id = c.merged
		L.kind = symMerged
		L.next = R.next
		if R.next >= 0 {
			syms[R.next].prev = c.left
		}
		R.alive = false
		if L.prev >= 0 {
			e.addCand(s, syms, L.prev, c.left)
		}
		if L.next >= 0 {
			e.addCand(s, syms, c.left, L.next)
		}
	}
}

func (e *encoder) emit(o *output, s *scratch, sy *symbol, ch []nchar) {
	c := &ch[sy.pos]
	switch sy.kind {
	case symFrozen:
		o.add(sy.id, c.orig)
	case symMerged:
		if e.unused != nil && e.unused[sy.id] {
			e.resegment(o, s, sy.id, c.orig)
			return
		}
		o.add(sy.id, c.orig)
	default:
		e.emitChar(o, c.r, c.orig, c.olen)
	}
}

func (e *encoder) emitChar(o *output, r rune, orig, olen int32) {
	id := e.out(r)
	if id >= 0 && id != e.unk {
		o.add(id, orig)
		return
	}
	if !e.byteFallback {
		// SentencePiece merges a run of unknown characters into one <unk>.
		if !o.prevUnk {
			o.add(e.unk, orig)
			o.prevUnk = true
		}
		return
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	for k := 0; k < n; k++ {
		off := int32(k)
		if off >= olen {
			off = olen - 1
			if off < 0 {
				off = 0
			}
		}
		o.add(e.byteIDs[buf[k]], orig+off)
	}
}

// resegment splits an UNUSED piece back into the pair it was merged from,
// recursively (SentencePiece's rev_merge). All parts start at orig: offsets
// inside an unused piece are approximated by its start.
func (e *encoder) resegment(o *output, s *scratch, id int32, orig int32) {
	if int(id) >= e.nPieces {
		e.emitChar(o, e.extRunes[int(id)-e.nPieces], orig, 1)
		return
	}
	if !e.unused[id] {
		o.add(id, orig)
		return
	}
	p, ok := s.rev[id]
	if !ok {
		o.add(id, orig)
		return
	}
	e.resegment(o, s, p[0], orig)
	e.resegment(o, s, p[1], orig)
}
