package pipeline

import (
	"bytes"
	"fmt"
	"io"
)

// Element is one record as a reader found it: raw JSON bytes (decoded into
// a Record later, in parallel), or a Record from a typed format, or an
// element-level error that rejects this record without stopping the run.
type Element struct {
	Index  int64 // 0-based position among the input's records
	Offset int64 // byte offset in the (decompressed) input
	Line   int64 // 1-based line number for JSONL input, else 0
	Size   int64 // bytes the element occupied
	Raw    []byte
	Rec    *Record
	Err    *DecodeError
}

// SyntaxError is a break in the input's structure that makes the rest of
// the file unreadable (an array whose elements cannot be delimited).
type SyntaxError struct {
	Offset int64
	Line   int64 // 0 when unknown
	Index  int64 // index of the record being read
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d (byte %d): record %d: %s", e.Line, e.Offset, e.Index, e.Msg)
	}
	return fmt.Sprintf("byte %d: record %d: %s", e.Offset, e.Index, e.Msg)
}

const scanChunk = 1 << 20

// byteWindow is a refillable read buffer that knows the input offset.
type byteWindow struct {
	r    io.Reader
	buf  []byte
	pos  int
	n    int
	base int64 // input offset of buf[0]
	err  error // sticky read error or io.EOF
}

func newByteWindow(r io.Reader) *byteWindow {
	return &byteWindow{r: r, buf: make([]byte, scanChunk)}
}

func (w *byteWindow) offset() int64 { return w.base + int64(w.pos) }

// fill replaces the consumed buffer with new input; it reports whether any
// unread bytes are available.
func (w *byteWindow) fill() bool {
	if w.pos < w.n {
		return true
	}
	if w.err != nil {
		return false
	}
	w.base += int64(w.n)
	w.pos, w.n = 0, 0
	for w.n == 0 && w.err == nil {
		w.n, w.err = w.r.Read(w.buf)
	}
	return w.n > 0
}

// skipSpace consumes JSON whitespace; it reports whether a byte follows.
func (w *byteWindow) skipSpace() bool {
	for w.fill() {
		for w.pos < w.n {
			switch w.buf[w.pos] {
			case ' ', '\t', '\n', '\r':
				w.pos++
			default:
				return true
			}
		}
	}
	return false
}

func (w *byteWindow) readErr() error {
	if w.err == io.EOF {
		return nil
	}
	return w.err
}

// valueScanner delimits JSON values: the elements of a top-level array, or
// a stream of values one after another (a single object, or concatenated
// objects). It tracks strings and nesting only; the worker that decodes an
// element validates it.
type valueScanner struct {
	w        *byteWindow
	maxBytes int64
	index    int64
	started  bool
	array    bool // inside a top-level array
	done     bool
	pending  error // a structural error found after the last element
	acc      pieces
}

func newValueScanner(r io.Reader, maxBytes int64) *valueScanner {
	return &valueScanner{w: newByteWindow(r), maxBytes: maxBytes}
}

func (s *valueScanner) fail(msg string) error {
	return &SyntaxError{Offset: s.w.offset(), Index: s.index, Msg: msg}
}

// Next returns the next element, or io.EOF after the last.
func (s *valueScanner) Next() (Element, error) {
	if s.pending != nil {
		return Element{}, s.pending
	}
	if s.done {
		return Element{}, io.EOF
	}
	if err := s.start(); err != nil || s.done {
		if err == nil {
			err = io.EOF
		}
		return Element{}, err
	}
	el, err := s.value()
	if err != nil {
		return Element{}, err
	}
	s.index++
	// A break after this element is reported on the next call, so that
	// the element itself is not lost.
	s.pending = s.separator()
	return el, nil
}

func (s *valueScanner) start() error {
	if s.started {
		return nil
	}
	s.started = true
	if !s.w.skipSpace() {
		s.done = true
		if err := s.w.readErr(); err != nil {
			return err
		}
		return nil // an empty file holds no records, as an empty JSONL file
	}
	switch s.w.buf[s.w.pos] {
	case '[':
		s.array = true
		s.w.pos++
		if !s.w.skipSpace() {
			return s.eofError("unexpected end of input inside the top-level array")
		}
		if s.w.buf[s.w.pos] == ']' {
			s.w.pos++
			return s.finish()
		}
	case '{':
	default:
		return s.fail(fmt.Sprintf("expected a JSON array or object, got %q", s.w.buf[s.w.pos]))
	}
	return nil
}

func (s *valueScanner) eofError(msg string) error {
	if err := s.w.readErr(); err != nil {
		return err
	}
	return s.fail(msg)
}

// separator consumes what follows an element: "," or "]" in an array,
// whitespace in a value stream.
func (s *valueScanner) separator() error {
	if !s.w.skipSpace() {
		if s.array {
			return s.eofError("unexpected end of input: the top-level array is not closed")
		}
		s.done = true
		return s.w.readErr()
	}
	if !s.array {
		if c := s.w.buf[s.w.pos]; c != '{' {
			return s.fail(fmt.Sprintf("expected a JSON object after the previous record, got %q", c))
		}
		return nil
	}
	switch s.w.buf[s.w.pos] {
	case ',':
		s.w.pos++
		if !s.w.skipSpace() {
			return s.eofError("unexpected end of input after ','")
		}
		if s.w.buf[s.w.pos] == ']' {
			return s.fail("trailing ',' before ']'")
		}
		return nil
	case ']':
		s.w.pos++
		return s.finish()
	}
	return s.fail(fmt.Sprintf("expected ',' or ']' after record, got %q", s.w.buf[s.w.pos]))
}

func (s *valueScanner) finish() error {
	s.done = true
	if s.w.skipSpace() {
		return s.fail("unexpected data after the top-level array")
	}
	return s.w.readErr()
}

// value delimits one value starting at the current (non-space) byte.
func (s *valueScanner) value() (Element, error) {
	w := s.w
	el := Element{Index: s.index, Offset: w.offset()}
	if c := w.buf[w.pos]; c == ',' || c == ']' || c == '}' || c == ':' {
		return el, s.fail(fmt.Sprintf("expected a record, got %q", c))
	}
	s.acc.reset()
	var size int64
	tooBig := false
	var st valueState
	mark := w.pos
	flush := func() {
		size += int64(w.pos - mark)
		if !tooBig && s.maxBytes > 0 && size > s.maxBytes {
			tooBig = true
			s.acc.reset()
		}
		if !tooBig {
			s.acc.add(w.buf[mark:w.pos])
		}
	}
	spans := false // the value runs over more than one window
	for !st.advance(w) {
		if w.pos < w.n {
			continue
		}
		flush()
		spans = true
		if !w.fill() {
			return el, s.eofError(fmt.Sprintf("unexpected end of input inside record %d (starts at byte %d)", s.index, el.Offset))
		}
		mark = w.pos
	}
	if spans {
		flush()
	} else {
		size = int64(w.pos - mark)
		tooBig = s.maxBytes > 0 && size > s.maxBytes
	}
	el.Size = size
	switch {
	case tooBig:
		el.Err = &DecodeError{Reason: ReasonTooLarge, Msg: fmt.Sprintf("record of %d bytes is over the limit of %d", size, s.maxBytes)}
	case spans:
		el.Raw = s.acc.bytes()
	default:
		el.Raw = bytes.Clone(w.buf[mark:w.pos])
	}
	return el, nil
}

// pieces gathers a record that runs over several read windows, in chunks
// of a fixed size that are kept for the next record (up to
// maxKeptPieces), and hands it out as one exact copy: a record then costs
// its size here once, and once in the element. (A buffer grown by append
// would allocate up to five times the size, by doubling up to four.)
type pieces struct {
	chunks [][]byte
	used   int // chunks[:used] hold data
	size   int
}

const (
	pieceBytes    = 1 << 20
	maxKeptPieces = 16
)

func (p *pieces) reset() {
	for i := range p.chunks[:p.used] {
		p.chunks[i] = p.chunks[i][:0]
	}
	if len(p.chunks) > maxKeptPieces {
		clear(p.chunks[maxKeptPieces:])
		p.chunks = p.chunks[:maxKeptPieces]
	}
	p.used, p.size = 0, 0
}

func (p *pieces) add(b []byte) {
	p.size += len(b)
	for len(b) > 0 {
		if p.used == 0 || len(p.chunks[p.used-1]) == pieceBytes {
			if p.used == len(p.chunks) {
				p.chunks = append(p.chunks, make([]byte, 0, pieceBytes))
			}
			p.used++
		}
		c := p.chunks[p.used-1]
		n := min(len(b), pieceBytes-len(c))
		p.chunks[p.used-1] = append(c, b[:n]...)
		b = b[n:]
	}
}

// bytes returns a copy of what was added.
func (p *pieces) bytes() []byte {
	out := make([]byte, 0, p.size)
	for _, c := range p.chunks[:p.used] {
		out = append(out, c...)
	}
	return out
}

// valueState follows strings and nesting while a value is delimited.
type valueState struct {
	depth             int
	inString, escaped bool
}

// advance moves through the buffered bytes of a value and reports whether
// the value ended (w.pos is then just past it). It returns false when the
// buffer ran out first.
func (st *valueState) advance(w *byteWindow) bool {
	for w.pos < w.n {
		if st.inString {
			if st.escaped {
				st.escaped = false
				w.pos++
				continue
			}
			i := bytes.IndexAny(w.buf[w.pos:w.n], "\"\\")
			if i < 0 {
				w.pos = w.n
				return false
			}
			w.pos += i + 1
			if w.buf[w.pos-1] == '\\' {
				st.escaped = true
				continue
			}
			st.inString = false
			if st.depth == 0 {
				return true
			}
			continue
		}
		switch w.buf[w.pos] {
		case '"':
			st.inString = true
		case '{', '[':
			st.depth++
		case '}', ']':
			if st.depth == 0 {
				return true // the end of a scalar element of an array
			}
			st.depth--
			if st.depth == 0 {
				w.pos++
				return true
			}
		case ',', ' ', '\t', '\n', '\r':
			if st.depth == 0 {
				return true
			}
		}
		w.pos++
	}
	return false
}

// lineScanner reads JSONL: one record per line; blank lines are skipped. A
// line that is not valid JSON rejects that record only.
type lineScanner struct {
	w        *byteWindow
	maxBytes int64
	index    int64
	line     int64
	acc      pieces
}

func newLineScanner(r io.Reader, maxBytes int64) *lineScanner {
	return &lineScanner{w: newByteWindow(r), maxBytes: maxBytes}
}

// Next returns the next non-blank line, or io.EOF.
func (s *lineScanner) Next() (Element, error) {
	w := s.w
	for {
		s.line++
		el := Element{Index: s.index, Offset: w.offset(), Line: s.line}
		s.acc.reset()
		var size int64
		var line []byte // the line, when it lies in one window
		tooBig, eol, spans := false, false, false
		for !eol {
			if !w.fill() {
				if err := w.readErr(); err != nil {
					return el, err
				}
				if size == 0 {
					return el, io.EOF
				}
				break
			}
			buf := w.buf[w.pos:w.n]
			i := bytes.IndexByte(buf, '\n')
			if i >= 0 {
				buf, eol = buf[:i], true
			}
			size += int64(len(buf))
			if !tooBig && s.maxBytes > 0 && size > s.maxBytes {
				tooBig = true
				s.acc.reset()
			}
			switch {
			case tooBig:
			case eol && !spans:
				line = buf
			default:
				s.acc.add(buf)
				spans = true
			}
			w.pos += len(buf)
			if eol {
				w.pos++
			}
		}
		if spans && !tooBig {
			line = s.acc.bytes()
		}
		if !tooBig && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		el.Size = size
		s.index++
		if tooBig {
			el.Err = &DecodeError{Reason: ReasonTooLarge, Msg: fmt.Sprintf("line of %d bytes is over the limit of %d", size, s.maxBytes)}
			return el, nil
		}
		line = bytes.TrimRight(line, "\r")
		if spans {
			el.Raw = line // already a copy
		} else {
			el.Raw = bytes.Clone(line)
		}
		return el, nil
	}
}
