package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Formats returns the import formats, to put in a pipeline registry; they
// read only (no extensions, no writers), so the registry's JSON, Parquet and
// Arrow formats still write the output.
func (im *Importer) Formats() []pipeline.Format {
	mk := func(name string, open func(r io.Reader, name string, max int64) pipeline.Source) pipeline.Format {
		return pipeline.Format{Name: name, NewSource: func(r io.Reader, n string, opts pipeline.ReadOptions) pipeline.Source {
			return open(r, n, maxBytes(opts))
		}}
	}
	var fs []pipeline.Format
	for _, f := range []string{FromChatGPT, FromClaude, FromOpenWebUI, FromAlpaca, FromDolly} {
		fs = append(fs, mk(f, func(r io.Reader, n string, max int64) pipeline.Source {
			return newJSONSource(r, n, f, "", max)
		}))
	}
	fs = append(fs,
		mk(FromChatbotUI, func(r io.Reader, n string, max int64) pipeline.Source {
			return newJSONSource(r, n, FromChatbotUI, "history", max)
		}),
		mk(FromChatGPTHTML, func(r io.Reader, n string, max int64) pipeline.Source {
			return newPageSource(r, n, max, true)
		}),
		mk(FromSharePage, func(r io.Reader, n string, max int64) pipeline.Source {
			return newPageSource(r, n, max, false)
		}),
		mk(FromAuto, func(r io.Reader, n string, max int64) pipeline.Source {
			br := bufio.NewReaderSize(r, sniffBytes)
			head, _ := br.Peek(sniffBytes)
			from, why := Sniff(head)
			if from == "" {
				return &errSource{name: n, err: pipeline.OptionErrorf("cannot tell the export format (%s); name it with {from}", why)}
			}
			fmt.Fprintf(im.o.Log, "import: %s: --from auto chose %s (%s)\n", n, from, why)
			for _, f := range fs {
				if f.Name == from {
					return f.NewSource(br, n, pipeline.ReadOptions{MaxRecordBytes: max})
				}
			}
			return &errSource{name: n, err: fmt.Errorf("no reader for %s", from)}
		}),
	)
	return fs
}

func maxBytes(o pipeline.ReadOptions) int64 {
	if o.MaxRecordBytes <= 0 {
		return pipeline.DefaultMaxRecordBytes
	}
	return o.MaxRecordBytes
}

const sniffBytes = 64 << 10

var (
	reMapping     = regexp.MustCompile(`"mapping"\s*:`)
	reChatMsgs    = regexp.MustCompile(`"chat_messages"\s*:`)
	reOpenWebUI   = regexp.MustCompile(`"(currentId|childrenIds)"\s*:`)
	reChatbotUI   = regexp.MustCompile(`"(folders|prompts)"\s*:|"history"\s*:\s*\[`)
	reInstruction = regexp.MustCompile(`"instruction"\s*:`)
	reOutput      = regexp.MustCompile(`"output"\s*:`)
	reResponse    = regexp.MustCompile(`"(response|context)"\s*:`)
	reJSONData    = regexp.MustCompile(`var\s+jsonData\s*=`)
)

// Sniff decides an input's format from its first bytes (up to 64 KiB) and
// says why; "" when it cannot tell.
func Sniff(head []byte) (from, why string) {
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 {
		return "", "the input is empty"
	}
	switch t[0] {
	case '<':
		if reJSONData.Match(t) {
			return FromChatGPTHTML, "an HTML page with var jsonData"
		}
		return FromSharePage, "an HTML page"
	case '[', '{':
	default:
		return "", "neither JSON nor HTML"
	}
	switch {
	case reMapping.Match(t):
		return FromChatGPT, `JSON with "mapping"`
	case reChatMsgs.Match(t):
		return FromClaude, `JSON with "chat_messages"`
	case reOpenWebUI.Match(t):
		return FromOpenWebUI, `JSON with "currentId"/"childrenIds"`
	case reChatbotUI.Match(t):
		return FromChatbotUI, `JSON with "history" and "folders"`
	case reInstruction.Match(t) && reOutput.Match(t):
		return FromAlpaca, `JSON with "instruction" and "output"`
	case reInstruction.Match(t) && reResponse.Match(t):
		return FromDolly, `JSON with "instruction" and "response"`
	}
	return "", "JSON of no known export"
}

type errSource struct {
	name string
	err  error
}

func (s *errSource) Name() string                    { return s.name }
func (s *errSource) Next() (pipeline.Element, error) { return pipeline.Element{}, s.err }
func (s *errSource) Close() error                    { return nil }

// jsonSource streams the conversations of a JSON input: the elements of a
// top-level array, or top-level objects one after another (one
// conversation object, or JSONL), or, with key set, the elements of the
// array under that key of the top-level object (Chatbot UI's "history").
// It decodes one conversation at a time (json.Decoder Token/More).
type jsonSource struct {
	name, format, key string
	r                 *bufio.Reader
	dec               *json.Decoder
	base              int64 // offset of r's first byte in the input
	max               int64
	index             int64
	mode              int // modeStart, modeArray, modeValues, modeDone
}

const (
	modeStart = iota
	modeArray
	modeValues
	modeDone
)

func newJSONSource(r io.Reader, name, format, key string, max int64) *jsonSource {
	return &jsonSource{name: name, format: format, key: key, r: bufio.NewReader(r), max: max}
}

func (s *jsonSource) Name() string { return s.name }
func (s *jsonSource) Close() error { return nil }

func (s *jsonSource) fail(msg string, args ...any) error {
	var off int64
	if s.dec != nil {
		off = s.dec.InputOffset()
	}
	return &pipeline.SyntaxError{Offset: s.base + off, Index: s.index, Msg: fmt.Sprintf(msg, args...)}
}

func (s *jsonSource) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &pipeline.SyntaxError{Offset: s.base + se.Offset, Index: s.index, Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return s.fail("the input ends inside conversation %d", s.index)
	}
	return s.fail("%v", err)
}

func (s *jsonSource) start() error {
	// Skip a byte order mark and white space to see the first byte.
	for {
		b, err := s.r.Peek(1)
		if err == io.EOF {
			s.mode = modeDone
			return nil
		}
		if err != nil {
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			s.r.ReadByte()
			s.base++
			continue
		case 0xef:
			if bom, _ := s.r.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
				s.r.Discard(3)
				s.base += 3
				continue
			}
		}
		break
	}
	first, _ := s.r.Peek(1)
	s.dec = json.NewDecoder(s.r)
	switch {
	case first[0] == '[':
		s.dec.Token()
		s.mode = modeArray
	case first[0] == '{' && s.key != "":
		s.dec.Token()
		for {
			if !s.dec.More() {
				return s.fail("the object has no %q array", s.key)
			}
			t, err := s.dec.Token()
			if err != nil {
				return s.syntax(err)
			}
			if t == s.key {
				t, err := s.dec.Token()
				if err != nil {
					return s.syntax(err)
				}
				if d, ok := t.(json.Delim); !ok || d != '[' {
					return s.fail("%q is not an array", s.key)
				}
				s.mode = modeArray
				return nil
			}
			var skip json.RawMessage
			if err := s.dec.Decode(&skip); err != nil {
				return s.syntax(err)
			}
		}
	case first[0] == '{':
		s.mode = modeValues
	default:
		return s.fail("expected a JSON array or object, found %q", first)
	}
	return nil
}

func (s *jsonSource) Next() (pipeline.Element, error) {
	if s.mode == modeStart {
		if err := s.start(); err != nil {
			s.mode = modeDone
			return pipeline.Element{}, err
		}
	}
	switch s.mode {
	case modeArray:
		if !s.dec.More() {
			s.mode = modeDone
			if _, err := s.dec.Token(); err != nil {
				return pipeline.Element{}, s.syntax(err)
			}
			return pipeline.Element{}, io.EOF
		}
	case modeValues:
		if !s.dec.More() {
			// More is false at the end of the input, and on a stray
			// closing bracket, which Decode reports.
			var v json.RawMessage
			if err := s.dec.Decode(&v); err != io.EOF {
				s.mode = modeDone
				return pipeline.Element{}, s.syntax(err)
			}
			s.mode = modeDone
			return pipeline.Element{}, io.EOF
		}
	default:
		return pipeline.Element{}, io.EOF
	}
	start := s.dec.InputOffset()
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		s.mode = modeDone
		return pipeline.Element{}, s.syntax(err)
	}
	el := pipeline.Element{Index: s.index, Offset: s.base + start, Size: int64(len(raw))}
	s.index++
	if int64(len(raw)) > s.max {
		el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonTooLarge, Msg: fmt.Sprintf("%d bytes, over the %d-byte limit (--max-record-bytes)", len(raw), s.max)}
		return el, nil
	}
	el.Rec = carrier(s.format, raw)
	return el, nil
}
