package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"unicode/utf8"
)

// magics are the signatures of files people pass by mistake.
var magics = []struct {
	prefix, what string
}{
	{"\x89PNG\r\n\x1a\n", "a PNG image"},
	{"\xff\xd8\xff", "a JPEG image"},
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"%PDF-", "a PDF document"},
	{"PK\x03\x04", "a ZIP archive (a ChatGPT export? unzip it and run sharegpt import on conversations.json)"},
	{"\x7fELF", "an executable"},
	{"SQLite format 3\x00", "an SQLite database"},
}

// describe says what the start of an unreadable input looks like, for an
// error message: "looks like a PNG image", "looks like text: \"hello\"".
func describe(br *bufio.Reader) string {
	head, _ := br.Peek(512)
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return "looks like " + m.what
		}
	}
	text := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case len(text) == 0:
		return "holds only white space"
	case text[0] == '<':
		return "looks like HTML or XML (saved chat pages: sharegpt import)"
	case utf8.Valid(head) || !utf8.FullRune(head[len(head)-1:]) && utf8.Valid(trimPartialRune(head)):
		line, _, _ := bytes.Cut(text, []byte("\n"))
		if len(line) > 40 {
			line = append(trimPartialRune(line[:40]), "..."...)
		}
		return fmt.Sprintf("looks like text: %q", line)
	}
	return "looks like binary data"
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}
