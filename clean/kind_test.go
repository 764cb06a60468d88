package clean

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Issue 13, finding 1: Markdown that holds HTML in code, or inline tags,
// must come out of clean unchanged.
const (
	markdownWithFence  = "Example:\n```html\n<p>Hi</p>\n```\nDone with `snake_case` and *args."
	markdownCodeSpans  = "Use a `<div>` or a `<ul>` element."
	markdownSub        = "The complement ∁<sub>U</sub>A is {x|0≤x<1}."
	markdownLinkIndent = "See <a href=\"https://docs.python.org\">the docs</a>:\n\n```python\ndef f(x):\n    if x:\n        return 1\n    return 0\n```"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Kind
	}{
		{"fence with html", markdownWithFence, KindMarkdown},
		{"code spans with tags", markdownCodeSpans, KindMarkdown},
		{"sub", markdownSub, KindMarkdown},
		{"link tag and indented python", markdownLinkIndent, KindMarkdown},
		{"br and kbd", "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Then paste.", KindMarkdown},
		{"plain", "plain text", KindMarkdown},
		{"end tag after text", "x </DIV>", KindMarkdown},
		{"tag mentioned in prose", "我们在<p>标记中显示名称。", KindMarkdown},
		{"starts with a tag never closed", "<div> is a block element.", KindMarkdown},
		{"html block then markdown", "<div align=\"center\">\n<img src=\"logo.png\">\n</div>\n\n# Title\n\nSome **Markdown**.", KindMarkdown},
		{"unfenced jsx then prose", "<div>\n<h1>Bar</h1>\n</div>\n\nThis JSX renders a heading.", KindMarkdown},
		{"unfenced html document", "<!DOCTYPE html>\n<html>\n<body><p>x</p></body>\n</html>", KindMarkdown},
		{"unfenced html element outside the list", "<html>\n<head></head>\n<body><p>x</p></body>\n</html>", KindMarkdown},
		{"unfenced xml", "<project>\n<build></build>\n</project>", KindMarkdown},
		{"inline tag first", "<b>Note:</b> **bold** and `code`.", KindMarkdown},
		{"decided after trimming", "    <p>indented</p>", KindHTMLFragment},
		{"counter then markdown", "1 / 2\n" + markdownWithFence, KindMarkdown},
		{"wrapper", mdWrap + "<p>x</p></div>", KindSharePage},
		{"old wrapper", `<div class="request-:r0:-0 markdown prose break-words dark:prose-invert light"><p>x</p></div>`, KindSharePage},
		{"wrapper after counter", "2 / 2" + mdWrap + "<p>x</p></div>", KindSharePage},
		{"wrapper after white space", " \n" + mdWrap + "<p>x</p></div>", KindSharePage},
		{"wrapper with code holding blank lines", mdWrap + "<pre><code>a\n\nb</code></pre></div>", KindSharePage},
		{"paragraph", "<p>x</p>", KindHTMLFragment},
		{"upper case", "<P>x</P>", KindHTMLFragment},
		{"empty div", "<div></div>", KindHTMLFragment},
		{"three spaces", "   <p>x</p>", KindHTMLFragment},
		{"counter glued", "1 / 2<p>Hi</p>", KindHTMLFragment},
		{"copy noise after", "<p>Hi</p>Copy12 chars / 3 words", KindHTMLFragment},
		{"inner html of a share page", "<h2>Chat</h2><p>Hi</p><pre><div><code>a\n\nb\n</code></div></pre><p>end</p>", KindHTMLFragment},
		{"html blocks between blank lines", "<p>a</p>\n\n<ul><li>b</li></ul>", KindHTMLFragment},
		{"pre in inline code (finding 2)", readFixture(t, "pre_in_inline_code"), KindHTMLFragment},
		{"image syntax in a paragraph (finding 4)", readFixture(t, "image_syntax_as_text"), KindHTMLFragment},
		{"pre without code (finding 3)", readFixture(t, "pre_without_code"), KindSharePage},
		{"real share-page answer without wrapper", realAnswer(t), KindHTMLFragment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.in); got != tt.want {
				t.Errorf("Classify(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// realAnswer is the real Korean share-page answer (its code holds blank
// lines).
func realAnswer(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/chatgpt_answer_ko.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []mdSampleRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs[0].Conversations[0].Value
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/markdown/" + name + ".html")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMarkdownPassesThrough: Markdown assistant turns come out byte for
// byte, trimmed; human turns are never parsed.
func TestMarkdownPassesThrough(t *testing.T) {
	tests := []struct {
		name, role, in, want string
		rule                 ChangeRule
	}{
		{"fence with html", "gpt", markdownWithFence, markdownWithFence, ChangeNone},
		{"code spans with tags", "gpt", markdownCodeSpans, markdownCodeSpans, ChangeNone},
		{"sub", "gpt", markdownSub, markdownSub, ChangeNone},
		{"link tag keeps python indentation", "gpt", markdownLinkIndent, markdownLinkIndent, ChangeNone},
		{"trimmed", "gpt", "\n  " + markdownCodeSpans + " \n", markdownCodeSpans, ChangeTrimmed},
		{"counter removed", "gpt", "1 / 2\n" + markdownSub, markdownSub, ChangeNoise},
		{"copy noise removed", "gpt", markdownSub + "Copy42 chars / 7 words", markdownSub, ChangeNoise},
		{"human html paste kept", "human", "<p>Hi</p>\nwhy is this bold?", "<p>Hi</p>\nwhy is this bold?", ChangeNone},
		{"html converted", "gpt", "<p>a_b <code>&lt;p&gt;</code></p>", "a_b `<p>`", ChangeHTML},
	}
	c := NewConverter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := c.ConvertTurn(tt.role, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ConvertTurn(%q, %q)\n got %q\nwant %q", tt.role, tt.in, got, tt.want)
			}
			if rule := ChangeOf(tt.in, got, kind); rule != tt.rule {
				t.Errorf("rule %v, want %v", rule, tt.rule)
			}
		})
	}
}

// TestStageKeepsMarkdown runs the record p3 through the clean
// stage: both turns come out unchanged, and the report counts them so.
func TestStageKeepsMarkdown(t *testing.T) {
	line := `{"id":"p3","conversations":[{"from":"human","value":"hello there friend"},{"from":"gpt","value":"Example:\n` +
		"```html\\n<p>Hi</p>\\n```" + `\nDone with ` + "`snake_case`" + ` and *args."}]}`
	var in mdSampleRecord
	if err := json.Unmarshal([]byte(line), &in); err != nil {
		t.Fatal(err)
	}
	rec := pipeline.NewRecord(in.ID, turns(in.Conversations[0].From, in.Conversations[0].Value, in.Conversations[1].From, in.Conversations[1].Value))
	s := NewStage(Options{})
	var out pipeline.Out
	if err := s.Process(context.Background(), rec, &out); err != nil {
		t.Fatal(err)
	}
	reason, kept := outcome(t, &out)
	if reason != "" || len(kept) != 2 || kept[0] != "hello there friend" || kept[1] != markdownWithFence {
		t.Fatalf("reason %q, kept %q", reason, kept)
	}
	d := s.Details()
	if d.TurnChanges["gpt"]["unchanged"] != 1 || d.TurnChanges["human"]["unchanged"] != 1 || d.TurnKinds["markdown"] != 1 {
		t.Errorf("details %+v", d)
	}
}

// TestStageCountsChanges: the report counts every kept turn under one
// rule, and turns of rejected records or cut off not at all.
func TestStageCountsChanges(t *testing.T) {
	long := "a question that is long enough"
	s := NewStage(Options{})
	recs := []*pipeline.Record{
		pipeline.NewRecord("a", turns("human", " "+long, "gpt", "<p>Use <code>x</code></p>", "human", "more", "gpt", "1 / 2\nsure thing")),
		pipeline.NewRecord("b", turns("human", long, "gpt", mdWrap+"<p>ok</p></div>", "human", "odd one out")),
		pipeline.NewRecord("c", turns("human", "hi", "gpt", "<p>no</p>")), // too short: not counted
		pipeline.NewRecord("d", turns("human", long, "gpt", "fine", "human", "cut", "gpt", "")),
	}
	for _, r := range recs {
		var out pipeline.Out
		if err := s.Process(context.Background(), r, &out); err != nil {
			t.Fatal(err)
		}
	}
	d := s.Details()
	want := map[string]map[string]int64{
		"gpt":   {"unchanged": 1, "html-converted": 2, "trimmed": 0, "noise-removed": 1},
		"human": {"unchanged": 3, "html-converted": 0, "trimmed": 1, "noise-removed": 0},
	}
	for role, rules := range want {
		for rule, n := range rules {
			if got := d.TurnChanges[role][rule]; got != n {
				t.Errorf("%s %s: %d, want %d", role, rule, got, n)
			}
		}
	}
	if d.TurnKinds["html-fragment"] != 1 || d.TurnKinds["share-page"] != 1 || d.TurnKinds["markdown"] != 2 {
		t.Errorf("kinds %v", d.TurnKinds)
	}
}

// TestSampleUnchanged: the ShareGPT V3 sample is already-clean Markdown;
// clean keeps every turn of every record it keeps byte for byte (the
// sample needs no trimming and holds no scraper noise).
func TestSampleUnchanged(t *testing.T) {
	recs := loadSample(t)
	s := NewStage(Options{})
	byID := map[string][]mdSampleTurn{}
	keptTurns := 0
	for _, r := range recs {
		byID[r.ID] = r.Conversations
		var ts []pipeline.Turn
		for _, c := range r.Conversations {
			ts = append(ts, pipeline.Turn{From: c.From, Value: c.Value})
		}
		var out pipeline.Out
		if err := s.Process(context.Background(), pipeline.NewRecord(r.ID, ts), &out); err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Kept() {
			orig := byID[k.ID]
			if orig[0].From != "human" {
				orig = orig[1:]
			}
			for i, tn := range k.Conversations {
				keptTurns++
				if tn.Value != orig[i].Value {
					t.Errorf("%s turn %d (%s) changed:\n%.200q\n%.200q", k.ID, i, tn.From, orig[i].Value, tn.Value)
				}
			}
		}
	}
	d := s.Details()
	if keptTurns != 6984 || d.TurnChanges["gpt"]["unchanged"] != 3492 || d.TurnChanges["human"]["unchanged"] != 3492 ||
		d.TurnKinds["markdown"] != 3492 {
		t.Errorf("%d kept turns; details %v %v", keptTurns, d.TurnChanges, d.TurnKinds)
	}
	if testing.Verbose() {
		t.Logf("%d records, %d kept turns; turn_changes %v", len(recs), keptTurns, d.TurnChanges)
	}
}

func TestKindAndRuleNames(t *testing.T) {
	got := []string{KindMarkdown.String(), KindSharePage.String(), KindHTMLFragment.String(),
		ChangeNone.String(), ChangeHTML.String(), ChangeTrimmed.String(), ChangeNoise.String()}
	want := "markdown share-page html-fragment unchanged html-converted trimmed noise-removed"
	if strings.Join(got, " ") != want {
		t.Errorf("names %q", got)
	}
}
