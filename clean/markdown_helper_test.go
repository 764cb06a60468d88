package clean

import (
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

	"github.com/sharegpt/sharegpt/internal/sharepage"
)

// The test helpers render Markdown to chat.openai.com share-page HTML, the
// way the raw ShareGPT dumps hold assistant turns: goldmark with GFM, then
// rewritten into the page's markup (wrapper div, code blocks with their
// header, label, "Copy code" button and svg, highlight.js spans in the code,
// no newlines between block tags).

const mdSamplePath = "../testdata/sharegpt/sharegpt_v3_sample_1000.json"

var goldmarkMD = goldmark.New(goldmark.WithExtensions(extension.GFM))

func renderMD(t testing.TB, src string) string {
	h, err := pageRenderer.HTML(src)
	if err != nil {
		t.Fatalf("goldmark: %v", err)
	}
	return h
}

var pageRenderer = sharepage.New()

// sharePage renders Markdown as a share page's assistant turn.
func sharePage(t testing.TB, src string) string {
	h, err := pageRenderer.Render(src, sharepage.WrapperLight)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return h
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
