package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// spaceSymbol is U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's escaped space.
const spaceSymbol = '\u2581'

// encoder is the immutable encoding state shared by all goroutines.
//
// Symbols taking part in merges are identified by "merge ids": a piece id
// (0 <= id < len(pieces)) for strings that are mergeable pieces, or an
// extended id (>= len(pieces)) for single characters that are not pieces but
// occur inside some piece. Characters that occur in no piece have merge id -1
// and never merge.
type encoder struct {
	nPieces int

	// merge ids of single characters, and whether they occur in a piece
	// of two or more characters
	asciiSym [128]runeInfo
	runeSym  map[rune]runeInfo
	extRunes []rune // extended id - nPieces -> character

	// output ids of single unmerged characters (-1: unknown)
	asciiOut [128]int32
	runeOut  map[rune]int32

	merges mergeTable

	unused []bool // by piece id; nil when the model has no UNUSED pieces

	byteFallback bool
	byteIDs      [256]int32
	unk          int32

	// normalisation
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool

	// chunking (see cutBefore): a position holding spaceSymbol preceded by
	// a character c (c != spaceSymbol) starts an independent chunk unless
	// c is in unsafePrev, i.e. unless some piece contains c followed by
	// spaceSymbol.
	unsafePrev map[rune]bool

	// long is what encodeLong needs, built on first use from the
	// mergeable pieces of two or more characters (multiPieces).
	long        *longData
	longOnce    sync.Once
	multiPieces []idPiece

	// user-defined pieces, matched whole and never merged, longest first
	userDefined map[rune][]userPiece
}

// runeInfo is what the encoder knows of one character.
type runeInfo struct {
	sym   int32 // merge id, -1 if it never merges
	multi bool  // it occurs in a mergeable piece of two or more characters
}

// idPiece is a piece and its id.
type idPiece struct {
	id    int32
	piece string
}

type userPiece struct {
	runes []rune
	id    int32
}

// mergeSpec describes one mergeable pair for newEncoder.
type mergeSpec struct {
	left, right string
	merged      int32
	score       float32
}

type encoderConfig struct {
	pieces       []string
	types        []uint8
	byteFallback bool
	unk          int32
	mergeable    func(id int) bool // pieces that may be produced by merging or be initial symbols
	reservedOut  func(id int) bool // pieces looked up first for single characters (SentencePiece reserved_id_map_)
	merges       []mergeSpec
	addDummy     bool
	removeExtra  bool
	escapeWS     bool
}

func newEncoder(c encoderConfig) (*encoder, error) {
	e := &encoder{
		nPieces:                len(c.pieces),
		runeSym:                map[rune]runeInfo{},
		runeOut:                map[rune]int32{},
		byteFallback:           c.byteFallback,
		unk:                    c.unk,
		addDummyPrefix:         c.addDummy,
		removeExtraWhitespaces: c.removeExtra,
		escapeWhitespaces:      c.escapeWS,
		unsafePrev:             map[rune]bool{},
	}
	for i := range e.asciiSym {
		e.asciiSym[i].sym = -1
		e.asciiOut[i] = -1
	}
	for i := range e.byteIDs {
		e.byteIDs[i] = -1
	}
	mergeableID := map[string]int32{}
	for id, p := range c.pieces {
		switch {
		case c.types[id] == pieceByte:
			if len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>' {
				var b int
				if _, err := fmt.Sscanf(p[3:5], "%02X", &b); err == nil && e.byteIDs[b] < 0 {
					e.byteIDs[b] = int32(id)
				}
			}
		case c.mergeable(id):
			mergeableID[p] = int32(id)
		}
		if c.types[id] == pieceUnused {
			if e.unused == nil {
				e.unused = make([]bool, len(c.pieces))
			}
			e.unused[id] = true
		}
		if c.types[id] == pieceUserDefined && p != "" {
			r, _ := utf8.DecodeRuneInString(p)
			if e.userDefined == nil {
				e.userDefined = map[rune][]userPiece{}
			}
			e.userDefined[r] = append(e.userDefined[r], userPiece{runes: []rune(p), id: int32(id)})
		}
	}
	for _, l := range e.userDefined {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].runes) > len(l[j].runes) })
	}
	if e.byteFallback {
		for b, id := range e.byteIDs {
			if id < 0 {
				return nil, fmt.Errorf("byte fallback is enabled but piece <0x%02X> is missing", b)
			}
		}
	}

	// Output ids of single characters: SentencePiece looks reserved pieces
	// (control, unknown, byte) up first, then the normal ones.
	setOut := func(p string, id int32) {
		r, n := utf8.DecodeRuneInString(p)
		if n != len(p) || n == 0 {
			return
		}
		if r < 128 {
			if e.asciiOut[r] < 0 {
				e.asciiOut[r] = id
			}
		} else if _, ok := e.runeOut[r]; !ok {
			e.runeOut[r] = id
		}
	}
	for id, p := range c.pieces {
		if c.reservedOut(id) {
			setOut(p, int32(id))
		}
	}
	for id, p := range c.pieces {
		if c.mergeable(id) {
			setOut(p, int32(id))
		}
	}

	// Merge ids of single characters that are pieces.
	for p, id := range mergeableID {
		r, n := utf8.DecodeRuneInString(p)
		if n == len(p) && n > 0 {
			e.setSym(r, id)
		}
	}
	symOf := func(s string) int32 {
		if id, ok := mergeableID[s]; ok {
			return id
		}
		r, n := utf8.DecodeRuneInString(s)
		if n != len(s) || n == 0 {
			return -1
		}
		if id := e.sym(r); id >= 0 {
			return id
		}
		id := int32(e.nPieces + len(e.extRunes))
		e.extRunes = append(e.extRunes, r)
		e.setSym(r, id)
		return id
	}

	e.merges = newMergeTable(len(c.merges))
	for _, m := range c.merges {
		if m.merged < 0 || int(m.merged) >= e.nPieces || !c.mergeable(int(m.merged)) {
			continue
		}
		l, r := symOf(m.left), symOf(m.right)
		if l < 0 || r < 0 {
			continue
		}
		if old, ok := e.merges.get(l, r); ok {
			// Keep the higher priority when a pair is listed twice.
			if old.score >= m.score {
				continue
			}
		}
		e.merges.put(l, r, mergeVal{merged: m.merged, score: m.score})
	}

	// Chunk boundary safety: which characters occur in pieces of two or
	// more characters, and which ever precede spaceSymbol there, among
	// the pieces that can be produced by merging or matching.
	for id, p := range c.pieces {
		if !c.mergeable(id) || utf8.RuneCountInString(p) < 2 {
			continue
		}
		e.multiPieces = append(e.multiPieces, idPiece{int32(id), p})
		prev := rune(-1)
		for _, r := range p {
			e.setMulti(r)
			if r == spaceSymbol && prev >= 0 && prev != spaceSymbol {
				e.unsafePrev[prev] = true
			}
			prev = r
		}
	}
	return e, nil
}

// info returns what the encoder knows of r (merge id -1 and not multi
// for a character of no piece).
func (e *encoder) info(r rune) runeInfo {
	if r >= 0 && r < 128 {
		return e.asciiSym[r]
	}
	if in, ok := e.runeSym[r]; ok {
		return in
	}
	return runeInfo{sym: -1}
}

func (e *encoder) sym(r rune) int32 { return e.info(r).sym }

func (e *encoder) setSym(r rune, id int32) {
	in := e.info(r)
	in.sym = id
	e.setInfo(r, in)
}

func (e *encoder) setMulti(r rune) {
	in := e.info(r)
	in.multi = true
	e.setInfo(r, in)
}

func (e *encoder) setInfo(r rune, in runeInfo) {
	if r >= 0 && r < 128 {
		e.asciiSym[r] = in
	} else {
		e.runeSym[r] = in
	}
}

func (e *encoder) out(r rune) int32 {
	if r < 128 {
		return e.asciiOut[r]
	}
	if id, ok := e.runeOut[r]; ok {
		return id
	}
	return -1
}

// spMerges derives SentencePiece BPE merges from the vocabulary: every
// split of a mergeable piece into two strings that can be symbols.
func spMerges(pieces []string, scores []float32, mergeable func(int) bool) []mergeSpec {
	var ms []mergeSpec
	for id, p := range pieces {
		if !mergeable(id) || utf8.RuneCountInString(p) < 2 {
			continue
		}
		for i := range p { // rune start offsets
			if i == 0 {
				continue
			}
			ms = append(ms, mergeSpec{left: p[:i], right: p[i:], merged: int32(id), score: scores[id]})
		}
	}
	return ms
}
