// Package sharepage renders Markdown as the HTML of an assistant turn on a
// 2023 chat.openai.com share page, the markup raw ShareGPT dumps hold: the
// wrapper div, minified block tags, code blocks with their header (language
// label, "Copy code" button and svg) and highlight.js spans in the code.
//
// It is the inverse of the clean package's converter, used by tests (round
// trips) and by the corpus generator that benchmarks build raw dumps with.
// Rendering uses goldmark with GitHub Flavored Markdown.
package sharepage

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// The wrappers share pages put around an answer.
const (
	WrapperLight = `<div class="markdown prose w-full break-words dark:prose-invert light">`
	WrapperDark  = `<div class="markdown prose w-full break-words dark:prose-invert dark">`
	WrapperOld   = `<div class="request-:r0:-0 markdown prose break-words dark:prose-invert light">`
)

const (
	wrapEnd    = `</div>`
	preHead    = `<pre><div class="bg-black rounded-md mb-4"><div class="flex items-center relative text-gray-200 bg-gray-800 px-4 py-2 text-xs font-sans justify-between rounded-t-md">`
	copyButton = `<button class="flex ml-auto gap-2"><svg stroke="currentColor" fill="none" stroke-width="2" viewBox="0 0 24 24" stroke-linecap="round" stroke-linejoin="round" class="h-4 w-4" height="1em" width="1em" xmlns="http://www.w3.org/2000/svg"><path d="M16 4h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2"></path><rect x="8" y="2" width="8" height="4" rx="1" ry="1"></rect></svg>Copy code</button></div><div class="p-4 overflow-y-auto">`
	preTail    = `</code></div></div></pre>`
)

var (
	preRE      = regexp.MustCompile(`(?s)<pre><code(?: class="language-([^"]*)")?>(.*?)</code></pre>`)
	blockNLRE  = regexp.MustCompile(`(</?(?:p|li|ul|ol|h[1-6]|blockquote|table|thead|tbody|tr|th|td|div)(?: [^>]*)?>|<hr ?/?>|\x00PRE\d+\x00)\n`)
	preMarkRE  = regexp.MustCompile(`\x00PRE(\d+)\x00`)
	linkRE     = regexp.MustCompile(`<a href="[^"]*"`)
	hljsWordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[0-9]+|&quot;[^&\n]*&quot;|&[a-z]+;|&#[0-9]+;`)
)

// hljsClasses are the highlight.js classes of common words of code.
var hljsClasses = map[string]string{
	"def": "keyword", "return": "keyword", "if": "keyword", "else": "keyword", "for": "keyword",
	"while": "keyword", "import": "keyword", "from": "keyword", "class": "keyword", "function": "keyword",
	"const": "keyword", "let": "keyword", "var": "keyword", "public": "keyword", "static": "keyword",
	"void": "keyword", "int": "type", "string": "type", "new": "keyword", "in": "keyword",
	"print": "built_in", "console": "variable language_", "self": "variable language_",
	"True": "literal", "False": "literal", "None": "literal", "true": "literal", "false": "literal",
	"null": "literal", "SELECT": "keyword", "FROM": "keyword", "WHERE": "keyword", "echo": "built_in",
	"cd": "built_in", "npm": "built_in", "git": "built_in", "package": "keyword", "func": "keyword",
}

// Renderer renders Markdown to share-page HTML. The zero value is not
// usable; call New. A Renderer is safe for concurrent use.
type Renderer struct {
	md goldmark.Markdown
}

// New returns a Renderer.
func New() *Renderer {
	return &Renderer{md: goldmark.New(goldmark.WithExtensions(extension.GFM))}
}

// HTML renders Markdown with goldmark and GFM, as plain HTML.
func (r *Renderer) HTML(src string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Render renders Markdown as a share page's assistant turn inside the
// given wrapper div (one of the Wrapper constants).
func (r *Renderer) Render(src, wrapper string) (string, error) {
	h, err := r.HTML(src)
	if err != nil {
		return "", err
	}
	var pres []string
	h = preRE.ReplaceAllStringFunc(h, func(m string) string {
		sm := preRE.FindStringSubmatch(m)
		pres = append(pres, codeBlock(html.UnescapeString(sm[1]), sm[2]))
		return "\x00PRE" + strconv.Itoa(len(pres)-1) + "\x00"
	})
	h = blockNLRE.ReplaceAllString(h, "$1")
	h = strings.ReplaceAll(h, "<hr />", "<hr>")
	h = strings.ReplaceAll(h, "<br />", "<br>")
	h = linkRE.ReplaceAllString(h, `$0 target="_new"`)
	h = preMarkRE.ReplaceAllStringFunc(h, func(m string) string {
		n, _ := strconv.Atoi(m[4 : len(m)-1])
		return pres[n]
	})
	return wrapper + h + wrapEnd, nil
}

// codeBlock is a code block's page markup; code is escaped HTML.
func codeBlock(lang, code string) string {
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
	b.WriteString(Highlight(code))
	b.WriteString(preTail)
	return b.String()
}

// Highlight wraps tokens of escaped code HTML in highlight.js-style spans,
// the way the page shows them: comments, keywords, numbers, strings.
func Highlight(code string) string {
	var b strings.Builder
	b.Grow(len(code) * 2)
	for len(code) > 0 {
		line := code
		if nl := strings.IndexByte(code, '\n'); nl >= 0 {
			line, code = code[:nl+1], code[nl+1:]
		} else {
			code = ""
		}
		highlightLine(&b, line)
	}
	return b.String()
}

func highlightLine(b *strings.Builder, line string) {
	body := strings.TrimRight(line, "\n")
	trim := strings.TrimLeft(body, " \t")
	if strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "//") {
		b.WriteString(body[:len(body)-len(trim)] + `<span class="hljs-comment">` + trim + `</span>` + line[len(body):])
		return
	}
	last := 0
	for _, m := range hljsWordRE.FindAllStringIndex(line, -1) {
		w := line[m[0]:m[1]]
		var cls string
		switch {
		case strings.HasPrefix(w, "&quot;"):
			cls = "string"
		case w[0] == '&':
			continue
		case w[0] >= '0' && w[0] <= '9':
			cls = "number"
		default:
			cls = hljsClasses[w]
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
