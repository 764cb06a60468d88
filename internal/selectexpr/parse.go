package selectexpr

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SyntaxError is an expression that does not parse.
type SyntaxError struct {
	Expr   string
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Offset+1, e.Msg)
}

// Expr is a parsed expression. It is safe for concurrent use.
type Expr struct {
	root node
	src  string
}

// MaxLength is the longest expression Parse accepts, in bytes.
const MaxLength = 64 << 10

// Parse parses an expression.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, &SyntaxError{Expr: src, Offset: MaxLength, Msg: fmt.Sprintf("expression longer than %d bytes", MaxLength)}
	}
	p := &parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, &SyntaxError{Expr: src, Offset: p.tok.pos, Msg: "empty expression"}
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("an operator or the end")
	}
	if err := p.condition(root); err != nil {
		return nil, err
	}
	return &Expr{root: root, src: src}, nil
}

// String returns the expression in canonical form (it parses back to the
// same expression).
func (e *Expr) String() string {
	var b strings.Builder
	e.root.format(&b)
	return b.String()
}

// Source returns the text the expression was parsed from.
func (e *Expr) Source() string { return e.src }

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokDot
	tokComma
	tokOr
	tokAnd
	tokNot
	tokEq
	tokNe
	tokLt
	tokLe
	tokGt
	tokGe
)

var tokNames = map[tokKind]string{
	tokEOF: "the end", tokLParen: "'('", tokRParen: "')'", tokLBrack: "'['", tokRBrack: "']'",
	tokDot: "'.'", tokComma: "','", tokOr: "'||'", tokAnd: "'&&'", tokNot: "'!'",
	tokEq: "'=='", tokNe: "'!='", tokLt: "'<'", tokLe: "'<='", tokGt: "'>'", tokGe: "'>='",
}

type token struct {
	kind tokKind
	pos  int
	text string  // identifier, or the source of a literal
	str  string  // a string literal's value
	num  float64 // a number's value
}

func (t token) describe() string {
	switch t.kind {
	case tokIdent:
		return fmt.Sprintf("%q", t.text)
	case tokString, tokNumber:
		return t.text
	}
	return tokNames[t.kind]
}

type lexer struct {
	src string
	pos int
}

func (lx *lexer) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Expr: lx.src, Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.src) && strings.IndexByte(" \t\r\n", lx.src[lx.pos]) >= 0 {
		lx.pos++
	}
	start := lx.pos
	if lx.pos >= len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := lx.src[lx.pos]
	two := ""
	if lx.pos+1 < len(lx.src) {
		two = lx.src[lx.pos : lx.pos+2]
	}
	op := func(k tokKind, n int) (token, error) {
		lx.pos += n
		return token{kind: k, pos: start}, nil
	}
	switch {
	case two == "||":
		return op(tokOr, 2)
	case two == "&&":
		return op(tokAnd, 2)
	case two == "==":
		return op(tokEq, 2)
	case two == "!=":
		return op(tokNe, 2)
	case two == "<=":
		return op(tokLe, 2)
	case two == ">=":
		return op(tokGe, 2)
	case c == '(':
		return op(tokLParen, 1)
	case c == ')':
		return op(tokRParen, 1)
	case c == '[':
		return op(tokLBrack, 1)
	case c == ']':
		return op(tokRBrack, 1)
	case c == '.':
		return op(tokDot, 1)
	case c == ',':
		return op(tokComma, 1)
	case c == '!':
		return op(tokNot, 1)
	case c == '<':
		return op(tokLt, 1)
	case c == '>':
		return op(tokGt, 1)
	case c == '=':
		return token{}, lx.errorf(start, "unexpected '='; compare with '=='")
	case c == '|':
		return token{}, lx.errorf(start, "unexpected '|'; 'or' is '||'")
	case c == '&':
		return token{}, lx.errorf(start, "unexpected '&'; 'and' is '&&'")
	case c == '"':
		return lx.string()
	case c == '-' || '0' <= c && c <= '9':
		return lx.number()
	case isIdentStart(c):
		for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
			lx.pos++
		}
		return token{kind: tokIdent, pos: start, text: lx.src[start:lx.pos]}, nil
	case c == '\'':
		return token{}, lx.errorf(start, "strings are written in double quotes")
	}
	r := []rune(lx.src[start:])[0]
	return token{}, lx.errorf(start, "unexpected character %q", r)
}

// string scans a JSON string literal.
func (lx *lexer) string() (token, error) {
	start := lx.pos
	i := start + 1
	for {
		if i >= len(lx.src) {
			return token{}, lx.errorf(start, "unterminated string")
		}
		c := lx.src[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			i++
		}
		i++
	}
	text := lx.src[start : i+1]
	var s string
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return token{}, lx.errorf(start, "invalid string %s (JSON syntax: \\\" \\\\ \\n \\uXXXX ...)", text)
	}
	lx.pos = i + 1
	return token{kind: tokString, pos: start, text: text, str: s}, nil
}

// number scans a JSON number.
func (lx *lexer) number() (token, error) {
	start := lx.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(lx.src) && '0' <= lx.src[i] && lx.src[i] <= '9' {
			i++
			n++
		}
		return n
	}
	bad := func() (token, error) {
		end := i
		for end < len(lx.src) && (isIdentChar(lx.src[end]) || strings.IndexByte(".+-", lx.src[end]) >= 0) {
			end++
		}
		return token{}, lx.errorf(start, "invalid number %q", lx.src[start:max(end, start+1)])
	}
	if lx.src[i] == '-' {
		i++
	}
	intStart := i
	if n := digits(); n == 0 || n > 1 && lx.src[intStart] == '0' {
		return bad()
	}
	if i < len(lx.src) && lx.src[i] == '.' {
		i++
		if digits() == 0 {
			return bad()
		}
	}
	if i < len(lx.src) && (lx.src[i] == 'e' || lx.src[i] == 'E') {
		i++
		if i < len(lx.src) && (lx.src[i] == '+' || lx.src[i] == '-') {
			i++
		}
		if digits() == 0 {
			return bad()
		}
	}
	if i < len(lx.src) && isIdentChar(lx.src[i]) {
		return bad()
	}
	text := lx.src[start:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, lx.errorf(start, "number %s out of range", text)
	}
	lx.pos = i
	return token{kind: tokNumber, pos: start, text: text, num: f}, nil
}

type parser struct {
	lx    lexer
	tok   token
	depth int // nesting of parentheses, calls and negations
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.lx.errorf(p.tok.pos, "expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) error {
	return p.lx.errorf(p.tok.pos, "expected %s, found %s", want, p.tok.describe())
}

func (p *parser) expect(k tokKind) error {
	if p.tok.kind != k {
		return p.unexpected(tokNames[k])
	}
	return p.advance()
}

func (p *parser) isWord(w string) bool { return p.tok.kind == tokIdent && p.tok.text == w }

// maxDepth bounds nesting, so that a hostile expression cannot exhaust the
// stack.
const maxDepth = 200

func (p *parser) or() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr || p.isWord("or") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logicNode{or: true, l: l, r: r, pos: pos}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd || p.isWord("and") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &logicNode{l: l, r: r, pos: pos}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.tok.kind == tokNot || p.isWord("not") {
		pos := p.tok.pos
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x, pos: pos}, nil
	}
	return p.comparison()
}

var cmpOps = map[tokKind]string{tokEq: "==", tokNe: "!=", tokLt: "<", tokLe: "<=", tokGt: ">", tokGe: ">="}

func (p *parser) comparison() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, ok := cmpOps[p.tok.kind]
	if !ok {
		return l, nil
	}
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	if _, again := cmpOps[p.tok.kind]; again {
		return nil, p.lx.errorf(p.tok.pos, "comparisons do not chain; join them with &&")
	}
	return &cmpNode{op: op, l: l, r: r, pos: pos}, nil
}

func (p *parser) operand() (node, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		return &litNode{v: strValue(t.str), pos: t.pos}, p.advance()
	case tokNumber:
		return &litNode{v: numValue(t.num), pos: t.pos}, p.advance()
	case tokLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return x, nil
	case tokLBrack:
		return p.path()
	case tokIdent:
		switch t.text {
		case "true", "false":
			return &litNode{v: boolValue(t.text == "true"), pos: t.pos}, p.advance()
		case "null":
			return &litNode{v: value{k: kNull}, pos: t.pos}, p.advance()
		case "and", "or", "not":
			return nil, p.unexpected("a value")
		}
		// A name followed by '(' is a call.
		save := p.lx.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokLParen {
			return p.call(t)
		}
		p.lx.pos, p.tok = save, t
		return p.path()
	}
	return nil, p.unexpected("a value")
}

func (p *parser) path() (node, error) {
	n := &pathNode{pos: p.tok.pos}
	if p.tok.kind == tokIdent {
		n.segs = append(n.segs, segment{key: p.tok.text})
		if err := p.advance(); err != nil {
			return nil, err
		}
	} else {
		seg, err := p.bracket()
		if err != nil {
			return nil, err
		}
		if seg.isIndex {
			return nil, p.lx.errorf(n.pos, "a path starts with a member name, not an index")
		}
		n.segs = append(n.segs, seg)
	}
	for {
		switch p.tok.kind {
		case tokDot:
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tokIdent {
				return nil, p.unexpected(`a member name (write ["name"] for other names)`)
			}
			n.segs = append(n.segs, segment{key: p.tok.text})
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tokLBrack:
			seg, err := p.bracket()
			if err != nil {
				return nil, err
			}
			n.segs = append(n.segs, seg)
		default:
			return n, nil
		}
		if len(n.segs) > maxDepth {
			return nil, p.lx.errorf(n.pos, "path too long")
		}
	}
}

// bracket parses ["name"] or [N].
func (p *parser) bracket() (segment, error) {
	if err := p.expect(tokLBrack); err != nil {
		return segment{}, err
	}
	var seg segment
	switch p.tok.kind {
	case tokString:
		seg.key = p.tok.str
	case tokNumber:
		i, err := strconv.Atoi(p.tok.text)
		if err != nil {
			return segment{}, p.lx.errorf(p.tok.pos, "index %s is not an integer", p.tok.text)
		}
		seg.index, seg.isIndex = i, true
	default:
		return segment{}, p.unexpected(`an index or a "name"`)
	}
	if err := p.advance(); err != nil {
		return segment{}, err
	}
	return seg, p.expect(tokRBrack)
}

// functions: name → number of arguments.
var functions = map[string]int{
	"has": 1, "len": 1, "chars": 0, "index": 0, "lower": 1, "contains": 2, "matches": 2,
}

func (p *parser) call(name token) (node, error) {
	nargs, ok := functions[name.text]
	if !ok {
		return nil, p.lx.errorf(name.pos, "unknown function %s (known: chars, contains, has, index, len, lower, matches)", name.text)
	}
	n := &callNode{fn: name.text, pos: name.pos}
	if err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	for p.tok.kind != tokRParen {
		if len(n.args) > 0 {
			if err := p.expect(tokComma); err != nil {
				return nil, err
			}
		}
		a, err := p.or()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		if len(n.args) > nargs {
			break
		}
	}
	if len(n.args) != nargs {
		return nil, p.lx.errorf(name.pos, "%s takes %d argument(s), not %d", name.text, nargs, len(n.args))
	}
	if err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	switch n.fn {
	case "has":
		if _, ok := n.args[0].(*pathNode); !ok {
			return nil, p.lx.errorf(name.pos, "has takes a path, such as has(model)")
		}
	case "matches":
		lit, ok := n.args[1].(*litNode)
		if !ok || lit.v.k != kStr {
			return nil, p.lx.errorf(name.pos, `matches takes a string literal pattern, such as matches(model, "^gpt-4")`)
		}
		re, err := regexp.Compile(lit.v.s)
		if err != nil {
			return nil, p.lx.errorf(lit.pos, "pattern: %v", err)
		}
		n.re = re
	}
	return n, nil
}

// condition checks that n can be a condition, and so can the operands of
// every logical operator within it.
func (p *parser) condition(n node) error {
	switch n := n.(type) {
	case *logicNode:
		if err := p.condition(n.l); err != nil {
			return err
		}
		return p.condition(n.r)
	case *notNode:
		return p.condition(n.x)
	case *litNode:
		if n.v.k != kBool {
			return p.lx.errorf(n.pos, "%s is not a condition", n.v.typeName())
		}
	case *callNode:
		switch n.fn {
		case "len", "chars", "index":
			return p.lx.errorf(n.pos, "%s() is a number, not a condition; compare it, as in %s(...) > 0", n.fn, n.fn)
		case "lower":
			return p.lx.errorf(n.pos, "lower() is a string, not a condition; compare it")
		}
	}
	for _, c := range children(n) {
		if err := p.checkNested(c); err != nil {
			return err
		}
	}
	return nil
}

// checkNested checks the conditions inside comparisons and calls.
func (p *parser) checkNested(n node) error {
	switch n := n.(type) {
	case *logicNode, *notNode:
		return p.condition(n)
	}
	for _, c := range children(n) {
		if err := p.checkNested(c); err != nil {
			return err
		}
	}
	return nil
}

func children(n node) []node {
	switch n := n.(type) {
	case *cmpNode:
		return []node{n.l, n.r}
	case *callNode:
		return n.args
	}
	return nil
}
