package importer

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/sharegpt/sharegpt/pipeline"
)

// FuzzExportReader feeds arbitrary bytes to the JSON export reader and the
// conversion of every format: errors and rejects, never a panic.
func FuzzExportReader(f *testing.F) {
	for _, name := range []string{"chatgpt/librechat_chatgpt-tree.json", "chatgpt/looselips_degenerate_conversations.json",
		"chatgpt/pionxzh_fixture_thinking-summaries.json", "claude/searchts_claude_share_snapshot.json", "other/librechat_openwebui-export.json"} {
		data, err := os.ReadFile(samples + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"mapping":{"a":{"parent":"a"}}}]`))
	f.Add([]byte(`{"history":[{"messages":[{"role":"user","content":"x"}]}]}`))
	formats := []string{FromChatGPT, FromClaude, FromOpenWebUI, FromChatbotUI, FromAlpaca, FromDolly, fromDOM}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range formats {
			for _, branches := range []string{BranchesActive, BranchesAll} {
				im, _ := New(Options{From: FromChatGPT, Branches: branches, KeepReasoning: true})
				key := ""
				if format == FromChatbotUI {
					key = "history"
				}
				src := newJSONSource(bytes.NewReader(data), "fuzz.json", format, key, 1<<20)
				for range 100 {
					el, err := src.Next()
					if err != nil {
						break
					}
					if el.Rec == nil {
						continue
					}
					var out pipeline.Out
					if err := im.Stage().Process(context.Background(), el.Rec, &out); err != nil {
						t.Fatal(err)
					}
					if len(out.Kept())+len(out.Rejects()) == 0 {
						t.Fatal("a conversation vanished without a reason")
					}
				}
			}
		}
	})
}

// FuzzPageReader feeds arbitrary bytes to the page reader (goquery, the
// turbo-stream decoder, the DOM readers): errors, never a panic.
func FuzzPageReader(f *testing.F) {
	for _, name := range []string{"share_html/searchts_chatgpt_share_trimmed.html", "share_html/convonaut_original_export_chat.html"} {
		data, err := os.ReadFile(samples + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<div data-message-author-role="user">hi</div><div data-message-author-role="assistant"><div class="markdown"><p>yo</p></div></div>`))
	f.Add([]byte(`<script>x.enqueue("[{\"_1\":2},\"mapping\",{}]\n");</script>`))
	f.Add([]byte(`<script id="__NEXT_DATA__">{"props":{"pageProps":{"serverResponse":{"data":{"mapping":{}}}}}}</script>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		DecodeTurboStream(data, 1<<20)
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		ReadPage(doc, "fuzz", 1<<20)
		for _, export := range []bool{false, true} {
			src := newPageSource(strings.NewReader(string(data)), "fuzz.html", 1<<20, export)
			for range 100 {
				if _, err := src.Next(); err != nil {
					if err != io.EOF && err.Error() == "" {
						t.Fatal("an error without a message")
					}
					break
				}
			}
		}
	})
}
