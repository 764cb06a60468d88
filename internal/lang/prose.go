package lang

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

var (
	fencedCode = regexp.MustCompile("(?s)(```|~~~).*?(```|~~~|$)")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	urls       = regexp.MustCompile(`(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+`)
)

// HumanProse returns the prose of a record's human turns, joined by
// newlines, without code blocks, inline code and URLs, cut to at most
// limit bytes on a character boundary.
func HumanProse(rec *pipeline.Record, limit int) string {
	var b strings.Builder
	for _, t := range rec.Conversations {
		if t.From != pipeline.RoleHuman {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(Prose(t.Value))
		if b.Len() >= limit {
			break
		}
	}
	s := b.String()
	if len(s) > limit {
		s = s[:limit]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// Prose removes fenced code blocks, inline code and URLs from Markdown.
func Prose(s string) string {
	if strings.ContainsAny(s, "`~") {
		s = fencedCode.ReplaceAllString(s, " ")
		s = inlineCode.ReplaceAllString(s, " ")
	}
	if strings.Contains(s, "://") || strings.Contains(s, "www.") {
		s = urls.ReplaceAllString(s, " ")
	}
	return s
}
