package selectexpr

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

type kind uint8

const (
	kNull kind = iota // JSON null or missing
	kBool
	kNum
	kStr
	kArr   // a decoded JSON array
	kObj   // a decoded JSON object
	kTurns // the record's conversation
	kTurn  // one turn
)

// value is what an operand evaluates to.
type value struct {
	k       kind
	missing bool // kNull because the path led nowhere
	b       bool
	n       float64
	s       string
	arr     []any
	obj     map[string]any
	turns   []pipeline.Turn
	turn    *pipeline.Turn
}

func boolValue(b bool) value   { return value{k: kBool, b: b} }
func numValue(n float64) value { return value{k: kNum, n: n} }
func strValue(s string) value  { return value{k: kStr, s: s} }
func missingValue() value      { return value{k: kNull, missing: true} }
func (v value) truthy() bool   { return v.k == kBool && v.b }
func (v value) typeName() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object", "a turn list", "a turn"}[v.k]
}

// fromJSON converts a value decoded by encoding/json.
func fromJSON(x any) value {
	switch x := x.(type) {
	case nil:
		return value{k: kNull}
	case bool:
		return boolValue(x)
	case float64:
		return numValue(x)
	case string:
		return strValue(x)
	case []any:
		return value{k: kArr, arr: x}
	case map[string]any:
		return value{k: kObj, obj: x}
	}
	return missingValue()
}

func fromRaw(raw json.RawMessage) value {
	var x any
	if json.Unmarshal(raw, &x) != nil {
		return missingValue()
	}
	return fromJSON(x)
}

// env is what an expression is evaluated against.
type env struct {
	rec   *pipeline.Record
	index int64
}

// Match reports whether the record satisfies the expression; index is its
// 0-based position among all input records (for index()).
func (e *Expr) Match(rec *pipeline.Record, index int64) bool {
	return e.root.eval(&env{rec: rec, index: index}).truthy()
}

type node interface {
	eval(*env) value
	format(*strings.Builder)
	prec() int // binding strength, for formatting
}

const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precAtom
)

type logicNode struct {
	or   bool
	l, r node
	pos  int
}

func (n *logicNode) eval(e *env) value {
	l := n.l.eval(e).truthy()
	if n.or {
		return boolValue(l || n.r.eval(e).truthy())
	}
	return boolValue(l && n.r.eval(e).truthy())
}

func (n *logicNode) prec() int {
	if n.or {
		return precOr
	}
	return precAnd
}

func (n *logicNode) format(b *strings.Builder) {
	formatChild(b, n.l, n.prec(), false)
	if n.or {
		b.WriteString(" || ")
	} else {
		b.WriteString(" && ")
	}
	formatChild(b, n.r, n.prec(), true)
}

// formatChild writes a child, in parentheses when it binds more loosely
// than its parent (or as loosely, on the right of a left-associative
// operator).
func formatChild(b *strings.Builder, c node, parent int, right bool) {
	if c.prec() < parent || right && c.prec() == parent {
		b.WriteByte('(')
		c.format(b)
		b.WriteByte(')')
		return
	}
	c.format(b)
}

type notNode struct {
	x   node
	pos int
}

func (n *notNode) eval(e *env) value { return boolValue(!n.x.eval(e).truthy()) }
func (n *notNode) prec() int         { return precNot }
func (n *notNode) format(b *strings.Builder) {
	b.WriteByte('!')
	formatChild(b, n.x, precNot, false)
}

type cmpNode struct {
	op   string
	l, r node
	pos  int
}

func (n *cmpNode) prec() int { return precCmp }
func (n *cmpNode) format(b *strings.Builder) {
	// Comparisons do not chain: an operand that is itself a comparison
	// needs parentheses.
	formatChild(b, n.l, precCmp+1, false)
	b.WriteString(" " + n.op + " ")
	formatChild(b, n.r, precCmp+1, false)
}

func (n *cmpNode) eval(e *env) value {
	l, r := n.l.eval(e), n.r.eval(e)
	switch n.op {
	case "==":
		return boolValue(equal(l, r))
	case "!=":
		return boolValue(!equal(l, r))
	}
	c, ok := compare(l, r)
	if !ok {
		return boolValue(false)
	}
	switch n.op {
	case "<":
		return boolValue(c < 0)
	case "<=":
		return boolValue(c <= 0)
	case ">":
		return boolValue(c > 0)
	}
	return boolValue(c >= 0)
}

func equal(a, b value) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kNull:
		return true
	case kBool:
		return a.b == b.b
	case kNum:
		return a.n == b.n
	case kStr:
		return a.s == b.s
	}
	return false
}

func compare(a, b value) (int, bool) {
	switch {
	case a.k == kNum && b.k == kNum:
		switch {
		case a.n < b.n:
			return -1, true
		case a.n > b.n:
			return 1, true
		}
		return 0, true
	case a.k == kStr && b.k == kStr:
		return strings.Compare(a.s, b.s), true
	}
	return 0, false
}

type litNode struct {
	v   value
	pos int
}

func (n *litNode) eval(*env) value { return n.v }
func (n *litNode) prec() int       { return precAtom }
func (n *litNode) format(b *strings.Builder) {
	switch n.v.k {
	case kNull:
		b.WriteString("null")
	case kBool:
		b.WriteString(strconv.FormatBool(n.v.b))
	case kNum:
		b.WriteString(strconv.FormatFloat(n.v.n, 'g', -1, 64))
	case kStr:
		b.Write(pipeline.AppendString(nil, n.v.s))
	}
}

type segment struct {
	key     string
	index   int
	isIndex bool
}

type pathNode struct {
	segs []segment
	pos  int
}

func (n *pathNode) prec() int { return precAtom }

func (n *pathNode) format(b *strings.Builder) {
	for i, s := range n.segs {
		switch {
		case s.isIndex:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case isPlainName(s.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteByte('[')
			b.Write(pipeline.AppendString(nil, s.key))
			b.WriteByte(']')
		}
	}
}

// isPlainName reports whether a member name can be written bare: an
// identifier that is not a keyword.
func isPlainName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	switch s {
	case "true", "false", "null", "and", "or", "not":
		return false
	}
	return true
}

func (n *pathNode) eval(e *env) value {
	first := n.segs[0].key
	var v value
	switch {
	case first == "id":
		if !e.rec.HasID() {
			return missingValue()
		}
		v = strValue(e.rec.ID)
	case first == "conversations":
		if !e.rec.HasConversations() {
			return missingValue()
		}
		v = value{k: kTurns, turns: e.rec.Conversations}
	default:
		raw, ok := e.rec.Field(first)
		if !ok {
			return missingValue()
		}
		v = fromRaw(raw)
	}
	for _, s := range n.segs[1:] {
		v = step(v, s)
		if v.missing {
			return v
		}
	}
	return v
}

// step follows one path segment.
func step(v value, s segment) value {
	if s.isIndex {
		var n int
		switch v.k {
		case kArr:
			n = len(v.arr)
		case kTurns:
			n = len(v.turns)
		default:
			return missingValue()
		}
		i := s.index
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return missingValue()
		}
		if v.k == kArr {
			return fromJSON(v.arr[i])
		}
		return value{k: kTurn, turn: &v.turns[i]}
	}
	switch v.k {
	case kObj:
		x, ok := v.obj[s.key]
		if !ok {
			return missingValue()
		}
		return fromJSON(x)
	case kTurn:
		switch s.key {
		case "from":
			return strValue(v.turn.From)
		case "value":
			return strValue(v.turn.Value)
		}
		for _, f := range v.turn.Fields {
			if f.Key == s.key {
				return fromRaw(f.Value)
			}
		}
	}
	return missingValue()
}

type callNode struct {
	fn   string
	args []node
	re   *regexp.Regexp
	pos  int
}

func (n *callNode) prec() int { return precAtom }

func (n *callNode) format(b *strings.Builder) {
	b.WriteString(n.fn + "(")
	for i, a := range n.args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.format(b)
	}
	b.WriteByte(')')
}

func (n *callNode) eval(e *env) value {
	switch n.fn {
	case "has":
		return boolValue(!n.args[0].eval(e).missing)
	case "len":
		v := n.args[0].eval(e)
		switch v.k {
		case kStr:
			return numValue(float64(utf8.RuneCountInString(v.s)))
		case kArr:
			return numValue(float64(len(v.arr)))
		case kObj:
			return numValue(float64(len(v.obj)))
		case kTurns:
			return numValue(float64(len(v.turns)))
		case kTurn:
			return numValue(float64(2 + len(v.turn.Fields)))
		}
		return value{k: kNull}
	case "chars":
		return numValue(float64(Chars(e.rec)))
	case "index":
		return numValue(float64(e.index))
	case "lower":
		if v := n.args[0].eval(e); v.k == kStr {
			return strValue(strings.ToLower(v.s))
		}
		return value{k: kNull}
	case "contains":
		x, y := n.args[0].eval(e), n.args[1].eval(e)
		switch x.k {
		case kStr:
			return boolValue(y.k == kStr && strings.Contains(x.s, y.s))
		case kArr:
			for _, el := range x.arr {
				if equal(fromJSON(el), y) {
					return boolValue(true)
				}
			}
		}
		return boolValue(false)
	case "matches":
		x := n.args[0].eval(e)
		return boolValue(x.k == kStr && n.re.MatchString(x.s))
	}
	return value{k: kNull}
}

// Chars returns the number of Unicode code points in all turn values of
// the record together.
func Chars(rec *pipeline.Record) int64 {
	var n int64
	for _, t := range rec.Conversations {
		n += int64(utf8.RuneCountInString(t.Value))
	}
	return n
}
