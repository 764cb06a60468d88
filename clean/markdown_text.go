package clean

import (
	"bytes"
	"strings"
)

// PlainText cleans a turn that is plain text (human turns): it is trimmed
// and FastChat's scraper noise is removed (a leading "N / M" regenerate
// counter, "CopyN chars / N words"). Nothing else changes: no HTML is
// parsed, no entity decoded, no character escaped.
func PlainText(value string) string {
	s := strings.TrimSpace(value)
	if strings.Contains(s, "Copy") {
		s = string(removeCopyNoise([]byte(s)))
		s = strings.TrimSpace(s)
	}
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		if n := counterLen(s); n > 0 {
			s = strings.TrimSpace(s[n:])
		}
	}
	return s
}

// LooksLikeHTML reports whether a value is share-page HTML rather than plain
// text: it holds an end tag of an element share pages are made of (</p>,
// </div>, </li>, </code>, ...). Plain text that merely mentions a tag such
// as "<br>" or "<T>" is not HTML.
func LooksLikeHTML(value string) bool {
	for i := 0; ; {
		j := strings.Index(value[i:], "</")
		if j < 0 {
			return false
		}
		i += j + 2
		k := strings.IndexByte(value[i:], '>')
		if k < 0 || k > 10 {
			continue
		}
		switch strings.ToLower(value[i : i+k]) {
		case "p", "div", "pre", "code", "li", "ol", "ul", "table", "tr", "td", "th",
			"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "span", "strong", "em", "a":
			return true
		}
	}
}

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

// stripCounter removes a leading regenerate counter from rendered Markdown.
func stripCounter(out []byte) []byte {
	if len(out) == 0 || out[0] < '0' || out[0] > '9' {
		return out
	}
	end := bytes.IndexByte(out, '\n')
	if end < 0 {
		end = len(out)
	}
	n := counterLen(string(out[:end]))
	if n == 0 {
		return out
	}
	out = out[n:]
	for len(out) > 0 && (out[0] == '\n' || out[0] == ' ') {
		out = out[1:]
	}
	return out
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

func copyNoiseLen(b []byte) int {
	i := len("Copy")
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	lit := func(s string) bool {
		if bytes.HasPrefix(b[i:], []byte(s)) {
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
