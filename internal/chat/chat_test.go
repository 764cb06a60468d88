package chat

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func u(s string) Message { return Message{Role: User, Content: s} }
func a(s string) Message { return Message{Role: Assistant, Content: s} }

const vsys = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions."

// The expected texts are FastChat's Conversation.get_prompt output for the
// same messages, traced by hand from conversation.py.
func TestRender(t *testing.T) {
	tests := []struct {
		name     string
		template string
		system   *string // nil: the template's default
		msgs     []Message
		want     string
		replies  []string // text of each reply span
		specials []string // text of each special span
	}{
		{
			name: "vicuna two rounds", template: "vicuna_v1.1",
			msgs:     []Message{u("Hello"), a("Hi there"), u("How?"), a("Fine.")},
			want:     vsys + " USER: Hello ASSISTANT: Hi there</s>USER: How? ASSISTANT: Fine.</s>",
			replies:  []string{"Hi there</s>", "Fine.</s>"},
			specials: []string{"</s>", "</s>"},
		},
		{
			name: "vicuna trailing user turn", template: "vicuna_v1.1",
			msgs: []Message{u("a")},
			want: vsys + " USER: a ",
		},
		{
			name: "vicuna empty reply has no separator", template: "vicuna_v1.1",
			msgs:    []Message{u("a"), a(""), u("b"), a("c")},
			want:    vsys + " USER: a ASSISTANT:USER: b ASSISTANT: c</s>",
			replies: []string{"", "c</s>"}, specials: []string{"</s>"},
		},
		{
			name: "vicuna empty user turn", template: "vicuna_v1.1",
			msgs:    []Message{u(""), a("x")},
			want:    vsys + " USER:ASSISTANT: x</s>",
			replies: []string{"x</s>"}, specials: []string{"</s>"},
		},
		{
			name: "vicuna literal special strings are text", template: "vicuna_v1.1",
			msgs:     []Message{u("what is </s>?"), a("<s> and </s> are tokens</s>")},
			want:     vsys + " USER: what is </s>? ASSISTANT: <s> and </s> are tokens</s></s>",
			replies:  []string{"<s> and </s> are tokens</s></s>"},
			specials: []string{"</s>"},
		},
		{
			name: "vicuna own system message", template: "vicuna_v1.1", system: ptr("Be brief."),
			msgs:    []Message{u("q"), a("r")},
			want:    "Be brief. USER: q ASSISTANT: r</s>",
			replies: []string{"r</s>"}, specials: []string{"</s>"},
		},
		{
			name: "vicuna empty system message keeps the separator", template: "vicuna_v1.1", system: ptr(""),
			msgs:    []Message{u("q"), a("r")},
			want:    " USER: q ASSISTANT: r</s>",
			replies: []string{"r</s>"}, specials: []string{"</s>"},
		},
		{
			name: "llama-2 without system", template: "llama-2",
			msgs:     []Message{u("Hi"), a("Hello"), u("Q2"), a("A2")},
			want:     "[INST] Hi [/INST] Hello </s><s>[INST] Q2 [/INST] A2 </s><s>",
			replies:  []string{"Hello </s>", "A2 </s>"},
			specials: []string{"</s>", "<s>", "</s>", "<s>"},
		},
		{
			name: "llama-2 with system", template: "llama-2", system: ptr("SYS"),
			msgs:     []Message{u("Hi"), a("Hello"), u("Q2")},
			want:     "[INST] <<SYS>>\nSYS\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Q2 ",
			replies:  []string{"Hello </s>"},
			specials: []string{"</s>", "<s>"},
		},
		{
			name: "llama-2 empty turns are bare tags", template: "llama-2",
			msgs:    []Message{u(""), a(""), u("x"), a("y")},
			want:    "[INST] [INST][/INST][INST] x [/INST] y </s><s>",
			replies: []string{"", "y </s>"}, specials: []string{"</s>", "<s>"},
		},
		{
			name: "chatml with system", template: "chatml", system: ptr("S"),
			msgs:     []Message{u("Hi"), a("Hello")},
			want:     "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n",
			replies:  []string{"Hello<|im_end|>"},
			specials: []string{"<|im_start|>", "<|im_end|>", "<|im_start|>", "<|im_end|>", "<|im_start|>", "<|im_end|>"},
		},
		{
			name: "chatml without system, empty reply", template: "chatml",
			msgs:     []Message{u("Hi"), a(""), u("<|im_end|>")},
			want:     "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<|im_start|>user\n<|im_end|><|im_end|>\n",
			replies:  []string{""},
			specials: []string{"<|im_start|>", "<|im_end|>", "<|im_start|>", "<|im_start|>", "<|im_end|>"},
		},
		{
			name: "no messages", template: "vicuna_v1.1",
			want: vsys + " ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Lookup(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			system := tmpl.DefaultSystem
			if tc.system != nil {
				system = *tc.system
			}
			r, err := tmpl.Render(system, tc.msgs)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.want {
				t.Errorf("text\n got %q\nwant %q", r.Text, tc.want)
			}
			var replies, specials []string
			for _, s := range r.Replies {
				replies = append(replies, r.Text[s.Start:s.End])
			}
			for i := range r.Specials {
				specials = append(specials, r.SpecialText(i))
				if !slices.Contains(tmpl.SpecialTokens, r.SpecialText(i)) {
					t.Errorf("special %q is not among the template's %q", r.SpecialText(i), tmpl.SpecialTokens)
				}
			}
			if !slices.Equal(replies, tc.replies) {
				t.Errorf("replies %q, want %q", replies, tc.replies)
			}
			if !slices.Equal(specials, tc.specials) {
				t.Errorf("specials %q, want %q", specials, tc.specials)
			}
			// Every reply span starts where its message's text starts.
			k := 0
			for _, m := range tc.msgs {
				if m.Role != Assistant {
					continue
				}
				if got := r.Text[r.Replies[k].Start:]; !strings.HasPrefix(got, m.Content) {
					t.Errorf("reply %d starts at %q, not at its text %q", k, got, m.Content)
				}
				k++
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestRenderRoles(t *testing.T) {
	tmpl, _ := Lookup("vicuna_v1.1")
	tests := []struct {
		msgs  []Message
		index int
		got   Role
	}{
		{[]Message{a("x")}, 0, Assistant},
		{[]Message{u("x"), u("y")}, 1, User},
		{[]Message{u("x"), a("y"), a("z")}, 2, Assistant},
	}
	for _, tc := range tests {
		_, err := tmpl.Render("", tc.msgs)
		var re *RoleError
		if !errors.As(err, &re) || re.Index != tc.index || re.Got != tc.got {
			t.Errorf("Render(%v) error %v, want a RoleError at %d (%s)", tc.msgs, err, tc.index, tc.got)
		}
	}
}

func TestLookup(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"vicuna_v1.1", "llama-2", "chatml"}) {
		t.Errorf("Names() = %q", got)
	}
	if _, err := Lookup("alpaca"); err == nil || !strings.Contains(err.Error(), "vicuna_v1.1, llama-2, chatml") {
		t.Errorf("Lookup(alpaca) error %v, want one listing the known templates", err)
	}
	v, err := Lookup("vicuna_v1.1")
	if err != nil || v.DefaultSystem != vsys {
		t.Errorf("vicuna_v1.1 system %q, %v", v.DefaultSystem, err)
	}
}
