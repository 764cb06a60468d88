package pipeline

import (
	"bufio"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x89PNG\r\n\x1a\n\x00\x00", "looks like a PNG image"},
		{"%PDF-1.7\n", "looks like a PDF document"},
		{"PK\x03\x04rest", "looks like a ZIP archive (a ChatGPT export? unzip it and run sharegpt import on conversations.json)"},
		{"  <!DOCTYPE html><html>", "looks like HTML or XML (saved chat pages: sharegpt import)"},
		{"id,text\n1,hello\n", `looks like text: "id,text"`},
		{strings.Repeat("é", 30), `looks like text: "` + strings.Repeat("é", 20) + `..."`},
		{"\x00\x01\x02\xff\xfe", "looks like binary data"},
		{" \n\t ", "holds only white space"},
	}
	for _, tt := range tests {
		if got := describe(bufio.NewReader(strings.NewReader(tt.in))); got != tt.want {
			t.Errorf("describe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
