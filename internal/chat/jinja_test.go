package chat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		templates []string
		bos, eos  string
		specials  []string
		err       string
	}{
		{
			name:      "string template, tokens as strings",
			json:      `{"chat_template": "x", "bos_token": "<s>", "eos_token": "</s>"}`,
			templates: []string{"default"}, bos: "<s>", eos: "</s>", specials: []string{"</s>", "<s>"},
		},
		{
			name: "named templates, tokens as AddedToken objects, special added tokens",
			json: `{"chat_template": [{"name": "default", "template": "a"}, {"name": "tool_use", "template": "b"}],
				"bos_token": {"content": "<B>", "lstrip": false}, "eos_token": null,
				"added_tokens_decoder": {"5": {"content": "<x>", "special": true}, "6": {"content": "word", "special": false}}}`,
			templates: []string{"default", "tool_use"}, bos: "<B>", specials: []string{"<B>", "<x>"},
		},
		{name: "no template", json: `{}`},
		{name: "template of another type", json: `{"chat_template": 3}`, err: "neither a string nor a list"},
		{name: "token of another type", json: `{"bos_token": 3}`, err: "a token is a string"},
		{name: "not JSON", json: `{`, err: "cfg.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.json), "cfg.json")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for n := range c.Templates {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.templates) || c.BOS != tc.bos || c.EOS != tc.eos || !slices.Equal(c.Specials, tc.specials) {
				t.Errorf("templates %q bos %q eos %q specials %q", names, c.BOS, c.EOS, c.Specials)
			}
		})
	}
}

func writeConfig(t *testing.T, cfg string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolve(t *testing.T) {
	dir := writeConfig(t, `{"chat_template": "A{{ messages[0].content }}"}`, nil)
	withFile := writeConfig(t, `{"chat_template": "A"}`, map[string]string{TemplateFile: "J{{ messages[0].content }}"})
	empty := writeConfig(t, `{}`, nil)
	tests := []struct {
		name, config, want, err string
	}{
		{name: "chatml", want: "<|im_start|>user\nq<|im_end|>\n"},
		{name: Auto, config: dir, want: "Aq"},
		{name: Auto, config: filepath.Join(dir, ConfigFile), want: "Aq"},
		{name: Auto, config: withFile, want: "Jq"},
		{name: Auto, config: empty, err: "has no chat_template"},
		{name: Auto, err: "needs a tokenizer folder"},
		{name: Auto, config: filepath.Join(dir, "missing"), err: "no such file"},
		{name: "alpaca", err: `unknown template "alpaca" (known: vicuna_v1.1, llama-2, chatml)`},
	}
	for _, tc := range tests {
		tmpl, err := Resolve(tc.name, tc.config)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Resolve(%q, %q) error %v, want %q", tc.name, tc.config, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := tmpl.Render("", []Message{u("q")})
		if err != nil || r.Text != tc.want {
			t.Errorf("Resolve(%q, %q) renders %q, %v; want %q", tc.name, tc.config, r.Text, err, tc.want)
		}
	}
}

func jinjaTmpl(t *testing.T, src string) Template {
	t.Helper()
	c := &Config{Templates: map[string]string{"default": src}, BOS: "<s>", EOS: "</s>", Specials: []string{"</s>", "<s>", "<t>"}}
	tmpl, err := c.Template("")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestJinjaSpans: reply spans and special token spans of Jinja templates,
// with stripped contents, tool calls, special strings typed in messages
// and contents the template repeats or drops.
func TestJinjaSpans(t *testing.T) {
	const basic = "{{ bos_token }}{% for m in messages %}<t>{{ m.role }}\n{{ m.content | trim }}{% for c in m.tool_calls %}[{{ c.function.name }}:{{ c.function.arguments | tojson }}]{% endfor %}</s>{% endfor %}"
	call := []ToolCall{{Name: "f", Arguments: []byte(`{"b": 1, "a": [true, null, "x"]}`)}}
	tests := []struct {
		name     string
		src      string
		conv     Conversation
		text     string
		replies  []string
		specials []string
		err      string
	}{
		{
			name: "stripped replies, typed specials are text", src: basic,
			conv:     Conversation{System: "S", Messages: []Message{u(" <s>q "), a("\n answer </s> \n")}},
			text:     "<s><t>system\nS</s><t>user\n<s>q</s><t>assistant\nanswer </s></s>",
			replies:  []string{"answer </s></s>"},
			specials: []string{"<s>", "<t>", "</s>", "<t>", "</s>", "<t>", "</s>"},
		},
		{
			name: "tool call without content, argument order kept", src: basic,
			conv:     Conversation{Messages: []Message{u("q"), {Role: Assistant, ToolCalls: call}, {Role: Tool, Content: "r"}, a("done")}},
			text:     `<s><t>user` + "\n" + `q</s><t>assistant` + "\n" + `[f:{"b": 1, "a": [true, null, "x"]}]</s><t>tool` + "\n" + `r</s><t>assistant` + "\n" + `done</s>`,
			replies:  []string{`[f:{"b": 1, "a": [true, null, "x"]}]</s>`, "done</s>"},
			specials: []string{"<s>", "<t>", "</s>", "<t>", "</s>", "<t>", "</s>", "<t>", "</s>"},
		},
		{
			name: "empty reply without tool calls is an empty span", src: basic,
			conv:     Conversation{Messages: []Message{u("q"), a("")}},
			text:     "<s><t>user\nq</s><t>assistant\n</s>",
			replies:  []string{""},
			specials: []string{"<s>", "<t>", "</s>", "<t>", "</s>"},
		},
		{
			name: "Python's lstrip with an argument strips only those characters",
			src:  "{% for m in messages %}{{ m.content.lstrip('\\n') }}</s>{% endfor %}",
			conv: Conversation{Messages: []Message{u("q"), a("\n  x")}},
			text: "q</s>  x</s>", replies: []string{"  x</s>"}, specials: []string{"</s>", "</s>"},
		},
		{
			name: "template that branches on the content",
			src:  "{% for m in messages %}{% if 'x' in m.content %}X{% endif %}{{ m.content }}{% endfor %}",
			conv: Conversation{Messages: []Message{u("q"), a("x")}},
			err:  "is not the message's text",
		},
		{
			name: "template that writes the reply twice",
			src:  "{% for m in messages %}{{ m.content }}{{ m.content }}{% endfor %}",
			conv: Conversation{Messages: []Message{u("q"), a("x")}},
			err:  "content 2 times",
		},
		{
			name: "template that drops the reply",
			src:  "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}",
			conv: Conversation{Messages: []Message{u("q"), a("x")}},
			err:  "leaves out the assistant's content",
		},
		{
			name: "raise_exception",
			src:  "{{ raise_exception('roles must alternate') }}",
			conv: Conversation{Messages: []Message{u("q")}},
			err:  "roles must alternate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := jinjaTmpl(t, tc.src)
			r, err := tmpl.RenderConversation(&tc.conv)
			if tc.err != "" {
				var se *SpanError
				var te *TemplateError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &se) && !errors.As(err, &te) {
					t.Fatalf("error %v, want a SpanError or TemplateError with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.text {
				t.Errorf("text\n got %q\nwant %q", r.Text, tc.text)
			}
			var replies, specials []string
			for _, s := range r.Replies {
				replies = append(replies, r.Text[s.Start:s.End])
			}
			for i := range r.Specials {
				specials = append(specials, r.SpecialText(i))
			}
			if !slices.Equal(replies, tc.replies) {
				t.Errorf("replies %q, want %q", replies, tc.replies)
			}
			if !slices.Equal(specials, tc.specials) {
				t.Errorf("specials %q, want %q", specials, tc.specials)
			}
		})
	}
}

// TestNamedTemplatesRefuseTools: tools and tool calls need a model's own
// template.
func TestNamedTemplatesRefuseTools(t *testing.T) {
	tmpl, _ := Lookup("chatml")
	if _, err := tmpl.RenderConversation(&Conversation{Tools: []byte(`[{}]`), Messages: []Message{u("q")}}); err == nil || !strings.Contains(err.Error(), "no place for tools") {
		t.Errorf("tools: error %v", err)
	}
	if _, err := tmpl.RenderConversation(&Conversation{Messages: []Message{u("q"), {Role: Assistant, ToolCalls: []ToolCall{{Name: "f"}}}}}); err == nil || !strings.Contains(err.Error(), "no place for tool calls") {
		t.Errorf("tool calls: error %v", err)
	}
	var re *RoleError
	if _, err := tmpl.RenderConversation(&Conversation{Messages: []Message{u("q"), {Role: Tool, Content: "r"}}}); !errors.As(err, &re) || re.Got != Tool {
		t.Errorf("tool message: error %v, want a RoleError", err)
	}
}

// TestJinjaConcurrent: one compiled template renders on many goroutines at
// once (stages run on all workers) with the same results.
func TestJinjaConcurrent(t *testing.T) {
	tmpl := jinjaTmpl(t, "{{ bos_token }}{% for m in messages %}<t>{{ m.role }}\n{{ m.content | trim }}</s>{% endfor %}")
	conv := &Conversation{System: "S", Messages: []Message{u("q"), a(" r ")}}
	want, err := tmpl.RenderConversation(conv)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for range 50 {
				r, err := tmpl.RenderConversation(conv)
				if err != nil || r.Text != want.Text || !slices.Equal(r.Replies, want.Replies) || !slices.Equal(r.Specials, want.Specials) {
					errs <- fmt.Sprintf("%q %v %v", r.Text, r.Replies, err)
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
