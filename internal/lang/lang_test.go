package lang

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

// detectFile returns the language distribution of a data file's records.
func detectFile(t *testing.T, d *Detector, path string) (map[string]int, []string) {
	t.Helper()
	dist := map[string]int{}
	var langs []string
	job := &pipeline.Job{
		Command: "lang", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{path}, Workers: 1,
		Stages: []pipeline.Stage{stageFunc(func(rec *pipeline.Record) {
			l := d.Detect(HumanProse(rec, 2048))
			dist[l]++
			langs = append(langs, l)
		})},
	}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dist, langs
}

type stageFunc func(*pipeline.Record)

func (stageFunc) Name() string { return "observe" }
func (stageFunc) Ordered()     {}
func (f stageFunc) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	f(rec)
	out.Keep(rec)
	return nil
}

// TestLanguageAccuracy checks detection on real data whose language is
// known: first prompts that passed FastChat's English filter (some are in
// fact Chinese, Korean or French, and many are a word or two), Chinese
// ShareGPT conversations (a few are mostly Japanese or English), and the
// long multilingual Vicuna records. The thresholds are the measured rates
// (see the README): lingua's low-accuracy mode over all 75 languages, and
// its high-accuracy mode over the 24 languages common in ShareGPT.
func TestLanguageAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("loads lingua models")
	}
	common, err := Parse("common")
	if err != nil || len(common) != 24 {
		t.Fatalf("Parse(common) = %v, %v", common, err)
	}
	tests := []struct {
		name    string
		opts    Options
		file    string
		lang    string
		atLeast float64
	}{
		{"all languages", Options{}, "../../testdata/sharegpt/first_turns_2978.json", "en", 0.89},
		{"all languages", Options{}, "../../testdata/multilingual/sharegpt_zh_1k.jsonl", "zh", 0.945},
		{"24 languages", Options{Candidates: common}, "../../testdata/sharegpt/first_turns_2978.json", "en", 0.9},
		{"24 languages", Options{Candidates: common}, "../../testdata/multilingual/sharegpt_zh_1k.jsonl", "zh", 0.945},
		{"24 languages, high accuracy", Options{Candidates: common, HighAccuracy: true}, "../../testdata/sharegpt/first_turns_2978.json", "en", 0.93},
		{"24 languages, high accuracy", Options{Candidates: common, HighAccuracy: true}, "../../testdata/multilingual/sharegpt_zh_1k.jsonl", "zh", 0.945},
	}
	for _, tt := range tests {
		d, err := New(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		dist, _ := detectFile(t, d, tt.file)
		total := 0
		for _, n := range dist {
			total += n
		}
		share := float64(dist[tt.lang]) / float64(total)
		t.Logf("%s: %s: %.1f%% %s of %d (unknown %d)", tt.name, tt.file, 100*share, tt.lang, total, dist[Unknown])
		if share < tt.atLeast {
			t.Errorf("%s: %s: only %.1f%% detected as %s: %v", tt.name, tt.file, 100*share, tt.lang, dist)
		}
	}
	d, _ := New(Options{})
	_, langs := detectFile(t, d, "../../testdata/sharegpt/vicuna_long_multilingual_sample.json")
	t.Logf("vicuna_long_multilingual_sample.json: %v", langs)
	if got := strings.Join(langs, ","); got != "en,en,ru,en,ko,en,en,en,ko,zh,en" {
		t.Errorf("multilingual sample detected as %s", got)
	}
}

func TestHumanProse(t *testing.T) {
	rec := pipeline.NewRecord("r", turns(
		"human", "Fix this:\n```go\nfunc main() {}\n```\nsee https://go.dev/doc and `x := 1` please",
		"gpt", "English answer not examined",
		"human", "второй вопрос",
	))
	got := strings.Join(strings.Fields(HumanProse(rec, 2048)), " ")
	if got != "Fix this: see and please второй вопрос" {
		t.Errorf("prose = %q", got)
	}
	if p := HumanProse(rec, 45); len(p) != 44 || !utf8.ValidString(p) || !strings.HasSuffix(p, "второй ") {
		t.Errorf("cut prose = %q", p)
	}
}

func TestDetectWindows(t *testing.T) {
	d, err := New(Options{Candidates: []string{"en", "fr", "de"}})
	if err != nil {
		t.Fatal(err)
	}
	fr := strings.Repeat("Je voudrais que tu m'aides a ecrire une lettre pour mon proprietaire, merci beaucoup. ", 6)
	en := strings.Repeat("Web search results: The company reported strong earnings in the third quarter, driven by growth in its cloud services and advertising business. Analysts expect the trend to continue next year as more customers move their workloads online. ", 6)
	long := strings.Repeat("The quick brown fox jumps over the lazy dog while the farmer watches. ", 40)
	de := "Bitte schreibe mir einen kurzen Text darueber, wie man Brot backt und warum man den Teig ruhen lassen muss. "
	de2 := strings.Repeat(de, 2) // one window, no umlauts: lingua's rules would pick German for the whole text
	tests := []struct {
		name, text, want string
	}{
		{"two windows agree: a French prompt before an English paste", fr + en, "fr"},
		{"short text: the whole text", de, "de"},
		{"windows disagree: the whole text decides", de2 + long, d.detect(de2 + long)},
	}
	for _, tt := range tests {
		if got := d.Detect(tt.text); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	a, rest := cutWords(de2+long, langWindow)
	b, _ := cutWords(rest, langWindow)
	if la, lb := d.detect(a), d.detect(b); la != "de" || lb != "en" {
		t.Errorf("windows of German + English: %s, %s; want de, en", la, lb)
	}
	if got := d.detect(fr + en); got == "fr" {
		t.Errorf("whole text of French + long English paste: fr; the windows case tests nothing")
	}
}

func TestCutWords(t *testing.T) {
	tests := []struct {
		s          string
		n          int
		head, tail string
	}{
		{"short", 10, "short", ""},
		{"one two three", 8, "one two", " three"},
		{"abcdefgh", 4, "abcd", "efgh"},
		{"ééé", 3, "éé", "é"}, // no space: cut forward to a character boundary
	}
	for _, tt := range tests {
		h, rest := cutWords(tt.s, tt.n)
		if h != tt.head || rest != tt.tail {
			t.Errorf("cutWords(%q, %d) = %q, %q; want %q, %q", tt.s, tt.n, h, rest, tt.head, tt.tail)
		}
	}
}

func TestLooksEnglish(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"How do I make an HTTP request in Python?", true},
		{"Write a unit test for this python method using pytest", true},
		{"Write me a cover letter for an UX internship at google", true},
		{"hello there", false}, // too few words
		{"Haz el punto 6, en el método load_data() del archivo main.py", false},
		{"Ich möchte, dass du für mich über die Größe der Städte schreibst", false}, // letters outside ASCII
		{"Please write a short note to José about the meeting and the plan for it", true},
		{"I’m sure you’re right • it’s what the team said about the plan and the budget", true},
		{"Bitte schreibe mir einen kurzen Text darueber wie man Brot backt", false},
		{"Je voudrais que tu m'aides a ecrire une lettre pour mon proprietaire", false},
		{"import numpy as np; x = np.zeros((3, 3)); y = x.T @ x; print(y.shape)", false},
		{"Can you explain what 'it's' means in this sentence, please?", true},
	}
	for _, tt := range tests {
		if got := looksEnglish(tt.text); got != tt.want {
			t.Errorf("looksEnglish(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// turns builds turns from alternating role, value arguments.
func turns(kv ...string) []pipeline.Turn {
	var ts []pipeline.Turn
	for i := 0; i+1 < len(kv); i += 2 {
		ts = append(ts, pipeline.Turn{From: kv[i], Value: kv[i+1]})
	}
	return ts
}
