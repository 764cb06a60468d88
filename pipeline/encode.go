package pipeline

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// OutputStyle says which member names a writer uses for conversations.
type OutputStyle int

const (
	// OutShareGPT writes "conversations" of {"from", "value"}.
	OutShareGPT OutputStyle = iota
	// OutOpenAI writes "messages" of {"role", "content"} (user, assistant, system).
	OutOpenAI
)

// ParseOutputStyle parses "sharegpt" or "openai".
func ParseOutputStyle(s string) (OutputStyle, error) {
	switch s {
	case "sharegpt", "":
		return OutShareGPT, nil
	case "openai":
		return OutOpenAI, nil
	}
	return 0, fmt.Errorf("unknown output style %q (want sharegpt or openai)", s)
}

var shareGPTToOpenAI = map[string]string{RoleHuman: "user", RoleGPT: "assistant", RoleSystem: "system"}

// encoder writes JSON either compact (one line, no spaces, as JSONL wants)
// or as Python's json.dump(indent=2, ensure_ascii=False) does. Non-ASCII
// text is never escaped.
type encoder struct {
	indent bool
	style  OutputStyle
	out    *flusher // nil: the whole record is appended to dst
}

// flusher takes what an indenting encoder has made so far whenever it is
// more than flushBytes, so that the buffer stays small however long the
// output grows.
type flusher struct {
	w   io.Writer
	err error // the first write error; later writes are skipped
}

const flushBytes = 64 << 10

func (f *flusher) flush(dst []byte) []byte {
	if f.err == nil {
		_, f.err = f.w.Write(dst)
	}
	return dst[:0]
}

// AppendRecord appends r as compact JSON.
func AppendRecord(dst []byte, r *Record, style OutputStyle) []byte {
	dst = growFor(dst, r)
	return encoder{style: style}.record(dst, r, 0)
}

// growFor makes room in dst for r written compact, counted from its
// strings and raw values, so that a large record's output grows once
// rather than by append's steps (which allocate about five times the final
// size in all). Escapes and Python's number forms may need a little more.
func growFor(dst []byte, r *Record) []byte {
	n := len(r.ID) + 32
	for i := range r.Conversations {
		t := &r.Conversations[i]
		n += len(t.From) + len(t.Value) + len(t.Parts) + 32
		for _, f := range t.Fields {
			n += len(f.Key) + len(f.Value) + 4
		}
	}
	for _, f := range r.Fields {
		n += len(f.Key) + len(f.Value) + 4
	}
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	return dst
}

// AppendRecordIndent appends r as Python's json.dump(indent=2,
// ensure_ascii=False) writes it at the given nesting depth (1 for an element
// of a top-level array). The indentation can make the output about MaxDepth
// times the size of the record (a deep array of many small values);
// WriteRecordIndent writes the same without holding it.
func AppendRecordIndent(dst []byte, r *Record, style OutputStyle, depth int) []byte {
	return encoder{indent: true, style: style}.record(dst, r, depth)
}

// WriteRecordIndent writes buf's contents, then r as AppendRecordIndent
// appends it, to w, in pieces of about 64 KiB: the memory it takes does not
// grow with the indentation. It returns buf emptied, to be used again, and
// the first error from w.
func WriteRecordIndent(w io.Writer, buf []byte, r *Record, style OutputStyle, depth int) ([]byte, error) {
	f := &flusher{w: w}
	buf = encoder{indent: true, style: style, out: f}.record(buf, r, depth)
	buf = f.flush(buf)
	return buf, f.err
}

func (e encoder) newline(dst []byte, depth int) []byte {
	if !e.indent {
		return dst
	}
	if e.out != nil && len(dst) >= flushBytes {
		dst = e.out.flush(dst)
	}
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}

func (e encoder) key(dst []byte, first bool, key string, depth int) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = e.newline(dst, depth)
	dst = AppendString(dst, key)
	if e.indent {
		return append(dst, ':', ' ')
	}
	return append(dst, ':')
}

func (e encoder) record(dst []byte, r *Record, depth int) []byte {
	dst = append(dst, '{')
	total := len(r.Fields)
	if r.idPos >= 0 {
		total++
	}
	if r.convPos >= 0 {
		total++
	}
	convKey := "conversations"
	if e.style == OutOpenAI {
		convKey = "messages"
	}
	fi := 0
	for pos := range total {
		switch pos {
		case r.idPos:
			dst = e.key(dst, pos == 0, "id", depth+1)
			dst = AppendString(dst, r.ID)
		case r.convPos:
			dst = e.key(dst, pos == 0, convKey, depth+1)
			dst = e.turns(dst, r.Conversations, depth+1)
		default:
			f := r.Fields[fi]
			fi++
			dst = e.key(dst, pos == 0, f.Key, depth+1)
			dst = e.raw(dst, f.Value, depth+1)
		}
	}
	if total > 0 {
		dst = e.newline(dst, depth)
	}
	return append(dst, '}')
}

func (e encoder) turns(dst []byte, turns []Turn, depth int) []byte {
	dst = append(dst, '[')
	for i := range turns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = e.newline(dst, depth+1)
		dst = e.turn(dst, &turns[i], depth+1)
	}
	if len(turns) > 0 {
		dst = e.newline(dst, depth)
	}
	return append(dst, ']')
}

func (e encoder) turn(dst []byte, t *Turn, depth int) []byte {
	roleKey, textKey, role := "from", "value", t.From
	if e.style == OutOpenAI {
		roleKey, textKey = "role", "content"
		if r, ok := shareGPTToOpenAI[role]; ok {
			role = r
		}
	}
	dst = append(dst, '{')
	if t.valueFirst {
		dst = e.key(dst, true, textKey, depth+1)
		dst = e.text(dst, t, depth+1)
		dst = e.key(dst, false, roleKey, depth+1)
		dst = AppendString(dst, role)
	} else {
		dst = e.key(dst, true, roleKey, depth+1)
		dst = AppendString(dst, role)
		dst = e.key(dst, false, textKey, depth+1)
		dst = e.text(dst, t, depth+1)
	}
	for _, f := range t.Fields {
		dst = e.key(dst, false, f.Key, depth+1)
		dst = e.raw(dst, f.Value, depth+1)
	}
	dst = e.newline(dst, depth)
	return append(dst, '}')
}

// text writes a turn's text: a string, or its list of content parts (see
// Turn.Parts).
func (e encoder) text(dst []byte, t *Turn, depth int) []byte {
	if t.Parts == nil {
		return AppendString(dst, t.Value)
	}
	if t.Value == t.partsText {
		return e.raw(dst, t.Parts, depth)
	}
	// Value changed: one text part, then the parts that are not text.
	dst = append(dst, '[')
	dst = e.newline(dst, depth+1)
	dst = append(dst, '{')
	dst = e.key(dst, true, "type", depth+2)
	dst = AppendString(dst, "text")
	dst = e.key(dst, false, "text", depth+2)
	dst = AppendString(dst, t.Value)
	dst = e.newline(dst, depth+1)
	dst = append(dst, '}')
	for _, p := range nonTextParts(t.Parts) {
		dst = append(dst, ',')
		dst = e.newline(dst, depth+1)
		dst = e.raw(dst, p, depth+1)
	}
	dst = e.newline(dst, depth)
	return append(dst, ']')
}

// AppendTurnValue appends a turn's "value" as the writers write it,
// compact: its string, or its list of content parts (see Turn.Parts).
func AppendTurnValue(dst []byte, t *Turn) []byte { return encoder{}.text(dst, t, 0) }

// nonTextParts returns the parts of a valid list of content parts whose
// "type" is not "text".
func nonTextParts(parts []byte) [][]byte {
	var out [][]byte
	d := decoder{data: parts}
	_ = d.array(atRecord, 4, func(int) error {
		start := d.pos
		text := false
		err := d.object(atRecord, 5, func(key string) error {
			if key == "type" && d.pos < len(d.data) && d.data[d.pos] == '"' {
				s, err := d.string()
				text = s == "text"
				return err
			}
			return d.skipValue(5)
		})
		if !text {
			out = append(out, parts[start:d.pos])
		}
		return err
	})
	return out
}

// raw re-formats a valid raw JSON value in the encoder's style, so that
// strings and numbers come out as Python would write them.
func (e encoder) raw(dst []byte, raw []byte, depth int) []byte {
	d := decoder{data: raw}
	out, err := e.rawValue(dst, &d, depth)
	if err != nil {
		// Raw values are validated when decoded; a value set by code that
		// is not valid JSON is a programming error.
		panic(fmt.Sprintf("pipeline: invalid raw JSON value %.40q: %v", raw, err))
	}
	return out
}

func (e encoder) rawValue(dst []byte, d *decoder, depth int) ([]byte, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return dst, d.syntaxError("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		dst = append(dst, '{')
		n := 0
		err := d.object(atRecord, 1, func(key string) error {
			dst = e.key(dst, n == 0, key, depth+1)
			n++
			var err error
			dst, err = e.rawValue(dst, d, depth+1)
			return err
		})
		if n > 0 {
			dst = e.newline(dst, depth)
		}
		return append(dst, '}'), err
	case c == '[':
		dst = append(dst, '[')
		n := 0
		err := d.array(atRecord, 1, func(i int) error {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.newline(dst, depth+1)
			n++
			var err error
			dst, err = e.rawValue(dst, d, depth+1)
			return err
		})
		if n > 0 {
			dst = e.newline(dst, depth)
		}
		return append(dst, ']'), err
	case c == '"':
		s, err := d.string()
		return AppendString(dst, s), err
	case c == '-' || isDigit(c):
		start := d.pos
		if err := d.number(); err != nil {
			return dst, err
		}
		return appendPythonNumber(dst, string(d.data[start:d.pos])), nil
	}
	start := d.pos
	err := d.skipValue(0)
	return append(dst, d.data[start:d.pos]...), err
}

// appendPythonNumber writes a JSON number as Python's json module re-writes
// it: integers unchanged (but "-0" becomes "0"), floats in repr form.
func appendPythonNumber(dst []byte, num string) []byte {
	if !strings.ContainsAny(num, ".eE") {
		if num == "-0" {
			num = "0"
		}
		return append(dst, num...)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil { // out of range: Python writes Infinity
		if strings.HasPrefix(num, "-") {
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	}
	exp := 0
	if f != 0 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		exp, _ = strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	}
	if exp < -4 || exp >= 16 {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if !strings.ContainsRune(string(dst[start:]), '.') {
		dst = append(dst, '.', '0')
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way Python's json module
// writes it with ensure_ascii=False: only '"', '\\' and control characters
// are escaped. s must be valid UTF-8.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
