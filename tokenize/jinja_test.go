package tokenize

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/pipeline"
)

// testConfig is a tokenizer_config.json whose Jinja template uses the
// LLaMA control tokens, so the embedded tokenizer can encode it.
const testConfig = `{
  "bos_token": "<s>", "eos_token": {"content": "</s>"},
  "added_tokens_decoder": {"1": {"content": "<s>", "special": true}, "2": {"content": "</s>", "special": true}},
  "chat_template": "{{ bos_token }}{% if tools %}TOOLS {{ tools | tojson }}\n{% endif %}{% for m in messages %}{% if m.role == 'assistant' %}ASSISTANT: {{ m.content | trim }}{% for c in m.tool_calls %}CALL {{ c.function.name }} {{ c.function.arguments | tojson }}{% endfor %}</s>{% else %}{{ m.role | upper }}: {{ m.content }} {% endif %}{% endfor %}"
}`

func jinjaStage(t *testing.T, opts Options) *Stage {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, chat.ConfigFile), []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Template, opts.TemplateConfig = chat.Auto, dir
	st, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func record(t *testing.T, js string) *pipeline.Record {
	t.Helper()
	rec, err := pipeline.DecodeRecord([]byte(js), pipeline.InputStyle(0))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestEncodeRecordJinja: LLaMA-Factory's roles through a model's own
// template. The template writes BOS itself (no second one), the labels
// are exactly the replies (tool calls included) and their </s>, and the
// rendered text is what the template makes of the mapped conversation.
func TestEncodeRecordJinja(t *testing.T) {
	st := jinjaStage(t, Options{})
	rec := record(t, `{"id": "x", "system": "Be brief.", "tools": "[{\"name\": \"weather\"}]", "conversations": [
		{"from": "gpt", "value": "dropped opener"},
		{"from": "human", "value": "Weather?"},
		{"from": "function_call", "value": "{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\", \"at\": 1}}"},
		{"from": "observation", "value": "sunny"},
		{"from": "gpt", "value": " It is sunny. "}]}`)
	ex, rerr := st.EncodeRecord(rec)
	if rerr != nil {
		t.Fatal(rerr)
	}
	c, dropped, _ := st.Conversation(rec)
	r, err := st.tmpl.RenderConversation(c)
	if err != nil {
		t.Fatal(err)
	}
	wantText := `<s>TOOLS [{"name": "weather"}]` + "\n" + `SYSTEM: Be brief. USER: Weather? ASSISTANT: CALL weather {"city": "Paris", "at": 1}</s>TOOL: sunny ASSISTANT: It is sunny.</s>`
	if r.Text != wantText {
		t.Errorf("text\n got %q\nwant %q", r.Text, wantText)
	}
	if !dropped || !ex.DroppedFirst {
		t.Error("the opening gpt turn was not dropped")
	}
	if ex.IDs[0] != 1 || ex.Spans[0] != (chat.Span{Start: 0, End: 3}) || strings.Count(r.Text, "<s>") != 1 {
		t.Errorf("first token %d %v, want the template's own <s> (1) at [0,3)", ex.IDs[0], ex.Spans[0])
	}
	for _, id := range ex.IDs[1:] {
		if id == 1 {
			t.Error("a second BOS")
		}
	}
	// Runs of labelled tokens, as text.
	var runs []string
	for i := 0; i < len(ex.IDs); i++ {
		if ex.Labels[i] == IgnoreIndex {
			continue
		}
		j := i
		for j+1 < len(ex.IDs) && ex.Labels[j+1] != IgnoreIndex {
			j++
		}
		runs = append(runs, strings.TrimPrefix(r.Text[ex.Spans[i].Start:ex.Spans[j].End], " "))
		i = j
	}
	want := []string{`CALL weather {"city": "Paris", "at": 1}</s>`, "It is sunny.</s>"}
	if strings.Join(runs, "|") != strings.Join(want, "|") {
		t.Errorf("labelled runs %q, want %q", runs, want)
	}
	for i, l := range ex.Labels {
		if l != IgnoreIndex && l != ex.IDs[i] {
			t.Errorf("label %d is %d, id %d", i, l, ex.IDs[i])
		}
	}
}

func TestConversationRoles(t *testing.T) {
	st := jinjaStage(t, Options{StrictRoles: true})
	tests := []struct {
		name   string
		rec    string
		reason pipeline.Reason // "" when accepted
		roles  string          // the messages' roles, when accepted
		system string
	}{
		{"leading system turn wins over the field", `{"system": "F", "conversations": [{"from": "system", "value": "T"}, {"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}`, "", "user assistant", "T"},
		{"record system field", `{"system": "F", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}`, "", "user assistant", "F"},
		{"tool roles", `{"conversations": [{"from": "user", "value": "q"}, {"from": "function_call", "value": "[{\"name\": \"f\"}, {\"name\": \"g\", \"arguments\": \"{}\"}]"}, {"from": "tool", "value": "r"}, {"from": "system", "value": "s"}, {"from": "assistant", "value": "a"}]}`, "", "user assistant tool system assistant", ""},
		{"bad function_call", `{"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "weather(Paris)"}]}`, ReasonBadToolCall, "", ""},
		{"function_call without name", `{"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "{\"arguments\": {}}"}]}`, ReasonBadToolCall, "", ""},
		{"tools not an array", `{"tools": "{}", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}`, ReasonBadToolCall, "", ""},
		{"unknown role", `{"conversations": [{"from": "human", "value": "q"}, {"from": "bot", "value": "a"}]}`, ReasonInvalidRoles, "", ""},
		{"empty turn", `{"conversations": [{"from": "human", "value": ""}, {"from": "gpt", "value": "a"}]}`, ReasonEmptyTurn, "", ""},
		{"no reply", `{"conversations": [{"from": "human", "value": "q"}, {"from": "observation", "value": "r"}]}`, ReasonNoReply, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, rerr := st.Conversation(record(t, tc.rec))
			if tc.reason != "" {
				if rerr == nil || rerr.Reason != tc.reason {
					t.Fatalf("got %v, want a %s reject", rerr, tc.reason)
				}
				return
			}
			if rerr != nil {
				t.Fatal(rerr)
			}
			var roles []string
			for _, m := range c.Messages {
				roles = append(roles, m.Role.String())
			}
			if got := strings.Join(roles, " "); got != tc.roles || c.System != tc.system {
				t.Errorf("roles %q system %q, want %q %q", got, c.System, tc.roles, tc.system)
			}
		})
	}
}

// TestJinjaTemplateReject: the template's raise_exception is a reject.
func TestJinjaTemplateReject(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"chat_template": "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tools here') }}{% endif %}{{ m.content }}{% endfor %}"}`
	if err := os.WriteFile(filepath.Join(dir, chat.ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := New(Options{Template: chat.Auto, TemplateConfig: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, rerr := st.EncodeRecord(record(t, `{"conversations": [{"from": "human", "value": "q"}, {"from": "observation", "value": "r"}, {"from": "gpt", "value": "a"}]}`))
	if rerr == nil || rerr.Reason != ReasonTemplate || !strings.Contains(rerr.Detail, "no tools here") {
		t.Errorf("got %v, want a %s reject naming the exception", rerr, ReasonTemplate)
	}
	if _, err := New(Options{Template: chat.Auto}); err == nil {
		t.Error("auto without TemplateConfig accepted")
	}
}

// TestProcessJinjaParts: a record in OpenAI's format with content parts
// through a model's own template: the text parts are the message, the
// image part is counted in the details, and the row's labels are the
// reply's tokens and its </s>.
func TestProcessJinjaParts(t *testing.T) {
	st := jinjaStage(t, Options{})
	rec := record(t, `{"id": "p", "messages": [
		{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:x"}}, {"type": "text", "text": "What is it?"}]},
		{"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}]}`)
	var out pipeline.Out
	if err := st.Process(context.Background(), rec, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Kept()) != 1 {
		t.Fatalf("kept %d, rejects %v", len(out.Kept()), out.Rejects())
	}
	ex, rerr := st.EncodeRecord(rec)
	if rerr != nil {
		t.Fatal(rerr)
	}
	tok := st.opts.Tokenizer
	var labelled []int
	for i, l := range ex.Labels {
		if l != IgnoreIndex {
			labelled = append(labelled, int(ex.IDs[i]))
		}
	}
	if got := tok.Decode(labelled); strings.TrimSpace(got) != "A cat." || labelled[len(labelled)-1] != tok.EOS() {
		t.Errorf("labelled tokens %v decode to %q, want the reply and EOS", labelled, got)
	}
	if d := st.Details(); d.NonTextParts != 1 || d.Rows != 1 || d.Template != chat.Auto {
		t.Errorf("details %+v, want 1 non-text part, 1 row, template auto", d)
	}
}
