package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of a tokenizer.json's added_tokens.
type addedToken struct {
	content    string
	id         int32
	special    bool
	lstrip     bool
	rstrip     bool
	normalized bool
	singleWord bool
}

// addedVocab finds added tokens in text as Hugging Face tokenizers'
// AddedVocabulary does: the tokens with normalized=false in the original
// text, then those with normalized=true in the normalized text between
// them; leftmost-longest matches (its Aho-Corasick automaton), with the
// single_word, lstrip and rstrip rules.
type addedVocab struct {
	tokens []addedToken
	raw    trie // normalized=false
	norm   trie // normalized=true
	ids    map[string]int32
}

// trie is a byte trie of token contents.
type trie struct {
	root  [256]int32       // child of the root per byte, -1 if none
	next  map[uint64]int32 // node<<8|byte -> child (below the root)
	term  []int32          // node -> index in addedVocab.tokens, -1
	first [256]bool        // bytes that start some token
	empty bool             // no tokens
}

func newTrie() trie {
	t := trie{next: map[uint64]int32{}, term: []int32{-1}, empty: true}
	for i := range t.root {
		t.root[i] = -1
	}
	return t
}

func (t *trie) add(s string, tok int32) {
	if s == "" {
		return
	}
	t.empty = false
	t.first[s[0]] = true
	node := int32(0)
	for i := 0; i < len(s); i++ {
		var child int32
		var ok bool
		if node == 0 {
			child = t.root[s[i]]
			ok = child >= 0
		} else {
			child, ok = t.next[uint64(node)<<8|uint64(s[i])]
		}
		if !ok {
			child = int32(len(t.term))
			t.term = append(t.term, -1)
			if node == 0 {
				t.root[s[i]] = child
			} else {
				t.next[uint64(node)<<8|uint64(s[i])] = child
			}
		}
		node = child
	}
	if t.term[node] < 0 {
		t.term[node] = tok
	}
}

// longestAt returns the longest token starting at s[i] and its length.
func (t *trie) longestAt(s string, i int) (tok int32, n int) {
	tok = -1
	node := t.root[s[i]]
	j := i + 1
	for node >= 0 {
		if k := t.term[node]; k >= 0 {
			tok, n = k, j-i
		}
		if j >= len(s) {
			break
		}
		c, ok := t.next[uint64(node)<<8|uint64(s[j])]
		if !ok {
			break
		}
		node = c
		j++
	}
	return tok, n
}

func newAddedVocab(tokens []addedToken) *addedVocab {
	a := &addedVocab{tokens: tokens, raw: newTrie(), norm: newTrie(), ids: map[string]int32{}}
	for i, tk := range tokens {
		if tk.normalized {
			a.norm.add(tk.content, int32(i))
		} else {
			a.raw.add(tk.content, int32(i))
		}
		if _, dup := a.ids[tk.content]; !dup {
			a.ids[tk.content] = tk.id
		}
	}
	return a
}

// split cuts s into text and added tokens, calling f(lo, hi, id) for each
// piece in order (id -1 for text). With special false the tokens marked
// special are left in the text (tokenizers' encode_special_tokens).
func (a *addedVocab) split(t *trie, s string, special bool, f func(lo, hi int, id int32)) {
	if t.empty || s == "" {
		if s != "" {
			f(0, len(s), -1)
		}
		return
	}
	startOffset := 0
	for i := 0; i < len(s); {
		if !t.first[s[i]] {
			i++
			continue
		}
		k, n := t.longestAt(s, i)
		if k < 0 {
			i++
			continue
		}
		start, stop := i, i+n
		i = stop
		tk := &a.tokens[k]
		if tk.special && !special {
			continue
		}
		if tk.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tk.lstrip {
			start = max(spaceLeftmostAtEnd(s[:start]), startOffset)
		}
		if tk.rstrip {
			stop += spaceRightmostAtStart(s[stop:])
		}
		if startOffset < start {
			f(startOffset, start, -1)
		}
		f(start, stop, tk.id)
		startOffset = stop
	}
	if startOffset < len(s) {
		f(startOffset, len(s), -1)
	}
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordChar(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordChar(r)
}

// spaceLeftmostAtEnd returns where the whitespace at the end of s starts.
func spaceLeftmostAtEnd(s string) int {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return len(s)
}

// spaceRightmostAtStart returns the length of the whitespace s starts with.
func spaceRightmostAtStart(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}
