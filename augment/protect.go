package augment

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Placeholder kinds.
const (
	kindCode  = "CODE"
	kindURL   = "URL"
	kindTable = "TABLE"
)

// span is a protected part of a text.
type span struct {
	start, end int
	kind       string
	block      bool // whole lines: the placeholder must stay alone on its line
}

// Protected is a text whose code, URLs and tables are replaced by
// placeholders ([[CODE_1]], [[URL_2]], [[TABLE_3]]).
type Protected struct {
	Text         string   // the text with placeholders
	placeholders []string // "[[CODE_1]]", ...
	originals    []string // what each stands for
	block        []bool
}

// Placeholders returns the number of placeholders.
func (p *Protected) Placeholders() int { return len(p.placeholders) }

// loosePlaceholder matches a placeholder and what a model might make of one
// (other brackets, case, separators), to tell an altered placeholder from
// a missing one.
var loosePlaceholder = regexp.MustCompile(`(?i)\[\[?\s*(?:code|url|table)[\s_-]*\d+\s*\]?\]`)

// ErrPlaceholderCollision means that a text already holds something that
// reads as a placeholder, so it cannot be protected.
var errPlaceholderCollision = fmt.Errorf("the text already holds a placeholder-like [[CODE_n]]")

var (
	fenceOpen  = regexp.MustCompile("^[ \t]*(`{3,}|~{3,})")
	tableDelim = regexp.MustCompile(`^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t\r]*$`)
	urlRE      = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'` + "`" + `]+|\bwww\.[a-z0-9-]+\.[^\s<>"'` + "`" + `]+`)
)

// Protect replaces fenced code blocks, Markdown tables, inline code spans
// and URLs by numbered placeholders.
func Protect(text string) (*Protected, error) {
	if loosePlaceholder.MatchString(text) {
		return nil, errPlaceholderCollision
	}
	spans := blockSpans(text)
	spans = append(spans, inlineSpans(text, spans)...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	p := &Protected{}
	var b strings.Builder
	last := 0
	for i, s := range spans {
		ph := "[[" + s.kind + "_" + strconv.Itoa(i+1) + "]]"
		b.WriteString(text[last:s.start])
		b.WriteString(ph)
		last = s.end
		p.placeholders = append(p.placeholders, ph)
		p.originals = append(p.originals, text[s.start:s.end])
		p.block = append(p.block, s.block)
	}
	b.WriteString(text[last:])
	p.Text = b.String()
	return p, nil
}

// lines returns the start offsets of the lines of text and the end of each
// line (without its newline).
func lines(text string) (starts, ends []int) {
	for pos := 0; pos <= len(text); {
		i := strings.IndexByte(text[pos:], '\n')
		starts = append(starts, pos)
		if i < 0 {
			ends = append(ends, len(text))
			break
		}
		ends = append(ends, pos+i)
		pos += i + 1
	}
	return starts, ends
}

// blockSpans finds fenced code blocks and tables, as whole lines.
func blockSpans(text string) []span {
	starts, ends := lines(text)
	var out []span
	for i := 0; i < len(starts); i++ {
		line := text[starts[i]:ends[i]]
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			fence := m[1]
			j := i + 1
			for ; j < len(starts); j++ {
				l := strings.TrimSpace(text[starts[j]:ends[j]])
				if len(l) >= len(fence) && strings.Trim(l, fence[:1]) == "" {
					break
				}
			}
			if j == len(starts) {
				j-- // unclosed: the block runs to the end
			}
			out = append(out, span{start: starts[i], end: ends[j], kind: kindCode, block: true})
			i = j
			continue
		}
		// A table: a header row with a pipe, then a delimiter row.
		if i+1 < len(starts) && strings.Contains(line, "|") {
			delim := text[starts[i+1]:ends[i+1]]
			if strings.Contains(delim, "|") && strings.Contains(delim, "-") && tableDelim.MatchString(delim) {
				j := i + 2
				for j < len(starts) && strings.Contains(text[starts[j]:ends[j]], "|") && strings.TrimSpace(text[starts[j]:ends[j]]) != "" {
					j++
				}
				out = append(out, span{start: starts[i], end: ends[j-1], kind: kindTable, block: true})
				i = j - 1
			}
		}
	}
	return out
}

// inlineSpans finds inline code spans and URLs outside the block spans.
func inlineSpans(text string, blocks []span) []span {
	var out []span
	prev := 0
	for _, b := range append(blocks, span{start: len(text), end: len(text)}) {
		seg := text[prev:b.start]
		out = append(out, segmentSpans(seg, prev)...)
		prev = b.end
	}
	return out
}

// segmentSpans finds inline code and URLs in a text without blocks; off is
// the segment's offset in the whole text.
func segmentSpans(seg string, off int) []span {
	var out []span
	var free []([2]int) // parts outside code spans, for URLs
	last := 0
	for i := 0; i < len(seg); {
		if seg[i] != '`' {
			i++
			continue
		}
		n := runLength(seg, i, '`')
		end := closingRun(seg, i+n, n)
		if end < 0 {
			i += n
			continue
		}
		free = append(free, [2]int{last, i})
		out = append(out, span{start: off + i, end: off + end + n, kind: kindCode})
		i = end + n
		last = i
	}
	free = append(free, [2]int{last, len(seg)})
	for _, f := range free {
		part := seg[f[0]:f[1]]
		for _, m := range urlRE.FindAllStringIndex(part, -1) {
			u := trimURL(part[m[0]:m[1]])
			out = append(out, span{start: off + f[0] + m[0], end: off + f[0] + m[0] + len(u), kind: kindURL})
		}
	}
	return out
}

func runLength(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// closingRun finds a backtick run of exactly n backticks from i, not past a
// blank line; -1 if none.
func closingRun(s string, i, n int) int {
	for i < len(s) {
		switch {
		case s[i] == '`':
			m := runLength(s, i, '`')
			if m == n {
				return i
			}
			i += m
		case s[i] == '\n' && strings.HasPrefix(strings.TrimLeft(s[i+1:], " \t"), "\n"):
			return -1
		default:
			i++
		}
	}
	return -1
}

// trimURL drops trailing punctuation that ends the sentence, not the URL,
// and a closing parenthesis without its opening one.
func trimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?*_'\"", c) >= 0:
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// Restore puts the protected parts back into an answer. It fails with a
// gate failure when a placeholder is missing, repeated, altered, or (for a
// block) no longer alone on its line. A block placeholder takes its whole
// line (the model may have indented it); inline ones are replaced where
// they stand.
func (p *Protected) Restore(answer string) (string, *failure) {
	found, f := p.check(answer)
	if f != nil {
		return "", f
	}
	var b strings.Builder
	b.Grow(len(answer))
	last := 0
	for _, m := range found {
		start, end := m.start, m.end
		if p.block[m.index] {
			start, end = lineAround(answer, m.start)
		}
		b.WriteString(answer[last:start])
		b.WriteString(p.originals[m.index])
		last = end
	}
	b.WriteString(answer[last:])
	return b.String(), nil
}

// found is a placeholder found in an answer.
type found struct{ index, start, end int }

// Check verifies that an answer (or a pivot text) holds every placeholder
// exactly once, unaltered, and each block placeholder alone on its line.
func (p *Protected) Check(answer string) *failure {
	_, f := p.check(answer)
	return f
}

// check is Check returning the placeholders found, in text order. It is
// linear in the answer's length.
func (p *Protected) check(answer string) ([]found, *failure) {
	index := make(map[string]int, len(p.placeholders))
	for i, ph := range p.placeholders {
		index[ph] = i
	}
	count := make([]int, len(p.placeholders))
	var out []found
	for _, m := range loosePlaceholder.FindAllStringIndex(answer, -1) {
		i, ok := index[answer[m[0]:m[1]]]
		if !ok {
			return nil, &failure{ReasonPlaceholderAltered, fmt.Sprintf("unknown or altered placeholder %q", answer[m[0]:m[1]])}
		}
		count[i]++
		out = append(out, found{i, m[0], m[1]})
	}
	for i, ph := range p.placeholders {
		switch n := count[i]; {
		case n == 0:
			return nil, &failure{ReasonPlaceholderMissing, fmt.Sprintf("%s (%s) is missing", ph, excerpt(p.originals[i], 40))}
		case n > 1:
			return nil, &failure{ReasonPlaceholderAltered, fmt.Sprintf("%s appears %d times", ph, n)}
		}
	}
	for _, m := range out {
		if p.block[m.index] {
			start, end := lineAround(answer, m.start)
			if strings.TrimSpace(answer[start:end]) != p.placeholders[m.index] {
				return nil, &failure{ReasonPlaceholderAltered, fmt.Sprintf("%s is no longer alone on its line", p.placeholders[m.index])}
			}
		}
	}
	return out, nil
}

// lineAround returns the bounds of the line holding position at.
func lineAround(s string, at int) (start, end int) {
	start = strings.LastIndexByte(s[:at], '\n') + 1
	end = strings.IndexByte(s[at:], '\n')
	if end < 0 {
		return start, len(s)
	}
	return start, at + end
}

// stripPlaceholders removes the placeholders: the prose a language detector
// or a similarity measure should see.
func stripPlaceholders(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	return loosePlaceholder.ReplaceAllString(s, " ")
}
