package clean

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Converter renders share-page HTML as Markdown. It keeps no state between
// calls except pooled scratch buffers; it is safe for concurrent use and its
// zero value is ready to use.
type Converter struct {
	pool sync.Pool // of *renderer
}

// NewConverter returns a ready Converter.
func NewConverter() *Converter { return &Converter{} }

// maxPooledBuf: renderers whose buffers grew beyond this are not pooled, so
// one huge value does not pin its memory for the life of the Converter.
const maxPooledBuf = 4 << 20

// Markdown converts one assistant turn (share-page HTML) to Markdown,
// whatever Classify would say of it. The result is trimmed and freed of
// scraper noise as PlainText does it. It returns an error only
// when the HTML tokenizer fails, which cannot happen for an in-memory string;
// malformed markup is converted as well as it can be.
func (c *Converter) Markdown(src string) (string, error) {
	r, _ := c.pool.Get().(*renderer)
	if r == nil {
		r = &renderer{}
	}
	r.reset()
	err := r.convert(src)
	var out string
	if err == nil {
		out = r.result()
	}
	if cap(r.out) <= maxPooledBuf && cap(r.b) <= maxPooledBuf && cap(r.pre.code) <= maxPooledBuf {
		c.pool.Put(r)
	}
	return out, err
}

// Convert converts one assistant turn: share-page HTML and HTML fragments
// (as Classify decides) go through Markdown, Markdown through PlainText.
func (c *Converter) Convert(value string) (string, error) {
	out, _, err := c.ConvertTurn("gpt", value)
	return out, err
}

// ConvertTurn converts one turn of any role and says what it took the turn
// for. Only assistant ("gpt") turns are classified; every other role is text
// (PlainText), as raw dumps hold human turns: a human turn pasting HTML
// keeps it.
func (c *Converter) ConvertTurn(role, value string) (string, Kind, error) {
	text := PlainText(value)
	if role != "gpt" {
		return text, KindMarkdown, nil
	}
	k := classifyText(text)
	if k == KindMarkdown {
		return text, k, nil
	}
	out, err := c.Markdown(value)
	return out, k, err
}

type sepKind uint8

const (
	sepNone sepKind = iota
	sepLine
	sepBlank
)

// container is a block that prefixes its lines: the root, a blockquote or a
// list item. first is written on the container's first line, rest on the
// following ones.
type container struct {
	first, rest string
	used        bool // first has been written
	hasContent  bool // a block has started inside
	li          bool
	tight       bool // li whose content is not wrapped in <p>
	index       int  // li: position in its list
	lastList    byte // marker of the list that was the last block here
}

type list struct {
	ordered bool
	marker  byte // '-' or '*' (ul), '.' or ')' (ol)
	next    int
	items   int
	loose   bool
}

type elemKind uint8

const (
	elemNone elemKind = iota
	elemBlock
	elemHeading
	elemList
	elemLi
	elemQuote
	elemTable
	elemThead
	elemTr
	elemCell
	elemOpener  // emphasis or link: pops r.opens
	elemDisplay // .katex-display wrapper
)

type elem struct {
	a    atom.Atom
	name string // tag name of unknown elements (a == 0)
	kind elemKind
}

type mode uint8

const (
	modeNormal mode = iota
	modeSkip        // content dropped until the matching end tag
	modePre         // inside <pre>
	modeCode        // inline <code>/<kbd>
	modeMath        // inside a KaTeX (or bare MathML) element
)

// preState collects a <pre>: the code (the text of its <code>, or of the
// whole block when it has none), the language label of its header bar and
// the language-X class of its <code>.
type preState struct {
	label     []byte
	codeLang  []byte
	code      []byte
	other     []byte // text outside <code> and the button, label included
	labelAt   int    // where the label's text starts in other
	inLabel   int
	labelDone bool
	inCode    int
	sawCode   bool
	button    int
	sawButton bool // the block has a header bar (its "Copy code" button)
}

func (p *preState) reset() {
	*p = preState{label: p.label[:0], codeLang: p.codeLang[:0], code: p.code[:0], other: p.other[:0]}
}

// mathState collects one formula: the TeX of its
// <annotation encoding="application/x-tex">, the text of its MathML
// (annotations left out) and the text of its .katex-html rendering.
type mathState struct {
	depth      int
	annotDepth int  // depth of the open annotation, 0 if none
	annotTeX   bool // the open annotation is the TeX source
	htmlDepth  int  // depth of the open .katex-html, 0 if none
	hasAnnot   bool
	tex        []byte
	fallback   []byte // MathML text
	html       []byte // .katex-html text
}

type tableState struct {
	cells    []string
	rowEnds  []int // end index in cells of each row
	headRows int   // leading rows that form the header
	aligns   []byte
	rowStart int
	inHead   bool
	rowHead  bool // the open row is in <thead> or holds only <th>
	cellHead bool
}

// renderer holds the state of one conversion; it is pooled by Converter.
type renderer struct {
	out  []byte
	want sepKind

	conts []container
	lists []list
	elems []elem

	// inline content of the open paragraph, heading or table cell
	inlineBuf

	heading int // level of the open heading, 0 if none
	cell    bool
	inTable bool
	table   tableState
	display int // open .katex-display wrappers

	mode      mode
	skipAtom  atom.Atom
	skipDepth int
	pre       preState
	codeBuf   []byte
	codeEnd   atom.Atom
	math      mathState

	tmp  []byte
	tmp2 []byte
}

func (r *renderer) reset() {
	r.out = r.out[:0]
	r.want = sepNone
	r.conts = append(r.conts[:0], container{used: true})
	r.lists = r.lists[:0]
	r.elems = r.elems[:0]
	r.inlineBuf.reset()
	r.opens = r.opens[:0]
	r.heading = 0
	r.cell = false
	r.inTable = false
	r.display = 0
	r.mode = modeNormal
	r.skipDepth = 0
}

// result is the Markdown, trimmed and freed of scraper noise by PlainText.
// Should removing a leading counter bring HTML to the start ("1 / 2<p ..."),
// its "<" is escaped, as at the start of any line: the result is always
// Markdown to Classify, so converting it again changes nothing.
func (r *renderer) result() string {
	out := PlainText(string(r.out))
	if classifyText(out) != KindMarkdown {
		out = "\\" + out
	}
	return out
}

// attrs holds the attributes the renderer reads; values point into the
// tokenizer's buffer and are valid until its next call.
type attrs struct {
	class, href, src, alt, start, align, style, encoding, typ []byte
	checked                                                   bool
}

func readAttrs(z *html.Tokenizer, has bool, a *attrs) {
	*a = attrs{}
	for has {
		var k, v []byte
		k, v, has = z.TagAttr()
		if k == nil {
			break
		}
		switch string(k) {
		case "class":
			a.class = v
		case "href":
			a.href = v
		case "src":
			a.src = v
		case "alt":
			a.alt = v
		case "start":
			a.start = v
		case "align":
			a.align = v
		case "style":
			a.style = v
		case "encoding":
			a.encoding = v
		case "type":
			a.typ = v
		case "checked":
			a.checked = true
		}
	}
}

// tagName returns the lower-cased name of a tag from its raw text, as
// Tokenizer.TagName does but without allocating. Names are cut at 32 bytes.
func tagName(raw []byte, buf *[32]byte) []byte {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	n := 0
	for ; i < len(raw) && n < len(buf); i++ {
		c := raw[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/' || c == '>' {
			break
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// needAttrs reports whether the renderer reads the attributes of a start
// tag; the tokenizer allocates for every attribute it returns, so the many
// highlight.js spans and svg paths skip them.
func (r *renderer) needAttrs(a atom.Atom) bool {
	switch r.mode {
	case modePre:
		return a == atom.Code || (a == atom.Span && r.pre.inCode == 0)
	case modeMath:
		return true
	case modeCode:
		return endsCodeSpan(a) && normalAttrs(a)
	case modeNormal:
		return normalAttrs(a)
	}
	return false
}

// normalAttrs reports the elements whose attributes the renderer reads
// outside code and math.
func normalAttrs(a atom.Atom) bool {
	switch a {
	case atom.Span, atom.Div, atom.A, atom.Img, atom.Ol, atom.Th, atom.Td, atom.Input:
		return true
	}
	return false
}

func (r *renderer) convert(src string) error {
	z := html.NewTokenizer(strings.NewReader(src))
	var at attrs
	var nameBuf [32]byte
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return err
			}
			r.closeAll()
			return nil
		case html.TextToken:
			r.text(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name := tagName(z.Raw(), &nameBuf)
			a := atom.Lookup(name)
			readAttrs(z, r.needAttrs(a), &at)
			r.start(a, name, &at, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name := tagName(z.Raw(), &nameBuf)
			r.end(atom.Lookup(name), name)
		}
	}
}

func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img,
		atom.Input, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// hasClass reports whether the class attribute holds the word w.
func hasClass(class []byte, w string) bool {
	for len(class) > 0 {
		i := bytes.IndexAny(class, " \t\n\r\f")
		var word []byte
		if i < 0 {
			word, class = class, nil
		} else {
			word, class = class[:i], class[i+1:]
		}
		if string(word) == w {
			return true
		}
	}
	return false
}

func (r *renderer) text(t []byte) {
	switch r.mode {
	case modeSkip:
	case modePre:
		p := &r.pre
		switch {
		case p.button > 0:
		case p.inCode > 0:
			p.code = append(p.code, t...)
		case p.inLabel > 0:
			p.label = append(p.label, t...)
			p.other = append(p.other, t...)
		default:
			p.other = append(p.other, t...)
		}
	case modeCode:
		r.codeBuf = append(r.codeBuf, t...)
	case modeMath:
		m := &r.math
		switch {
		case m.annotDepth > 0:
			if m.annotTeX {
				m.tex = append(m.tex, t...)
			}
		case m.htmlDepth > 0:
			m.html = append(m.html, t...)
		default:
			m.fallback = append(m.fallback, t...)
		}
	default:
		r.appendText(t)
	}
}

func (r *renderer) start(a atom.Atom, name []byte, at *attrs, selfClosing bool) {
	void := selfClosing || isVoid(a)
	switch r.mode {
	case modeSkip:
		if !void && r.sameSkip(a) {
			r.skipDepth++
		}
		return
	case modePre:
		r.preStart(a, at, void)
		return
	case modeCode:
		if !endsCodeSpan(a) {
			if a == atom.Br {
				r.codeBuf = append(r.codeBuf, '\n')
			}
			return
		}
		r.cutCodeSpan()
	case modeMath:
		r.mathStart(a, at, void)
		return
	}

	if len(r.elems) >= maxDepth && !void {
		return
	}
	switch a {
	case atom.P:
		r.closeP()
		r.flushInline()
		if !r.cell {
			if c := r.top(); c.li && !c.hasContent {
				c.tight = false
				if len(r.lists) > 0 {
					r.lists[len(r.lists)-1].loose = true
				}
				if c.index > 0 && r.want < sepBlank {
					r.want = sepBlank
				}
			} else if c.li {
				c.tight = false
			}
		}
		r.push(a, name, elemBlock)
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main,
		atom.Nav, atom.Aside, atom.Figure, atom.Figcaption, atom.Details, atom.Summary,
		atom.Address, atom.Fieldset, atom.Form, atom.Dl, atom.Dt, atom.Dd, atom.Center,
		atom.Body, atom.Html:
		if r.katex(a, name, at, void) {
			return
		}
		if a != atom.Body && a != atom.Html {
			r.closeP()
		}
		r.flushInline()
		if !void {
			r.push(a, name, elemBlock)
		}
	case atom.Span:
		if r.katex(a, name, at, void) {
			return
		}
		if !void {
			r.push(a, name, elemNone)
		}
	case atom.Math:
		if !void {
			r.enterMath()
		}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		r.closeP()
		r.closeTo(func(e *elem) bool { return e.kind == elemHeading }, isBlockBoundary)
		r.flushInline()
		if r.cell {
			r.push(a, name, elemBlock)
			return
		}
		r.heading = int(name[1] - '0')
		r.push(a, name, elemHeading)
	case atom.Pre:
		r.closeP()
		r.flushInline()
		r.pre.reset()
		if !void {
			r.mode = modePre
		}
	case atom.Ul, atom.Ol:
		r.closeP()
		r.flushInline()
		if r.cell || void {
			if !void {
				r.push(a, name, elemBlock)
			}
			return
		}
		r.openList(a == atom.Ol, at)
		r.push(a, name, elemList)
	case atom.Li:
		r.closeTo(func(e *elem) bool { return e.kind == elemLi }, func(e *elem) bool {
			return e.kind == elemList || e.kind == elemTable || e.kind == elemCell || e.kind == elemQuote
		})
		r.flushInline()
		if r.cell || void {
			if !void {
				r.push(a, name, elemBlock)
			}
			return
		}
		r.openItem()
		r.push(a, name, elemLi)
	case atom.Blockquote:
		r.closeP()
		r.flushInline()
		if r.cell || void {
			if !void {
				r.push(a, name, elemBlock)
			}
			return
		}
		r.sep(sepBlank, false)
		r.conts = append(r.conts, container{first: "> ", rest: "> "})
		r.push(a, name, elemQuote)
	case atom.Table:
		r.closeP()
		r.flushInline()
		if r.inTable || void {
			if !void {
				r.push(a, name, elemBlock)
			}
			return
		}
		r.inTable = true
		t := &r.table
		t.cells, t.rowEnds, t.aligns = t.cells[:0], t.rowEnds[:0], t.aligns[:0]
		t.headRows, t.inHead, t.rowStart = 0, false, 0
		r.push(a, name, elemTable)
	case atom.Thead, atom.Tbody, atom.Tfoot:
		if r.inTable && !r.cell {
			r.table.inHead = a == atom.Thead
			r.push(a, name, elemThead)
		} else if !void {
			r.softBreak()
			r.push(a, name, elemNone)
		}
	case atom.Tr:
		if r.inTable && !r.cell && r.tableTop() {
			r.closeTo(func(e *elem) bool { return e.kind == elemTr }, func(e *elem) bool { return e.kind == elemTable })
			r.table.rowStart = len(r.table.cells)
			r.table.rowHead = r.table.inHead
			r.push(a, name, elemTr)
		} else if !void {
			r.softBreak()
			r.push(a, name, elemNone)
		}
	case atom.Td, atom.Th:
		if r.inTable && (!r.cell || r.cellTop()) {
			r.closeTo(func(e *elem) bool { return e.kind == elemCell }, func(e *elem) bool { return e.kind == elemTable || e.kind == elemTr })
			r.flushInline()
			r.cell = true
			r.table.cellHead = a == atom.Th
			if len(r.table.cells) == r.table.rowStart && len(r.table.rowEnds) == 0 {
				r.table.aligns = r.table.aligns[:0]
			}
			if len(r.table.rowEnds) == 0 {
				r.table.aligns = append(r.table.aligns, alignOf(at))
			}
			r.push(a, name, elemCell)
		} else if !void {
			r.softBreak()
			r.push(a, name, elemNone)
		}
	case atom.Hr:
		r.closeP()
		r.flushInline()
		if r.cell {
			r.softBreak()
			return
		}
		if c := r.top(); c.li && c.tight && c.hasContent {
			// "---" under a line of text would make it a setext heading
			r.sep(sepLine, false)
			r.writeLine([]byte("***"))
		} else {
			r.sep(sepBlank, true)
			r.writeLine([]byte("---"))
		}
	case atom.Br:
		r.lineBreak()
	case atom.Img:
		r.image(at)
	case atom.Input:
		if string(at.typ) == "checkbox" {
			if at.checked {
				r.appendOpaque("[x]")
			} else {
				r.appendOpaque("[ ]")
			}
			r.ws = ' '
		}
	case atom.Strong, atom.B:
		r.pushOpener(a, name, "**", nil, void)
	case atom.Em, atom.I, atom.Cite, atom.Var, atom.Dfn:
		r.pushOpener(a, name, "*", nil, void)
	case atom.Del, atom.S, atom.Strike:
		r.pushOpener(a, name, "~~", nil, void)
	case atom.A:
		if void {
			return
		}
		r.pushOpener(a, name, "[", at.href, void)
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt:
		if !void {
			r.mode = modeCode
			r.codeEnd = a
			r.codeBuf = r.codeBuf[:0]
		}
	case atom.Script, atom.Style, atom.Button, atom.Svg, atom.Template, atom.Noscript,
		atom.Title, atom.Head, atom.Select, atom.Iframe, atom.Object, atom.Textarea, atom.Canvas, atom.Audio, atom.Video:
		if !void {
			r.mode = modeSkip
			r.skipAtom = a
			r.skipDepth = 1
		}
	default:
		if !void {
			r.push(a, name, elemNone)
		}
	}
}

func (r *renderer) sameSkip(a atom.Atom) bool { return a == r.skipAtom }

// endsCodeSpan reports the block elements that end an open inline <code>
// (author-edited pages nest a whole code block in one): the browser lays
// them out as blocks, so the span ends where they start.
func endsCodeSpan(a atom.Atom) bool {
	switch a {
	case atom.Pre, atom.P, atom.Div, atom.Ul, atom.Ol, atom.Li, atom.Table, atom.Tr, atom.Td, atom.Th,
		atom.Blockquote, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Hr:
		return true
	}
	return false
}

// cutCodeSpan writes the open inline code, which a block element ends,
// without the white space at its edges (a browser shows none before a
// block); its own end tag, later, is then unmatched and ignored.
func (r *renderer) cutCodeSpan() {
	r.mode = modeNormal
	r.appendCodeSpan(bytes.TrimSpace(r.codeBuf))
}

// katex handles elements whose class marks KaTeX output; it reports whether
// it took the element.
func (r *renderer) katex(a atom.Atom, name []byte, at *attrs, void bool) bool {
	if len(at.class) == 0 || void || !bytes.Contains(at.class, []byte("katex")) {
		return false
	}
	if hasClass(at.class, "katex-display") {
		r.push(a, name, elemDisplay)
		r.display++
		return true
	}
	if hasClass(at.class, "katex") {
		r.enterMath()
		return true
	}
	if hasClass(at.class, "katex-html") {
		// KaTeX's aria-hidden rendering of a formula its MathML gave
		r.mode, r.skipAtom, r.skipDepth = modeSkip, a, 1
		return true
	}
	return false
}

func (r *renderer) enterMath() {
	r.mode = modeMath
	m := &r.math
	*m = mathState{depth: 1, tex: m.tex[:0], fallback: m.fallback[:0], html: m.html[:0]}
}

func (r *renderer) mathStart(a atom.Atom, at *attrs, void bool) {
	if void {
		return
	}
	m := &r.math
	m.depth++
	if (a == atom.Annotation || a == atom.AnnotationXml) && m.annotDepth == 0 {
		m.annotDepth = m.depth
		m.annotTeX = a == atom.Annotation && !m.hasAnnot && string(at.encoding) == "application/x-tex"
	}
	if m.htmlDepth == 0 && len(at.class) > 0 && hasClass(at.class, "katex-html") {
		m.htmlDepth = m.depth
	}
}

func (r *renderer) mathEnd() {
	m := &r.math
	if m.annotDepth == m.depth {
		m.annotDepth = 0
		m.hasAnnot = m.hasAnnot || m.annotTeX
	}
	if m.htmlDepth == m.depth {
		m.htmlDepth = 0
	}
	m.depth--
	if m.depth <= 0 {
		r.finishMath()
	}
}

// source returns the formula's text: the TeX annotation when there is
// one, else the MathML text, else (KaTeX without MathML) the text of its
// .katex-html rendering; each is taken once, never two of them.
func (m *mathState) source() []byte {
	if m.hasAnnot || (m.annotDepth > 0 && m.annotTeX) {
		return bytes.TrimSpace(m.tex)
	}
	if t := bytes.TrimSpace(m.fallback); len(t) > 0 {
		return t
	}
	return bytes.TrimSpace(bytes.ReplaceAll(m.html, []byte("\u200b"), nil))
}

func (r *renderer) finishMath() {
	r.mode = modeNormal
	tex := r.math.source()
	if len(tex) == 0 {
		return
	}
	if r.display > 0 && !r.cell {
		r.flushInline()
		r.sep(sepBlank, false)
		r.writeLine([]byte("$$"))
		for len(tex) > 0 {
			var line []byte
			if i := bytes.IndexByte(tex, '\n'); i >= 0 {
				line, tex = tex[:i], tex[i+1:]
			} else {
				line, tex = tex, nil
			}
			line = bytes.TrimRight(line, " \t\r")
			if len(line) > 0 {
				r.writeLine(line)
			}
		}
		r.writeLine([]byte("$$"))
		return
	}
	delim := "$"
	if r.display > 0 {
		delim = "$$"
	}
	r.flushWS()
	r.b = append(r.b, delim...)
	r.k = append(r.k, 0, 0)[:len(r.b)]
	for _, c := range tex {
		if c == '\n' || c == '\r' {
			c = ' '
		}
		if c == '|' && r.cell {
			r.b = append(r.b, '\\')
			r.k = append(r.k, 0)
		}
		r.b = append(r.b, c)
		r.k = append(r.k, 0)
	}
	r.b = append(r.b, delim...)
	r.k = append(r.k, 0, 0)[:len(r.b)]
}

func (r *renderer) preStart(a atom.Atom, at *attrs, void bool) {
	p := &r.pre
	switch a {
	case atom.Code:
		if !void {
			if p.inCode == 0 && !p.sawCode {
				p.codeLang = append(p.codeLang[:0], codeLang(at.class)...)
			}
			p.inCode++
			p.sawCode = true
		}
	case atom.Button:
		if !void {
			p.button++
			p.sawButton = true
		}
	case atom.Span:
		if void || p.inCode > 0 || p.button > 0 {
			return
		}
		if p.inLabel > 0 {
			p.inLabel++
		} else if !p.labelDone && !p.sawCode && !bytes.Contains(at.class, []byte("hljs")) {
			p.inLabel, p.labelAt = 1, len(p.other) // a label candidate
		}
	case atom.Br:
		if p.inCode > 0 {
			p.code = append(p.code, '\n')
		} else if p.button == 0 && p.inLabel == 0 {
			p.other = append(p.other, '\n')
		}
	}
}

func (r *renderer) preEnd(a atom.Atom) {
	p := &r.pre
	switch a {
	case atom.Pre:
		r.finishPre()
	case atom.Code:
		if p.inCode > 0 {
			p.inCode--
		}
	case atom.Button:
		if p.button > 0 {
			p.button--
		}
	case atom.Span:
		if p.inLabel > 0 && p.inCode == 0 && p.button == 0 {
			p.inLabel--
			if p.inLabel == 0 {
				p.labelDone = true
			}
		}
	}
}

// codeAndLabel returns the block's code and language label. The label is
// the text of the header bar's <span> (the first span without an hljs
// class before the <code> element, in a block that has a <code> element or
// a "Copy code" button), else the code's language-X class. Code text is
// never a label: in a block without <code> and without a button, the
// span's text is code.
func (p *preState) codeAndLabel() (code, lang []byte) {
	header := len(p.label) > 0 && (p.sawCode || p.sawButton)
	code = p.code
	if !p.sawCode {
		code = p.other
		if header {
			code = append(code[:p.labelAt:p.labelAt], code[p.labelAt+len(p.label):]...)
		}
		if len(code) > 0 && code[0] == '\n' {
			code = code[1:]
		}
	}
	if header {
		lang = bytes.TrimSpace(p.label)
	}
	if len(lang) == 0 || bytes.ContainsAny(lang, "`\n") {
		lang = bytes.TrimSpace(p.codeLang)
	}
	if bytes.ContainsAny(lang, "`\n") || string(lang) == "Copy code" {
		lang = nil
	}
	return code, lang
}

// codeLang extracts X from a "language-X" (or "lang-X") class.
func codeLang(class []byte) []byte {
	for len(class) > 0 {
		i := bytes.IndexAny(class, " \t\n\r\f")
		var w []byte
		if i < 0 {
			w, class = class, nil
		} else {
			w, class = class[:i], class[i+1:]
		}
		if bytes.HasPrefix(w, []byte("language-")) {
			return w[len("language-"):]
		}
		if bytes.HasPrefix(w, []byte("lang-")) {
			return w[len("lang-"):]
		}
	}
	return nil
}

func (r *renderer) finishPre() {
	r.mode = modeNormal
	p := &r.pre
	code, lang := p.codeAndLabel()
	if len(bytes.TrimSpace(code)) == 0 {
		return // FastChat drops empty code blocks
	}
	if r.cell {
		r.appendCodeSpan(code)
		return
	}
	r.flushInline()
	r.sep(sepBlank, false)
	n := 3
	if m := maxLineStartRun(code, '`'); m >= n {
		n = m + 1
	}
	fence := r.tmp2[:0]
	for i := 0; i < n; i++ {
		fence = append(fence, '`')
	}
	r.tmp2 = fence
	line := append(r.tmp[:0], fence...)
	line = append(line, lang...)
	r.tmp = line
	r.writeLine(line)
	if code[len(code)-1] == '\n' {
		code = code[:len(code)-1]
	}
	for {
		i := bytes.IndexByte(code, '\n')
		if i < 0 {
			r.writeLine(code)
			break
		}
		r.writeLine(code[:i])
		code = code[i+1:]
	}
	r.writeLine(fence)
}

// maxLineStartRun returns the longest run of c that starts a line (after at
// most three spaces) in code: such a run of fence length would close it.
func maxLineStartRun(code []byte, c byte) int {
	max := 0
	for i := 0; i < len(code); {
		j := i
		for j < len(code) && j-i < 3 && code[j] == ' ' {
			j++
		}
		n := 0
		for j < len(code) && code[j] == c {
			j++
			n++
		}
		if n > max {
			max = n
		}
		k := bytes.IndexByte(code[j:], '\n')
		if k < 0 {
			break
		}
		i = j + k + 1
	}
	return max
}

func alignOf(at *attrs) byte {
	v := at.align
	if len(v) == 0 && len(at.style) > 0 {
		if i := bytes.Index(at.style, []byte("text-align")); i >= 0 {
			v = at.style[i+len("text-align"):]
			v = bytes.TrimLeft(v, " :")
			if j := bytes.IndexAny(v, "; "); j >= 0 {
				v = v[:j]
			}
		}
	}
	switch string(bytes.ToLower(v)) {
	case "left":
		return 'l'
	case "center":
		return 'c'
	case "right":
		return 'r'
	}
	return 0
}

// maxDepth bounds the element stack: deeper start tags are ignored (their
// text is kept), so that no input makes the stack scans quadratic.
const maxDepth = 256

func (r *renderer) push(a atom.Atom, name []byte, k elemKind) {
	e := elem{a: a, kind: k}
	if a == 0 {
		e.name = string(name)
	}
	r.elems = append(r.elems, e)
}

// isBlockBoundary reports elements an implicit close does not cross.
func isBlockBoundary(e *elem) bool {
	switch e.kind {
	case elemList, elemLi, elemQuote, elemTable, elemTr, elemCell, elemThead:
		return true
	}
	return false
}

// closeTo pops up to and including the innermost element matching want,
// unless an element matching stop comes first.
func (r *renderer) closeTo(want, stop func(*elem) bool) {
	for i := len(r.elems) - 1; i >= 0; i-- {
		e := &r.elems[i]
		if want(e) {
			r.popTo(i)
			return
		}
		if stop(e) {
			return
		}
	}
}

// closeP closes an open <p> before a block element starts, as browsers do.
func (r *renderer) closeP() {
	for i := len(r.elems) - 1; i >= 0; i-- {
		e := &r.elems[i]
		if e.a == atom.P {
			r.popTo(i)
			return
		}
		if e.kind != elemNone && e.kind != elemOpener {
			return
		}
	}
}

func (r *renderer) tableTop() bool {
	for i := len(r.elems) - 1; i >= 0; i-- {
		switch r.elems[i].kind {
		case elemTable:
			return true
		case elemCell:
			return false
		}
	}
	return false
}

// cellTop reports whether a new <td> closes the open cell of the active
// table (and not one of a table nested in it).
func (r *renderer) cellTop() bool {
	for i := len(r.elems) - 1; i >= 0; i-- {
		switch r.elems[i].kind {
		case elemCell:
			return true
		case elemBlock, elemNone:
			if r.elems[i].a == atom.Table || r.elems[i].a == atom.Tr {
				return false
			}
		}
	}
	return false
}

func (r *renderer) end(a atom.Atom, name []byte) {
	switch r.mode {
	case modeSkip:
		if r.sameSkip(a) {
			r.skipDepth--
			if r.skipDepth == 0 {
				r.mode = modeNormal
			}
		}
		return
	case modePre:
		r.preEnd(a)
		return
	case modeCode:
		if a == r.codeEnd {
			r.mode = modeNormal
			r.appendCodeSpan(r.codeBuf)
		}
		return
	case modeMath:
		r.mathEnd()
		return
	}
	if a == atom.Br {
		r.lineBreak()
		return
	}
	for i := len(r.elems) - 1; i >= 0; i-- {
		e := &r.elems[i]
		if e.a == a && (a != 0 || e.name == string(name)) {
			r.popTo(i)
			return
		}
	}
}

// popTo closes elements from the top of the stack down to index i.
func (r *renderer) popTo(i int) {
	for len(r.elems) > i {
		e := r.elems[len(r.elems)-1]
		r.elems = r.elems[:len(r.elems)-1]
		r.closeElem(e)
	}
}

func (r *renderer) closeElem(e elem) {
	switch e.kind {
	case elemBlock:
		r.flushInline()
	case elemHeading:
		r.flushInline()
		r.heading = 0
	case elemList:
		r.flushInline()
		l := r.lists[len(r.lists)-1]
		r.lists = r.lists[:len(r.lists)-1]
		r.top().lastList = l.marker
	case elemLi, elemQuote:
		r.flushInline()
		if c := r.top(); e.kind == elemLi && c.li && !c.used {
			r.writeLine(nil) // an empty item keeps its marker
		}
		if len(r.conts) > 1 {
			r.conts = r.conts[:len(r.conts)-1]
		}
	case elemCell:
		r.endCell()
	case elemTr:
		t := &r.table
		if len(t.cells) > t.rowStart {
			t.rowEnds = append(t.rowEnds, len(t.cells))
			if t.rowHead && len(t.rowEnds)-1 == t.headRows {
				t.headRows++
			}
		}
		t.rowStart = len(t.cells)
	case elemThead:
		r.table.inHead = false
	case elemTable:
		r.endTable()
	case elemOpener:
		o := r.opens[len(r.opens)-1]
		r.opens = r.opens[:len(r.opens)-1]
		r.closeOpener(&o)
	case elemDisplay:
		r.display--
	}
}

func (r *renderer) closeAll() {
	switch r.mode {
	case modePre:
		r.finishPre()
	case modeCode:
		r.mode = modeNormal
		r.appendCodeSpan(r.codeBuf)
	case modeMath:
		r.finishMath()
	}
	r.mode = modeNormal
	r.popTo(0)
	r.flushInline()
}

func (r *renderer) top() *container { return &r.conts[len(r.conts)-1] }

// sep records that a block starts in the innermost container: it needs a
// separator from what the container already holds. In a tight list item a
// blank line becomes a line break unless force is set.
func (r *renderer) sep(want sepKind, force bool) {
	c := r.top()
	if c.hasContent {
		if c.li && c.tight && !force && want == sepBlank {
			want = sepLine
		}
		if want > r.want {
			r.want = want
		}
	}
	c.hasContent = true
	c.lastList = 0
}

// writeLine ends the previous line and writes one line of the open block
// with its containers' prefixes. An empty line gets the prefixes with their
// trailing spaces trimmed.
func (r *renderer) writeLine(line []byte) {
	if len(r.out) > 0 {
		r.out = append(r.out, '\n')
		if r.want == sepBlank {
			start := len(r.out)
			for i := range r.conts {
				c := &r.conts[i]
				if !c.used {
					break
				}
				r.out = append(r.out, c.rest...)
			}
			r.out = trimRightSpaces(r.out, start)
			r.out = append(r.out, '\n')
		}
	}
	r.want = sepNone
	start := len(r.out)
	for i := range r.conts {
		c := &r.conts[i]
		if c.used {
			r.out = append(r.out, c.rest...)
		} else {
			r.out = append(r.out, c.first...)
			c.used = true
		}
	}
	if len(line) == 0 {
		r.out = trimRightSpaces(r.out, start)
	} else {
		r.out = append(r.out, line...)
	}
}

func trimRightSpaces(b []byte, min int) []byte {
	for len(b) > min && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func (r *renderer) openList(ordered bool, at *attrs) {
	c := r.top()
	l := list{ordered: ordered, next: 1, marker: '-'}
	if ordered {
		l.marker = '.'
		if len(at.start) > 0 {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(at.start))); err == nil && n >= 0 && n <= 999999999 {
				l.next = n
			}
		}
	}
	// two lists of one kind in a row would merge: switch the marker
	if c.lastList == l.marker {
		if ordered {
			l.marker = ')'
		} else {
			l.marker = '*'
		}
	}
	force := ordered && l.next != 1 // only "1." may interrupt a paragraph
	r.sep(sepBlank, force)
	r.lists = append(r.lists, l)
}

func (r *renderer) openItem() {
	if len(r.lists) == 0 || !r.inList() {
		r.lists = append(r.lists, list{marker: '-', next: 1})
		r.elems = append(r.elems, elem{kind: elemList})
	}
	l := &r.lists[len(r.lists)-1]
	var marker string
	if l.ordered {
		marker = strconv.Itoa(l.next) + string(l.marker) + " "
		l.next++
	} else {
		marker = string(l.marker) + " "
	}
	want := sepLine
	if l.loose {
		want = sepBlank
	}
	r.sep(want, false)
	r.conts = append(r.conts, container{first: marker, rest: spaces(len(marker)), li: true, tight: true, index: l.items})
	l.items++
}

// inList reports whether the innermost list-like element is a list.
func (r *renderer) inList() bool {
	for i := len(r.elems) - 1; i >= 0; i-- {
		switch r.elems[i].kind {
		case elemList:
			return true
		case elemLi, elemQuote, elemTable, elemCell:
			return false
		}
	}
	return false
}

const spaceRun = "                "

func spaces(n int) string {
	if n <= len(spaceRun) {
		return spaceRun[:n]
	}
	return strings.Repeat(" ", n)
}

func (r *renderer) endCell() {
	if !r.cell {
		return
	}
	t := &r.table
	s := string(r.renderCell())
	r.inlineBuf.reset()
	r.cell = false
	t.cells = append(t.cells, s)
	if !t.cellHead {
		t.rowHead = false
	}
}

func (r *renderer) endTable() {
	r.endCell()
	t := &r.table
	if len(t.cells) > t.rowStart {
		t.rowEnds = append(t.rowEnds, len(t.cells))
	}
	r.inTable = false
	if len(t.rowEnds) == 0 {
		return
	}
	ncol := 0
	prev := 0
	for _, e := range t.rowEnds {
		if e-prev > ncol {
			ncol = e - prev
		}
		prev = e
	}
	r.sep(sepBlank, true)
	// header: the first row (extra header rows are written as body rows)
	line := r.tmp[:0]
	prev = 0
	for ri, e := range t.rowEnds {
		row := t.cells[prev:e]
		prev = e
		line = line[:0]
		for i := 0; i < ncol; i++ {
			line = append(line, "| "...)
			if i < len(row) {
				line = append(line, row[i]...)
			}
			line = append(line, ' ')
		}
		line = append(line, '|')
		r.writeLine(line)
		if ri == 0 {
			line = line[:0]
			for i := 0; i < ncol; i++ {
				var al byte
				if i < len(t.aligns) {
					al = t.aligns[i]
				}
				switch al {
				case 'l':
					line = append(line, "| :--- "...)
				case 'c':
					line = append(line, "| :---: "...)
				case 'r':
					line = append(line, "| ---: "...)
				default:
					line = append(line, "| --- "...)
				}
			}
			line = append(line, '|')
			r.writeLine(line)
		}
	}
	r.tmp = line
}
