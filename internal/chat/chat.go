package chat

import (
	"fmt"
	"slices"
	"strings"
)

// Role is who wrote a message.
type Role uint8

// Roles of a conversation's messages.
const (
	User Role = iota
	Assistant
)

func (r Role) String() string {
	if r == Assistant {
		return "assistant"
	}
	return "user"
}

// Message is one turn of a conversation.
type Message struct {
	Role    Role
	Content string
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
}

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
// t.DefaultSystem for the template's own). Messages must alternate user,
// assistant, starting with user, or Render returns a *RoleError.
func (t *Template) Render(system string, msgs []Message) (Rendered, error) {
	for i, m := range msgs {
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
