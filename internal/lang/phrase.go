package lang

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// RefusalPhrases are the typical openings and formulas of assistant
// refusals and disclaimers in ShareGPT data. They are matched in gpt turns
// only, case-insensitively, on word boundaries; the report counts hits per
// phrase so that phrases with false positives can be pruned
// (--refusal-phrases FILE replaces the list).
var RefusalPhrases = []string{
	"as an ai language model",
	"as a language model",
	"as an ai model",
	"as an artificial intelligence",
	"i am an ai language model",
	"i'm an ai language model",
	"i am just an ai",
	"i'm just an ai",
	"i'm sorry, but i cannot",
	"i am sorry, but i cannot",
	"i'm sorry, but i can't",
	"i apologize, but i cannot",
	"i apologize, but i am not able to",
	"i'm not able to provide",
	"i am not able to provide",
	"i cannot fulfill",
	"i can't fulfill",
	"i do not have personal opinions",
	"i don't have personal opinions",
	"i do not have personal beliefs",
	"i don't have personal beliefs",
	"i do not have the ability to browse",
	"i don't have the ability to browse",
	"my knowledge cutoff",
	"my training data only goes",
	"against my programming",
	"it is not appropriate for me to",
	"it's not appropriate for me to",
}

// PhraseMatcher finds phrases in text, case-insensitively and on word
// boundaries, and counts hits per phrase. Safe for concurrent use.
type PhraseMatcher struct {
	phrases []string // lower case
	mu      sync.Mutex
	counts  map[string]int64
}

// NewPhraseMatcher returns a matcher for phrases (lower-cased, trimmed,
// empty ones dropped).
func NewPhraseMatcher(phrases []string) *PhraseMatcher {
	m := &PhraseMatcher{counts: map[string]int64{}}
	for _, p := range phrases {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			m.phrases = append(m.phrases, p)
		}
	}
	return m
}

// Match returns the first phrase found in text, or "".
func (m *PhraseMatcher) Match(text string) string {
	lower := strings.ToLower(text)
	for _, p := range m.phrases {
		if ContainsPhrase(lower, p) {
			m.mu.Lock()
			m.counts[p]++
			m.mu.Unlock()
			return p
		}
	}
	return ""
}

// ContainsPhrase reports whether text holds phrase on word boundaries
// (letters, digits and '_' are word characters). It compares bytes: pass
// both in lower case for a case-insensitive match, as the refusal filter
// does.
func ContainsPhrase(text, phrase string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], phrase)
		if i < 0 {
			return false
		}
		i += from
		if wordBoundary(text, i) && wordBoundary(text, i+len(phrase)) {
			return true
		}
		from = i + 1
	}
}

// wordBoundary reports whether position i in s is not inside a word.
func wordBoundary(s string, i int) bool {
	if i == 0 || i == len(s) {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	return !(isWord(before) && isWord(after))
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// Hits returns how many times each phrase matched.
func (m *PhraseMatcher) Hits() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}
