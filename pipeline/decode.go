package pipeline

import (
	"fmt"
	"slices"
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

// openAIRoles maps OpenAI chat roles to ShareGPT roles; others pass as given.
var openAIRoles = map[string]string{"user": RoleHuman, "assistant": RoleGPT, "system": RoleSystem}

// DecodeRecord parses one JSON object into a Record. data must be the whole
// element; it is not retained.
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

type decoder struct {
	data  []byte
	pos   int
	style InputStyle
}

func (d *decoder) syntaxError(msg string) *DecodeError {
	return &DecodeError{Reason: ReasonInvalidJSON, Offset: d.pos, Msg: msg}
}

func (d *decoder) shapeError(path, format string, args ...any) *DecodeError {
	return &DecodeError{Reason: ReasonBadShape, Path: path, Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
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

// kindError reports a value of the wrong kind: a syntax error if the value
// is not valid JSON at all, else a shape error naming both kinds.
func (d *decoder) kindError(path, want string) error {
	start, got := d.pos, d.kind()
	if err := d.skipValue(path, 0); err != nil {
		return err
	}
	d.pos = start
	return d.shapeError(path, "expected %s, got %s", want, got)
}

// object iterates over an object's members, calling member with each key
// positioned at the value. member must consume the value.
func (d *decoder) object(path string, member func(key string) error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return d.kindError(path, "object")
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
		key, err := d.string(path)
		if err != nil {
			return err
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

// array iterates over an array's elements; elem must consume the element.
func (d *decoder) array(path string, elem func(i int) error) error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return d.kindError(path, "array")
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

func (d *decoder) record() (*Record, error) {
	rec := &Record{idPos: -1, convPos: -1}
	n := 0
	var seen [8]string // records have few members; no map per record
	keys := seen[:0]
	err := d.object("", func(key string) error {
		if slices.Contains(keys, key) {
			return d.shapeError(key, "duplicate member %q", key)
		}
		keys = append(keys, key)
		defer func() { n++ }()
		switch {
		case key == "id":
			if d.kind() != "string" {
				return d.kindError("id", "string")
			}
			s, err := d.string("id")
			rec.ID, rec.idPos = s, n
			return err
		case d.isConversationKey(key):
			if rec.convPos >= 0 {
				return d.shapeError(key, "a second conversation member (%q)", key)
			}
			rec.convPos = n
			return d.turns(key, rec)
		}
		raw, err := d.rawValue(key)
		rec.Fields = append(rec.Fields, Field{Key: key, Value: raw})
		return err
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
	return d.array(key, func(i int) error {
		path := fmt.Sprintf("%s[%d]", key, i)
		t, err := d.turn(path)
		rec.Conversations = append(rec.Conversations, t)
		return err
	})
}

func (d *decoder) turn(path string) (Turn, error) {
	var t Turn
	var haveRole, haveText, openAI bool
	err := d.object(path, func(key string) error {
		switch key {
		case "from", "value", "role", "content":
		default:
			raw, err := d.rawValue(path + "." + key)
			t.Fields = append(t.Fields, Field{Key: key, Value: raw})
			return err
		}
		isRole := key == "from" || key == "role"
		isOpenAI := key == "role" || key == "content"
		if (isOpenAI && d.style == StyleShareGPT) || (!isOpenAI && d.style == StyleOpenAI) {
			raw, err := d.rawValue(path + "." + key)
			t.Fields = append(t.Fields, Field{Key: key, Value: raw})
			return err
		}
		if (isRole && haveRole) || (!isRole && haveText) {
			return d.shapeError(path+"."+key, "a second %s member", map[bool]string{true: "role", false: "text"}[isRole])
		}
		if d.kind() != "string" {
			return d.kindError(path+"."+key, "string")
		}
		s, err := d.string(path + "." + key)
		if isRole {
			t.From, haveRole = s, true
		} else {
			t.Value, haveText = s, true
			t.valueFirst = !haveRole
		}
		openAI = isOpenAI
		return err
	})
	if err != nil {
		return t, err
	}
	if !haveRole {
		return t, d.shapeError(path, "missing %q", map[bool]string{false: "from", true: "role"}[openAI])
	}
	if !haveText {
		return t, d.shapeError(path, "missing %q", map[bool]string{false: "value", true: "content"}[openAI])
	}
	if openAI {
		if r, ok := openAIRoles[t.From]; ok {
			t.From = r
		}
	}
	return t, nil
}

// rawValue validates and returns the bytes of the value at the position.
func (d *decoder) rawValue(path string) ([]byte, error) {
	start := d.pos
	if err := d.skipValue(path, 0); err != nil {
		return nil, err
	}
	return append([]byte(nil), d.data[start:d.pos]...), nil
}

const maxDepth = 10000

func (d *decoder) skipValue(path string, depth int) error {
	if depth > maxDepth {
		return d.syntaxError("nesting too deep")
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return d.syntaxError("unexpected end of record")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(path, func(key string) error { return d.skipValue(path+"."+key, depth+1) })
	case c == '[':
		return d.array(path, func(i int) error { return d.skipValue(fmt.Sprintf("%s[%d]", path, i), depth+1) })
	case c == '"':
		_, err := d.string(path)
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return d.syntaxError(fmt.Sprintf("invalid character %q", d.data[d.pos]))
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
// (not text).
func (d *decoder) string(path string) (string, error) {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes and valid UTF-8.
	p := start
	ascii := true
	for p < len(d.data) {
		c := d.data[p]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		if c >= 0x80 {
			ascii = false
		}
		p++
	}
	if p < len(d.data) && d.data[p] == '"' {
		s := d.data[start:p]
		if !ascii && !utf8.Valid(s) {
			d.pos = start + invalidUTF8Offset(s)
			return "", &DecodeError{Reason: ReasonInvalidUTF8, Path: path, Offset: d.pos, Msg: fmt.Sprintf("invalid UTF-8 at byte %d of the string", d.pos-start)}
		}
		d.pos = p + 1
		return string(s), nil
	}
	return d.slowString(path, start)
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

func (d *decoder) slowString(path string, start int) (string, error) {
	buf := make([]byte, 0, 256)
	p := start
	for {
		// Copy the run up to the next quote, escape or control character.
		run := p
		for p < len(d.data) {
			if c := d.data[p]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
			p++
		}
		if seg := d.data[run:p]; !utf8.Valid(seg) {
			d.pos = run + invalidUTF8Offset(seg)
			return "", &DecodeError{Reason: ReasonInvalidUTF8, Path: path, Offset: d.pos, Msg: fmt.Sprintf("invalid UTF-8 at byte %d of the string", d.pos-start)}
		} else {
			buf = append(buf, seg...)
		}
		if p >= len(d.data) {
			d.pos = p
			return "", d.syntaxError("unterminated string")
		}
		switch c := d.data[p]; {
		case c == '"':
			d.pos = p + 1
			return string(buf), nil
		case c == '\\':
			r, n, err := d.escape(path, p)
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
			p += n
		default:
			d.pos = p
			return "", d.syntaxError("control character in string")
		}
	}
}

// escape decodes the escape sequence at p, returning the rune and its length.
func (d *decoder) escape(path string, p int) (rune, int, error) {
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
		return 0, 0, &DecodeError{Reason: ReasonInvalidUTF8, Path: path, Offset: p, Msg: fmt.Sprintf("unpaired surrogate escape %s", d.data[p:p+6])}
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
