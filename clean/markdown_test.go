package clean

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var updateGolden = flag.Bool("updateGolden", false, "rewrite the golden .md files of testdata/markdown")

// TestGolden converts every testdata/markdown/*.html (hand-built in the real
// share-page markup) and compares with its .md golden file, which is the
// spec: review a golden by eye before committing it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/markdown/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	c := NewConverter()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Markdown(string(in))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(f, ".html")+".md", got)
			checkInvariants(t, got)
		})
	}
}

// TestRealAnswer converts the real Korean share-page answer.
func TestRealAnswer(t *testing.T) {
	b, err := os.ReadFile("testdata/chatgpt_answer_ko.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []mdSampleRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	got, err := NewConverter().Markdown(recs[0].Conversations[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/chatgpt_answer_ko.md", got)
	checkInvariants(t, got)
	blocks := codeBlocks(got)
	if len(blocks) != 2 || blocks[0].lang != "bash" || !strings.HasPrefix(blocks[0].code, "# 프로젝트 복제\ngit clone ") ||
		blocks[1].code != "# Vercel CLI 설치\nnpm i -g vercel\n\n# 배포\nvercel\n" {
		t.Errorf("code blocks: %q", blocks)
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -updateGolden to create it)", err)
	}
	if w := strings.TrimSuffix(string(want), "\n"); w != got {
		t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", path, w, got)
	}
}

// checkInvariants checks the whitespace rules outside code blocks: no
// trailing spaces, no whitespace-only lines, no runs of blank lines, no
// leading or trailing blank lines.
func checkInvariants(t testing.TB, md string) {
	t.Helper()
	if md != strings.TrimSpace(md) && !strings.HasSuffix(md, "```") {
		t.Errorf("output not trimmed: %q", md)
	}
	fence := ""
	blank := 0
	for i, line := range strings.Split(md, "\n") {
		body := strings.TrimLeft(line, " >-*+0123456789.)")
		if fence != "" {
			if strings.HasPrefix(strings.TrimLeft(line, " >"), fence) && strings.Trim(strings.TrimLeft(line, " >"), "`~") == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(body, "```") || strings.HasPrefix(body, "~~~") {
			n := len(body) - len(strings.TrimLeft(body, "`~"))
			fence = body[:n]
		}
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("line %d has trailing whitespace: %q", i+1, line)
		}
		if line == "" {
			blank++
			if blank > 1 {
				t.Errorf("line %d: run of blank lines", i+1)
			}
		} else {
			blank = 0
			if strings.TrimSpace(line) == "" {
				t.Errorf("line %d is whitespace only: %q", i+1, line)
			}
		}
	}
}

const mdWrap = `<div class="markdown prose w-full break-words dark:prose-invert light">`

// TestMarkdownCases pins single rules, one assertion each.
func TestMarkdownCases(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"snake case kept", `<p>my_var and other_var_name</p>`, `my_var and other_var_name`},
		{"star args kept", `<p>f(*args, **kwargs)</p>`, `f(*args, **kwargs)`},
		{"spaced star kept", `<p>a * b * c</p>`, `a * b * c`},
		{"pairing stars escaped", `<p>2*3 and 4*5</p>`, `2\*3 and 4*5`},
		{"dunder escaped once", `<p>__init__ method</p>`, `\_\_init__ method`},
		{"heading-like text", `<p># not a heading</p>`, `\# not a heading`},
		{"hashtag kept", `<p>#hashtag</p>`, `#hashtag`},
		{"numbered text", `<p>1. not a list</p>`, `1\. not a list`},
		{"year at line start is a list marker", `<p>2023. A year.</p>`, `2023\. A year.`},
		{"number mid-line kept", `<p>see 1. above</p>`, `see 1. above`},
		{"dash text", `<p>- not a list</p>`, `\- not a list`},
		{"quote text", `<p>&gt; not a quote</p>`, `\> not a quote`},
		{"tag text escaped", `<p>use &lt;div&gt; here</p>`, `use \<div> here`},
		{"less-than kept", `<p>a &lt; b</p>`, `a < b`},
		{"entity text escaped", `<p>&amp;amp; and &amp; alone</p>`, `\&amp; and & alone`},
		{"backslash before punct", `<p>\* and \n</p>`, `\\* and \n`},
		{"lone backtick kept", `<p>a ` + "`" + ` b</p>`, "a ` b"},
		{"pairing backticks", "<p>`x`</p>", "\\`x`"},
		{"link syntax as text", `<p>[a](b)</p>`, `[a\](b)`},
		{"link syntax with title", `<p>[a](b "t")</p>`, `[a\](b "t")`},
		{"link syntax empty destination", `<p>[a]()</p>`, `[a\]()`},
		{"link syntax pointy destination", `<p>[a](&lt;1 2&gt;)</p>`, `[a\](<1 2>)`},
		{"escaped pointy destination kept", `<p>[a](&lt;b c&gt;)</p>`, `[a](\<b c>)`},
		{"image syntax with space kept", `<p>![Alt text](image URL)</p>`, `![Alt text](image URL)`},
		{"brackets then space kept", `<p>[note] (see below)</p>`, `[note] (see below)`},
		{"unbalanced destination kept", `<p>[a](b(c)</p>`, `[a](b(c)`},
		{"backslash before paren closes", `<p>[a](b\)</p>`, `[a\](b\\)`},
		{"pipe outside table", `<p>a | b</p>`, `a | b`},
		{"inline code backtick", "<p><code>a`b</code></p>", "``a`b``"},
		{"inline code edge backtick", "<p><code>`x</code></p>", "`` `x ``"},
		{"inline code html", `<p><code>&lt;div&gt;</code></p>`, "`<div>`"},
		{"strong", `<p>a <strong>b</strong> c</p>`, `a **b** c`},
		{"strong spaces moved out", `<p>a<strong> b </strong>c</p>`, `a **b** c`},
		{"empty strong dropped", `<p>a<strong> </strong>b</p>`, `a b`},
		{"em", `<p><em>x</em></p>`, `*x*`},
		{"del", `<p><del>x</del></p>`, `~~x~~`},
		{"link", `<p><a href="https://a.org/x" target="_new">t</a></p>`, `[t](https://a.org/x)`},
		{"bare url", `<p>see <a href="https://a.org/x">https://a.org/x</a></p>`, `see https://a.org/x`},
		{"url with space", `<p><a href="a b">t</a></p>`, `[t](<a b>)`},
		{"br", `<p>a<br>b</p>`, "a\nb"},
		{"hr", `<p>a</p><hr><p>b</p>`, "a\n\n---\n\nb"},
		{"h3", `<h3>Title</h3>`, `### Title`},
		{"blockquote", `<blockquote><p>a</p><p>b</p></blockquote>`, "> a\n>\n> b"},
		{"ordered start", `<ol start="4"><li>a</li><li>b</li></ol>`, "4. a\n5. b"},
		{"loose list", `<ul><li><p>a</p></li><li><p>b</p></li></ul>`, "- a\n\n- b"},
		{"nested list", `<ul><li>a<ul><li>b</li></ul></li></ul>`, "- a\n  - b"},
		{"adjacent lists", `<ul><li>a</li></ul><ul><li>b</li></ul>`, "- a\n\n* b"},
		{"table", `<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1|2</td><td>3</td></tr></tbody></table>`,
			"| a | b |\n| --- | --- |\n| 1\\|2 | 3 |"},
		{"code label", `<pre><div><div><span>go</span><button><svg></svg>Copy code</button></div><div><code class="hljs language-go">x := <span class="hljs-number">1</span>` + "\n" + `</code></div></div></pre>`,
			"```go\nx := 1\n```"},
		{"code no label", `<pre><div><div><button>Copy code</button></div><div><code class="hljs">x</code></div></div></pre>`,
			"```\nx\n```"},
		{"code fence longer", "<pre><code>```\nx\n```\n</code></pre>", "````\n```\nx\n```\n````"},
		{"code empty dropped", `<p>a</p><pre><div><div><span>js</span><button>Copy code</button></div><div><code></code></div></div></pre>`, "a"},
		{"katex inline", `<p>x <span class="katex"><span class="katex-mathml"><math><semantics><annotation encoding="application/x-tex">a_1*b</annotation></semantics></math></span><span class="katex-html">a1b</span></span> y</p>`,
			"x $a_1*b$ y"},
		{"katex display", `<div class="math math-display"><span class="katex-display"><span class="katex"><span class="katex-mathml"><math><annotation encoding="application/x-tex">x^2</annotation></math></span><span class="katex-html">x2</span></span></span></div>`,
			"$$\nx^2\n$$"},
		{"regenerate counter", `1 / 2<p>Hi</p>`, "Hi"},
		{"counter glued", `<p>2 / 2Hello</p>`, "Hello"},
		{"counter glued to html text", `<p>1 / 2&lt;p and <code>&lt;/p&gt;</code></p>`, "\\<p and `</p>`"},
		{"fraction kept", `<p>1 / 2 cup of flour</p>`, "1 / 2 cup of flour"},
		{"copy chars", `<p>Hi</p>Copy12 chars / 3 words`, "Hi"},
		{"script dropped", `<p>a</p><script>alert(1)</script><style>p{}</style>`, "a"},
		{"comment dropped", `<p>a<!-- c -->b</p>`, "ab"},
		{"unclosed", `<p>a <strong>b`, "a **b**"},
		{"stray end tags", `</div></li>a</p>`, "a"},
		{"empty", ``, ""},
		{"only whitespace", " \n\t ", ""},
	}
	c := NewConverter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Markdown(mdWrap + tt.html + "</div>")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Markdown(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
			checkInvariants(t, got)
		})
	}
}

// TestEscapesRoundTrip renders each escaped output with goldmark and checks
// the reader sees the original text.
func TestEscapesRoundTrip(t *testing.T) {
	texts := []string{
		"2*3 and 4*5", "__init__ and __main__", "*args and **kwargs", "a_b_c", "_x_", "*x*",
		"# h", "1. x", "1) x", "- x", "+ x", "* x", "> x", "<div>", "&amp;", "[a](b)", "`x`", "``x``",
		"~~x~~", "***", "___", "---", "\\*", "a\\", "C:\\path\\", "[x]: http://a", "<http://a.b>",
		"x ** y ** z", "**bold**", "a*b*c", "f(*a, *b)", "~a~", "$x$",
	}
	c := NewConverter()
	for _, s := range texts {
		h := "<p>" + escapeHTMLText(s) + "</p>"
		got, err := c.Markdown(h)
		if err != nil {
			t.Fatal(err)
		}
		if rt := renderedText(t, got); rt != s {
			t.Errorf("text %q -> markdown %q -> renders %q", s, got, rt)
		}
	}
}

func escapeHTMLText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello <b>world</b> my_var *x*  \n", "Hello <b>world</b> my_var *x*"},
		{"a &amp; b\n\n\n\nc", "a &amp; b\n\n\n\nc"},
		{"2 / 2Write a poem", "Write a poem"},
		{"1 / 1\nWhat is Go?", "What is Go?"},
		{"1 / 2 cup of flour?", "1 / 2 cup of flour?"},
		{"3 / 2x", "3 / 2x"},
		{"hi Copy12 chars / 3 words", "hi"},
		{"Copy code", "Copy code"},
	}
	for _, tt := range tests {
		if got := PlainText(tt.in); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikeHTML(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{mdWrap + "<p>x</p></div>", true},
		{"<p>x</p>", true},
		{"plain text", false},
		{"use <br> for breaks and List<T>", false},
		{"a </b> c", false},
		{"x </DIV>", false}, // text first: Markdown
		{"<P>x</P>", true},
	}
	for _, tt := range tests {
		if got := LooksLikeHTML(tt.in); got != tt.want {
			t.Errorf("LooksLikeHTML(%q) = %v", tt.in, got)
		}
	}
	c := NewConverter()
	if got, _ := c.Convert("  a_b <T> & c  "); got != "a_b <T> & c" {
		t.Errorf("Convert(plain) = %q", got)
	}
	if got, _ := c.Convert("<p>a_b</p>"); got != "a_b" {
		t.Errorf("Convert(html) = %q", got)
	}
}

// TestConcurrent runs one Converter from many goroutines (go test -race).
func TestConcurrent(t *testing.T) {
	turns := sampleGPTTurns(t)
	if len(turns) > 200 {
		turns = turns[:200]
	}
	pages := make([]string, len(turns))
	want := make([]string, len(turns))
	c := NewConverter()
	for i, s := range turns {
		pages[i] = sharePage(t, s)
		want[i], _ = c.Markdown(pages[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pages {
				if got, _ := c.Markdown(pages[i]); got != want[i] {
					t.Errorf("turn %d differs under concurrency", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	var zero Converter
	if got, _ := zero.Markdown("<p>x</p>"); got != "x" {
		t.Errorf("zero Converter: %q", got)
	}
}

// TestPathological feeds inputs built to make naive converters quadratic:
// each must convert in time linear in its size.
func TestPathological(t *testing.T) {
	inputs := map[string]string{
		"backticks":        "<p>" + strings.Repeat("` ``", 100000) + "</p>",
		"stars":            "<p>" + strings.Repeat("*a_ ", 100000) + "</p>",
		"nested spans":     strings.Repeat("<span>", 100000) + strings.Repeat("<p>x", 10000),
		"unmatched ends":   strings.Repeat("<div>", 300) + strings.Repeat("</x>", 100000),
		"nested quotes":    strings.Repeat("<blockquote>", 50000) + "<p>deep</p>",
		"nested lists":     strings.Repeat("<ol><li>", 50000) + "x",
		"many links":       strings.Repeat(`<a href="https://a.bc/d">https://a.bc/d</a> `, 50000),
		"copy noise":       "<p>" + strings.Repeat("Copy1 chars / ", 50000) + "</p>",
		"big code":         "<pre><code>" + strings.Repeat("x = 1\n", 100000) + "</code></pre>",
		"table many cells": "<table><tr>" + strings.Repeat("<td>a|b</td>", 50000) + "</tr></table>",
	}
	c := NewConverter()
	for name, in := range inputs {
		start := time.Now()
		out, err := c.Markdown(in)
		d := time.Since(start)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if d > 3*time.Second {
			t.Errorf("%s: %d bytes took %v", name, len(in), d)
		}
		if testing.Verbose() {
			t.Logf("%s: %d bytes in %v -> %d bytes", name, len(in), d, len(out))
		}
	}
}

// TestEscapeRandom is FuzzEscape over random strings of Markdown-significant
// characters, deterministic and fast enough for every run.
func TestEscapeRandom(t *testing.T) {
	const alphabet = "*_~`\\<>&[]()#-+=.!|:/ \na1"
	n, seed := 20000, uint64(1)
	if testing.Short() {
		n = 2000
	}
	// ESCAPE_RANDOM=n,seed runs a longer stress
	if v := os.Getenv("ESCAPE_RANDOM"); v != "" {
		fmt.Sscanf(v, "%d,%d", &n, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	c := NewConverter()
	fails := 0
	for i := 0; i < n && fails < 10; i++ {
		b := make([]byte, 1+rng.IntN(12))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if s[0] >= '0' && s[0] <= '9' {
			continue
		}
		got, err := c.Markdown("<p>" + escapeHTMLText(s) + "</p>")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(strings.Fields(s), " ")
		if rt := strings.Join(strings.Fields(renderedText(t, got)), " "); rt != want {
			t.Errorf("text %q\nmarkdown %q\nrenders  %q", s, got, rt)
			fails++
		}
	}
}
