package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/sharegpt/sharegpt/pipeline"
)

// pageSource reads a saved page whole (up to max bytes) with goquery and
// yields the conversations it finds, as carriers.
type pageSource struct {
	name   string
	r      io.Reader
	max    int64
	export bool // the export's chat.html: only var jsonData
	els    []pipeline.Element
	inner  *jsonSource // chat.html: jsonData streamed from the page's bytes
	read   bool
}

func newPageSource(r io.Reader, name string, max int64, export bool) *pageSource {
	return &pageSource{name: name, r: r, max: max, export: export}
}

func (s *pageSource) Name() string { return s.name }
func (s *pageSource) Close() error { return nil }

func (s *pageSource) Next() (pipeline.Element, error) {
	if !s.read {
		s.read = true
		if err := s.load(); err != nil {
			return pipeline.Element{}, err
		}
	}
	if s.inner != nil {
		return s.inner.Next()
	}
	if len(s.els) == 0 {
		return pipeline.Element{}, io.EOF
	}
	el := s.els[0]
	s.els = s.els[1:]
	return el, nil
}

func (s *pageSource) load() error {
	data, err := io.ReadAll(io.LimitReader(s.r, s.max+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > s.max {
		return pipeline.OptionErrorf("the page is over %d bytes ({max-record-bytes})", s.max)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not an HTML page: %w", err)
	}
	if s.export {
		js, ok := jsonData(doc)
		if !ok {
			return fmt.Errorf("no `var jsonData = [...]` in the page (is it the export's chat.html?)")
		}
		s.inner = newJSONSource(strings.NewReader(js), s.name, FromChatGPT, "", s.max)
		return nil
	}
	found, err := ReadPage(doc, pageID(s.name), s.max)
	if err != nil {
		return err
	}
	for i, f := range found {
		s.els = append(s.els, pipeline.Element{Index: int64(i), Size: int64(len(f.JSON)), Rec: carrier(f.Format, f.JSON)})
	}
	return nil
}

// pageID names a conversation read from a page's DOM: the file's base name.
func pageID(name string) string {
	return strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
}

// jsonData returns the array the export's chat.html assigns to jsonData:
// from the "[" after "var jsonData =" to the end of the script (the JSON
// decoder stops after the array).
func jsonData(doc *goquery.Document) (string, bool) {
	var out string
	doc.Find("script").EachWithBreak(func(_ int, sc *goquery.Selection) bool {
		text := sc.Text()
		loc := reJSONData.FindStringIndex(text)
		if loc == nil {
			return true
		}
		out = text[loc[1]:]
		return false
	})
	if out == "" {
		return "", false
	}
	return out, true
}

// Found is one conversation read from a page: its carrier format (chatgpt,
// or dom for a conversation read from the page's elements) and its JSON.
type Found struct {
	Format string
	JSON   []byte
}

// ReadPage finds the conversation of a saved page: a 2023-24 share page's
// __NEXT_DATA__, a 2025 share page's turbo-stream, else the DOM of a
// ChatGPT, Claude or Gemini page. id names a conversation read from the
// DOM; limit bounds the bytes a turbo-stream payload may expand to.
func ReadPage(doc *goquery.Document, id string, limit int64) ([]Found, error) {
	if nd := doc.Find("script#__NEXT_DATA__"); nd.Length() > 0 {
		var next struct {
			Props struct {
				PageProps struct {
					ServerResponse struct {
						Data json.RawMessage `json:"data"`
					} `json:"serverResponse"`
				} `json:"pageProps"`
			} `json:"props"`
		}
		if err := json.Unmarshal([]byte(nd.Text()), &next); err != nil {
			return nil, fmt.Errorf("__NEXT_DATA__: %v", err)
		}
		if d := next.Props.PageProps.ServerResponse.Data; len(d) > 0 && d[0] == '{' {
			return []Found{{FromChatGPT, d}}, nil
		}
	}
	var stream strings.Builder
	doc.Find("script").Each(func(_ int, sc *goquery.Selection) {
		for _, lit := range enqueued(sc.Text()) {
			stream.WriteString(lit)
		}
	})
	if stream.Len() > 0 {
		first, _, _ := strings.Cut(stream.String(), "\n")
		v, err := DecodeTurboStream([]byte(first), limit)
		if err != nil {
			return nil, fmt.Errorf("turbo-stream payload: %v", err)
		}
		if c := findConversation(v, 0); c != nil {
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("turbo-stream payload: %v", err)
			}
			return []Found{{FromChatGPT, b}}, nil
		}
	}
	if d := readDOM(doc, id); d != nil {
		b, _ := json.Marshal(d)
		return []Found{{fromDOM, b}}, nil
	}
	return nil, fmt.Errorf("no conversation found: no __NEXT_DATA__, no turbo-stream, no message elements")
}

// enqueued returns the string literals of streamController.enqueue("...")
// calls in a script.
func enqueued(script string) []string {
	var out []string
	const call = "enqueue("
	for {
		i := strings.Index(script, call)
		if i < 0 {
			return out
		}
		script = script[i+len(call):]
		if !strings.HasPrefix(script, `"`) {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(script))
		var s string
		if err := dec.Decode(&s); err != nil {
			continue
		}
		out = append(out, s)
		script = script[dec.InputOffset():]
	}
}

// findConversation returns the first object holding a "mapping" object
// (the conversation), depth first.
func findConversation(v any, depth int) map[string]any {
	if depth > 64 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		if m, ok := x["mapping"].(map[string]any); ok && m != nil {
			return x
		}
		for _, k := range sortedKeys(x) {
			if c := findConversation(x[k], depth+1); c != nil {
				return c
			}
		}
	case []any:
		for _, e := range x {
			if c := findConversation(e, depth+1); c != nil {
				return c
			}
		}
	}
	return nil
}

// readDOM reads the messages of a ChatGPT, Claude or Gemini page. Human
// turns are the text of their element; assistant turns the HTML of their
// Markdown container, for clean's converter.
func readDOM(doc *goquery.Document, id string) *domConv {
	d := &domConv{ID: id, Title: strings.TrimSpace(doc.Find("title").First().Text())}
	add := func(role, text string) {
		if role == "user" {
			text = layout(text)
		}
		text = strings.TrimSpace(text)
		if text != "" {
			d.Messages = append(d.Messages, struct {
				Role string `json:"role"`
				Text string `json:"text"`
			}{role, text})
		}
	}
	outer := func(sel *goquery.Selection) string {
		h, _ := goquery.OuterHtml(sel)
		return h
	}
	switch {
	case doc.Find("[data-message-author-role]").Length() > 0:
		d.Site = "chatgpt"
		doc.Find("[data-message-author-role]").Each(func(_ int, m *goquery.Selection) {
			role, _ := m.Attr("data-message-author-role")
			if role == "user" {
				add("user", m.Text())
				return
			}
			if md := m.Find(".markdown").First(); md.Length() > 0 {
				add("assistant", outer(md))
			} else {
				add("assistant", m.Text())
			}
		})
	case doc.Find(`[data-testid="user-message"]`).Length() > 0:
		d.Site = "claude"
		doc.Find(`[data-testid="user-message"], div.font-claude-response`).Each(func(_ int, m *goquery.Selection) {
			if v, _ := m.Attr("data-testid"); v == "user-message" {
				add("user", m.Text())
				return
			}
			if md := m.Find(".standard-markdown, .progressive-markdown"); md.Length() > 0 {
				var parts []string
				md.Each(func(_ int, x *goquery.Selection) { parts = append(parts, outer(x)) })
				add("assistant", strings.Join(parts, ""))
			} else {
				add("assistant", m.Text())
			}
		})
	case doc.Find("user-query, model-response").Length() > 0:
		d.Site = "gemini"
		doc.Find("user-query, model-response").Each(func(_ int, m *goquery.Selection) {
			if goquery.NodeName(m) == "user-query" {
				var lines []string
				m.Find(".query-text-line").Each(func(_ int, l *goquery.Selection) {
					// Gemini's lines are pretty-printed: white space runs as
					// a browser shows them.
					lines = append(lines, strings.Join(strings.Fields(l.Text()), " "))
				})
				if len(lines) == 0 {
					lines = append(lines, m.Find(".query-text").Text())
				}
				add("user", strings.Join(lines, "\n"))
				return
			}
			if md := m.Find("message-content .markdown").First(); md.Length() > 0 {
				add("assistant", outer(md))
			}
		})
	default:
		return nil
	}
	if len(d.Messages) == 0 {
		return nil
	}
	return d
}

// layout removes the indentation a saved page's markup adds to a human
// turn's text: each line trimmed, runs of blank lines made one. The lines
// themselves stay (ChatGPT shows human turns pre-wrapped).
func layout(text string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			blank = true
			continue
		}
		if blank && len(out) > 0 {
			out = append(out, "")
		}
		blank = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
