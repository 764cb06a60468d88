package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

func turns(pairs ...string) []pipeline.Turn {
	var ts []pipeline.Turn
	for i := 0; i+1 < len(pairs); i += 2 {
		ts = append(ts, pipeline.Turn{From: pairs[i], Value: pairs[i+1]})
	}
	return ts
}

func TestCleanRules(t *testing.T) {
	long := "a question that is long enough"
	tests := []struct {
		name   string
		opts   Options
		in     []pipeline.Turn
		reason pipeline.Reason
		want   []string // kept values
	}{
		{"one turn", Options{}, turns("human", long), ReasonTooShort, nil},
		{"leading gpt and trailing human dropped", Options{}, turns("gpt", "x", "human", long, "gpt", "answer", "human", "more"), "", []string{long, "answer"}},
		{"only two after fixing", Options{}, turns("gpt", "x", "human", long), ReasonTooShort, nil},
		{"roles not alternating", Options{}, turns("human", long, "human", long, "gpt", "x"), ReasonWrongFormat, nil},
		{"two human turns are too short once the trailing one goes", Options{}, turns("human", long, "human", long), ReasonTooShort, nil},
		{"wrong format disabled", Options{Disabled: []pipeline.Reason{ReasonWrongFormat}}, turns("human", long, "human", long, "gpt", "x"), "", []string{long, long}},
		{"blocked word any case", Options{}, turns("human", long, "gpt", "I am ChatGPT"), ReasonBlockedWords, nil},
		{"blocked word in raw html attribute", Options{}, turns("human", long, "gpt", `<p><a href="https://openai.com">x</a> y</p>`), ReasonBlockedWords, nil},
		{"custom blocked words", Options{BlockedWords: []string{"Vicuna"}}, turns("human", long, "gpt", "I am vicuna"), ReasonBlockedWords, nil},
		{"blocked words off", Options{BlockedWords: []string{}}, turns("human", long, "gpt", "I am ChatGPT"), "", []string{long, "I am ChatGPT"}},
		{"too many requests", Options{}, turns("human", long, "gpt", "Too many requests in 1 hour. Try again later."), ReasonBlockedResponse, nil},
		{"too many requests with bang", Options{}, turns("human", long, "gpt", "!Too many requests in 1 hour. Try again later. ok"), ReasonBlockedResponse, nil},
		{"human may say too many requests", Options{}, turns("human", "Too many requests in 1 hour. Try again later.", "gpt", "fine"), "", []string{"Too many requests in 1 hour. Try again later.", "fine"}},
		{"empty answer ends conversation", Options{}, turns("human", long, "gpt", "ok", "human", "next", "gpt", "  ", "human", "lost", "gpt", "lost"), "", []string{long, "ok"}},
		{"non-printable start ends conversation", Options{}, turns("human", long, "gpt", "ok", "human", "\u200bhidden", "gpt", "x"), "", []string{long, "ok"}},
		{"odd turns cut to even", Options{}, turns("human", long, "gpt", "ok", "human", "q", "gpt", ""), "", []string{long, "ok"}},
		{"under 16 characters", Options{}, turns("human", "hi", "gpt", "hello there"), ReasonTooShort, nil},
		{"exactly 16 characters", Options{}, turns("human", "12345678", "gpt", "abcdefgh"), "", []string{"12345678", "abcdefgh"}},
		{"first answer empty", Options{}, turns("human", long, "gpt", "<div></div>"), ReasonTooShort, nil},
		{"repetition opt-in", Options{ReduceRepetition: true}, turns("human", long, "gpt", "call 555555555 now"), ReasonRepetition, nil},
		{"eight repeats pass", Options{ReduceRepetition: true}, turns("human", long, "gpt", "call 55555555 now"), "", []string{long, "call 55555555 now"}},
		{"wrong list indices opt-in", Options{WrongListIndices: true}, turns("human", long, "gpt", "Steps:\n1. a\n\n1. b"), ReasonWrongListIndices, nil},
		{"right list indices", Options{WrongListIndices: true}, turns("human", long, "gpt", "Steps:\n1. a\n2. b\n1. c"), "", []string{long, "Steps:\n1. a\n2. b\n1. c"}},
		{"refusal in gpt turn", Options{DropRefusals: true}, turns("human", long, "gpt", "As an AI language model, I can't."), ReasonRefusal, nil},
		{"refusal needs word boundary", Options{DropRefusals: true}, turns("human", long, "gpt", "Alias an AI language modeller"), "", []string{long, "Alias an AI language modeller"}},
		{"refusal phrase in human turn is fine", Options{DropRefusals: true}, turns("human", "as an ai language model, answer", "gpt", "Sure thing."), "", []string{"as an ai language model, answer", "Sure thing."}},
		{"plain text kept as is", Options{}, turns("human", "  my_var *args\n\n\n\nx  ", "gpt", "<p>use <code>my_var</code> and *args</p>"), "", []string{"my_var *args\n\n\n\nx", "use `my_var` and *args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStage(tt.opts)
			rec := pipeline.NewRecord("r", tt.in)
			var out pipeline.Out
			if err := s.Process(context.Background(), rec, &out); err != nil {
				t.Fatal(err)
			}
			reason, kept := outcome(t, &out)
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if tt.reason == "" && !slices.Equal(kept, tt.want) {
				t.Errorf("kept %q, want %q", kept, tt.want)
			}
		})
	}
}

// outcome returns the reason out rejected its record with, or the values
// of the one record it kept.
func outcome(t *testing.T, out *pipeline.Out) (pipeline.Reason, []string) {
	t.Helper()
	if rj := out.Rejects(); len(rj) > 0 {
		return rj[0].Reason, nil
	}
	if len(out.Kept()) != 1 {
		t.Fatalf("%d records kept", len(out.Kept()))
	}
	var vals []string
	for _, tn := range out.Kept()[0].Conversations {
		vals = append(vals, tn.Value)
	}
	return "", vals
}

func TestDuplicateStage(t *testing.T) {
	d := NewDuplicateStage(Options{})
	recs := []*pipeline.Record{
		pipeline.NewRecord("a", turns("human", "q1", "gpt", "a1")),
		pipeline.NewRecord("a", turns("human", "q2", "gpt", "a2")), // id duplication
		pipeline.NewRecord("b", turns("human", "q1", "gpt", "a1")), // value duplication
		pipeline.NewRecord("c", turns("human", "q1", "gpt", "a2")),
		pipeline.NewRecord("d", turns("human", "q3", "gpt", "a3")),
		pipeline.NewRecord("e", turns("human", "q4", "gpt", "a4")),
	}
	recs[4].SetField("plugins", json.RawMessage(`["x"]`))
	recs[5].SetField("plugins", json.RawMessage(`null`))
	var got []string
	for _, r := range recs {
		var out pipeline.Out
		d.Process(context.Background(), r, &out)
		reason := pipeline.Reason("")
		if rj := out.Rejects(); len(rj) > 0 {
			reason = rj[0].Reason
		}
		got = append(got, r.ID+":"+string(reason))
	}
	want := []string{"a:", "a:id-duplication", "b:value-duplication", "c:", "d:plugin", "e:"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// fastchatReference is FastChat's clean_sharegpt.py loop (clean_html_one_sample
// and clean_html_all), verbatim but for html_to_markdown, which FastChat
// implements with markdownify (not installable here): each turn carries
// our converter's output in "converted" and the reference uses it.
const fastchatReference = `
import json, sys
def contain_blocked_words(val):
    blocked_words = ["openai", "chatgpt"]
    for w in blocked_words:
        if w in val.lower():
            return True
    return False
def contain_blocked_responses(role, val):
    if role == "gpt":
        for w in ["Too many requests in 1 hour. Try again later.", "!Too many requests in 1 hour. Try again later."]:
            if val.startswith(w):
                return True
    return False
def clean_html_one_sample(sample):
    roles = ["human", "gpt"]
    if len(sample["conversations"]) <= 1:
        return (sample, 1)
    if sample["conversations"][0]["from"] != "human":
        sample["conversations"] = sample["conversations"][1:]
    if len(sample["conversations"]) <= 1:
        return (sample, 1)
    if sample["conversations"][-1]["from"] == "human":
        sample["conversations"] = sample["conversations"][:-1]
    if len(sample["conversations"]) <= 1:
        return (sample, 1)
    char_count = 0
    new_conversations = []
    for i, c in enumerate(sample["conversations"]):
        if c["from"] != roles[i % 2]:
            return (sample, 2)
        if contain_blocked_words(c["value"]):
            return (sample, 3)
        new_val = c["converted"]
        if contain_blocked_responses(c["from"], new_val):
            return (sample, 3)
        if not new_val or not new_val[0].isprintable():
            break
        char_count += len(new_val)
        new_conversations.append({"from": c["from"], "value": new_val})
    new_conversations = new_conversations[: len(new_conversations) // 2 * 2]
    sample["conversations"] = new_conversations
    if char_count < 16 or len(sample["conversations"]) <= 0:
        return (sample, 1)
    return (sample, 0)
content = json.load(sys.stdin)
counts = {"too-short": 0, "wrong-format": 0, "blocked-words": 0, "id-duplication": 0, "plugin": 0, "value-duplication": 0}
names = {1: "too-short", 2: "wrong-format", 3: "blocked-words"}
visited = {}
kept = []
for sample, error_code in map(clean_html_one_sample, content):
    cid = sample["id"]
    if error_code != 0:
        counts[names[error_code]] += 1
    elif cid in visited:
        counts["id-duplication"] += 1
    elif sample.get("plugins", None) is not None:
        counts["plugin"] += 1
    else:
        key = (sample["conversations"][0]["value"], sample["conversations"][1]["value"])
        if key in visited:
            counts["value-duplication"] += 1
        else:
            visited[cid] = visited[key] = cid
            kept.append(sample)
json.dump({"counts": counts, "kept": kept}, sys.stdout, ensure_ascii=False)
`

// rawDataset renders the real sample's Markdown to share-page HTML (the
// raw ShareGPT form) and adds records for every FastChat rule.
func rawDataset(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, r := range loadSample(t) {
		var ts []map[string]any
		for _, tn := range r.Conversations {
			v := tn.Value
			if tn.From == "gpt" {
				v = sharePage(t, v)
			}
			ts = append(ts, map[string]any{"from": tn.From, "value": v})
		}
		recs = append(recs, map[string]any{"id": r.ID, "conversations": ts})
	}
	conv := func(pairs ...string) []map[string]any {
		var ts []map[string]any
		for i := 0; i+1 < len(pairs); i += 2 {
			ts = append(ts, map[string]any{"from": pairs[i], "value": pairs[i+1]})
		}
		return ts
	}
	q := "How do I write a for loop in Go?"
	a := `<div class="markdown prose w-full break-words dark:prose-invert light"><p>Use <code>for i := 0; i &lt; n; i++</code>.</p></div>`
	extra := []map[string]any{
		{"id": "x-short", "conversations": conv("human", q)},
		{"id": "x-fix", "conversations": conv("gpt", "hello", "human", q, "gpt", a, "human", "thanks")},
		{"id": "x-format", "conversations": conv("human", q, "human", q, "gpt", a)},
		{"id": "x-blocked", "conversations": conv("human", "Are you ChatGPT?", "gpt", a)},
		{"id": "x-blocked-attr", "conversations": conv("human", q, "gpt", `<p><a href="https://platform.openai.com" target="_new">docs</a></p>`)},
		{"id": "x-too-many", "conversations": conv("human", q, "gpt", `<div class="markdown prose w-full break-words dark:prose-invert light"><p>Too many requests in 1 hour. Try again later.</p></div>`)},
		{"id": "x-empty", "conversations": conv("human", q, "gpt", a, "human", "and while?", "gpt", `<div class="markdown prose w-full break-words dark:prose-invert light"></div>`, "human", "x", "gpt", a)},
		{"id": "x-tiny", "conversations": conv("human", "hi", "gpt", "<p>hello</p>")},
		{"id": "x-fix", "conversations": conv("human", "another "+q, "gpt", a)},
		{"id": "x-plugin", "conversations": conv("human", "plugin "+q, "gpt", a), "plugins": []string{"web"}},
		{"id": "x-plugin-null", "conversations": conv("human", "null plugin "+q, "gpt", a), "plugins": nil},
		{"id": "x-valuedup", "conversations": conv("human", q, "gpt", a, "human", "more", "gpt", a)},
		{"id": "x-counter", "conversations": conv("human", q, "gpt", `<div class="markdown prose w-full break-words dark:prose-invert light"><p>1 / 2</p><p>Loops repeat code.</p></div>`)},
	}
	return append(recs, extra...)
}

// TestFastChatReference runs clean and FastChat's loop on the same raw
// records and compares the count per reason and the kept records.
func TestFastChatReference(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		oracle.Missing(t, "oracle unavailable: python3 not found")
	}
	raw := rawDataset(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "raw.json")
	data, _ := json.Marshal(raw)
	os.WriteFile(in, data, 0o644)

	// Python gets our conversion of every turn beside the raw value.
	conv := NewConverter()
	for _, r := range raw {
		for _, tn := range r["conversations"].([]map[string]any) {
			md, _, err := conv.ConvertTurn(tn["from"].(string), tn["value"].(string))
			if err != nil {
				t.Fatal(err)
			}
			tn["converted"] = md
		}
	}
	cmd := exec.Command(python, "-c", fastchatReference)
	stdin, _ := json.Marshal(raw)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pyOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var ref struct {
		Counts map[string]int64
		Kept   []struct {
			ID            string
			Conversations []struct{ From, Value string }
		}
	}
	if err := json.Unmarshal(pyOut, &ref); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "clean.jsonl")
	opts := Options{}
	stage := NewStage(opts)
	job := &pipeline.Job{
		Command: "clean", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{in}, Output: out, Workers: 2,
		Stages: []pipeline.Stage{stage, NewDuplicateStage(opts)},
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, s := range rep.Stages {
		for reason, n := range s.Rejected {
			if reason == ReasonBlockedResponse { // FastChat counts these as blocked words
				reason = ReasonBlockedWords
			}
			got[string(reason)] += n
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ref.Counts)) {
		if got[k] != ref.Counts[k] {
			t.Errorf("%s: clean %d, FastChat %d", k, got[k], ref.Counts[k])
		}
	}
	t.Logf("%d records: FastChat counts %v; kept %d", len(raw), ref.Counts, len(ref.Kept))
	lines, _ := os.ReadFile(out)
	var kept []string
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var r struct {
			ID            string
			Conversations []struct{ From, Value string }
		}
		json.Unmarshal([]byte(l), &r)
		kept = append(kept, fmt.Sprint(r))
	}
	var want []string
	for _, r := range ref.Kept {
		want = append(want, fmt.Sprint(r))
	}
	if len(kept) != len(want) {
		t.Fatalf("kept %d records, FastChat %d", len(kept), len(want))
	}
	for i := range kept {
		if kept[i] != want[i] {
			t.Fatalf("kept record %d differs:\n%.300s\n%.300s", i, kept[i], want[i])
		}
	}
	if rep.Stage("clean").RejectedTotal() == 0 || ref.Counts["too-short"] == 0 || ref.Counts["plugin"] != 1 || ref.Counts["id-duplication"] != 1 {
		t.Errorf("the dataset does not exercise every rule: %v", ref.Counts)
	}
}

func TestContainsFoldASCII(t *testing.T) {
	tests := []struct {
		s, w string
	}{
		{"I am ChatGPT.", "chatgpt"},
		{"OPENAI", "openai"},
		{"open ai", "openai"},
		{"chatgp", "chatgpt"},
		{"xxChAtGpTxx", "chatgpt"},
		{"", "openai"},
		{"[openai]", "openai"},
		{"Open@I", "openai"}, // '@' is not 'A' lower-cased
		{"c", "c"},
	}
	for _, tt := range tests {
		want := strings.Contains(strings.ToLower(tt.s), tt.w)
		if got := containsFoldASCII(tt.s, tt.w); got != want {
			t.Errorf("containsFoldASCII(%q, %q) = %v, want %v", tt.s, tt.w, got, want)
		}
	}
}

func FuzzContainsFoldASCII(f *testing.F) {
	f.Add("I am ChatGPT", "chatgpt")
	f.Fuzz(func(t *testing.T, s, w string) {
		if !isASCII(s) || !isASCII(w) {
			return
		}
		w = strings.ToLower(w)
		if got, want := containsFoldASCII(s, w), strings.Contains(strings.ToLower(s), w); got != want {
			t.Errorf("containsFoldASCII(%q, %q) = %v, want %v", s, w, got, want)
		}
	})
}
