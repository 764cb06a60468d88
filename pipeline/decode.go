package pipeline

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// InputStyle says which member names hold a conversation.
type InputStyle int

const (
	// StyleAuto accepts both ShareGPT and OpenAI members, turn by turn.
	StyleAuto InputStyle = iota
	// StyleShareGPT reads "conversations" of {"from", "value"} turns.
	StyleShareGPT
	// StyleOpenAI reads "messages" (or "conversation") of {"role", "content"}.
	StyleOpenAI
)

// ParseInputStyle parses "auto", "sharegpt" or "openai".
func ParseInputStyle(s string) (InputStyle, error) {
	switch s {
	case "auto", "":
		return StyleAuto, nil
	case "sharegpt":
		return StyleShareGPT, nil
	case "openai":
		return StyleOpenAI, nil
	}
	return 0, fmt.Errorf("unknown input style %q (want auto, sharegpt or openai)", s)
}

// DecodeError says why a record's bytes are not a usable record.
type DecodeError struct {
	Reason Reason // ReasonInvalidJSON, ReasonInvalidUTF8 or ReasonBadShape
	Path   string // field path, e.g. "conversations[3].value"; "" for the record
	ID     string // the record's id, when it was read before the error
	Offset int    // byte offset: within the record from DecodeRecord, in the input once a runner reports it
	Msg    string
}

func (e *DecodeError) Error() string {
	where := e.Path
	if where == "" {
		where = "record"
	}
	if e.Reason == ReasonInvalidJSON {
		return fmt.Sprintf("%s: byte %d: %s", where, e.Offset, e.Msg)
	}
	return where + ": " + e.Msg
}

// MaxDepth is how deeply values may nest in a record, the record itself
// being the first level (a turn is at the third). A deeper record is
// rejected as invalid-json. Python's json module cannot read JSON nested
// much deeper than 990 levels (RecursionError), so a dataset holding such a
// record could not be loaded by FastChat at all; 512 leaves room for any
// real data and bounds the indentation of an indented write.
const MaxDepth = 512

// DecodeRecord parses one JSON object into a Record. data must be the whole
// element; it is not retained.
//
// Its cost is linear in the size of data, however deep or wide the record:
// it allocates at most about 7 times the size (a record of 80,000 members
// of 8 bytes each, whose fields take 40 bytes apiece), nothing per level of
// nesting, and its stack does not grow with the nesting. Duplicate member
// names are found in linear time. Field paths for error messages are
// worked out only when an error is reported. A record nested deeper than
// MaxDepth is rejected as invalid-json.
func DecodeRecord(data []byte, style InputStyle) (*Record, error) {
	d := decoder{data: data, style: style}
	rec, err := d.record()
	if err != nil {
		if de, ok := err.(*DecodeError); ok && rec != nil && rec.HasID() {
			de.ID = rec.ID
		}
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.syntaxError("unexpected data after the record")
	}
	return rec, nil
}

// ObjectMembers calls fn with the name and the raw bytes of each member of
// the JSON object raw, in order. raw should be a value DecodeRecord has
// read; anything else may end the walk with a *DecodeError. An error from
// fn ends the walk and is returned.
func ObjectMembers(raw []byte, fn func(name string, value []byte) error) error {
	d := decoder{data: raw}
	err := d.object(atRecord, 1, func(key string) error {
		start := d.pos
		if err := d.skipValue(1); err != nil {
			return err
		}
		return fn(key, raw[start:d.pos])
	})
	if err != nil {
		return err
	}
	return d.end()
}

// ArrayElements calls fn with the raw bytes of each element of the JSON
// array raw, in order, as ObjectMembers does for an object.
func ArrayElements(raw []byte, fn func(value []byte) error) error {
	d := decoder{data: raw}
	err := d.array(atRecord, 1, func(int) error {
		start := d.pos
		if err := d.skipValue(1); err != nil {
			return err
		}
		return fn(raw[start:d.pos])
	})
	if err != nil {
		return err
	}
	return d.end()
}

// UnquoteString decodes the JSON string raw.
func UnquoteString(raw []byte) (string, error) {
	d := decoder{data: raw}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.kindError(atRecord, 0, "string")
	}
	s, err := d.string()
	if err != nil {
		return "", err
	}
	return s, d.end()
}

type decoder struct {
	data  []byte
	pos   int
	style InputStyle
}

func (d *decoder) end() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.syntaxError("unexpected data after the value")
	}
	return nil
}

// where names the place of a value in a record without building its field
// path, which is made only when an error reports it.
type where struct {
	member string // a member of the record; "" for the record itself
	turn   int    // the index of a turn in the conversation member, or -1
	field  string // a member of that turn, or ""
}

var atRecord = where{turn: -1}

func (w where) path() string {
	if w.turn < 0 {
		return w.member
	}
	p := w.member + "[" + strconv.Itoa(w.turn) + "]"
	if w.field != "" {
		p += "." + w.field
	}
	return p
}

func (d *decoder) syntaxError(msg string) *DecodeError {
	return &DecodeError{Reason: ReasonInvalidJSON, Offset: d.pos, Msg: msg}
}

func (d *decoder) shapeError(w where, format string, args ...any) *DecodeError {
	return &DecodeError{Reason: ReasonBadShape, Path: w.path(), Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

// placed gives an encoding error found in the value that starts at start
// and stands at w its field path: w's, then the way down inside the value
// to the string holding the error. Syntax errors name no path.
func (d *decoder) placed(err error, w where, start int) error {
	if de, ok := err.(*DecodeError); ok && de.Reason == ReasonInvalidUTF8 {
		de.Path = w.path() + pathInside(d.data, start, de.Offset)
	}
	return err
}

// pathInside returns the field path, relative to the value at start, of
// the string that holds byte target: "" when the value is that string,
// ".a[2].b" when it is deeper. The value must be valid JSON up to target
// (it is: the decoder found the error there), so it is nested at most
// MaxDepth levels on the way.
func pathInside(data []byte, start, target int) string {
	d := decoder{data: data, pos: start}
	path, _ := d.locate(target, nil)
	return string(path)
}

// locate walks the value at the position and reports whether target lies
// in it, with path extended by the way down to the string that holds it.
func (d *decoder) locate(target int, path []byte) ([]byte, bool) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return path, false
	}
	switch d.data[d.pos] {
	case '"':
		d.pos = stringEnd(d.data, d.pos)
		return path, target < d.pos
	case '{':
		d.pos++
		for {
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				d.pos++ // '}'
				return path, false
			}
			if target < stringEnd(d.data, d.pos) {
				return path, true // in the member name
			}
			key, err := d.string()
			if err != nil {
				return path, false
			}
			d.skipSpace()
			d.pos++ // ':'
			if p, ok := d.locate(target, append(append(path, '.'), key...)); ok {
				return p, true
			}
			if !d.next() {
				return path, false
			}
		}
	case '[':
		d.pos++
		for i := 0; ; i++ {
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] == ']' {
				d.pos++
				return path, false
			}
			elem := strconv.AppendInt(append(path, '['), int64(i), 10)
			if p, ok := d.locate(target, append(elem, ']')); ok {
				return p, true
			}
			if !d.next() {
				return path, false
			}
		}
	}
	for d.pos < len(d.data) && !endsScalar(d.data[d.pos]) {
		d.pos++ // a number or literal
	}
	return path, false
}

func endsScalar(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// next consumes what follows a member or element: true after a ',', false
// at the end of the object or array.
func (d *decoder) next() bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ',' {
		d.pos++
		return true
	}
	d.pos++
	return false
}

// stringEnd returns the position just past the string that opens at p
// (len(data) if it does not close), without decoding or checking it.
func stringEnd(data []byte, p int) int {
	q := p + 1
	for {
		i := bytes.IndexByte(data[q:], '"')
		if i < 0 {
			return len(data)
		}
		q += i
		k := 0
		for q-1-k > p && data[q-1-k] == '\\' {
			k++
		}
		if k%2 == 0 {
			return q + 1
		}
		q++
	}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// kind names the JSON type starting at the current position.
func (d *decoder) kind() string {
	if d.pos >= len(d.data) {
		return "end of input"
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return fmt.Sprintf("invalid character %q", d.data[d.pos])
}

// kindError reports a value of the wrong kind at w, inside depth levels: a
// syntax error if the value is not valid JSON at all, else a shape error
// naming both kinds.
func (d *decoder) kindError(w where, depth int, want string) error {
	start, got := d.pos, d.kind()
	if err := d.skipValue(depth); err != nil {
		return d.placed(err, w, start)
	}
	d.pos = start
	return d.shapeError(w, "expected %s, got %s", want, got)
}

// object iterates over the members of the object at w, which is at the
// given level (the record is at 1), calling member with each name and the
// position at the value. member must consume the value.
func (d *decoder) object(w where, level int, member func(key string) error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return d.kindError(w, level-1, "object")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.syntaxError("expected a member name")
		}
		start := d.pos
		key, err := d.string()
		if err != nil {
			return d.placed(err, w, start)
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.syntaxError("expected ':' after member name")
		}
		d.pos++
		d.skipSpace()
		if err := member(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.syntaxError("unexpected end inside object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.syntaxError("expected ',' or '}' in object")
		}
	}
}

// array iterates over the elements of the array at w, which is at the
// given level; elem must consume the element.
func (d *decoder) array(w where, level int, elem func(i int) error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return d.kindError(w, level-1, "array")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		d.skipSpace()
		if err := elem(i); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.syntaxError("unexpected end inside array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.syntaxError("expected ',' or ']' in array")
		}
	}
}

// manyMembers is the number of members past which an object's names are
// checked for repeats through a hash index instead of one by one, and a
// list counts what is still to come before it grows.
const manyMembers = 16

// memberSeed keys the hash of member names: random per process, so that no
// input can be made of names that collide.
var memberSeed = maphash.MakeSeed()

// memberSet finds a member name that repeats one of fields: by comparing
// with each of up to manyMembers fields (no allocation: most objects are
// small), through an open-addressing index of the fields by a hash of their
// names past that, so that a wide object costs linear time.
type memberSet struct {
	slots   []int32 // 1 + the index of a field; 0 is free
	indexed int     // fields[:indexed] are in slots
}

func (s *memberSet) has(fields []Field, key string) bool {
	if len(fields) <= manyMembers {
		for i := range fields {
			if fields[i].Key == key {
				return true
			}
		}
		return false
	}
	if 4*(len(fields)+1) > 3*len(s.slots) {
		// Room for every field the list has room for (counted ahead, see
		// grow), at most three quarters full.
		n := 1
		for 3*n < 4*(max(cap(fields), len(fields)+1)) {
			n *= 2
		}
		s.slots, s.indexed = make([]int32, n), 0
	}
	for ; s.indexed < len(fields); s.indexed++ {
		i := s.find(fields, fields[s.indexed].Key)
		s.slots[i] = int32(s.indexed + 1)
	}
	return s.slots[s.find(fields, key)] != 0
}

// find returns the slot of key, or the free slot where it would go.
func (s *memberSet) find(fields []Field, key string) int {
	mask := len(s.slots) - 1
	for i := int(maphash.String(memberSeed, key)) & mask; ; i = (i + 1) & mask {
		if j := s.slots[i]; j == 0 || fields[j-1].Key == key {
			return i
		}
	}
}

// grow returns s with room for one more element. Up to manyMembers it
// grows by doubling; past that it counts once what is still to come in the
// enclosing object or array (the top-level bytes sep ahead of the position,
// at most one per minSize bytes: an upper bound for valid JSON) and makes
// room for all of it, so that a long list is allocated once, not five times
// over as append's growth would; it doubles should the count fall short.
func grow[T any](d *decoder, s []T, counted *bool, sep byte, minSize int) []T {
	if len(s) < cap(s) {
		return s
	}
	n := max(2*len(s), 2)
	if len(s) >= manyMembers && !*counted {
		*counted = true
		n = len(s) + 1 + min(countAhead(d.data, d.pos, sep), (len(d.data)-d.pos)/minSize)
	}
	t := make([]T, len(s), n)
	copy(t, s)
	return t
}

// countAhead counts the bytes sep at the top level of the rest of the
// object or array that p is in: the members still to come (sep ':') or the
// objects among the elements (sep '{').
func countAhead(data []byte, p int, sep byte) int {
	depth, n := 0, 0
	for p < len(data) {
		switch c := data[p]; c {
		case '"':
			p = stringEnd(data, p)
			continue
		case '{', '[':
			if depth == 0 && c == sep {
				n++
			}
			depth++
		case '}', ']':
			if depth == 0 {
				return n
			}
			depth--
		case ':':
			if depth == 0 && sep == ':' {
				n++
			}
		}
		p++
	}
	return n
}

func (d *decoder) record() (*Record, error) {
	rec := &Record{idPos: -1, convPos: -1}
	var convKey string
	var names memberSet
	var counted bool
	n := 0
	err := d.object(atRecord, 1, func(key string) error {
		at := where{member: key, turn: -1}
		switch {
		case key == "id":
			if rec.idPos >= 0 {
				return d.shapeError(at, "duplicate member %q", key)
			}
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return d.kindError(at, 1, "string")
			}
			start := d.pos
			s, err := d.string()
			if err != nil {
				return d.placed(err, at, start)
			}
			rec.ID, rec.idPos = s, n
		case d.isConversationKey(key):
			if key == convKey {
				return d.shapeError(at, "duplicate member %q", key)
			}
			if rec.convPos >= 0 {
				return d.shapeError(at, "a second conversation member (%q)", key)
			}
			rec.convPos, convKey = n, key
			if err := d.turns(key, rec); err != nil {
				return err
			}
		default:
			if names.has(rec.Fields, key) {
				return d.shapeError(at, "duplicate member %q", key)
			}
			raw, err := d.rawValue(at, 1)
			if err != nil {
				return err
			}
			rec.Fields = grow(d, rec.Fields, &counted, ':', len(`"":0,`)+1)
			rec.Fields = append(rec.Fields, Field{Key: key, Value: raw})
		}
		n++
		return nil
	})
	return rec, err
}

func (d *decoder) isConversationKey(key string) bool {
	switch d.style {
	case StyleShareGPT:
		return key == "conversations"
	case StyleOpenAI:
		return key == "messages" || key == "conversation"
	}
	return key == "conversations" || key == "messages" || key == "conversation"
}

func (d *decoder) turns(key string, rec *Record) error {
	rec.Conversations = make([]Turn, 0, 8)
	var counted bool
	return d.array(where{member: key, turn: -1}, 2, func(i int) error {
		t, err := d.turn(where{member: key, turn: i})
		if err != nil {
			return err
		}
		rec.Conversations = grow(d, rec.Conversations, &counted, '{', len(`{"from":"","value":""},`))
		rec.Conversations = append(rec.Conversations, t)
		return nil
	})
}

// openAIRole maps an OpenAI chat role to its ShareGPT name; others pass as
// given.
func openAIRole(role string) string {
	switch role {
	case "user":
		return RoleHuman
	case "assistant":
		return RoleGPT
	}
	return role
}

func (d *decoder) turn(at where) (Turn, error) {
	var t Turn
	var haveRole, haveText, openAI, counted bool
	var names memberSet
	err := d.object(at, 3, func(key string) error {
		fat := where{member: at.member, turn: at.turn, field: key}
		isRole := key == "from" || key == "role"
		isOpenAI := key == "role" || key == "content"
		if !isRole && key != "value" && key != "content" ||
			isOpenAI && d.style == StyleShareGPT || !isOpenAI && d.style == StyleOpenAI {
			if names.has(t.Fields, key) {
				return d.shapeError(fat, "duplicate member %q", key)
			}
			raw, err := d.rawValue(fat, 3)
			if err != nil {
				return err
			}
			t.Fields = grow(d, t.Fields, &counted, ':', len(`"":0,`)+1)
			t.Fields = append(t.Fields, Field{Key: key, Value: raw})
			return nil
		}
		if isRole && haveRole {
			return d.shapeError(fat, "a second role member")
		}
		if !isRole && haveText {
			return d.shapeError(fat, "a second text member")
		}
		if !isRole && d.pos < len(d.data) && d.data[d.pos] == '[' {
			if err := d.parts(fat, &t); err != nil {
				return err
			}
			haveText, t.valueFirst = true, !haveRole
			openAI = isOpenAI
			return nil
		}
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.kindError(fat, 3, "string")
		}
		start := d.pos
		s, err := d.string()
		if err != nil {
			return d.placed(err, fat, start)
		}
		if isRole {
			t.From, haveRole = s, true
		} else {
			t.Value, haveText = s, true
			t.valueFirst = !haveRole
		}
		openAI = isOpenAI
		return nil
	})
	if err != nil {
		return t, err
	}
	if !haveRole {
		if openAI {
			return t, d.shapeError(at, "missing %q", "role")
		}
		return t, d.shapeError(at, "missing %q", "from")
	}
	if !haveText {
		if openAI {
			return t, d.shapeError(at, "missing %q", "content")
		}
		return t, d.shapeError(at, "missing %q", "value")
	}
	if openAI {
		t.From = openAIRole(t.From)
	}
	return t, nil
}

// PartsSeparator joins the text parts of a content given as a list of
// parts into a turn's Value.
const PartsSeparator = "\n"

// parts reads a turn's text given as a list of content parts (OpenAI's
// and LLaMA-Factory's [{"type": "text", "text": ...}, {"type":
// "image_url", ...}]) into t: Value is the text parts' texts joined with
// PartsSeparator, Parts the list as written, NonText the number of other
// parts. Each part must be an object with a string "type"; a text part
// needs a string "text".
func (d *decoder) parts(at where, t *Turn) error {
	start := d.pos
	var texts []string
	nonText := 0
	err := d.array(at, 4, func(i int) error {
		var typ, text string
		var haveType, haveText bool
		if d.pos >= len(d.data) || d.data[d.pos] != '{' {
			return d.kindError(at, 4, "content part object")
		}
		err := d.object(at, 5, func(key string) error {
			if key != "type" && key != "text" {
				return d.skipValue(5)
			}
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				if key == "type" {
					return d.kindError(at, 5, "string content part type")
				}
				return d.skipValue(5) // checked below for text parts
			}
			s, err := d.string()
			if err != nil {
				return err
			}
			if key == "type" {
				typ, haveType = s, true
			} else {
				text, haveText = s, true
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch {
		case !haveType:
			return d.shapeError(at, "content part %d has no \"type\"", i)
		case typ == "text" && !haveText:
			return d.shapeError(at, "text content part %d has no string \"text\"", i)
		case typ == "text":
			texts = append(texts, text)
		default:
			nonText++
		}
		return nil
	})
	if err != nil {
		return d.placed(err, at, start)
	}
	t.Parts = make([]byte, d.pos-start) // exact: append would round up
	copy(t.Parts, d.data[start:d.pos])
	t.Value = strings.Join(texts, PartsSeparator)
	t.partsText, t.NonText = t.Value, nonText
	return nil
}

// rawValue validates and returns the bytes of the value at the position,
// which stands at w inside depth levels.
func (d *decoder) rawValue(w where, depth int) ([]byte, error) {
	start := d.pos
	if err := d.skipValue(depth); err != nil {
		return nil, d.placed(err, w, start)
	}
	raw := make([]byte, d.pos-start) // exact: append would round up
	copy(raw, d.data[start:d.pos])
	return raw, nil
}

// skipValue validates the value at the position, inside depth levels, and
// moves past it. It keeps a stack of one byte per open object or array, not
// a call per level, and builds nothing: no path, no member name.
func (d *decoder) skipValue(depth int) error {
	var stackBuf [64]byte
	open := stackBuf[:0] // '{' or '[' per level
	for {
		// A value is expected here.
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.syntaxError("unexpected end of record")
		}
		switch c := d.data[d.pos]; {
		case c == '{' || c == '[':
			if depth+len(open) >= MaxDepth {
				return d.syntaxError(fmt.Sprintf("nesting deeper than %d levels", MaxDepth))
			}
			d.pos++
			d.skipSpace()
			if d.pos < len(d.data) && d.data[d.pos] == c+2 { // '}' or ']'
				d.pos++
				break
			}
			open = append(open, c)
			if c == '{' {
				if err := d.memberName(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if err := d.skipString(); err != nil {
				return err
			}
		case c == 't':
			if err := d.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := d.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := d.literal("null"); err != nil {
				return err
			}
		case c == '-' || isDigit(c):
			if err := d.number(); err != nil {
				return err
			}
		default:
			return d.syntaxError(fmt.Sprintf("invalid character %q", c))
		}
		// A value ended: close what it ends, up to the next value.
		for {
			if len(open) == 0 {
				return nil
			}
			top := open[len(open)-1]
			d.skipSpace()
			if d.pos >= len(d.data) {
				if top == '{' {
					return d.syntaxError("unexpected end inside object")
				}
				return d.syntaxError("unexpected end inside array")
			}
			c := d.data[d.pos]
			if c == top+2 {
				d.pos++
				open = open[:len(open)-1]
				continue
			}
			if c != ',' {
				if top == '{' {
					return d.syntaxError("expected ',' or '}' in object")
				}
				return d.syntaxError("expected ',' or ']' in array")
			}
			d.pos++
			if top == '{' {
				if err := d.memberName(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// memberName checks a member name and the ':' after it.
func (d *decoder) memberName() error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return d.syntaxError("expected a member name")
	}
	if err := d.skipString(); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return d.syntaxError("expected ':' after member name")
	}
	d.pos++
	return nil
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.syntaxError("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d *decoder) number() error {
	p := d.pos
	if p < len(d.data) && d.data[p] == '-' {
		p++
	}
	switch {
	case p < len(d.data) && d.data[p] == '0':
		p++
	case p < len(d.data) && d.data[p] >= '1' && d.data[p] <= '9':
		for p < len(d.data) && isDigit(d.data[p]) {
			p++
		}
	default:
		d.pos = p
		return d.syntaxError("invalid number")
	}
	if p < len(d.data) && d.data[p] == '.' {
		p++
		if p >= len(d.data) || !isDigit(d.data[p]) {
			d.pos = p
			return d.syntaxError("invalid number")
		}
		for p < len(d.data) && isDigit(d.data[p]) {
			p++
		}
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < len(d.data) && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		if p >= len(d.data) || !isDigit(d.data[p]) {
			d.pos = p
			return d.syntaxError("invalid number")
		}
		for p < len(d.data) && isDigit(d.data[p]) {
			p++
		}
	}
	d.pos = p
	return nil
}

// string decodes the string at the position. It rejects raw control
// characters (invalid JSON) and invalid UTF-8 or unpaired surrogate escapes
// (not text); an encoding error names no path (see placed).
func (d *decoder) string() (string, error) {
	start := d.pos + 1 // past the opening quote
	// Fast path: no escapes.
	p, ascii := plainRun(d.data, start)
	if p < len(d.data) && d.data[p] == '"' {
		s := d.data[start:p]
		if !ascii && !utf8.Valid(s) {
			d.pos = start + invalidUTF8Offset(s)
			return "", d.utf8Error(start)
		}
		d.pos = p + 1
		if name, ok := knownName(s); ok {
			return name, nil
		}
		return string(s), nil
	}
	return d.slowString(start, p)
}

// knownName returns the constant for the member names and roles every
// record repeats, so that decoding them allocates nothing.
func knownName(s []byte) (string, bool) {
	if len(s) > len("conversations") {
		return "", false
	}
	switch string(s) {
	case "id":
		return "id", true
	case "conversations":
		return "conversations", true
	case "messages":
		return "messages", true
	case "from":
		return "from", true
	case "value":
		return "value", true
	case "role":
		return "role", true
	case "content":
		return "content", true
	case "model":
		return "model", true
	case "lang":
		return "lang", true
	case RoleHuman:
		return RoleHuman, true
	case RoleGPT:
		return RoleGPT, true
	case RoleSystem:
		return RoleSystem, true
	case "user":
		return "user", true
	case "assistant":
		return "assistant", true
	}
	return "", false
}

func (d *decoder) utf8Error(start int) *DecodeError {
	return &DecodeError{Reason: ReasonInvalidUTF8, Offset: d.pos, Msg: fmt.Sprintf("invalid UTF-8 at byte %d of the string", d.pos-start)}
}

func invalidUTF8Offset(s []byte) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(s)
}

// slowString decodes a string with escapes: start is just past its
// opening quote, p at the first escape or control character. The decoded
// text is never longer than the raw, so it is built in one buffer of the
// raw length, which becomes the string without a copy unless much of it
// would be left unused.
func (d *decoder) slowString(start, p int) (string, error) {
	if seg := d.data[start:p]; !utf8.Valid(seg) {
		d.pos = start + invalidUTF8Offset(seg)
		return "", d.utf8Error(start)
	}
	var b strings.Builder
	b.Grow(stringEnd(d.data, start-1) - start)
	b.Write(d.data[start:p])
	for {
		if p >= len(d.data) {
			d.pos = p
			return "", d.syntaxError("unterminated string")
		}
		switch c := d.data[p]; {
		case c == '"':
			d.pos = p + 1
			if 4*b.Len() < 3*b.Cap() {
				return strings.Clone(b.String()), nil
			}
			return b.String(), nil
		case c == '\\':
			r, n, err := d.escape(p)
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			p += n
		default:
			d.pos = p
			return "", d.syntaxError("control character in string")
		}
		// Copy the run up to the next quote, escape or control character.
		run := p
		var ascii bool
		p, ascii = plainRun(d.data, p)
		seg := d.data[run:p]
		if !ascii && !utf8.Valid(seg) {
			d.pos = run + invalidUTF8Offset(seg)
			return "", d.utf8Error(start)
		}
		b.Write(seg)
	}
}

// plainRun returns the end of the run of string bytes from p that need no
// attention (up to a quote, a backslash or a control character), and
// whether the run is all ASCII.
func plainRun(data []byte, p int) (end int, ascii bool) {
	ascii = true
	for ; p < len(data); p++ {
		c := data[p]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return p, ascii
}

// skipString checks the string at the position and moves past it, as
// string does without building it.
func (d *decoder) skipString() error {
	start := d.pos + 1
	p := start
	for {
		run := p
		var ascii bool
		p, ascii = plainRun(d.data, p)
		if seg := d.data[run:p]; !ascii && !utf8.Valid(seg) {
			d.pos = run + invalidUTF8Offset(seg)
			return d.utf8Error(start)
		}
		if p >= len(d.data) {
			d.pos = p
			return d.syntaxError("unterminated string")
		}
		switch c := d.data[p]; {
		case c == '"':
			d.pos = p + 1
			return nil
		case c == '\\':
			_, n, err := d.escape(p)
			if err != nil {
				return err
			}
			p += n
		default:
			d.pos = p
			return d.syntaxError("control character in string")
		}
	}
}

// escape decodes the escape sequence at p, returning the rune and its length.
func (d *decoder) escape(p int) (rune, int, error) {
	if p+1 >= len(d.data) {
		d.pos = p
		return 0, 0, d.syntaxError("unterminated escape")
	}
	switch d.data[p+1] {
	case '"':
		return '"', 2, nil
	case '\\':
		return '\\', 2, nil
	case '/':
		return '/', 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r, ok := hex4(d.data[p+2:])
		if !ok {
			d.pos = p
			return 0, 0, d.syntaxError("invalid \\u escape")
		}
		if !utf16.IsSurrogate(r) {
			return r, 6, nil
		}
		if r < 0xdc00 && p+12 <= len(d.data) && d.data[p+6] == '\\' && d.data[p+7] == 'u' {
			if r2, ok := hex4(d.data[p+8:]); ok {
				if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
					return c, 12, nil
				}
			}
		}
		d.pos = p
		return 0, 0, &DecodeError{Reason: ReasonInvalidUTF8, Offset: p, Msg: fmt.Sprintf("unpaired surrogate escape %s", d.data[p:p+6])}
	}
	d.pos = p
	return 0, 0, d.syntaxError("invalid escape")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
