package tokenizer

import "slices"

// Long chunks: a stretch of text with no cut (cutBefore) for more than
// windowChars characters, such as a run of one character ("=====",
// spaces), a DNA sequence or a word of thousands of letters. Merging it
// whole would hold the whole stretch; encodeLong instead finds the last
// token of the encoding of every prefix of the stretch, and cuts where
// those encodings provably agree, holding only the text since the last
// such cut.
//
// The facts it rests on, for BPE that merges the best pair first and
// the leftmost pair on ties (SentencePiece's rule, and this package's):
//
//  1. If the encoding of a text T has a token boundary at p, no merge
//     ever crossed p, so the merges on each side are those of encoding
//     that side alone: enc(T) = enc(T[:p]) + enc(T[p:]).
//  2. If enc(X) ends with token l, and the text of l followed by a text
//     Y encodes as [l, Y-as-one-token t], then enc(X+Y) = enc(X) + [t].
//     (Run the merges of X+Y: as long as none crosses a boundary of
//     enc(X) or the one between l and t, the merges on the left are
//     those of X alone and on the right those of l+Y, since the best
//     pair of the whole is the best of its side; the first merge
//     crossing a boundary would then be chosen in X alone or in l+Y
//     too, where it does not happen.)
//
// So the last token of enc(T[:j]) is the one token t = T[k:j] such that
// either k = 0 and T[:j] encodes as [t], or enc(T[:k]) ends with a token
// l for which l+t encodes as [l, t] (1 gives "only if", 2 gives "if").
// Knowing last[j] for every j gives enc(T[:j]) by walking back from j.
// The walk from the end of the stretch, whatever that end is, passes
// through one of any maxRunes consecutive positions; when the walks from
// the last maxRunes positions meet at p, p is a token boundary of the
// encoding of the whole stretch, and by 1 the tokens before p are final.
// Later positions keep last[] relative to the stretch's start: their
// walks all pass through p, so nothing before p (but the maxRunes
// characters the pair tests read) is needed again.
//
// Cost: one walk down a trie of reversed pieces and a few pair tests
// (memoised) per character, and a meeting test every checkEvery
// characters. With the LLaMA model the walks meet within maxRunes (16)
// characters of the end on every text tried (runs of one character,
// periodic text, random letters, DNA); if they did not, the window would
// grow with the stretch (24 bytes per character) and the tests would
// space out geometrically, keeping the time linear.
//
// This holds for models without user-defined pieces (matched whole
// before merging) and UNUSED pieces (split after merging, depending on
// how they were built); for those, and if the search ever finds no token
// (it cannot, by the facts above), a long chunk is merged whole.

// longData is the model data encodeLong needs.
type longData struct {
	runes    []int32    // piece id -> its length in characters
	maxRunes int        // longest mergeable piece, in characters
	trie     mergeTable // reversed pieces: (node, char) -> node (in mergeVal.merged)
	piece    []int32    // node -> piece id ending there, or -1
}

// longScratch holds encodeLong's per-call buffers.
type longScratch struct {
	last  []int32 // last[j]: merge id of the last token of enc(T[:j])
	cands []longCand
	walk  []int32
	pairs []pairMemo // (l, t) -> l+t encodes as [l, t], by hash
	owner *encoder   // the model the pairs are of
}

// pairMemo remembers whether a pair of tokens encodes as itself.
type pairMemo struct {
	key   uint64 // pairKey(l, t) + 1 (0: empty)
	valid bool
}

type longCand struct{ k, id int32 }

// checkEvery is how many characters encodeLong reads between attempts
// to cut; after a failed attempt it waits twice as long.
const checkEvery = 256

// memoSize is the number of entries of the pair memo, in sets of two
// (a power of 2).
const memoSize = 1 << 12

func (l *longScratch) trim() {
	if cap(l.last) > 2*windowChars {
		l.last = nil
	}
}

// longInfo returns the model data of encodeLong, building it once.
func (e *encoder) longInfo() *longData {
	e.longOnce.Do(func() {
		d := &longData{runes: make([]int32, e.nPieces), trie: newMergeTable(len(e.multiPieces)), piece: []int32{-1}, maxRunes: 1}
		for i := range d.runes {
			d.runes[i] = 1
		}
		for _, p := range e.multiPieces {
			rs := []rune(p.piece)
			d.runes[p.id] = int32(len(rs))
			d.maxRunes = max(d.maxRunes, len(rs))
			node := int32(0)
			for k := len(rs) - 1; k >= 0; k-- {
				next, ok := d.trie.get(node, rs[k])
				if !ok {
					next.merged = int32(len(d.piece))
					d.piece = append(d.piece, -1)
					d.trie.put(node, rs[k], next)
				}
				node = next.merged
			}
			d.piece[node] = p.id
		}
		e.long = d
	})
	return e.long
}

// tokRunes returns the length in characters of a token of merge id id
// (-1: a character that never merges).
func (d *longData) tokRunes(id int32) int {
	if id < 0 || int(id) >= len(d.runes) {
		return 1
	}
	return int(d.runes[id])
}

// stretch is the state of encodeLong: the window of text since the last
// cut it made (floor), and last[j] for each position j of the window.
// last[j] is the last token of the encoding of the text from the start
// of the chunk (origin) to j, whether or not origin is still in the
// window.
type stretch struct {
	nc     []nchar
	last   []int32
	origin int // index of the chunk's first character, -1 once dropped
	floor  int // tokens before floor are emitted; floor is a boundary
}

// encodeLong encodes the chunk that starts at nc[0] and has no cut in
// nc, reading more of the text from nz until the chunk ends. It returns
// the window holding what follows the chunk.
func (e *encoder) encodeLong(o *output, s *scratch, nz *normalizer, nc []nchar) []nchar {
	if e.userDefined != nil || e.unused != nil {
		return e.encodeWhole(o, s, nz, nc)
	}
	d := e.longInfo()
	s.long.own(e)
	st := stretch{nc: nc, last: append(s.long.last[:0], -1)}
	defer func() { s.long.last = st.last[:0] }()
	every := max(checkEvery, 2*d.maxRunes)
	check := every
	for j := 1; !o.stop; j++ {
		if j > len(st.nc) {
			if nz.done() {
				e.emitTokens(o, s, d, &st, len(st.nc))
				return st.nc[:0]
			}
			st.nc = nz.fill(st.nc, len(st.nc)+every)
		}
		if j >= 2 && e.cutBefore(&st.nc[j-2], &st.nc[j-1]) {
			e.emitTokens(o, s, d, &st, j-1)
			return st.nc[:copy(st.nc, st.nc[j-1:])]
		}
		id, ok := e.lastToken(s, d, &st, j)
		if !ok {
			return e.encodeWhole(o, s, nz, st.nc[:copy(st.nc, st.nc[st.floor:])])
		}
		st.last = append(st.last, id)
		if j < check {
			continue
		}
		p := meet(s, d, st.last, st.floor, j)
		if p == st.floor {
			check = j + (j - st.floor) // wait twice as long
			continue
		}
		e.emitTokens(o, s, d, &st, p)
		j -= st.drop(p - d.maxRunes)
		check = j + every
	}
	return st.nc[:0]
}

// drop removes the first n positions of the window, if n > 0, and
// returns how many it removed.
func (st *stretch) drop(n int) int {
	if n <= 0 {
		return 0
	}
	st.nc = st.nc[:copy(st.nc, st.nc[n:])]
	st.last = st.last[:copy(st.last, st.last[n:])]
	st.floor -= n
	st.origin = -1
	return n
}

// lastToken returns the merge id of the last token of the encoding of
// the chunk up to j, given last[k] for every k < j.
func (e *encoder) lastToken(s *scratch, d *longData, st *stretch, j int) (int32, bool) {
	cands := s.long.cands[:0]
	node := int32(0)
	for k := j - 1; k >= st.floor && j-k <= d.maxRunes; k-- {
		next, ok := d.trie.get(node, st.nc[k].r)
		if !ok {
			break
		}
		node = next.merged
		if id := d.piece[node]; id >= 0 {
			cands = append(cands, longCand{k: int32(k), id: id})
		}
	}
	s.long.cands = cands
	for c := len(cands) - 1; c >= 0; c-- { // longest first
		if e.endsWith(s, d, st, int(cands[c].k), j, cands[c].id) {
			return cands[c].id, true
		}
	}
	if id := st.nc[j-1].sym; e.endsWith(s, d, st, j-1, j, id) {
		return id, true
	}
	return 0, false
}

// endsWith reports whether the encoding of the chunk up to j ends with
// the token t = nc[k:j].
func (e *encoder) endsWith(s *scratch, d *longData, st *stretch, k, j int, t int32) bool {
	if k == st.origin {
		n, _ := e.mergeSpan(s, st.nc[k:j])
		return n == 1
	}
	l := st.last[k]
	memo := l >= 0 && t >= 0
	key := pairKey(l, t) + 1
	if memo {
		if ok, seen := s.long.lookup(key); seen {
			return ok
		}
	}
	k0 := k - d.tokRunes(l)
	n, second := e.mergeSpan(s, st.nc[k0:j])
	ok := n == 2 && second == k-k0
	if memo {
		s.long.remember(key, ok)
	}
	return ok
}

// memoSet returns the index of the first of the two memo entries where
// key may be.
func memoSet(key uint64) int {
	key ^= key >> 33 // splitmix64's finaliser
	key *= 0xff51afd7ed558ccd
	key ^= key >> 33
	return int(key&(memoSize-1)) &^ 1
}

// own empties the memo if it holds pairs of another model than e's.
func (l *longScratch) own(e *encoder) {
	if l.owner != e {
		clear(l.pairs)
		l.owner = e
	}
}

// lookup returns the memo's answer for the pair key, if it has one.
func (l *longScratch) lookup(key uint64) (valid, ok bool) {
	if l.pairs == nil {
		l.pairs = make([]pairMemo, memoSize)
	}
	i := memoSet(key)
	for _, m := range l.pairs[i : i+2] {
		if m.key == key {
			return m.valid, true
		}
	}
	return false, false
}

// remember records the answer for the pair key, evicting the older of
// its set's two entries.
func (l *longScratch) remember(key uint64, valid bool) {
	i := memoSet(key)
	l.pairs[i+1] = l.pairs[i]
	l.pairs[i] = pairMemo{key: key, valid: valid}
}

// mergeSpan merges the characters of ch and returns how many symbols are
// left and where the second one starts.
func (e *encoder) mergeSpan(s *scratch, ch []nchar) (n, second int) {
	syms := s.syms[:0]
	for j := range ch {
		syms = append(syms, symbol{id: ch[j].sym, pos: int32(j)})
	}
	s.syms = syms
	if len(syms) <= naiveMax {
		syms = e.mergeNaive(s, syms)
		if len(syms) > 1 {
			second = int(syms[1].pos)
		}
		return len(syms), second
	}
	e.mergeHeap(s, syms)
	for i := int32(0); i >= 0; i = syms[i].next {
		if n == 1 {
			second = int(syms[i].pos)
		}
		n++
	}
	return n, second
}

// meet returns the last position that the walks back from each of the
// last maxRunes positions (up to j) all pass through: a token boundary
// of the encoding of any longer text. All walks pass through floor.
func meet(s *scratch, d *longData, last []int32, floor, j int) int {
	lo := j - d.maxRunes + 1
	if lo <= floor {
		return floor
	}
	w := s.long.walk[:0]
	for q := lo; q <= j; q++ {
		w = append(w, int32(q))
	}
	defer func() { s.long.walk = w[:0] }()
	for len(w) > 1 {
		hi := 0
		for i := range w {
			if w[i] > w[hi] {
				hi = i
			}
		}
		q := w[hi] - int32(d.tokRunes(last[w[hi]]))
		if q <= int32(floor) {
			return floor
		}
		w[hi] = w[len(w)-1]
		w = w[:len(w)-1]
		if !slices.Contains(w, q) {
			w = append(w, q)
		}
	}
	return int(w[0])
}

// emitTokens adds the tokens from st.floor to p, read back from last,
// and moves floor to p.
func (e *encoder) emitTokens(o *output, s *scratch, d *longData, st *stretch, p int) {
	w := s.long.walk[:0]
	for q := p; q > st.floor; q -= d.tokRunes(st.last[q]) {
		w = append(w, int32(q))
	}
	for i := len(w) - 1; i >= 0 && !o.stop; i-- {
		q := int(w[i])
		id := st.last[q]
		n := d.tokRunes(id)
		c := &st.nc[q-n]
		if n == 1 {
			e.emitChar(o, c.r, c.orig, c.olen)
		} else {
			o.add(id, c.orig)
		}
	}
	s.long.walk = w[:0]
	st.floor = p
}

// encodeWhole encodes the chunk that starts at nc[0] in one piece,
// reading the text from nz until the chunk ends, and returns the window
// holding what follows it. Its memory grows with the chunk.
func (e *encoder) encodeWhole(o *output, s *scratch, nz *normalizer, nc []nchar) []nchar {
	i := 1
	for {
		for ; i < len(nc); i++ {
			if e.cutBefore(&nc[i-1], &nc[i]) {
				e.encodeChunk(o, s, nc[:i])
				return nc[:copy(nc, nc[i:])]
			}
		}
		if nz.done() {
			e.encodeChunk(o, s, nc)
			return nc[:0]
		}
		nc = nz.fill(nc, 2*len(nc))
	}
}
