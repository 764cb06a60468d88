package clean

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/atom"
)

// Byte kinds of the inline buffer: every byte of inlineBuf.b has a kind in
// inlineBuf.k that says how the escaping pass treats it.
const (
	byteOpaque  byte = iota // emitted content never escaped: code spans, math, URLs
	byteLiteral             // text from the page
	byteDelim               // emitted delimiter (**, *, ~~, backticks, [ ])
	byteEscape              // literal byte to write with a backslash before it
	byteDeleted             // dropped emitted delimiter
)

// opener is an emphasis or link start whose marker is written lazily, with
// the first non-space content inside it, so that "<b> x</b>" does not give
// "** x**".
type opener struct {
	marker  string
	href    []byte
	written bool
	link    bool
	start   int // position of the marker in b once written
}

// inlineBuf is the inline content of the open paragraph, heading or cell.
type inlineBuf struct {
	b     []byte
	k     []byte
	ws    byte // pending whitespace: 0, ' ' or '\n'
	opens []opener
	inLnk int // written link openers
	runs  []delimRun
	pairs []delimPair // emitted emphasis delimiters, to check they work
	sim   []simRun
	shift []int

	// the last code span, merged with a code span right after it (two
	// adjacent spans cannot be written: their backticks would join)
	spanStart, spanEnd int
	lastSpan, spanTmp  []byte
}

// delimPair is an emitted opening and closing delimiter of n bytes.
type delimPair struct{ open, close, n int }

func (in *inlineBuf) reset() {
	in.b = in.b[:0]
	in.k = in.k[:0]
	in.ws = 0
	in.inLnk = 0
	in.pairs = in.pairs[:0]
	in.spanEnd = -1
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// flushWS writes pending whitespace (none at the start of a line) and the
// openers still waiting for content.
func (r *renderer) flushWS() {
	if r.ws != 0 {
		if n := len(r.b); n > 0 && r.b[n-1] != '\n' {
			c := r.ws
			if c == '\n' && (r.cell || r.heading > 0) {
				c = ' '
			}
			r.b = append(r.b, c)
			r.k = append(r.k, byteLiteral)
		}
		r.ws = 0
	}
	for i := range r.opens {
		o := &r.opens[i]
		if o.written {
			continue
		}
		o.written = true
		o.start = len(r.b)
		r.b = append(r.b, o.marker...)
		for range o.marker {
			r.k = append(r.k, byteDelim)
		}
		if o.link {
			r.inLnk++
		}
	}
}

// appendText appends page text, collapsing runs of whitespace to one space,
// or one newline when the run holds a newline.
func (r *renderer) appendText(t []byte) {
	for i := 0; i < len(t); {
		c := t[i]
		if isSpaceByte(c) {
			if c == '\n' {
				r.ws = '\n'
			} else if r.ws == 0 {
				r.ws = ' '
			}
			i++
			continue
		}
		if r.ws != 0 || (len(r.opens) > 0 && !r.opens[len(r.opens)-1].written) {
			r.flushWS()
		}
		// copy the run of non-space bytes
		j := i
		for j < len(t) && !isSpaceByte(t[j]) {
			j++
		}
		r.b = append(r.b, t[i:j]...)
		for _, c := range t[i:j] {
			k := byteLiteral
			if r.inLnk > 0 && (c == '[' || c == ']') {
				k = byteEscape
			}
			r.k = append(r.k, k)
		}
		i = j
	}
}

// appendOpaque appends emitted content that is never escaped.
func (r *renderer) appendOpaque(s string) {
	r.flushWS()
	r.b = append(r.b, s...)
	for range len(s) {
		r.k = append(r.k, byteOpaque)
	}
}

// lineBreak handles <br>.
func (r *renderer) lineBreak() {
	if r.cell {
		r.ws = 0
		r.appendOpaque("<br>")
		return
	}
	if r.heading > 0 {
		r.ws = ' '
		return
	}
	r.ws = 0
	if len(r.b) > 0 && r.b[len(r.b)-1] != '\n' {
		r.b = append(r.b, '\n')
		r.k = append(r.k, byteLiteral)
	}
}

// softBreak separates blocks flattened into a table cell.
func (r *renderer) softBreak() {
	if r.ws == 0 {
		r.ws = ' '
	}
}

func (r *renderer) image(at *attrs) {
	if len(at.src) == 0 {
		return
	}
	r.flushWS()
	r.b = append(r.b, "!["...)
	for _, c := range at.alt {
		if c == '[' || c == ']' || c == '\\' {
			r.b = append(r.b, '\\')
		}
		if c == '\n' {
			c = ' '
		}
		r.b = append(r.b, c)
	}
	r.b = append(r.b, "]("...)
	r.b = appendDest(r.b, at.src)
	r.b = append(r.b, ')')
	for len(r.k) < len(r.b) {
		r.k = append(r.k, byteOpaque)
	}
}

// appendDest writes a link destination, in <...> when it holds spaces or
// parentheses.
func appendDest(b, url []byte) []byte {
	if !bytes.ContainsAny(url, " ()\t\n") {
		return append(b, url...)
	}
	if !bytes.ContainsAny(url, "<>\n") {
		b = append(b, '<')
		b = append(b, url...)
		return append(b, '>')
	}
	for _, c := range url {
		switch c {
		case ' ':
			b = append(b, "%20"...)
		case '(':
			b = append(b, "%28"...)
		case ')':
			b = append(b, "%29"...)
		case '<':
			b = append(b, "%3C"...)
		case '>':
			b = append(b, "%3E"...)
		case '\n', '\t':
		default:
			b = append(b, c)
		}
	}
	return b
}

func (r *renderer) pushOpener(a atom.Atom, name []byte, marker string, href []byte, void bool) {
	if void {
		return
	}
	o := opener{marker: marker, link: marker == "["}
	if o.link {
		for i := range r.opens {
			if r.opens[i].link {
				r.push(a, name, elemNone) // no links in links
				return
			}
		}
		o.href = append([]byte(nil), href...)
	}
	r.opens = append(r.opens, o)
	r.push(a, name, elemOpener)
}

// closeOpener writes the end of an emphasis or link whose start was
// written; pending whitespace stays pending, so it goes after the closer.
func (r *renderer) closeOpener(o *opener) {
	if !o.written {
		return
	}
	o.written = false
	nl := 0
	for len(r.b) > o.start+len(o.marker) && r.b[len(r.b)-1] == '\n' {
		r.b = r.b[:len(r.b)-1]
		r.k = r.k[:len(r.k)-1]
		nl++
	}
	if o.link {
		r.inLnk--
		text := r.b[o.start+1:]
		if len(o.href) == 0 || (bytes.Equal(text, o.href) && allKind(r.k[o.start+1:], byteLiteral) &&
			linkifies(o.href) && (o.start == 0 || bytes.IndexByte([]byte(" \n(*_~"), r.b[o.start-1]) >= 0)) {
			// no destination, or a bare URL: keep only the text
			copy(r.b[o.start:], r.b[o.start+1:])
			copy(r.k[o.start:], r.k[o.start+1:])
			r.b = r.b[:len(r.b)-1]
			r.k = r.k[:len(r.k)-1]
			for i := range r.pairs {
				if p := &r.pairs[i]; p.open > o.start {
					p.open--
					p.close--
				}
			}
			if r.spanStart > o.start {
				r.spanStart--
				r.spanEnd--
			}
		} else {
			r.b = append(r.b, ']', '(')
			r.k = append(r.k, byteDelim, byteOpaque)
			r.b = appendDest(r.b, o.href)
			r.b = append(r.b, ')')
			for len(r.k) < len(r.b) {
				r.k = append(r.k, byteOpaque)
			}
		}
	} else {
		r.pairs = append(r.pairs, delimPair{o.start, len(r.b), len(o.marker)})
		r.b = append(r.b, o.marker...)
		for range o.marker {
			r.k = append(r.k, byteDelim)
		}
	}
	for ; nl > 0; nl-- {
		r.b = append(r.b, '\n')
		r.k = append(r.k, byteLiteral)
	}
}

func allKind(k []byte, want byte) bool {
	for _, c := range k {
		if c != want {
			return false
		}
	}
	return true
}

// linkifies reports URLs that GFM's extended autolinks turn into the same
// link by themselves, so "[u](u)" can be written "u": http(s) with a domain
// holding a period, no character that would end the link early, and no
// trailing punctuation (which GFM leaves out of the link).
func linkifies(u []byte) bool {
	var rest []byte
	switch {
	case bytes.HasPrefix(u, []byte("https://")):
		rest = u[8:]
	case bytes.HasPrefix(u, []byte("http://")):
		rest = u[7:]
	default:
		return false
	}
	end := bytes.IndexAny(rest, "/?#:")
	if end < 0 {
		end = len(rest)
	}
	domain := rest[:end]
	if bytes.IndexByte(domain, '.') <= 0 || domain[len(domain)-1] == '.' {
		return false
	}
	for _, c := range domain {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	if bytes.ContainsAny(u, " <>()*~`[]\"&'") {
		return false
	}
	switch u[len(u)-1] {
	case '?', '!', '.', ',', ':', ';':
		return false
	}
	return true
}

// appendCodeSpan writes inline code with a backtick run longer than any
// inside it.
func (r *renderer) appendCodeSpan(code []byte) {
	if len(code) == 0 {
		return
	}
	longest, run := 0, 0
	allSpace := true
	for _, c := range code {
		if c == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			allSpace = false
		}
	}
	r.flushWS()
	if len(r.b) == r.spanEnd {
		// right after another code span: write one span holding both
		merged := append(append(r.spanTmp[:0], r.lastSpan...), code...)
		r.spanTmp = r.lastSpan
		r.b, r.k = r.b[:r.spanStart], r.k[:r.spanStart]
		r.spanEnd = -1
		r.appendCodeSpan(merged)
		return
	}
	r.spanStart = len(r.b)
	r.lastSpan = append(r.lastSpan[:0], code...)
	r.b, r.k = encodeCodeSpan(r.b, r.k, code, longest, allSpace, r.cell)
	r.spanEnd = len(r.b)
}

// encodeCodeSpan appends code as a code span: a backtick run one longer
// than the longest inside, a space of padding where CommonMark would strip
// one, "\|" for a pipe in a table cell.
func encodeCodeSpan(b, k, code []byte, longest int, allSpace, cell bool) ([]byte, []byte) {
	n := longest + 1
	for i := 0; i < n; i++ {
		b = append(b, '`')
		k = append(k, byteDelim)
	}
	first, last := code[0], code[len(code)-1]
	pad := first == '`' || last == '`' || (!allSpace && isSpaceByte(first) && isSpaceByte(last))
	if pad {
		b = append(b, ' ')
		k = append(k, byteOpaque)
	}
	for _, c := range code {
		if c == '\n' || c == '\r' {
			c = ' '
		}
		if c == '|' && cell {
			b = append(b, '\\')
			k = append(k, byteOpaque)
		}
		b = append(b, c)
		k = append(k, byteOpaque)
	}
	if pad {
		b = append(b, ' ')
		k = append(k, byteOpaque)
	}
	for i := 0; i < n; i++ {
		b = append(b, '`')
		k = append(k, byteDelim)
	}
	return b, k
}

// decodeCodeSpan returns the code of an encoded span's inside (between
// its backtick runs), undoing encodeCodeSpan.
func decodeCodeSpan(dst, in []byte, cell bool) []byte {
	if len(in) >= 2 && in[0] == ' ' && in[len(in)-1] == ' ' && len(bytes.Trim(in, " ")) > 0 {
		in = in[1 : len(in)-1]
	}
	for i := 0; i < len(in); i++ {
		if cell && in[i] == '\\' && i+1 < len(in) && in[i+1] == '|' {
			continue
		}
		dst = append(dst, in[i])
	}
	return dst
}

// mergeAdjacentSpans rewrites code spans that dropped delimiters left side
// by side (their backtick runs would join) as one span.
func (r *renderer) mergeAdjacentSpans(b, k []byte) ([]byte, []byte) {
	type span struct{ open, start, end, close int } // runs [open,start) and [end,close)
	var spans []span
	for i := 0; i < len(b); {
		if b[i] != '`' || k[i] != byteDelim {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] == '`' && k[j] == byteDelim && (j == i || j-i < 64) {
			j++
		}
		// the closing run has the opening run's length
		n := j - i
		e := j
		for e < len(b) && !(b[e] == '`' && k[e] == byteDelim) {
			e++
		}
		c := e + n
		if c > len(b) {
			c = len(b)
		}
		spans = append(spans, span{i, j, e, c})
		i = c
	}
	adjacent := false
	for x := 1; x < len(spans); x++ {
		if spans[x].open == spans[x-1].close {
			adjacent = true
		}
	}
	if !adjacent {
		return b, k
	}
	nb, nk := []byte(nil), []byte(nil)
	last := 0
	for x := 0; x < len(spans); {
		y := x
		var code []byte
		for {
			code = decodeCodeSpan(code, b[spans[y].start:spans[y].end], r.cell)
			if y+1 < len(spans) && spans[y+1].open == spans[y].close {
				y++
				continue
			}
			break
		}
		nb = append(nb, b[last:spans[x].open]...)
		nk = append(nk, k[last:spans[x].open]...)
		if len(code) == 0 {
			code = []byte{' '}
		}
		longest, run, allSpace := 0, 0, true
		for _, c := range code {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
			if c != ' ' {
				allSpace = false
			}
		}
		nb, nk = encodeCodeSpan(nb, nk, code, longest, allSpace, r.cell)
		last = spans[y].close
		x = y + 1
	}
	nb = append(nb, b[last:]...)
	nk = append(nk, k[last:]...)
	return nb, nk
}

// flushInline ends the open paragraph (or heading) and writes it as a block.
// In a table cell, a block boundary is only a space.
func (r *renderer) flushInline() {
	if r.cell {
		r.softBreak()
		return
	}
	if len(r.b) == 0 {
		r.ws = 0
		return
	}
	r.closeWritten()
	text := r.renderInline(r.heading > 0)
	if r.heading > 0 {
		text = bytes.TrimSpace(text)
		if len(text) > 0 {
			r.sep(sepBlank, false)
			line := r.tmp2[:0]
			for i := 0; i < r.heading; i++ {
				line = append(line, '#')
			}
			line = append(line, ' ')
			line = append(line, text...)
			r.tmp2 = line
			r.writeLine(line)
		}
	} else if hasText(text) {
		r.sep(sepBlank, false)
		for len(text) > 0 {
			var line []byte
			if i := bytes.IndexByte(text, '\n'); i >= 0 {
				line, text = text[:i], text[i+1:]
			} else {
				line, text = text, nil
			}
			line = bytes.TrimRightFunc(line, unicode.IsSpace)
			if len(line) > 0 {
				r.writeLine(line)
			}
		}
	}
	r.inlineBuf.reset()
}

func hasText(b []byte) bool {
	return len(bytes.TrimSpace(b)) > 0
}

// closeWritten closes the written openers at a block end; they reopen with
// the next content.
func (r *renderer) closeWritten() {
	for i := len(r.opens) - 1; i >= 0; i-- {
		r.closeOpener(&r.opens[i])
	}
	r.inLnk = 0
}

func (r *renderer) renderCell() []byte {
	r.closeWritten()
	text := r.renderInline(true)
	return bytes.TrimSpace(text) // Unicode spaces too
}

// delimRun is a run of one of * _ ~ in the inline buffer.
type delimRun struct {
	start, end  int
	c           byte
	open, close bool
	literal     bool // page text
	emitted     bool // an emitted delimiter
	touches     bool // page text next to an emitted run of its character
	closerAfter bool
}

// renderInline decides escapes for the inline buffer and returns its
// Markdown text (in r.tmp). singleLine: heading or table cell.
func (r *renderer) renderInline(singleLine bool) []byte {
	b, k := r.b, r.k
	// trim trailing whitespace
	for len(b) > 0 && isSpaceByte(b[len(b)-1]) && k[len(b)-1] != byteOpaque {
		b = b[:len(b)-1]
	}
	k = k[:len(b)]
	if len(r.pairs) > 0 {
		b, k = r.dropFailedPairs(b, k)
	}
	r.markDelims(b, k)
	r.markBackticks(b, k)
	sawOpen := false
	for i, c := range b {
		if k[i] != byteLiteral {
			if c == '[' && k[i] == byteDelim {
				sawOpen = true
			}
			continue
		}
		switch c {
		case '\\':
			if i+1 < len(b) && (isASCIIPunct(b[i+1]) || b[i+1] == '\n') {
				k[i] = byteEscape
			}
		case '<':
			if escapesLT(b, k, i) {
				k[i] = byteEscape
			}
		case '&':
			if isEntity(b[i:]) {
				k[i] = byteEscape
			}
		case '[':
			sawOpen = true
		case '!':
			if i+1 < len(b) && b[i+1] == '[' && k[i+1] == byteDelim {
				k[i] = byteEscape // "![" would make the link an image
			}
		case ']':
			if sawOpen && i+1 < len(b) && b[i+1] == '(' && linkTail(b, k, i+1) {
				k[i] = byteEscape
			}
		case '|':
			if r.cell {
				k[i] = byteEscape
			}
		}
	}
	if !singleLine {
		c := r.top()
		itemStart := c.li && !c.hasContent // the first line follows a list marker
		for p := 0; p < len(b); {
			markLineStart(b, k, p, p > 0, itemStart && p == 0)
			i := bytes.IndexByte(b[p:], '\n')
			if i < 0 {
				break
			}
			p += i + 1
		}
	}
	out := r.tmp[:0]
	for i, c := range b {
		if k[i] == byteEscape {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	if r.heading > 0 && !r.cell {
		out = escapeClosingHashes(out)
	}
	if bytes.Contains(out, []byte("Copy")) {
		out = removeCopyNoise(out)
	}
	r.tmp = out
	return out
}

// escapeClosingHashes keeps a heading's trailing " #" from reading as an
// ATX closing sequence.
func escapeClosingHashes(out []byte) []byte {
	t := trimRightSpaces(out, 0)
	j := len(t)
	for j > 0 && t[j-1] == '#' {
		j--
	}
	if j == len(t) || (j > 0 && t[j-1] != ' ' && t[j-1] != '\t') || (j > 0 && t[j-1] == '\\') {
		return out
	}
	out = append(out[:j], append([]byte{'\\'}, t[j:]...)...)
	return out
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// runeBefore and runeAfter classify the neighbours of a delimiter run; a
// line boundary counts as whitespace.
func classify(r rune) (space, punct bool) {
	if r == utf8.RuneError || r == '\n' {
		return true, false
	}
	if r < utf8.RuneSelf {
		c := byte(r)
		return isSpaceByte(c), isASCIIPunct(c)
	}
	return unicode.IsSpace(r), unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// markDelims escapes literal * _ ~ that could pair into emphasis or
// strikethrough: a run that can open with a possible closer after it, or a
// run that can close with a live opener before it (CommonMark's flanking
// rules; conservative, since the real pairing is a subset of this).
func (r *renderer) markDelims(b, k []byte) {
	runs := r.findRuns(b, k)
	if len(runs) < 2 {
		return // one run alone cannot pair
	}
	r.markRuns(k, runs)
}

// findRuns lists the runs of * _ ~ (page text or emitted) with their
// CommonMark flanking.
func (r *renderer) findRuns(b, k []byte) []delimRun {
	runs := r.runs[:0]
	for i := 0; i < len(b); {
		c := b[i]
		if (c != '*' && c != '_' && c != '~') || k[i] == byteOpaque {
			i++
			continue
		}
		// a run is page text only or emitted only: page text touching an
		// emitted delimiter is escaped, so the two never join
		em := k[i] == byteDelim
		j := i + 1
		for j < len(b) && b[j] == c && k[j] != byteOpaque && (k[j] == byteDelim) == em {
			j++
		}
		d := delimRun{start: i, end: j, c: c, emitted: em, literal: !em}
		if !em {
			d.touches = i > 0 && b[i-1] == c && k[i-1] == byteDelim || j < len(b) && b[j] == c && k[j] == byteDelim
		}
		var before, after rune = '\n', '\n'
		if i > 0 {
			before, _ = utf8.DecodeLastRune(b[:i])
		}
		if j < len(b) {
			after, _ = utf8.DecodeRune(b[j:])
		}
		bs, bp := classify(before)
		as, ap := classify(after)
		left := !as && (!ap || bs || bp)
		right := !bs && (!bp || as || ap)
		if c == '_' {
			d.open = left && (!right || bp)
			d.close = right && (!left || ap)
		} else {
			d.open, d.close = left, right
		}
		runs = append(runs, d)
		i = j
	}
	r.runs = runs
	return runs
}

// dropFailedPairs removes emitted emphasis delimiters that a CommonMark
// parser would not read as emphasis (an opener that is not left-flanking as
// in "a**.b**", runs that join as in "*a**b**", the rule of three): it runs
// CommonMark's delimiter algorithm over the emitted runs and drops every
// pair with a delimiter left unmatched. The text stays exact; only that
// emphasis is lost.
func (r *renderer) dropFailedPairs(b, k []byte) ([]byte, []byte) {
	dropped := false
	for iter := 0; iter < 8 && len(r.pairs) > 0; iter++ {
		bad := r.unmatchedDelims(b, k)
		if len(bad) == 0 {
			break
		}
		kept := r.pairs[:0]
		for _, p := range r.pairs {
			drop := false
			for _, x := range bad {
				if x >= p.open && x < p.open+p.n || x >= p.close && x < p.close+p.n {
					drop = true
					break
				}
			}
			if !drop {
				kept = append(kept, p)
				continue
			}
			for i := 0; i < p.n; i++ {
				if p.close+i < len(k) {
					k[p.open+i] = byteDeleted
					k[p.close+i] = byteDeleted
				}
			}
		}
		r.pairs = kept
		// compact, moving the kept pairs along
		shift := r.shift[:0]
		j := 0
		for i := range b {
			shift = append(shift, i-j)
			if k[i] != byteDeleted {
				b[j], k[j] = b[i], k[i]
				j++
			}
		}
		r.shift = shift
		for i := range r.pairs {
			p := &r.pairs[i]
			p.open -= shift[p.open]
			if p.close < len(shift) {
				p.close -= shift[p.close]
			}
		}
		b, k = b[:j], k[:j]
		dropped = true
	}
	if dropped {
		b, k = r.mergeAdjacentSpans(b, k)
	}
	return b, k
}

// simRun is an emitted delimiter run in the emphasis simulation.
type simRun struct {
	lo, hi      int // bytes not yet matched
	orig        int
	c           byte
	open, close bool
	removed     bool
	scope       int // link text the run is in: runs pair only within one
}

// unmatchedDelims returns positions of emitted * and ~ delimiters that
// CommonMark's "process emphasis" leaves unmatched.
func (r *renderer) unmatchedDelims(b, k []byte) []int {
	ds := r.sim[:0]
	scope, next := 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		if k[i] == byteDelim && c == '[' {
			next++
			scope = next
		} else if k[i] == byteDelim && c == ']' {
			scope = 0 // links do not nest
		}
		if (c != '*' && c != '~') || k[i] != byteDelim {
			i++
			continue
		}
		j := i + 1
		for j < len(b) && b[j] == c && k[j] == byteDelim {
			j++
		}
		var before, after rune = '\n', '\n'
		if i > 0 {
			before, _ = utf8.DecodeLastRune(b[:i])
		}
		if j < len(b) {
			after, _ = utf8.DecodeRune(b[j:])
		}
		bs, bp := classify(before)
		as, ap := classify(after)
		d := simRun{lo: i, hi: j, orig: j - i, c: c, scope: scope}
		d.open = !as && (!ap || bs || bp)
		d.close = !bs && (!bp || as || ap)
		if c == '~' && (d.orig > 2 || before == '~') {
			// goldmark: no strikethrough run of 3+, nor one after a ~
			d.open, d.close = false, false
		}
		ds = append(ds, d)
		i = j
	}
	r.sim = ds
	for ci := range ds {
		c := &ds[ci]
		if !c.close {
			continue
		}
		for c.lo < c.hi {
			oi := -1
			for j := ci - 1; j >= 0; j-- {
				o := &ds[j]
				if o.removed || o.lo == o.hi || o.c != c.c || !o.open || o.scope != c.scope {
					continue
				}
				if (o.close || c.open) && (o.orig+c.orig)%3 == 0 && !(o.orig%3 == 0 && c.orig%3 == 0) {
					continue
				}
				oi = j
				break
			}
			if oi < 0 {
				break
			}
			o := &ds[oi]
			use := 1
			if o.hi-o.lo >= 2 && c.hi-c.lo >= 2 {
				use = 2
			}
			o.hi -= use
			c.lo += use
			for j := oi + 1; j < ci; j++ {
				ds[j].removed = true
			}
		}
	}
	var bad []int
	for i := range ds {
		if d := &ds[i]; d.lo < d.hi {
			bad = append(bad, d.lo)
		}
	}
	return bad
}

// markRuns decides the escapes of the runs.
func (r *renderer) markRuns(k []byte, runs []delimRun) {
	// runs pair whatever their lengths: the GFM spec pairs only ~ with ~ and
	// ~~ with ~~, but goldmark (and others) pair ~ with ~~ too.
	var closer [3]bool
	idx := func(d *delimRun) int {
		switch d.c {
		case '*':
			return 0
		case '_':
			return 1
		}
		return 2
	}
	for i := len(runs) - 1; i >= 0; i-- {
		d := &runs[i]
		d.closerAfter = closer[idx(d)]
		if d.close {
			closer[idx(d)] = true
		}
	}
	var opener [3]bool
	for i := range runs {
		d := &runs[i]
		x := idx(d)
		esc := false
		if d.literal {
			// page text touching an emitted delimiter would join it
			esc = d.touches || (d.open && d.closerAfter) || (d.close && opener[x])
		}
		if esc {
			for t := d.start; t < d.end; t++ {
				if k[t] == byteLiteral {
					k[t] = byteEscape
				}
			}
		}
		if d.open && (d.emitted || !esc) {
			opener[x] = true
		}
	}
}

// markBackticks escapes literal backtick runs that could open a code span:
// every run with a backtick after it (of any length: a backslash does not
// keep "\`" from closing a span, so escaped runs still count as closers),
// and literal backticks touching an emitted code span delimiter. Only the
// last run of a block can stay as written.
func (r *renderer) markBackticks(b, k []byte) {
	if bytes.IndexByte(b, '`') < 0 {
		return
	}
	later := false
	for j := len(b); j > 0; {
		i := j - 1
		if b[i] != '`' || k[i] == byteOpaque {
			j--
			continue
		}
		for i > 0 && b[i-1] == '`' && k[i-1] != byteOpaque {
			i--
		}
		emitted := false
		for t := i; t < j; t++ {
			if k[t] == byteDelim {
				emitted = true
			}
		}
		if emitted || later {
			for t := i; t < j; t++ {
				if k[t] == byteLiteral {
					k[t] = byteEscape
				}
			}
		}
		later = true
		j = i
	}
}

// markLineStart escapes page text at the start of a line that Markdown
// would read as a block marker. notFirst: not the paragraph's first line
// (setext underlines only follow a line; a link reference definition, an
// ordered list not starting at 1 and an empty list item cannot interrupt a
// paragraph). itemStart: the line follows a list item's marker, where
// "[ ]" makes a task list item.
func markLineStart(b, k []byte, p int, notFirst, itemStart bool) {
	if p >= len(b) || (k[p] != byteLiteral && k[p] != byteEscape) {
		return
	}
	end := bytes.IndexByte(b[p:], '\n')
	if end < 0 {
		end = len(b)
	} else {
		end += p
	}
	line := b[p:end]
	c := line[0]
	sp := func(i int) bool { return i >= len(line) || line[i] == ' ' || line[i] == '\t' }
	esc := func(i int) {
		if k[p+i] == byteLiteral {
			k[p+i] = byteEscape
		}
	}
	if notFirst && isDelimRow(line) {
		// a GFM table delimiter row would turn the lines above into a table
		esc(bytes.IndexByte(line, '-'))
		return
	}
	switch {
	case c == '#':
		n := 1
		for n < len(line) && line[n] == '#' {
			n++
		}
		if n <= 6 && sp(n) {
			esc(0)
		}
	case c == '>':
		esc(0)
	case c == '-' || c == '+' || c == '*':
		if sp(1) || isBreakLine(line) || (notFirst && c == '-' && onlyChar(line, '-')) {
			esc(0)
		}
	case c == '_':
		if isBreakLine(line) {
			esc(0)
		}
	case c == '=':
		if notFirst && onlyChar(line, '=') {
			esc(0)
		}
	case c >= '0' && c <= '9':
		n := 1
		for n < len(line) && n < 10 && line[n] >= '0' && line[n] <= '9' {
			n++
		}
		if n <= 9 && n < len(line) && (line[n] == '.' || line[n] == ')') && sp(n+1) &&
			(!notFirst || (string(bytes.TrimLeft(line[:n], "0")) == "1" && hasText(line[n+1:]))) {
			esc(n)
		}
	case c == '`' || c == '~':
		n := 1
		for n < len(line) && line[n] == c {
			n++
		}
		if n >= 3 {
			if c == '`' {
				for i := 0; i < n; i++ {
					esc(i)
				}
			} else {
				esc(0)
			}
		}
	case c == '[':
		if p == 0 && isLinkDef(b, k) {
			esc(0)
		} else if itemStart && len(line) >= 3 && (line[1] == ' ' || line[1] == 'x' || line[1] == 'X') && line[2] == ']' && sp(3) {
			esc(0)
		}
	case c == '<':
		if htmlBlockStart(line) {
			esc(0)
		}
	case c == '|':
		// a GFM table needs a delimiter row; left alone
	}
}

// isDelimRow reports a line that could be a GFM table's delimiter row:
// only | : - and spaces, with a dash and a colon or pipe.
func isDelimRow(line []byte) bool {
	dash, other := false, false
	for _, c := range line {
		switch c {
		case '-':
			dash = true
		case '|', ':':
			other = true
		case ' ', '\t':
		default:
			return false
		}
	}
	return dash && other
}

// isBreakLine reports a thematic break: three or more of one of - * _,
// with optional spaces.
func isBreakLine(line []byte) bool {
	c := line[0]
	n := 0
	for _, x := range line {
		switch x {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

func onlyChar(line []byte, c byte) bool {
	t := trimRightSpaces(line, 0)
	for _, x := range t {
		if x != c {
			return false
		}
	}
	return len(t) > 0
}
