package clean

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// The test helpers render Markdown to chat.openai.com share-page HTML, the
// way the raw ShareGPT dumps hold assistant turns: goldmark with GFM, then
// rewritten into the page's markup (wrapper div, code blocks with their
// header, label, "Copy code" button and svg, highlight.js spans in the code,
// no newlines between block tags).

const mdSamplePath = "../testdata/sharegpt/sharegpt_v3_sample_1000.json"

var goldmarkMD = goldmark.New(goldmark.WithExtensions(extension.GFM))

func renderMD(t testing.TB, src string) string {
	var buf bytes.Buffer
	if err := goldmarkMD.Convert([]byte(src), &buf); err != nil {
		t.Fatalf("goldmark: %v", err)
	}
	return buf.String()
}

const (
	pageWrapOpen = `<div class="markdown prose w-full break-words dark:prose-invert light">`
	pageWrapEnd  = `</div>`
	preHead      = `<pre><div class="bg-black rounded-md mb-4"><div class="flex items-center relative text-gray-200 bg-gray-800 px-4 py-2 text-xs font-sans justify-between rounded-t-md">`
	copyButton   = `<button class="flex ml-auto gap-2"><svg stroke="currentColor" fill="none" stroke-width="2" viewBox="0 0 24 24" stroke-linecap="round" stroke-linejoin="round" class="h-4 w-4" height="1em" width="1em" xmlns="http://www.w3.org/2000/svg"><path d="M16 4h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2"></path><rect x="8" y="2" width="8" height="4" rx="1" ry="1"></rect></svg>Copy code</button></div><div class="p-4 overflow-y-auto">`
	preTail      = `</code></div></div></pre>`
)

var (
	preRE      = regexp.MustCompile(`(?s)<pre><code(?: class="language-([^"]*)")?>(.*?)</code></pre>`)
	blockNLRE  = regexp.MustCompile(`(</?(?:p|li|ul|ol|h[1-6]|blockquote|table|thead|tbody|tr|th|td|div)(?: [^>]*)?>|<hr ?/?>|\x00PRE\d+\x00)\n`)
	preMarkRE  = regexp.MustCompile(`\x00PRE(\d+)\x00`)
	hljsWordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[0-9]+|&quot;[^&\n]*&quot;|&[a-z]+;|&#[0-9]+;`)
)

var hljsKeywords = map[string]string{
	"def": "keyword", "return": "keyword", "if": "keyword", "else": "keyword", "for": "keyword",
	"while": "keyword", "import": "keyword", "from": "keyword", "class": "keyword", "function": "keyword",
	"const": "keyword", "let": "keyword", "var": "keyword", "public": "keyword", "static": "keyword",
	"void": "keyword", "int": "type", "string": "type", "new": "keyword", "in": "keyword",
	"print": "built_in", "console": "variable language_", "self": "variable language_",
	"True": "literal", "False": "literal", "None": "literal", "true": "literal", "false": "literal",
	"null": "literal", "SELECT": "keyword", "FROM": "keyword", "WHERE": "keyword", "echo": "built_in",
	"cd": "built_in", "npm": "built_in", "git": "built_in", "package": "keyword", "func": "keyword",
}

// highlight wraps tokens of escaped code HTML in highlight.js-style spans,
// the way the page shows them: comments, keywords, numbers, strings.
func hljsHighlight(code string) string {
	var b strings.Builder
	b.Grow(len(code) * 2)
	for len(code) > 0 {
		line := code
		nl := strings.IndexByte(code, '\n')
		if nl >= 0 {
			line, code = code[:nl+1], code[nl+1:]
		} else {
			code = ""
		}
		body := strings.TrimRight(line, "\n")
		trim := strings.TrimLeft(body, " \t")
		if strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "//") {
			ind := body[:len(body)-len(trim)]
			b.WriteString(ind + `<span class="hljs-comment">` + trim + `</span>` + line[len(body):])
			continue
		}
		last := 0
		for _, m := range hljsWordRE.FindAllStringIndex(line, -1) {
			w := line[m[0]:m[1]]
			var cls string
			switch {
			case w[0] == '&' && strings.HasPrefix(w, "&quot;"):
				cls = "string"
			case w[0] == '&':
				continue
			case w[0] >= '0' && w[0] <= '9':
				cls = "number"
			default:
				cls = hljsKeywords[w]
			}
			if cls == "" {
				continue
			}
			b.WriteString(line[last:m[0]])
			b.WriteString(`<span class="hljs-` + cls + `">` + w + `</span>`)
			last = m[1]
		}
		b.WriteString(line[last:])
	}
	return b.String()
}

// sharePage renders Markdown as a share page's assistant turn.
func sharePage(t testing.TB, src string) string {
	h := renderMD(t, src)
	var pres []string
	h = preRE.ReplaceAllStringFunc(h, func(m string) string {
		sm := preRE.FindStringSubmatch(m)
		lang, code := html.UnescapeString(sm[1]), sm[2]
		var b strings.Builder
		b.WriteString(preHead)
		if lang != "" {
			b.WriteString("<span>" + html.EscapeString(lang) + "</span>")
		}
		b.WriteString(copyButton)
		b.WriteString(`<code class="!whitespace-pre hljs`)
		if lang != "" {
			b.WriteString(" language-" + html.EscapeString(lang))
		}
		b.WriteString(`">`)
		b.WriteString(hljsHighlight(code))
		b.WriteString(preTail)
		pres = append(pres, b.String())
		return "\x00PRE" + mdItoa(len(pres)-1) + "\x00"
	})
	h = blockNLRE.ReplaceAllString(h, "$1")
	h = strings.ReplaceAll(h, "<hr />", "<hr>")
	h = strings.ReplaceAll(h, "<br />", "<br>")
	h = preMarkRE.ReplaceAllStringFunc(h, func(m string) string {
		n := 0
		for _, c := range m[4 : len(m)-1] {
			n = n*10 + int(c-'0')
		}
		return pres[n]
	})
	return pageWrapOpen + h + pageWrapEnd
}

func mdItoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

type mdSampleTurn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

type mdSampleRecord struct {
	ID            string         `json:"id"`
	Conversations []mdSampleTurn `json:"conversations"`
}

var (
	sampleOnce sync.Once
	sampleRecs []mdSampleRecord
	sampleErr  error
)

func loadSample(t testing.TB) []mdSampleRecord {
	sampleOnce.Do(func() {
		b, err := os.ReadFile(mdSamplePath)
		if err != nil {
			sampleErr = err
			return
		}
		sampleErr = json.Unmarshal(b, &sampleRecs)
	})
	if sampleErr != nil {
		t.Skipf("sample: %v", sampleErr)
	}
	return sampleRecs
}

// sampleGPTTurns returns the Markdown of every assistant turn of the sample.
func sampleGPTTurns(t testing.TB) []string {
	var out []string
	for _, r := range loadSample(t) {
		for _, c := range r.Conversations {
			if c.From == "gpt" {
				out = append(out, c.Value)
			}
		}
	}
	return out
}

// mdCodeBlock is a fenced or indented code block as goldmark parses it.
type mdCodeBlock struct {
	lang, code string
}

func codeBlocks(src string) []mdCodeBlock {
	source := []byte(src)
	doc := goldmarkMD.Parser().Parse(text.NewReader(source))
	var out []mdCodeBlock
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var cb mdCodeBlock
		switch n := n.(type) {
		case *ast.FencedCodeBlock:
			cb.lang = string(n.Language(source))
		case *ast.CodeBlock:
		default:
			return ast.WalkContinue, nil
		}
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(source))
		}
		cb.code = b.String()
		out = append(out, cb)
		return ast.WalkSkipChildren, nil
	})
	return out
}

var (
	tagRE      = regexp.MustCompile(`<[^>]*>`)
	blockTagRE = regexp.MustCompile(`</?(?:p|li|ul|ol|h[1-6]|pre|blockquote|table|thead|tbody|tr|th|td|hr|br|div)(?: [^>]*)?/?>`)
	wsRE       = regexp.MustCompile(`\s+`)
)

// renderedText is the text a reader sees when the Markdown is rendered:
// goldmark's HTML without tags, entities decoded, whitespace normalised.
func renderedText(t testing.TB, src string) string {
	h := renderMD(t, src)
	h = blockTagRE.ReplaceAllString(h, " ")
	h = tagRE.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	return strings.TrimSpace(wsRE.ReplaceAllString(h, " "))
}

// renderedHTML is goldmark's HTML with whitespace between tags normalised:
// equal values mean the same structure and text.
func renderedHTML(t testing.TB, src string) string {
	h := renderMD(t, src)
	h = strings.ReplaceAll(h, "<br />\n", "<br />")
	h = wsRE.ReplaceAllString(h, " ")
	h = strings.ReplaceAll(h, "> <", "><")
	return strings.TrimSpace(h)
}

// renderedTextHTML is the text a browser shows for an HTML fragment, the
// same way renderedText gets it from goldmark's output.
func renderedTextHTML(h string) string {
	h = blockTagRE.ReplaceAllString(h, " ")
	h = tagRE.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	return strings.TrimSpace(wsRE.ReplaceAllString(h, " "))
}
