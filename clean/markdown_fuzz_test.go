package clean

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzMarkdown checks that no input panics and that the output keeps the
// whitespace invariants outside code blocks; conversion is deterministic
// (pooled state does not leak between calls). Seeds: the golden fixtures,
// testdata/fuzz/FuzzMarkdown and the cases below.
func FuzzMarkdown(f *testing.F) {
	files, _ := filepath.Glob("testdata/markdown/*.html")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "<", "</", "<p>", "</p></p>", "<pre>", "<pre><code>", "<table><td>", "<li>", "<ol start=x><li>a",
		"<p>a\u00a0\u00a0</p>", "<p>\v</p>", "<span class=\"katex\">", "<span class=\"katex-display\"><p>x",
		"<code>`</code><code>``</code>", "<p>*a*_b_~c~</p>", "<blockquote><pre><code>\n\n  x\n</code></pre></blockquote>",
		"<ul><li><table><tr><td><ul><li>x</li></ul></td></tr></table></li></ul>", "1 / 2", "<h1>#</h1>",
	} {
		f.Add(s)
	}
	c := NewConverter()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := c.Markdown(s)
		if err != nil {
			return
		}
		checkFuzzInvariants(t, got)
		if again, _ := c.Markdown(s); again != got {
			t.Errorf("not deterministic:\n%q\n%q", got, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("valid UTF-8 in, invalid out: %q", got)
		}
		if p := PlainText(s); p != strings.TrimSpace(p) {
			t.Errorf("PlainText not trimmed: %q", p)
		}
		_ = LooksLikeHTML(s)
	})
}

// checkFuzzInvariants: outside fenced code, no line ends in whitespace, no
// line is whitespace only, no two blank lines follow each other.
func checkFuzzInvariants(t *testing.T, md string) {
	t.Helper()
	if strings.Contains(md, "\n\n\n") && !strings.Contains(md, "```") {
		t.Errorf("triple newline: %q", md)
	}
	fence := ""
	blank := 0
	for i, line := range strings.Split(md, "\n") {
		body := strings.TrimLeft(line, " >")
		if fence != "" {
			blank = 0
			if strings.HasPrefix(body, fence) && strings.Trim(body, "`") == "" {
				fence = ""
			}
			continue
		}
		// a fence may follow list markers: "- ```go"
		marker := strings.TrimLeft(body, "-*+0123456789.) >")
		if strings.HasPrefix(marker, "```") && !strings.Contains(strings.TrimLeft(marker, "`"), "`") {
			fence = marker[:len(marker)-len(strings.TrimLeft(marker, "`"))]
			blank = 0
			continue
		}
		if strings.TrimRightFunc(line, unicode.IsSpace) != line {
			t.Errorf("line %d ends in whitespace: %q in %q", i+1, line, md)
		}
		if line == "" {
			if blank++; blank > 1 {
				t.Errorf("line %d: two blank lines in %q", i+1, md)
			}
			continue
		}
		blank = 0
		if strings.TrimSpace(line) == "" {
			t.Errorf("line %d whitespace only: %q", i+1, line)
		}
	}
}

// FuzzEscape checks the escaping: any text in a paragraph must render (with
// goldmark, GFM) back to the same text, whitespace aside.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"2*3 and 4*5", "__init__", "*args, **kwargs", "# h", "1. x", "- x", "> q", "<div>", "&amp;",
		"[a](b)", "`x`", "~~x~~", "***", "a\\", "[x]: y", "x\n===", "a\n- b", "<http://a.b>", "_a_b_",
	} {
		f.Add(s)
	}
	c := NewConverter()
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r") || strings.Contains(s, "Copy") ||
			(len(s) > 0 && s[0] >= '0' && s[0] <= '9') {
			return // NUL and CR are rewritten by parsers; noise is removed on purpose
		}
		for _, r := range s {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				return
			}
		}
		got, err := c.Markdown("<p>" + escapeHTMLText(s) + "</p>")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(strings.Fields(s), " ")
		if rt := strings.Join(strings.Fields(renderedText(t, got)), " "); rt != want {
			t.Errorf("text %q\nmarkdown %q\nrenders  %q", s, got, rt)
		}
	})
}
