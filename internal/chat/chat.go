package chat

import (
	"fmt"
	"slices"
	"strings"
)

// Role is who wrote a message.
type Role uint8

// Roles of a conversation's messages. The named templates know User and
// Assistant only; Jinja templates get all four, as the role names
// "user", "assistant", "system" and "tool".
const (
	User Role = iota
	Assistant
	System
	Tool
)

func (r Role) String() string {
	switch r {
	case Assistant:
		return "assistant"
	case System:
		return "system"
	case Tool:
		return "tool"
	}
	return "user"
}

// Message is one turn of a conversation.
type Message struct {
	Role    Role
	Content string
	// ToolCalls are the function calls of an assistant message (Jinja
	// templates only).
	ToolCalls []ToolCall
}

// ToolCall is one function call an assistant message makes, given to a
// Jinja template as {"type": "function", "function": {"name": Name,
// "arguments": Arguments}}.
type ToolCall struct {
	Name string
	// Arguments is the call's arguments as JSON: an object is given to
	// the template as a mapping (its keys in order), a string as a
	// string. Empty is {}.
	Arguments []byte
}

// Conversation is what a template renders.
type Conversation struct {
	// System is the system message ("" for none); a Jinja template gets it
	// as a leading {"role": "system"} message.
	System   string
	Messages []Message
	// Tools is the JSON array of tool (function) definitions offered to
	// the model, given to a Jinja template as "tools" (nil: none, and the
	// template sees no "tools"). Named templates refuse tools.
	Tools []byte
}

// Span is a byte range [Start, End) of a rendered text.
type Span struct {
	Start, End int
}

// Len returns the number of bytes in the span.
func (s Span) Len() int { return s.End - s.Start }

// Rendered is a conversation in a template.
type Rendered struct {
	Text string
	// Specials are the spans of the special tokens the template placed, in
	// order ("</s>", "<s>", "<|im_start|>", "<|im_end|>"); Text[s.Start:s.End]
	// is the token's string.
	Specials []Span
	// Replies holds one span per assistant message, in order: its text and
	// the closing end token text the template puts after it. The span of an
	// empty reply is empty.
	Replies []Span
}

// SpecialText returns the string of special token i.
func (r *Rendered) SpecialText(i int) string {
	s := r.Specials[i]
	return r.Text[s.Start:s.End]
}

// Template is a chat template. Templates are immutable values.
type Template struct {
	// Name is the template's name, as FastChat registers it.
	Name string
	// DefaultSystem is the system message used when a conversation has
	// none of its own ("" for none).
	DefaultSystem string
	// SpecialTokens lists the special token strings the template places.
	SpecialTokens []string

	render func(b *builder, system string, msgs []Message)
	jinja  *jinjaTemplate // a template from a tokenizer_config.json
}

// IsJinja reports whether the template is a model's own Jinja chat
// template (see FromConfig) rather than one of the named templates.
func (t *Template) IsJinja() bool { return t.jinja != nil }

// vicunaSystem is FastChat's vicuna_v1.1 system message.
const vicunaSystem = "A chat between a curious user and an artificial intelligence assistant. " +
	"The assistant gives helpful, detailed, and polite answers to the user's questions."

var templates = []Template{
	{Name: "vicuna_v1.1", DefaultSystem: vicunaSystem, SpecialTokens: []string{"</s>"}, render: renderVicuna},
	{Name: "llama-2", SpecialTokens: []string{"</s>", "<s>"}, render: renderLlama2},
	{Name: "chatml", SpecialTokens: []string{"<|im_start|>", "<|im_end|>"}, render: renderChatML},
}

// Names lists the known templates.
func Names() []string {
	names := make([]string, len(templates))
	for i, t := range templates {
		names[i] = t.Name
	}
	return names
}

// Lookup returns the named template.
func Lookup(name string) (Template, error) {
	i := slices.IndexFunc(templates, func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, fmt.Errorf("unknown template %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return templates[i], nil
}

// RoleError reports a message whose role breaks the user, assistant
// alternation a template needs.
type RoleError struct {
	Index int  // the message's index
	Got   Role // its role
}

func (e *RoleError) Error() string {
	want := User
	if e.Index%2 == 1 {
		want = Assistant
	}
	return fmt.Sprintf("message %d is from the %s, want the %s (messages must alternate user, assistant)", e.Index, e.Got, want)
}

// Render renders msgs with the given system message ("" for none; pass
// t.DefaultSystem for the template's own). For a named template, messages
// must alternate user, assistant, starting with user, or Render returns a
// *RoleError; a Jinja template decides itself what it accepts (its
// raise_exception calls are a *TemplateError).
func (t *Template) Render(system string, msgs []Message) (Rendered, error) {
	return t.RenderConversation(&Conversation{System: system, Messages: msgs})
}

// RenderConversation renders c. Named templates refuse tools, tool calls
// and roles other than user and assistant.
func (t *Template) RenderConversation(c *Conversation) (Rendered, error) {
	if t.jinja != nil {
		return t.jinja.render(c)
	}
	if len(c.Tools) > 0 {
		return Rendered{}, fmt.Errorf("template %s has no place for tools (use a model's own chat template)", t.Name)
	}
	system, msgs := c.System, c.Messages
	for i, m := range msgs {
		if len(m.ToolCalls) > 0 {
			return Rendered{}, fmt.Errorf("message %d: template %s has no place for tool calls (use a model's own chat template)", i, t.Name)
		}
		if m.Role != Role(i%2) {
			return Rendered{}, &RoleError{Index: i, Got: m.Role}
		}
	}
	n := len(system) + 32
	for _, m := range msgs {
		n += len(m.Content) + 24
	}
	b := &builder{buf: make([]byte, 0, n)}
	t.render(b, system, msgs)
	return Rendered{Text: string(b.buf), Specials: b.specials, Replies: b.replies}, nil
}

// builder accumulates a rendered text and its spans.
type builder struct {
	buf        []byte
	specials   []Span
	replies    []Span
	replyStart int
}

func (b *builder) text(s ...string) {
	for _, x := range s {
		b.buf = append(b.buf, x...)
	}
}

func (b *builder) special(s string) {
	start := len(b.buf)
	b.buf = append(b.buf, s...)
	b.specials = append(b.specials, Span{start, len(b.buf)})
}

func (b *builder) beginReply() { b.replyStart = len(b.buf) }

func (b *builder) endReply() {
	b.replies = append(b.replies, Span{b.replyStart, len(b.buf)})
}

// renderVicuna is FastChat's SeparatorStyle.ADD_COLON_TWO with the
// vicuna_v1.1 roles and separators (sep " ", sep2 "</s>").
func renderVicuna(b *builder, system string, msgs []Message) {
	roles := [2]string{"USER", "ASSISTANT"}
	b.text(system, " ")
	for i, m := range msgs {
		if m.Content == "" {
			b.text(roles[i%2], ":")
			if m.Role == Assistant {
				b.beginReply()
				b.endReply()
			}
			continue
		}
		b.text(roles[i%2], ": ")
		if m.Role == User {
			b.text(m.Content, " ")
			continue
		}
		b.beginReply()
		b.text(m.Content)
		b.special("</s>")
		b.endReply()
	}
}

// renderLlama2 is FastChat's SeparatorStyle.LLAMA2 with the llama-2
// system template, roles and separators (sep " ", sep2 " </s><s>").
func renderLlama2(b *builder, system string, msgs []Message) {
	roles := [2]string{"[INST]", "[/INST]"}
	if system != "" {
		b.text("[INST] <<SYS>>\n", system, "\n<</SYS>>\n\n")
	} else {
		b.text("[INST] ")
	}
	for i, m := range msgs {
		if m.Content == "" {
			b.text(roles[i%2])
			if m.Role == Assistant {
				b.beginReply()
				b.endReply()
			}
			continue
		}
		if i == 0 {
			b.text(m.Content, " ")
			continue
		}
		b.text(roles[i%2], " ")
		if m.Role == User {
			b.text(m.Content, " ")
			continue
		}
		b.beginReply()
		b.text(m.Content, " ")
		b.special("</s>")
		b.endReply()
		b.special("<s>")
	}
}

// renderChatML is FastChat's SeparatorStyle.CHATML with ChatML's roles and
// separator (sep "<|im_end|>"); the system block is written only for a
// non-empty system message.
func renderChatML(b *builder, system string, msgs []Message) {
	roles := [2]string{"user", "assistant"}
	if system != "" {
		b.special("<|im_start|>")
		b.text("system\n", system)
		b.special("<|im_end|>")
		b.text("\n")
	}
	for i, m := range msgs {
		b.special("<|im_start|>")
		b.text(roles[i%2], "\n")
		if m.Role == Assistant {
			b.beginReply()
		}
		if m.Content == "" {
			if m.Role == Assistant {
				b.endReply()
			}
			continue
		}
		b.text(m.Content)
		b.special("<|im_end|>")
		if m.Role == Assistant {
			b.endReply()
		}
		b.text("\n")
	}
}
