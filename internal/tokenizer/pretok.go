package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// Pre-tokenization of byte-level tokenizer.json files: each Split step
// cuts every piece the previous step gave into smaller pieces, as Hugging
// Face tokenizers' PreTokenizedString.split does.

// Regular expressions of the Split pre-tokenizers in common tokenizer.json
// files, matched by hand-written code (the others go through regexp2).
const (
	// Llama 3, 3.1, 3.2, 3.3 (tiktoken cl100k with \p{N}{1,3}).
	patLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// Qwen 2, 2.5, 3: the same with one digit at a time.
	patQwen = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// GPT-2's, used by a ByteLevel pre-tokenizer with use_regex.
	patGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// splitBehavior is a Split pre-tokenizer's "behavior".
type splitBehavior uint8

const (
	splitIsolated splitBehavior = iota
	splitRemoved
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Isolated":
		return splitIsolated, nil
	case "Removed":
		return splitRemoved, nil
	case "MergedWithPrevious":
		return splitMergedWithPrevious, nil
	case "MergedWithNext":
		return splitMergedWithNext, nil
	case "Contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("unsupported tokenizer.json Split behavior %q", s)
}

// span is a piece [lo, hi) of a string; match says whether the pattern
// matched it.
type span struct {
	lo, hi int
	match  bool
}

// matcher finds the non-overlapping matches of a pattern, leftmost first.
type matcher interface {
	matches(dst []span, s string) ([]span, error)
}

// splitStep is one Split pre-tokenizer (or ByteLevel's use_regex split).
type splitStep struct {
	m        matcher
	behavior splitBehavior
	// llama is set when m is a llamaMatcher and behavior is Isolated:
	// pieces are then found one by one, without a list.
	llama *llamaMatcher
}

// newSplitStep builds the Split step for a regular expression.
func newSplitStep(pattern string, behavior splitBehavior) (*splitStep, error) {
	st := &splitStep{behavior: behavior}
	switch pattern {
	case patLlama3:
		st.m = &llamaMatcher{maxDigits: 3}
	case patQwen:
		st.m = &llamaMatcher{maxDigits: 1}
	default:
		re, err := regexp2.Compile(pattern, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("unsupported tokenizer.json Split regex %q: %w", pattern, err)
		}
		st.m = regexMatcher{re}
	}
	if lm, ok := st.m.(*llamaMatcher); ok && behavior == splitIsolated {
		st.llama = lm
	}
	return st, nil
}

// newStringStep builds the Split step for a literal string pattern.
func newStringStep(pattern string, behavior splitBehavior) (*splitStep, error) {
	if pattern == "" {
		return nil, fmt.Errorf("unsupported tokenizer.json Split on an empty string")
	}
	return &splitStep{m: stringMatcher(pattern), behavior: behavior}, nil
}

// split calls f for each piece of s, with its bounds in s.
func (st *splitStep) split(s string, sc *[]span, f func(lo, hi int)) error {
	if st.llama != nil {
		for i := 0; i < len(s); {
			j := st.llama.match(s, i)
			f(i, j)
			i = j
		}
		return nil
	}
	ms, err := st.m.matches((*sc)[:0], s)
	if err != nil {
		return err
	}
	// Cover s with the matches and the gaps between them.
	var all []span
	prev := 0
	for _, m := range ms {
		if m.lo > prev {
			all = append(all, span{prev, m.lo, false})
		}
		all = append(all, span{m.lo, m.hi, true})
		prev = m.hi
	}
	if prev < len(s) {
		all = append(all, span{prev, len(s), false})
	}
	*sc = ms
	for _, p := range applyBehavior(all, st.behavior) {
		if p.hi > p.lo {
			f(p.lo, p.hi)
		}
	}
	return nil
}

// applyBehavior is tokenizers' NormalizedString::split for a behavior.
func applyBehavior(all []span, b splitBehavior) []span {
	switch b {
	case splitIsolated:
		return all
	case splitRemoved:
		out := all[:0]
		for _, p := range all {
			if !p.match {
				out = append(out, p)
			}
		}
		return out
	case splitMergedWithPrevious:
		var out []span
		prevMatch := false
		for _, p := range all {
			if p.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].hi = p.hi
			} else {
				out = append(out, span{p.lo, p.hi, false})
			}
			prevMatch = p.match
		}
		return out
	case splitMergedWithNext:
		var rev []span
		prevMatch := false
		for i := len(all) - 1; i >= 0; i-- {
			p := all[i]
			if p.match && !prevMatch && len(rev) > 0 {
				rev[len(rev)-1].lo = p.lo
			} else {
				rev = append(rev, span{p.lo, p.hi, false})
			}
			prevMatch = p.match
		}
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		return rev
	default: // splitContiguous
		var out []span
		prevMatch := false
		for i, p := range all {
			if i > 0 && p.match == prevMatch {
				out[len(out)-1].hi = p.hi
			} else {
				out = append(out, span{p.lo, p.hi, false})
			}
			prevMatch = p.match
		}
		return out
	}
}

// stringMatcher matches a literal string.
type stringMatcher string

func (m stringMatcher) matches(dst []span, s string) ([]span, error) {
	p := string(m)
	for i := 0; i+len(p) <= len(s); {
		k := strings.Index(s[i:], p)
		if k < 0 {
			break
		}
		dst = append(dst, span{i + k, i + k + len(p), true})
		i += k + len(p)
	}
	return dst, nil
}

// regexMatcher matches any regular expression regexp2 accepts: .NET
// syntax, which has the lookarounds and Unicode classes of the Oniguruma
// expressions Hugging Face tokenizers runs.
type regexMatcher struct{ re *regexp2.Regexp }

func (m regexMatcher) matches(dst []span, s string) ([]span, error) {
	idx, err := m.re.FindAllStringIndex(s, -1)
	if err != nil {
		return nil, err
	}
	for _, p := range idx {
		if p[1] > p[0] {
			dst = append(dst, span{p[0], p[1], true})
		}
	}
	return dst, nil
}

// llamaMatcher is patLlama3 (maxDigits 3) or patQwen (maxDigits 1),
// written out: Go's regexp has no (?!\S). Every position starts a match,
// so the pieces cover the text; match returns the end of the one at i.
type llamaMatcher struct{ maxDigits int }

func (m *llamaMatcher) matches(dst []span, s string) ([]span, error) {
	for i := 0; i < len(s); {
		j := m.match(s, i)
		dst = append(dst, span{i, j, true})
		i = j
	}
	return dst, nil
}

// Character classes of the patterns.
const (
	clsOther = iota // [^\s\p{L}\p{N}]
	clsLetter
	clsNumber
	clsSpace // \s other than \r and \n
	clsNewline
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		r := rune(c)
		switch {
		case r == '\r' || r == '\n':
			t[c] = clsNewline
		case unicode.IsSpace(r):
			t[c] = clsSpace
		case unicode.IsLetter(r):
			t[c] = clsLetter
		case unicode.IsNumber(r):
			t[c] = clsNumber
		default:
			t[c] = clsOther
		}
	}
	return
}()

// classAt returns the class and size of the character at s[i].
func classAt(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r):
		return clsLetter, n
	case unicode.IsNumber(r):
		return clsNumber, n
	case unicode.IsSpace(r):
		return clsSpace, n
	}
	return clsOther, n
}

// lettersEnd returns the end of the run of letters starting at i.
func lettersEnd(s string, i int) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c != clsLetter {
			break
		}
		i += n
	}
	return i
}

func (m *llamaMatcher) match(s string, i int) int {
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] | 0x20 {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v', 'l':
			if i+2 < len(s) {
				a, b := s[i+1]|0x20, s[i+2]|0x20
				if (a == 'r' || a == 'v') && b == 'e' || a == 'l' && b == 'l' {
					return i + 3
				}
			}
		}
	}
	c, n := classAt(s, i)
	switch c {
	case clsLetter: // \p{L}+
		return lettersEnd(s, i+n)
	case clsNumber: // \p{N}{1,max}
		j := i + n
		for k := 1; k < m.maxDigits && j < len(s); k++ {
			c2, n2 := classAt(s, j)
			if c2 != clsNumber {
				break
			}
			j += n2
		}
		return j
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c != clsNewline && i+n < len(s) {
		if c2, n2 := classAt(s, i+n); c2 == clsLetter {
			return lettersEnd(s, i+n+n2)
		}
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	k := i
	if s[i] == ' ' {
		k = i + 1
	}
	if k < len(s) {
		if c2, _ := classAt(s, k); c2 == clsOther {
			for k < len(s) {
				c3, n3 := classAt(s, k)
				if c3 != clsOther {
					break
				}
				k += n3
			}
			for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
				k++
			}
			return k
		}
	}
	// c is whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
	j, lastNL, lastStart := i, -1, i
	for j < len(s) {
		c2, n2 := classAt(s, j)
		if c2 != clsSpace && c2 != clsNewline {
			break
		}
		if c2 == clsNewline {
			lastNL = j
		}
		lastStart = j
		j += n2
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	if j < len(s) && lastStart > i {
		return lastStart
	}
	return j
}
