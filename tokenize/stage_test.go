package tokenize

import (
	"context"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

const vsys = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions."

func turns(pairs ...string) []pipeline.Turn {
	var ts []pipeline.Turn
	for i := 0; i+1 < len(pairs); i += 2 {
		ts = append(ts, pipeline.Turn{From: pairs[i], Value: pairs[i+1]})
	}
	return ts
}

func TestStageEncode(t *testing.T) {
	tok := tokenizer.Default()
	tests := []struct {
		name      string
		opts      Options
		turns     []pipeline.Turn
		reason    pipeline.Reason // "" when kept
		detail    string          // in the reject detail
		text      string          // prefix of the rendered text the ids decode to
		labels    string          // the labelled tokens decoded
		n         int             // tokens, when kept (0: any)
		cut       int
		dropFirst bool
	}{
		{
			name: "plain pair", turns: turns("human", "Hi", "gpt", "Hello"),
			text: vsys + " USER: Hi ASSISTANT: Hello", labels: "Hello",
		},
		{
			name: "user and assistant roles", turns: turns("user", "Hi", "assistant", "Hello"),
			text: vsys + " USER: Hi ASSISTANT: Hello", labels: "Hello",
		},
		{
			name: "system turn replaces the system message", turns: turns("system", "Be terse.", "human", "Hi", "gpt", "Yo"),
			text: "Be terse. USER: Hi ASSISTANT: Yo", labels: "Yo",
		},
		{
			name: "--system option", opts: Options{System: ptr("Sys.")}, turns: turns("human", "Hi", "gpt", "Yo"),
			text: "Sys. USER: Hi ASSISTANT: Yo", labels: "Yo",
		},
		{
			name: "a system turn wins over --system", opts: Options{System: ptr("Sys.")}, turns: turns("system", "Own.", "human", "Hi", "gpt", "Yo"),
			text: "Own. USER: Hi ASSISTANT: Yo", labels: "Yo",
		},
		{
			name: "opening gpt turn dropped as FastChat does", turns: turns("gpt", "lost", "human", "Hi", "gpt", "Yo"),
			text: vsys + " USER: Hi ASSISTANT: Yo", labels: "Yo", dropFirst: true,
		},
		{
			name: "opening gpt turn after a system turn dropped", turns: turns("system", "S.", "gpt", "lost", "human", "Hi", "gpt", "Yo"),
			text: "S. USER: Hi ASSISTANT: Yo", labels: "Yo", dropFirst: true,
		},
		{
			name: "strict roles reject an opening gpt turn", opts: Options{StrictRoles: true}, turns: turns("gpt", "x", "human", "Hi", "gpt", "Yo"),
			reason: ReasonInvalidRoles, detail: `turn 0: from "gpt", want "human"`,
		},
		{
			name: "two human turns", turns: turns("human", "a", "human", "b", "gpt", "c"),
			reason: ReasonInvalidRoles, detail: `turn 1: from "human", want "gpt"`,
		},
		{
			name: "unknown role", turns: turns("human", "a", "bing", "b"),
			reason: ReasonInvalidRoles, detail: `turn 1: from "bing"`,
		},
		{
			name: "system turn in the middle", turns: turns("human", "a", "system", "b", "gpt", "c"),
			reason: ReasonInvalidRoles, detail: `turn 1: from "system"`,
		},
		{
			name: "empty reply", turns: turns("human", "a", "gpt", ""),
			reason: ReasonEmptyTurn, detail: "turn 1 (gpt) is empty",
		},
		{
			name: "empty prompt", turns: turns("human", "", "gpt", "x"),
			reason: ReasonEmptyTurn, detail: "turn 0 (human) is empty",
		},
		{
			name: "no reply", turns: turns("human", "a"),
			reason: ReasonNoReply, detail: "1 turn(s), no gpt turn answering a human turn",
		},
		{
			name: "nothing", turns: nil,
			reason: ReasonNoReply, detail: "0 turn(s)",
		},
		{
			name: "only a dropped gpt turn", turns: turns("gpt", "a"),
			reason: ReasonNoReply,
		},
		{
			name: "trailing human turn kept unlabelled", turns: turns("human", "a", "gpt", "b", "human", "c"),
			text: vsys + " USER: a ASSISTANT: bUSER: c ", labels: "b", // Decode drops the EOS after "b"
		},
		{
			// BOS and the system message take 31 tokens, "▁US ER : ▁a" 4
			// more, "▁A SS IST ANT :" 5: the reply starts at token 40
			// (0-based); "▁one ▁two ▁three ▁four" EOS end at 45.
			name: "truncation keeps a partial reply", opts: Options{MaxLength: 42}, turns: turns("human", "a", "gpt", "one two three four"),
			labels: "one two", n: 42, cut: 3,
		},
		{
			name: "truncation before the reply", opts: Options{MaxLength: 40}, turns: turns("human", "a", "gpt", "one two three"),
			reason: ReasonTruncatedAway, detail: "44 tokens; the first assistant token is past --max-length 40",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ex, rerr := st.Encode(tc.turns)
			if tc.reason != "" {
				if rerr == nil || rerr.Reason != tc.reason || !strings.Contains(rerr.Detail, tc.detail) {
					t.Fatalf("got %v, want a %s reject containing %q", rerr, tc.reason, tc.detail)
				}
				return
			}
			if rerr != nil {
				t.Fatalf("rejected: %v", rerr)
			}
			ids := toInts(ex.IDs)
			if got := tok.Decode(ids); !strings.HasPrefix(got, tc.text) {
				t.Errorf("ids decode to %q, want %q", got, tc.text)
			}
			var lab []int
			for _, l := range ex.Labels {
				if l != IgnoreIndex {
					lab = append(lab, int(l))
				}
			}
			if got := tok.Decode(lab); got != tc.labels {
				t.Errorf("labels decode to %q, want %q", got, tc.labels)
			}
			if tc.n != 0 && len(ex.IDs) != tc.n {
				t.Errorf("%d tokens, want %d", len(ex.IDs), tc.n)
			}
			if ex.Cut != tc.cut || ex.DroppedFirst != tc.dropFirst {
				t.Errorf("cut %d, dropped first %v; want %d, %v", ex.Cut, ex.DroppedFirst, tc.cut, tc.dropFirst)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Template: "alpaca"}, `unknown template "alpaca"`},
		{Options{MaxLength: -1}, "max length must be positive"},
	}
	for _, tc := range tests {
		if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) error %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := NewEncoder(nil, chat.Template{}, false); err == nil {
		t.Error("NewEncoder(nil) succeeded")
	}
}

// TestProcess checks the row a kept record becomes and the details.
func TestProcess(t *testing.T) {
	st, err := New(Options{MaxLength: 40})
	if err != nil {
		t.Fatal(err)
	}
	var out pipeline.Out
	rec := pipeline.NewRecord("r1", turns("human", "a", "gpt", "b"))
	rec.SetStringField("model", "gpt4")
	if err := st.Process(context.Background(), rec, &out); err != nil {
		t.Fatal(err)
	}
	rec2 := pipeline.NewRecord("r2", turns("human", "a", "gpt", "b"))
	if err := st.Process(context.Background(), rec2, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Kept()) != 0 || len(out.Rejects()) != 2 || out.Rejects()[0].Reason != ReasonTruncatedAway {
		t.Fatalf("kept %d, rejects %v; want two truncated-away", len(out.Kept()), out.Rejects())
	}

	st, _ = New(Options{})
	out = pipeline.Out{}
	if err := st.Process(context.Background(), rec, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Kept()) != 1 {
		t.Fatalf("kept %d", len(out.Kept()))
	}
	got := string(pipeline.AppendRecord(nil, out.Kept()[0], pipeline.OutShareGPT))
	want := `{"id":"r1","input_ids":[1,319,13563,1546,263,12758,1404,322,385,23116,21082,20255,29889,450,20255,4076,8444,29892,13173,29892,322,1248,568,6089,304,278,1404,29915,29879,5155,29889,3148,1001,29901,263,319,1799,9047,13566,29901,289,2],` +
		`"labels":[-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,-100,289,2],` +
		`"attention_mask":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"n_tokens":42}`
	if got != want {
		t.Errorf("row\n got %s\nwant %s", got, want)
	}
	d := st.Details()
	if d.Rows != 1 || d.Tokens != 42 || d.LabelTokens != 2 || d.Longest != 42 || d.Truncated != 0 || d.Template != "vicuna_v1.1" || d.MaxLength != 2048 {
		t.Errorf("details %+v", d)
	}
}

func ptr(s string) *string { return &s }
