package clean

// The per-turn decision: share-page HTML, HTML fragment, or Markdown.
//
// Real dumps mix three kinds of assistant turn: 2023 share-page HTML,
// Markdown already cleaned (every later release, and every dataset rerun
// through the pipeline), and Markdown with HTML inside it (code about HTML,
// <sub>, <br>, author edits). Parsing the third kind as HTML destroys it, so
// Classify decides per turn, and conservatively: a turn is HTML only when a
// CommonMark reader would read all of it as raw HTML too, so that converting
// it keeps what a reader sees. Everything else is Markdown and passes
// through byte for byte, then trimmed and freed of scraper noise as human
// turns are (PlainText). The decision looks at the turn after that same
// trimming (leading white space, a regenerate counter, "CopyN chars / N
// words"):
//
//   - Share-page HTML: the turn starts with the share page's wrapper, a
//     <div> whose start tag mentions "markdown"
//     (`<div class="markdown prose w-full break-words ...">`).
//   - HTML fragment: every block of the turn is an HTML block, and the turn
//     holds at least one end tag of an element listed below. Blocks are
//     separated by blank lines, as in CommonMark; a block is an HTML block
//     when its first line starts (after at most three spaces) with a start
//     or end tag of an element share pages are built of: p, div, pre, ol,
//     ul, li, table, thead, tbody, tr, th, td, h1-h6, blockquote, hr, dl,
//     dt, dd. Blank lines inside <pre>...</pre> (code) do not end a block.
//     `<p>Step:</p>\n5. <code>...` and the inner HTML of a share page
//     (`<h2>Title</h2><ul><li>...`) are fragments.
//   - Markdown: everything else. A turn that starts with text ("Example:\n
//     ```html\n<p>Hi</p>\n```"), whose tags are all inside code spans and
//     fences or are inline tags (<sub>, <br>, <kbd>, <a>), that mentions a
//     tag in prose ("the <p> tag"), that is unfenced code starting with an
//     element outside the list (<html>, <script>, <project>, <!DOCTYPE>),
//     that starts with a tag but never closes one ("<div> is a block
//     element."), or that has a Markdown block after its HTML blocks, is
//     Markdown.
//
// The converter's own output is always Markdown by this rule (it escapes a
// "<" that would start a tag), which makes clean idempotent.

import (
	"strings"
)

// Kind is what Classify decides a turn is.
type Kind uint8

const (
	KindMarkdown     Kind = iota // Markdown or plain text: passes through, trimmed
	KindSharePage                // share-page HTML with its wrapper: converted
	KindHTMLFragment             // HTML without the wrapper: converted
)

// String returns the kind's name as the report writes it.
func (k Kind) String() string {
	switch k {
	case KindSharePage:
		return "share-page"
	case KindHTMLFragment:
		return "html-fragment"
	}
	return "markdown"
}

// Classify decides whether an assistant turn is share-page HTML, an HTML
// fragment or Markdown (see the rule above).
func Classify(value string) Kind { return classifyText(PlainText(value)) }

// classifyText decides for a value PlainText has already trimmed.
func classifyText(s string) Kind {
	if len(s) == 0 || s[0] != '<' {
		return KindMarkdown // the common case: text first
	}
	if isWrapper(s) {
		return KindSharePage
	}
	if allHTMLBlocks(s) && hasBlockEndTag(s) {
		return KindHTMLFragment
	}
	return KindMarkdown
}

// isWrapper reports whether s starts with the share page's wrapper div.
func isWrapper(s string) bool {
	if len(s) < 5 || !strings.EqualFold(s[:4], "<div") || !isTagDelim(s[4]) {
		return false
	}
	end := strings.IndexByte(s, '>')
	return end > 0 && strings.Contains(s[:end], "markdown")
}

// allHTMLBlocks reports whether every blank-line separated block of s
// starts with a tag of an element isBlockElement lists.
func allHTMLBlocks(s string) bool {
	for {
		s = skipBlankLines(s)
		if s == "" {
			return true
		}
		if !startsBlockTag(s) {
			return false
		}
		s = afterBlock(s)
	}
}

// skipBlankLines drops the lines of s that hold only spaces and tabs.
func skipBlankLines(s string) string {
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		if strings.Trim(line, " \t\r") != "" {
			return s
		}
		s = rest
	}
	return s
}

// startsBlockTag reports whether the line s starts with, after at most
// three spaces, "<name" or "</name" followed by a tag delimiter, name being
// one that isBlockElement lists (any case).
func startsBlockTag(s string) bool {
	i := 0
	for i < 3 && i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '<' {
		return false
	}
	i++
	if i < len(s) && s[i] == '/' {
		i++
	}
	j := i
	for j < len(s) && j-i <= 10 && isAlnum(s[j]) {
		j++
	}
	return (j == len(s) || isTagDelim(s[j])) && isBlockElement(s[i:j])
}

// afterBlock returns what follows the block that starts s: the text after
// its next blank line, not counting blank lines inside <pre>...</pre>.
func afterBlock(s string) string {
	for {
		blank := nextBlankLine(s)
		pre := indexPreTag(s[:blank])
		if pre < 0 {
			return s[blank:]
		}
		end := indexFold(s[pre:], "</pre>")
		if end < 0 {
			return ""
		}
		s = s[pre+end+len("</pre>"):]
	}
}

// nextBlankLine returns the index of the first blank line of s after its
// first line, or len(s).
func nextBlankLine(s string) int {
	i := strings.IndexByte(s, '\n')
	for i >= 0 {
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
			j++
		}
		if j == len(s) || s[j] == '\n' {
			return j
		}
		k := strings.IndexByte(s[j:], '\n')
		if k < 0 {
			return len(s)
		}
		i = j + k
	}
	return len(s)
}

// hasBlockEndTag reports whether s holds an end tag "</name>" of one of
// the elements isBlockElement lists, not escaped ("\</p>").
func hasBlockEndTag(s string) bool {
	for {
		i := strings.Index(s, "</")
		if i < 0 {
			return false
		}
		escaped := i > 0 && s[i-1] == '\\'
		s = s[i+2:]
		if escaped {
			continue
		}
		j := 0
		for j < len(s) && j <= 10 && isAlnum(s[j]) {
			j++
		}
		if j < len(s) && (s[j] == '>' || s[j] == ' ') && isBlockElement(s[:j]) {
			return true
		}
	}
}

// isBlockElement reports the elements whose tags make a block HTML: the
// block elements share pages are built of.
func isBlockElement(name string) bool {
	if len(name) == 0 || len(name) > 10 {
		return false
	}
	var buf [10]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "p", "div", "pre", "ol", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
		"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "dl", "dt", "dd":
		return true
	}
	return false
}

func isTagDelim(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// indexPreTag returns the index of the first <pre> start tag in s, or -1.
func indexPreTag(s string) int {
	for i := 0; ; {
		j := indexFold(s[i:], "<pre")
		if j < 0 {
			return -1
		}
		i += j + len("<pre")
		if i == len(s) || isTagDelim(s[i]) {
			return i - len("<pre")
		}
	}
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring the
// case of s.
func indexFold(s, needle string) int {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], needle[0])
		if j < 0 {
			return -1
		}
		i += j
		if len(s)-i < len(needle) {
			return -1
		}
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
		i++
	}
}
