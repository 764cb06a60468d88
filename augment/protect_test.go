package augment

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProtect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string   // protected text
		orig []string // what the placeholders stand for
	}{
		{"plain", "Hello there, how are you?", "Hello there, how are you?", nil},
		{"inline code", "Use `snake_case` and ``a ` b`` names.", "Use [[CODE_1]] and [[CODE_2]] names.", []string{"`snake_case`", "``a ` b``"}},
		{"unmatched backtick", "It costs 5` or so.", "It costs 5` or so.", nil},
		{"fenced block", "Run this:\n```python\nprint(1)\n```\nThen stop.", "Run this:\n[[CODE_1]]\nThen stop.", []string{"```python\nprint(1)\n```"}},
		{"indented fence in a list", "1. Step:\n   ```\n   ls\n   ```\n2. Done", "1. Step:\n[[CODE_1]]\n2. Done", []string{"   ```\n   ls\n   ```"}},
		{"unclosed fence", "See:\n~~~\ncode", "See:\n[[CODE_1]]", []string{"~~~\ncode"}},
		{"longer closing fence only", "````\n```\ninner\n```\n````\nafter", "[[CODE_1]]\nafter", []string{"````\n```\ninner\n```\n````"}},
		{"url with punctuation", "Read https://example.com/a_(b)?x=1. Then www.go.dev/doc, ok.", "Read [[URL_1]]. Then [[URL_2]], ok.", []string{"https://example.com/a_(b)?x=1", "www.go.dev/doc"}},
		{"link keeps its text", "See [the docs](https://go.dev/doc) now.", "See [the docs]([[URL_1]]) now.", []string{"https://go.dev/doc"}},
		{"url inside code stays in code", "Call `curl http://x.io` first", "Call [[CODE_1]] first", []string{"`curl http://x.io`"}},
		{"table", "Compare:\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\nDone.", "Compare:\n[[TABLE_1]]\n\nDone.", []string{"| a | b |\n|---|:-:|\n| 1 | 2 |"}},
		{"setext heading is not a table", "a | b\n---\ntext", "a | b\n---\ntext", nil},
		{"mixed order", "`x` then\n```\ny\n```\nand http://z.org", "[[CODE_1]] then\n[[CODE_2]]\nand [[URL_3]]", []string{"`x`", "```\ny\n```", "http://z.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Protect(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tt.want {
				t.Errorf("protected:\n%q\nwant:\n%q", p.Text, tt.want)
			}
			if strings.Join(p.originals, "|") != strings.Join(tt.orig, "|") {
				t.Errorf("originals %q, want %q", p.originals, tt.orig)
			}
			back, f := p.Restore(p.Text)
			if f != nil || back != tt.in {
				t.Errorf("restore: %q, %v; want the input back", back, f)
			}
		})
	}
}

func TestProtectCollision(t *testing.T) {
	for _, in := range []string{"keep [[CODE_1]] as is", "a [code 2] b", "[[url-3]]"} {
		if _, err := Protect(in); err == nil {
			t.Errorf("%q: protected a text that holds a placeholder", in)
		}
	}
}

func TestRestoreChecks(t *testing.T) {
	p, err := Protect("Use `x` here:\n```\ncode\n```\nand see https://a.b/c")
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "Use [[CODE_1]] here:\n[[CODE_2]]\nand see [[URL_3]]" {
		t.Fatalf("protected %q", p.Text)
	}
	tests := []struct {
		answer string
		reason string // "" for success
		want   string
	}{
		{"Nutze [[CODE_1]] hier:\n[[CODE_2]]\nund siehe [[URL_3]]", "", "Nutze `x` hier:\n```\ncode\n```\nund siehe https://a.b/c"},
		{"Siehe [[URL_3]] und nutze [[CODE_1]]:\n  [[CODE_2]]  ", "", "Siehe https://a.b/c und nutze `x`:\n```\ncode\n```"},
		{"Nutze [[CODE_1]] hier:\nund siehe [[URL_3]]", "placeholder-missing", "[[CODE_2]]"},
		{"Nutze [[code_1]] hier:\n[[CODE_2]]\nund siehe [[URL_3]]", "placeholder-altered", "[[code_1]]"},
		{"Nutze [[CODE_1]] [[CODE_1]]:\n[[CODE_2]]\n[[URL_3]]", "placeholder-altered", "appears 2 times"},
		{"Nutze [[CODE_1]] hier: [[CODE_2]] und [[URL_3]]", "placeholder-altered", "alone on its line"},
		{"Nutze [[CODE_1]] [CODE_4]:\n[[CODE_2]]\n[[URL_3]]", "placeholder-altered", "[CODE_4]"},
		{"Nutze [[CODE 1]]:\n[[CODE_2]]\n[[URL_3]]", "placeholder-altered", "[[CODE 1]]"},
	}
	for _, tt := range tests {
		got, f := p.Restore(tt.answer)
		switch {
		case tt.reason == "" && f != nil:
			t.Errorf("%q: %v", tt.answer, f)
		case tt.reason == "" && strings.TrimSpace(got) != tt.want:
			t.Errorf("%q: restored %q, want %q", tt.answer, got, tt.want)
		case tt.reason != "" && (f == nil || string(f.reason) != tt.reason || !strings.Contains(f.detail, tt.want)):
			t.Errorf("%q: got %v, want %s mentioning %q", tt.answer, f, tt.reason, tt.want)
		}
	}
}

func TestChrF(t *testing.T) {
	tests := []struct {
		hyp, ref string
		lo, hi   float64
	}{
		{"the same text", "the same text", 1, 1},
		{"abc", "xyz", 0, 0},
		{"Please describe how this function operates", "Please explain how this function works", 0.5, 0.8},
		{"这个函数是如何工作的", "这个函数怎么工作", 0.2, 0.8},
		{"", "", 1, 1},
		{"a", "", 0, 0},
	}
	for _, tt := range tests {
		got := chrF(tt.hyp, tt.ref)
		if got < tt.lo-1e-9 || got > tt.hi+1e-9 || math.IsNaN(got) {
			t.Errorf("chrF(%q, %q) = %.4f, want in [%g, %g]", tt.hyp, tt.ref, got, tt.lo, tt.hi)
		}
	}
}

func TestRefusals(t *testing.T) {
	r := newRefusals([]string{"As an AI language model", "i cannot fulfill"})
	tests := []struct{ answer, source, want string }{
		{"As an AI language model, I can't.", "Translate this", "as an ai language model"},
		{"As an AI language model, I think...", "As an AI language model, I think...", ""},
		{"I cannot fulfilled", "x", ""},
		{"Sorry. I cannot fulfill that.", "x", "i cannot fulfill"},
	}
	for _, tt := range tests {
		if got := r.match(tt.answer, tt.source); got != tt.want {
			t.Errorf("match(%q, %q) = %q, want %q", tt.answer, tt.source, got, tt.want)
		}
	}
}

func TestTrimAnswer(t *testing.T) {
	tests := []struct{ answer, source, want string }{
		{"  \"Hallo Welt\"\n", "Hello world", "Hallo Welt"},
		{"\"Hallo\" und \"Welt\"", "Hello and world", "\"Hallo\" und \"Welt\""},
		{"\"Quote\"", "\"Quote\"", "\"Quote\""},
		{"«Bonjour»", "Hello", "Bonjour"},
	}
	for _, tt := range tests {
		if got := trimAnswer(tt.answer, tt.source); got != tt.want {
			t.Errorf("trimAnswer(%q) = %q, want %q", tt.answer, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := mustTime(t, "Mon, 02 Jan 2006 15:04:05 GMT")
	tests := []struct {
		v    string
		want float64 // seconds
	}{
		{"", 0}, {"3", 3}, {"0.5", 0.5}, {"-1", 0}, {"soon", 0},
		{"Mon, 02 Jan 2006 15:04:15 GMT", 10}, {"Mon, 02 Jan 2006 15:04:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now).Seconds(); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %gs, want %gs", tt.v, got, tt.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// FuzzProtect: protecting and restoring gives the text back, and the
// protected text passes its own check.
func FuzzProtect(f *testing.F) {
	for _, s := range []string{
		"Use `x` and\n```go\nfunc f() {}\n```\nsee https://a.b/c).",
		"| a | b |\r\n|---|---|\r\n| 1 | 2 |\r\n",
		"````\n```\n````\n`` ` ``",
		"www.example.com. and ftp://x.y/z,",
		"~~~\nunclosed",
		"a\n\n`b\n\nc`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Protect(s)
		if err != nil {
			return
		}
		if f := p.Check(p.Text); f != nil {
			t.Fatalf("%q: the protected text %q fails its check: %v", s, p.Text, f)
		}
		back, f := p.Restore(p.Text)
		if f != nil || back != s {
			t.Fatalf("%q: restored %q, %v", s, back, f)
		}
	})
}
