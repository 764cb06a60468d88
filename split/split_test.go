package split

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// byteCounter counts one token per byte, so that a turn of n bytes is
// n + 7 long under FastChat's counting.
type byteCounter struct{}

func (byteCounter) Count(s string) int { return len(s) }

// conv builds alternating human/gpt turns whose FastChat lengths (with
// byteCounter) are the given numbers (each at least 7).
func conv(lens ...int) []pipeline.Turn {
	var turns []pipeline.Turn
	for i, n := range lens {
		from := pipeline.RoleHuman
		if i%2 == 1 {
			from = pipeline.RoleGPT
		}
		turns = append(turns, pipeline.Turn{From: from, Value: strings.Repeat("x", n-7)})
	}
	return turns
}

func segString(segs []Segment) string {
	var parts []string
	for _, s := range segs {
		p := fmt.Sprintf("[%d,%d)=%d", s.Start, s.End, s.Tokens)
		if s.Reason != "" {
			p += ":" + string(s.Reason)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	sys := func(turns []pipeline.Turn, i int, from string) []pipeline.Turn {
		turns[i].From = from
		return turns
	}
	tests := []struct {
		name     string
		turns    []pipeline.Turn
		opts     Options // MaxLength 100 unless set
		want     string
		trailing int
	}{
		{"fits in one", conv(10, 20, 10, 20), Options{}, "[0,4)=60", 0},
		{"exactly the limit fits", conv(25, 25, 25, 25), Options{}, "[0,4)=100", 0},
		{"one over splits", conv(25, 25, 25, 26, 10, 10), Options{}, "[0,2)=50 [2,6)=71", 0},
		{"trailing turn cut", conv(10, 20, 10), Options{}, "[0,2)=30", 1},
		{"too short: one turn", conv(10), Options{}, "[0,1)=0:too-short", 1},
		{"too short: none", nil, Options{}, "[0,0)=0:too-short", 0},
		{"pair longer than the limit is a segment of its own",
			conv(30, 30, 80, 80, 10, 10), Options{}, "[0,2)=60 [2,4)=160 [4,6)=20", 0},
		{"drop-oversize rejects it",
			conv(30, 30, 80, 80, 10, 10), Options{DropOversize: true}, "[0,2)=60 [2,4)=160:oversize [4,6)=20", 0},
		{"first pair alone over the limit: no empty segment by default",
			conv(80, 80, 10, 10), Options{}, "[0,2)=160 [2,4)=20", 0},
		{"first pair alone over the limit: FastChat's empty segment is rejected",
			conv(80, 80, 10, 10), Options{Mode: ModeFastChat}, "[0,0)=0:empty-segment [0,2)=160 [2,4)=20:fastchat-lost-pair", 0},
		{"last pair overflows: kept by default",
			conv(30, 30, 30, 30, 30, 30), Options{MaxLength: 130}, "[0,4)=120 [4,6)=60", 0},
		{"last pair overflows: lost in fastchat mode, reported",
			conv(30, 30, 30, 30, 30, 30), Options{Mode: ModeFastChat, MaxLength: 130}, "[0,4)=120 [4,6)=60:fastchat-lost-pair", 0},
		{"only pair over the limit: kept by default",
			conv(80, 80), Options{}, "[0,2)=160", 0},
		{"only pair over the limit: fastchat loses it and emits an empty segment",
			conv(80, 80, 10), Options{Mode: ModeFastChat}, "[0,2)=160:fastchat-lost-pair [0,0)=0:empty-segment", 1},
		{"only pair over the limit, drop-oversize",
			conv(80, 80), Options{DropOversize: true}, "[0,2)=160:oversize", 0},
		{"last pair oversize, drop-oversize",
			conv(10, 10, 80, 80), Options{DropOversize: true}, "[0,2)=20 [2,4)=160:oversize", 0},
		{"system turn: segment dropped, counted in the cutting",
			sys(conv(10, 10, 30, 30, 50, 50), 0, pipeline.RoleSystem), Options{}, "[0,4)=80:invalid-roles [4,6)=100", 0},
		{"gpt first",
			sys(conv(10, 10), 0, pipeline.RoleGPT), Options{}, "[0,2)=20:invalid-roles", 0},
		{"two humans in a row inside a segment",
			sys(conv(10, 10, 10, 10), 1, pipeline.RoleHuman), Options{}, "[0,4)=40:invalid-roles", 0},
		{"wrong roles in the lost pair (fastchat): lost first",
			sys(conv(30, 30, 30, 30, 30, 30), 5, "bot"), Options{Mode: ModeFastChat, MaxLength: 130}, "[0,4)=120 [4,6)=60:fastchat-lost-pair", 0},
		{"wrong roles in the lost pair (default): invalid-roles",
			sys(conv(30, 30, 30, 30, 30, 30), 5, "bot"), Options{MaxLength: 130}, "[0,4)=120 [4,6)=60:invalid-roles", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.MaxLength == 0 {
				opts.MaxLength = 100
			}
			opts.Tokenizer = byteCounter{}
			st, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			segs, trailing := st.Plan(tt.turns)
			if got := segString(segs); got != tt.want || trailing != tt.trailing {
				t.Errorf("got %s (trailing %d)\nwant %s (trailing %d)", got, trailing, tt.want, tt.trailing)
			}
			for _, s := range segs {
				if s.Reason != "" && s.Detail == "" {
					t.Errorf("%v: reason without detail", s)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{MaxLength: -1}, "max length must be positive"},
		{Options{Count: CountTemplate, Template: "alpaca"}, `unknown template "alpaca" (known: vicuna_v1.1, llama-2, chatml)`},
		{Options{Template: "vicuna_v1.1"}, "applies only to template counting"},
		{Options{Mode: 7}, "unknown mode"},
	} {
		if _, err := New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.want)
		}
	}
	for _, s := range []string{"x", ""} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) accepted", s)
		}
		if _, err := ParseCounting(s); err == nil {
			t.Errorf("ParseCounting(%q) accepted", s)
		}
	}
}

// TestTemplateCountShape checks the template counting on the real
// tokenizer: BOS + the system prompt piece + one EOS per assistant turn,
// with later pairs adding what their own piece costs.
func TestTemplateCountShape(t *testing.T) {
	tok := tokenizer.Default()
	st, err := New(Options{Count: CountTemplate, MaxLength: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	turns := []pipeline.Turn{
		{From: "human", Value: "Hello!"}, {From: "gpt", Value: "Hi."},
		{From: "human", Value: "How are you?"}, {From: "gpt", Value: "Fine."},
	}
	segs, _ := st.Plan(turns)
	vicuna, _ := chat.Lookup(DefaultTemplate)
	want := 1 + tok.Count(vicuna.DefaultSystem+" USER: Hello! ASSISTANT: Hi.") + 1 +
		tok.Count("USER: How are you? ASSISTANT: Fine.") + 1
	if len(segs) != 1 || segs[0].Tokens != want {
		t.Errorf("got %s, want one segment of %d tokens", segString(segs), want)
	}
	// an empty assistant turn has no EOS after it: the piece goes on
	turns[1].Value = ""
	segs, _ = st.Plan(turns)
	want = 1 + tok.Count(vicuna.DefaultSystem+" USER: Hello! ASSISTANT:USER: How are you? ASSISTANT: Fine.") + 1
	if len(segs) != 1 || segs[0].Tokens != want {
		t.Errorf("empty assistant turn: got %s, want one segment of %d tokens", segString(segs), want)
	}
}

// runJob runs the stage over JSONL text and returns the output lines, the
// reject lines and the report.
func runJob(t *testing.T, input string, opts Options) (out, rejects []string, rep *pipeline.Report) {
	t.Helper()
	st, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var stdout bytes.Buffer
	job := &pipeline.Job{
		Command:     "split",
		Registry:    pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:      []string{"-"},
		Output:      "-",
		RejectsPath: filepath.Join(dir, "rejects.jsonl"),
		Stages:      []pipeline.Stage{st},
		Stdin:       strings.NewReader(input),
		Stdout:      &stdout,
		Finish: func(r *pipeline.Report) error {
			r.Stage(st.Name()).Details = st.Details()
			return nil
		},
	}
	rep, err = job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rj, err := os.ReadFile(job.RejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := func(s string) []string {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	return lines(stdout.String()), lines(string(rj)), rep
}

func TestProcess(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n-7) }
	rec := func(id string, extra string, lens ...int) string {
		var turns []string
		for i, n := range lens {
			from := "human"
			if i%2 == 1 {
				from = "gpt"
			}
			turns = append(turns, fmt.Sprintf(`{"from":%q,"value":%q}`, from, x(n)))
		}
		idPart := ""
		if id != "" {
			idPart = fmt.Sprintf(`"id":%q,`, id)
		}
		return fmt.Sprintf(`{%s"conversations":[%s]%s}`, idPart, strings.Join(turns, ","), extra) + "\n"
	}
	input := rec("a", `,"model":"gpt4","lang":"en"`, 30, 30, 30, 30, 30, 30) + // splits at 100
		rec("", `,"model":"gpt4"`, 10, 10) + // no id: its position, 1
		rec("c", "", 10) + // too short
		rec("d", "", 80, 80) // one pair over the limit
	out, rejects, rep := runJob(t, input, Options{MaxLength: 100, TokenCounts: true, Tokenizer: byteCounter{}})
	want := []string{
		`{"id":"a_0","conversations":[{"from":"human","value":"` + x(30) + `"},{"from":"gpt","value":"` + x(30) + `"}],"model":"gpt4","lang":"en","n_tokens":60}`,
		`{"id":"a_2","conversations":[{"from":"human","value":"` + x(30) + `"},{"from":"gpt","value":"` + x(30) + `"}],"model":"gpt4","lang":"en","n_tokens":60}`,
		`{"id":"a_4","conversations":[{"from":"human","value":"` + x(30) + `"},{"from":"gpt","value":"` + x(30) + `"}],"model":"gpt4","lang":"en","n_tokens":60}`,
		`{"id":"1_0","conversations":[{"from":"human","value":"` + x(10) + `"},{"from":"gpt","value":"` + x(10) + `"}],"model":"gpt4","n_tokens":20}`,
		`{"id":"d_0","conversations":[{"from":"human","value":"` + x(80) + `"},{"from":"gpt","value":"` + x(80) + `"}],"n_tokens":160}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	if len(rejects) != 1 || !strings.Contains(rejects[0], `"id":"c","stage":"split","reason":"too-short"`) {
		t.Errorf("rejects: %q", rejects)
	}
	sr := rep.Stage("split")
	d := sr.Details.(*Details)
	if rep.RecordsIn != 4 || rep.Kept != 3 || rep.RecordsOut != 5 || sr.Rejected[ReasonTooShort] != 1 {
		t.Errorf("report: %+v", rep)
	}
	if d.RecordsIn != 4 || d.RecordsSplit != 1 || d.SegmentsOut != 5 || d.TokensOut != 360 || d.OversizeKept != 1 || d.Histogram[0].Count != 5 {
		t.Errorf("details: %+v", d)
	}

	// fastchat mode: the lost pair and the empty segment are rejected
	// parts, or the reason a record is rejected whole
	out, rejects, rep = runJob(t, input, Options{MaxLength: 100, Mode: ModeFastChat, DropOversize: true, Tokenizer: byteCounter{}})
	if len(out) != 3 || !strings.HasPrefix(out[2], `{"id":"1_0",`) {
		t.Errorf("fastchat output:\n%s", strings.Join(out, "\n"))
	}
	sr = rep.Stage("split")
	if sr.PartsRejected[ReasonLostPair] != 1 || sr.Rejected[ReasonLostPair] != 1 || sr.Rejected[ReasonTooShort] != 1 || rep.Rejected != 2 {
		t.Errorf("fastchat report: rejected %v, parts %v", sr.Rejected, sr.PartsRejected)
	}
	var reasons []string
	for _, l := range rejects {
		var r struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
			Part   bool   `json:"part"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, fmt.Sprintf("%s:%s:%v", r.ID, r.Reason, r.Part))
	}
	if got, want := strings.Join(reasons, " "), "a_4:fastchat-lost-pair:true c:too-short:false d_0:fastchat-lost-pair:false d_0:empty-segment:true"; got != want {
		t.Errorf("fastchat rejects: %s\nwant %s", got, want)
	}
}

// runeCounter counts runes: a Counter without control tokens, so every
// special token a template places is one token.
type runeCounter struct{}

func (runeCounter) Count(s string) int { return len([]rune(s)) }

// TestTemplateCountTemplates checks template counting with every kind of
// template of package chat: the named ones with the LLaMA tokenizer
// (chatml's specials are not LLaMA tokens, so they are text) and a
// model's own Jinja template ("auto", no BOS of its own but the one it
// writes).
func TestTemplateCountTemplates(t *testing.T) {
	tok := tokenizer.Default()
	dir := t.TempDir()
	cfg := `{"bos_token": "<B>", "eos_token": {"content": "<E>"},
"added_tokens_decoder": {"1": {"content": "<B>", "special": true}, "2": {"content": "<E>", "special": true}},
"chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content | trim }}<E>{% endfor %}"}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	turns := []pipeline.Turn{
		{From: "human", Value: "Hello!"}, {From: "gpt", Value: " Hi. "},
		{From: "human", Value: "How are you?"}, {From: "gpt", Value: "Fine."},
	}
	tests := []struct {
		template string
		tok      Counter
		want     int
	}{
		{"chatml", tok, 1 + tok.Count("<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n Hi. <|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\nFine.<|im_end|>\n")},
		{"llama-2", tok, 1 + tok.Count("[INST] Hello! [/INST]  Hi.  ") + 2 + tok.Count("[INST] How are you? [/INST] Fine. ") + 2},
		{"auto", runeCounter{}, 1 + len("[user]Hello!") + 1 + len("[assistant]Hi.") + 1 + len("[user]How are you?") + 1 + len("[assistant]Fine.") + 1},
	}
	for _, tc := range tests {
		st, err := New(Options{Count: CountTemplate, Template: tc.template, TemplateConfig: dir, MaxLength: 1 << 20, Tokenizer: tc.tok})
		if err != nil {
			t.Fatalf("%s: %v", tc.template, err)
		}
		segs, _ := st.Plan(turns)
		if len(segs) != 1 || segs[0].Tokens != tc.want {
			t.Errorf("%s: got %s, want one segment of %d tokens", tc.template, segString(segs), tc.want)
		}
		// The limit cuts between the pairs where the count says.
		st, _ = New(Options{Count: CountTemplate, Template: tc.template, TemplateConfig: dir, MaxLength: tc.want - 1, Tokenizer: tc.tok})
		if segs, _ := st.Plan(turns); len(segs) != 2 || segs[0].End != 2 || segs[1].Start != 2 {
			t.Errorf("%s with limit %d: got %s, want two segments of one pair", tc.template, tc.want-1, segString(segs))
		}
	}
	if _, err := New(Options{Count: CountTemplate, Template: "auto"}); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("auto without a configuration: error %v", err)
	}
}

// TestTemplateRefused: a conversation the Jinja template refuses is
// rejected whole with ReasonTemplate.
func TestTemplateRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"chat_template": "{% for m in messages %}{% if m.content == 'bad' %}{{ raise_exception('no bad words') }}{% endif %}{{ m.content }}{% endfor %}"}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := New(Options{Count: CountTemplate, Template: "auto", TemplateConfig: filepath.Join(dir, "tokenizer_config.json"), Tokenizer: runeCounter{}})
	if err != nil {
		t.Fatal(err)
	}
	segs, _ := st.Plan([]pipeline.Turn{{From: "human", Value: "bad"}, {From: "gpt", Value: "x"}, {From: "human", Value: "q"}})
	if len(segs) != 1 || segs[0].Reason != ReasonTemplate || segs[0].End != 3 || !strings.Contains(segs[0].Detail, "no bad words") {
		t.Errorf("got %+v, want one %s segment over all 3 turns", segs, ReasonTemplate)
	}
}
