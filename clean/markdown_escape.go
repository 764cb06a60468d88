package clean

// The escape rule. Page text is written as it is; a character gets a
// backslash only where, without it, a CommonMark/GFM reader would read the
// Markdown as something other than the page's text. Kept as written:
//
//	snake_case  *args  a * b  2 * 3  $5  C:\Users  #hashtag  see 1. above
//	![Alt text](image URL)       (a space: not a valid link destination)
//	[INVENTORY]: Wallet, keys    (text after the destination: no definition)
//	List<T>  <database_name>  a < b  (not an HTML tag: "_" is not allowed)
//	&foo;  &nbsp                 (not an entity: unknown name, no ";")
//	Answers:\n11. a) ...         ("11." after a line of text cannot start a list)
//
// Escaped, because they would otherwise be read as Markdown:
//
//	2\*3 and 4*5      a delimiter that can pair, into emphasis
//	\_\_init__        the same for "_"
//	\`x`              a backtick with another one after it, into code
//	1\. not a list    an ordered list marker at a paragraph's start (or
//	                  "1." on a later line, which may interrupt it)
//	\- x, \+ x, \> x, \# x   list, quote and heading markers at a line start
//	[a\](b)           a valid inline link tail after "]"
//	\[x]: http://a    a valid link reference definition at a paragraph's start
//	\<div>            "<" that starts an HTML tag, comment, declaration,
//	                  processing instruction, CDATA or autolink, or an HTML
//	                  block at a line start
//	\&amp;            a character reference Markdown would decode
//	\\*               a page backslash before punctuation, which would
//	                  otherwise escape it
//	a\|b              "|" in a table cell
//
// Emphasis and strikethrough (markDelims) and backticks (markBackticks)
// stay conservative: an escape may remain where a delimiter could pair but
// in fact would not, and a run of delimiters is escaped whole (\~\~strike),
// since readers disagree on what a partly escaped run means.

import (
	"bytes"
	"html"
)

// escapesLT reports whether the page-text "<" at b[i] needs an escape: it
// starts raw HTML (a tag, comment, processing instruction, declaration or
// CDATA section) or an autolink.
func escapesLT(b, k []byte, i int) bool {
	if k[i] != byteLiteral || i+1 >= len(b) {
		return false
	}
	switch c := b[i+1]; {
	case c == '/':
		return closeTagEnd(b, i) > 0
	case c == '!' || c == '?':
		return markupDeclAt(b[i:])
	case isASCIILetter(c):
		return openTagEnd(b, i) > 0 || autolinkAt(b[i:])
	case isAlnum(c) || bytes.IndexByte([]byte(".#$%&'*+=^_`{|}~-"), c) >= 0:
		return autolinkAt(b[i:]) // an e-mail autolink: <0@0>
	}
	return false
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tagNameEnd returns the end of the tag name at b[i] (an ASCII letter, then
// letters, digits and hyphens), or -1.
func tagNameEnd(b []byte, i int) int {
	if i >= len(b) || !isASCIILetter(b[i]) {
		return -1
	}
	i++
	for i < len(b) && (isAlnum(b[i]) || b[i] == '-') {
		i++
	}
	return i
}

// skipTagSpace skips spaces, tabs and line breaks.
func skipTagSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n') {
		i++
	}
	return i
}

// openTagEnd returns the index after the open tag at b[i] ("<" name
// attributes "/"? ">"), or -1.
func openTagEnd(b []byte, i int) int {
	j := tagNameEnd(b, i+1)
	for j > 0 {
		s := skipTagSpace(b, j)
		if s < len(b) && b[s] == '>' {
			return s + 1
		}
		if s+1 < len(b) && b[s] == '/' && b[s+1] == '>' {
			return s + 2
		}
		if s == j {
			return -1 // an attribute needs white space before it
		}
		j = attrEnd(b, s)
	}
	return -1
}

// attrEnd returns the end of the attribute at b[i] (a name, optionally
// "=" and a value), or -1.
func attrEnd(b []byte, i int) int {
	if i >= len(b) || !(isASCIILetter(b[i]) || b[i] == '_' || b[i] == ':') {
		return -1
	}
	j := i + 1
	for j < len(b) && (isAlnum(b[j]) || bytes.IndexByte([]byte("_.:-"), b[j]) >= 0) {
		j++
	}
	s := skipTagSpace(b, j)
	if s >= len(b) || b[s] != '=' {
		return j
	}
	s = skipTagSpace(b, s+1)
	if s >= len(b) {
		return -1
	}
	if q := b[s]; q == '"' || q == '\'' {
		e := bytes.IndexByte(b[s+1:], q)
		if e < 0 {
			return -1
		}
		return s + 1 + e + 1
	}
	e := s
	for e < len(b) && bytes.IndexByte([]byte(" \t\n\r\"'=<>`"), b[e]) < 0 {
		e++
	}
	if e == s {
		return -1
	}
	return e
}

// closeTagEnd returns the index after the closing tag at b[i] ("</" name
// ">"), or -1.
func closeTagEnd(b []byte, i int) int {
	j := tagNameEnd(b, i+2)
	if j < 0 {
		return -1
	}
	j = skipTagSpace(b, j)
	if j < len(b) && b[j] == '>' {
		return j + 1
	}
	return -1
}

// markupDeclAt reports whether b starts a complete HTML comment, processing
// instruction, declaration or CDATA section.
func markupDeclAt(b []byte) bool {
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		return bytes.HasPrefix(b[4:], []byte(">")) || bytes.HasPrefix(b[4:], []byte("->")) ||
			bytes.Contains(b[4:], []byte("-->"))
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		return bytes.Contains(b[9:], []byte("]]>"))
	case bytes.HasPrefix(b, []byte("<?")):
		return bytes.Contains(b[1:], []byte("?>")) // goldmark reads "<?>" as one
	case len(b) > 2 && b[1] == '!' && isASCIILetter(b[2]):
		return bytes.IndexByte(b[3:], '>') >= 0
	}
	return false
}

// autolinkAt reports whether b starts an autolink: "<scheme:...>" or, read
// loosely, an e-mail address in angle brackets.
func autolinkAt(b []byte) bool {
	end := bytes.IndexByte(b, '>')
	if end < 0 {
		return false
	}
	in := b[1:end]
	if bytes.ContainsAny(in, " \t\n<") {
		return false
	}
	if bytes.IndexByte(in, '@') > 0 {
		return true
	}
	colon := bytes.IndexByte(in, ':')
	if colon < 2 || colon > 32 {
		return false
	}
	for _, c := range in[:colon] {
		if !(isAlnum(c) || c == '+' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// htmlBlockStart reports whether a line starts one of CommonMark's HTML
// blocks of kinds 1 to 6, which may interrupt a paragraph (kind 7, a
// complete tag, is raw HTML anywhere and escaped as such).
func htmlBlockStart(line []byte) bool {
	if len(line) < 2 || line[0] != '<' {
		return false
	}
	rest := line[1:]
	if rest[0] == '?' || bytes.HasPrefix(rest, []byte("!--")) || bytes.HasPrefix(rest, []byte("![CDATA[")) ||
		(rest[0] == '!' && len(rest) > 1 && isASCIILetter(rest[1])) {
		return true
	}
	closing := rest[0] == '/'
	if closing {
		rest = rest[1:]
	}
	n := 0
	for n < len(rest) && isAlnum(rest[n]) {
		n++
	}
	name := string(bytes.ToLower(rest[:n]))
	after := rest[n:]
	end := len(after) == 0 || after[0] == ' ' || after[0] == '\t' || after[0] == '>'
	if !closing && end && (name == "pre" || name == "script" || name == "style" || name == "textarea") {
		return true
	}
	return (end || bytes.HasPrefix(after, []byte("/>"))) && htmlBlockNames[name]
}

// htmlBlockNames are the tag names of CommonMark's HTML blocks of kind 6
// (specs 0.29 to 0.31).
var htmlBlockNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{"address", "article", "aside", "base", "basefont", "blockquote", "body",
		"caption", "center", "col", "colgroup", "dd", "details", "dialog", "dir", "div", "dl", "dt",
		"fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "h1", "h2", "h3",
		"h4", "h5", "h6", "head", "header", "hr", "html", "iframe", "legend", "li", "link", "main",
		"menu", "menuitem", "meta", "nav", "noframes", "ol", "optgroup", "option", "p", "param",
		"search", "section", "source", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
		"title", "tr", "track", "ul"} {
		m[n] = true
	}
	return m
}()

// isEntity reports whether b starts with a character reference Markdown
// would decode: "&name;" for an HTML entity name, "&#" and 1 to 7 digits,
// or "&#x" and 1 to 6 hex digits, then ";".
func isEntity(b []byte) bool {
	if len(b) > 2 && b[1] == '#' {
		i, max, hex := 2, 7, false
		if b[i] == 'x' || b[i] == 'X' {
			i, max, hex = 3, 6, true
		}
		n := 0
		for i+n < len(b) && n <= max && isDigitIn(b[i+n], hex) {
			n++
		}
		return n > 0 && n <= max && i+n < len(b) && b[i+n] == ';'
	}
	n := 1
	for n < len(b) && n <= 32 && isAlnum(b[n]) {
		n++
	}
	if n == 1 || n >= len(b) || b[n] != ';' {
		return false
	}
	ref := string(b[:n+1])
	return html.UnescapeString(ref) != ref
}

func isDigitIn(c byte, hex bool) bool {
	return '0' <= c && c <= '9' || hex && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
}

// isLinkDef reports whether the paragraph b starts with a link reference
// definition: "[label]:", a destination, an optional title, and nothing
// else on the line.
func isLinkDef(b, k []byte) bool {
	j := linkLabelEnd(b, k)
	if j < 0 || j+1 >= len(b) || b[j+1] != ':' {
		return false
	}
	i := skipLinkSpace(b, j+2)
	if i >= len(b) {
		return false
	}
	var ok bool
	if b[i] == '<' && !escapesLT(b, k, i) {
		if i, ok = pointyDest(b, k, i); !ok {
			return false
		}
	} else {
		// any run of non-space characters: some readers (goldmark) do not
		// ask a definition's destination for balanced parentheses
		for i < len(b) && b[i] > ' ' && b[i] != 0x7f {
			i++
		}
	}
	s := skipSpaceTab(b, i)
	if s == len(b) || b[s] == '\n' {
		return true
	}
	if s == i {
		return false
	}
	t, ok := linkTitle(b, k, s)
	if !ok {
		return false
	}
	t = skipSpaceTab(b, t)
	return t == len(b) || b[t] == '\n'
}

// linkLabelEnd returns the index of the "]" that closes the link label
// starting b, or -1 (no unescaped brackets inside, at most 999
// characters, not blank).
func linkLabelEnd(b, k []byte) int {
	blank := true
	for j := 1; j < len(b) && j <= 1000; j++ {
		switch {
		case linkEscape(b, k, j):
			j++
			blank = false
		case b[j] == '[':
			return -1
		case b[j] == ']':
			if blank {
				return -1
			}
			return j
		case !isSpaceByte(b[j]):
			blank = false
		}
	}
	return -1
}

func skipSpaceTab(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}
