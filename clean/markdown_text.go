package clean

import (
	"bytes"
	"strings"
)

// PlainText cleans a turn that is text (human turns, and assistant turns
// that Classify finds to be Markdown): it is trimmed (Unicode white space,
// as Python's strip) and FastChat's scraper noise is removed (a leading
// "N / M" regenerate counter, "CopyN chars / N words"), until none is left,
// so that PlainText(PlainText(s)) == PlainText(s). Nothing else changes: no
// HTML is parsed, no entity decoded, no character escaped.
func PlainText(value string) string {
	s := strings.TrimSpace(value)
	for {
		t := s
		if strings.Contains(t, "Copy") {
			t = strings.TrimSpace(removeCopyNoiseString(t))
		}
		if len(t) > 0 && t[0] >= '0' && t[0] <= '9' {
			if n := counterLen(t); n > 0 {
				t = strings.TrimSpace(t[n:])
			}
		}
		if t == s {
			return s
		}
		s = t
	}
}

// LooksLikeHTML reports whether an assistant turn is HTML (share-page HTML
// or an HTML fragment) rather than Markdown or plain text: see Classify.
// Plain text or Markdown that merely mentions a tag such as "<br>" or "<T>",
// or holds HTML in code, is not HTML.
func LooksLikeHTML(value string) bool { return Classify(value) != KindMarkdown }

// counterLen returns the length of a leading "N / M" regenerate counter in
// s (1 <= N <= M), or 0. A counter followed by a space is taken for text
// ("1 / 2 cup of flour"); the scraper glued it to the answer or put it on a
// line of its own.
func counterLen(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 || !strings.HasPrefix(s[i:], " / ") {
		return 0
	}
	n := s[:i]
	j := i + 3
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j || k-j > 4 {
		return 0
	}
	m := s[j:k]
	if atoiSmall(n) < 1 || atoiSmall(n) > atoiSmall(m) {
		return 0
	}
	if k < len(s) {
		c := s[k]
		if c == ' ' || c == '\t' || (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '/' {
			return 0
		}
	}
	return k
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// removeCopyNoise removes every "Copy<digits> chars / <digits> words".
func removeCopyNoise(b []byte) []byte {
	const pre = "Copy"
	var out []byte
	found := false
	i := 0
	for {
		j := bytes.Index(b[i:], []byte(pre))
		if j < 0 {
			break
		}
		j += i
		if n := copyNoiseLen(b[j:]); n > 0 {
			found = true
			out = append(out, b[i:j]...)
			i = j + n
			continue
		}
		out = append(out, b[i:j+len(pre)]...)
		i = j + len(pre)
	}
	if !found {
		return b
	}
	return append(out, b[i:]...)
}

// removeCopyNoiseString is removeCopyNoise for a string; it allocates only
// when there is noise to remove.
func removeCopyNoiseString(s string) string {
	for i := 0; ; {
		j := strings.Index(s[i:], "Copy")
		if j < 0 {
			return s
		}
		i += j
		if copyNoiseLen(s[i:]) > 0 {
			return string(removeCopyNoise([]byte(s)))
		}
		i += len("Copy")
	}
}

func copyNoiseLen[T string | []byte](b T) int {
	i := len("Copy")
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	lit := func(s string) bool {
		if len(b)-i >= len(s) && string(b[i:i+len(s)]) == s {
			i += len(s)
			return true
		}
		return false
	}
	if digits() && lit(" chars / ") && digits() && lit(" words") {
		return i
	}
	return 0
}
