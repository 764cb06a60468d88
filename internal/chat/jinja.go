package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ardanlabs/jinja"
)

// TemplateError is an error of a Jinja template while rendering a
// conversation: its raise_exception calls ("Conversation roles must
// alternate ...") and evaluation errors.
type TemplateError struct {
	Err error
}

func (e *TemplateError) Error() string { return "chat template: " + e.Err.Error() }
func (e *TemplateError) Unwrap() error { return e.Err }

// SpanError says that the spans of a rendered conversation could not be
// found: the template changed a message's text in a way other than
// stripping whitespace around it, or branched on it.
type SpanError struct {
	Msg string
}

func (e *SpanError) Error() string { return "chat template spans: " + e.Msg }

// endOfTurn lists the end-of-turn token strings of common templates; those
// among a configuration's special tokens, with its EOS, close a reply.
var endOfTurn = []string{
	"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<|return|>", "<|call|>",
	"<|endoftext|>", "<｜end▁of▁sentence｜>", "</s>", "<eos>",
}

// jinjaTemplate is a compiled Jinja chat template.
type jinjaTemplate struct {
	t        *jinja.Template
	bos, eos string
	// eot are the strings that close a reply.
	eot []string
	// specials holds the special token strings, and lens their distinct
	// lengths, longest first.
	specials map[string]bool
	lens     []int
}

func compileJinja(src string, c *Config) (*jinjaTemplate, error) {
	t, err := jinja.Compile(src)
	if err != nil {
		return nil, err
	}
	j := &jinjaTemplate{t: t, bos: c.BOS, eos: c.EOS, specials: map[string]bool{}}
	for _, s := range c.Specials {
		j.specials[s] = true
		if !slices.Contains(j.lens, len(s)) {
			j.lens = append(j.lens, len(s))
		}
	}
	slices.SortFunc(j.lens, func(a, b int) int { return b - a })
	if c.EOS != "" {
		j.eot = append(j.eot, c.EOS)
	}
	for _, s := range endOfTurn {
		if j.specials[s] && s != c.EOS {
			j.eot = append(j.eot, s)
		}
	}
	return j, nil
}

// tmsg is a message as the template sees it.
type tmsg struct {
	role      string
	content   string
	toolCalls []ToolCall
	assistant bool
}

func templateMessages(c *Conversation) []tmsg {
	ms := make([]tmsg, 0, len(c.Messages)+1)
	if c.System != "" {
		ms = append(ms, tmsg{role: "system", content: c.System})
	}
	for _, m := range c.Messages {
		ms = append(ms, tmsg{role: m.Role.String(), content: m.Content, toolCalls: m.ToolCalls, assistant: m.Role == Assistant})
	}
	return ms
}

// context builds the template's variables; content gives each message's
// content.
func (j *jinjaTemplate) context(ms []tmsg, tools jinja.Value, content func(i int) string) map[string]jinja.Value {
	list := make([]jinja.Value, len(ms))
	for i, m := range ms {
		d := jinja.NewDict()
		dd := d.AsDict()
		dd.Set("role", jinja.NewString(m.role))
		dd.Set("content", jinja.NewString(content(i)))
		if len(m.toolCalls) > 0 {
			calls := make([]jinja.Value, len(m.toolCalls))
			for k, tc := range m.toolCalls {
				f := jinja.NewDict()
				f.AsDict().Set("name", jinja.NewString(tc.Name))
				f.AsDict().Set("arguments", tc.arguments())
				call := jinja.NewDict()
				call.AsDict().Set("type", jinja.NewString("function"))
				call.AsDict().Set("function", f)
				calls[k] = call
			}
			dd.Set("tool_calls", jinja.NewList(calls))
		}
		list[i] = d
	}
	ctx := map[string]jinja.Value{
		"messages":              jinja.NewList(list),
		"bos_token":             jinja.NewString(j.bos),
		"eos_token":             jinja.NewString(j.eos),
		"add_generation_prompt": jinja.NewBool(false),
	}
	if !tools.IsUndefined() {
		ctx["tools"] = tools
	}
	return ctx
}

func (tc ToolCall) arguments() jinja.Value {
	if len(bytes.TrimSpace(tc.Arguments)) == 0 {
		return jinja.NewDict()
	}
	v, err := jsonValue(tc.Arguments)
	if err != nil {
		return jinja.NewString(string(tc.Arguments))
	}
	return v
}

// jsonValue converts JSON to a template value, keeping the order of object
// members (tojson writes them in that order, as Python's json.dumps does).
func jsonValue(data []byte) (jinja.Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValue(d)
	if err != nil {
		return jinja.Undefined(), err
	}
	if _, err := d.Token(); err == nil {
		return jinja.Undefined(), errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder) (jinja.Value, error) {
	tok, err := d.Token()
	if err != nil {
		return jinja.Undefined(), err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var items []jinja.Value
			for d.More() {
				v, err := decodeValue(d)
				if err != nil {
					return v, err
				}
				items = append(items, v)
			}
			_, err := d.Token()
			return jinja.NewList(items), err
		}
		obj := jinja.NewDict()
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return obj, err
			}
			v, err := decodeValue(d)
			if err != nil {
				return v, err
			}
			obj.AsDict().Set(k.(string), v)
		}
		_, err := d.Token()
		return obj, err
	default:
		return jinja.FromGoValue(tok), nil
	}
}

func (j *jinjaTemplate) exec(ctx map[string]jinja.Value) (string, error) {
	s, err := j.t.RenderValues(ctx)
	if err != nil {
		return "", &TemplateError{Err: err}
	}
	return s, nil
}

// render renders c and finds its spans. The conversation is rendered
// twice: as it is (the text), and with each non-empty message content
// replaced by a placeholder (private-use characters around the message's
// index). The placeholder rendering cuts the text into the template's own
// text, the same in both, and the message contents, which the template may
// have stripped of whitespace around them: the text is matched piece by
// piece against it, so every byte of the text is known to be the
// template's or a message's. Special tokens are looked for in the
// template's text only; a reply span runs from the start of the assistant
// message's content to the end of the first end-of-turn token that the
// template writes after it. An assistant message with empty content (a
// pure tool call) gets one more rendering with a placeholder content, to
// find where its content would start.
func (j *jinjaTemplate) render(c *Conversation) (Rendered, error) {
	ms := templateMessages(c)
	tools := jinja.Undefined()
	if len(bytes.TrimSpace(c.Tools)) > 0 {
		v, err := jsonValue(c.Tools)
		if err != nil {
			return Rendered{}, fmt.Errorf("tools: %w", err)
		}
		tools = v
	}
	text, err := j.exec(j.context(ms, tools, func(i int) string { return ms[i].content }))
	if err != nil {
		return Rendered{}, err
	}
	open, shut, err := markers(ms)
	if err != nil {
		return Rendered{}, err
	}
	ph := func(i int) string { return open + strconv.Itoa(i) + shut }
	masked, err := j.exec(j.context(ms, tools, func(i int) string {
		if ms[i].content == "" {
			return ""
		}
		return ph(i)
	}))
	if err != nil {
		return Rendered{}, err
	}
	al, err := align(text, masked, ms, open, shut)
	if err != nil {
		return Rendered{}, err
	}
	r := Rendered{Text: text}
	for _, p := range al.pieces {
		r.Specials = j.appendSpecials(r.Specials, text, p.t, p.t+p.n)
	}
	for i, m := range ms {
		if !m.assistant {
			continue
		}
		var start, end int // the content's span in text
		var occ []span2
		for _, o := range al.contents {
			if o.msg == i {
				occ = append(occ, o)
			}
		}
		switch {
		case len(occ) == 1:
			start, end = occ[0].start, occ[0].end
		case len(occ) > 1:
			return Rendered{}, &SpanError{Msg: fmt.Sprintf("message %d: the template writes the assistant's content %d times", i, len(occ))}
		case m.content != "":
			return Rendered{}, &SpanError{Msg: fmt.Sprintf("message %d: the template leaves out the assistant's content", i)}
		default:
			variant, err := j.exec(j.context(ms, tools, func(k int) string {
				if k == i || ms[k].content != "" {
					return ph(k)
				}
				return ""
			}))
			if err != nil {
				return Rendered{}, err
			}
			p := commonPrefix(masked, variant)
			if !strings.HasPrefix(variant[p:], ph(i)) {
				return Rendered{}, &SpanError{Msg: fmt.Sprintf("message %d: cannot place the empty assistant content", i)}
			}
			pos, ok := al.toText(p)
			if !ok {
				return Rendered{}, &SpanError{Msg: fmt.Sprintf("message %d: the empty assistant content falls inside another message", i)}
			}
			start, end = pos, pos
		}
		// The end-of-turn token after the content, in the template's text
		// that follows it.
		if lim, ok := al.pieceEnd(end); ok {
			best := -1
			var bestLen int
			for _, e := range j.eot {
				if k := strings.Index(text[end:lim], e); k >= 0 && (best < 0 || k < best) {
					best, bestLen = k, len(e)
				}
			}
			if best >= 0 && (end > start || len(m.toolCalls) > 0) {
				end += best + bestLen
			}
		}
		if n := len(r.Replies); n > 0 && r.Replies[n-1].End > start {
			return Rendered{}, &SpanError{Msg: fmt.Sprintf("message %d: the template writes the replies out of order", i)}
		}
		r.Replies = append(r.Replies, Span{start, end})
	}
	return r, nil
}

// appendSpecials appends the spans of the special tokens in text[from:to],
// leftmost longest first.
func (j *jinjaTemplate) appendSpecials(dst []Span, text string, from, to int) []Span {
	if len(j.lens) == 0 {
		return dst
	}
	for i := from; i < to; {
		n := 0
		for _, l := range j.lens {
			if i+l <= to && j.specials[text[i:i+l]] {
				n = l
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		dst = append(dst, Span{i, i + n})
		i += n
	}
	return dst
}

// markers returns two private-use characters that occur in no message.
func markers(ms []tmsg) (open, shut string, err error) {
	var found []string
	for r := rune(0xE000); r <= 0xF8FF && len(found) < 2; r++ {
		s := string(r)
		used := false
		for _, m := range ms {
			if strings.Contains(m.content, s) {
				used = true
				break
			}
		}
		if !used {
			found = append(found, s)
		}
	}
	if len(found) < 2 {
		return "", "", &SpanError{Msg: "the messages use every private-use character; no placeholder is free"}
	}
	return found[0], found[1], nil
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// piece is a run of the template's own text: n bytes at t in the text and
// at m in the placeholder rendering.
type piece struct{ t, m, n int }

// span2 is where message msg's content lies in the text.
type span2 struct{ msg, start, end int }

type alignment struct {
	pieces   []piece
	contents []span2
}

// toText maps a position of the placeholder rendering that lies in the
// template's text (or at the end of a run of it) to the text.
func (a *alignment) toText(m int) (int, bool) {
	for _, p := range a.pieces {
		if m >= p.m && m <= p.m+p.n {
			return p.t + m - p.m, true
		}
	}
	return 0, false
}

// pieceEnd returns the end of the run of template text that starts at or
// contains text position t.
func (a *alignment) pieceEnd(t int) (int, bool) {
	for _, p := range a.pieces {
		if t >= p.t && t <= p.t+p.n {
			return p.t + p.n, true
		}
	}
	return 0, false
}

// align matches text against the placeholder rendering masked.
func align(text, masked string, ms []tmsg, open, shut string) (*alignment, error) {
	// Cut masked into template text and placeholders.
	type ph struct{ at, end, msg int }
	var phs []ph
	for i := 0; ; {
		k := strings.Index(masked[i:], open)
		if k < 0 {
			break
		}
		at := i + k
		e := strings.Index(masked[at:], shut)
		if e < 0 {
			return nil, &SpanError{Msg: "a placeholder is cut short"}
		}
		n, err := strconv.Atoi(masked[at+len(open) : at+e])
		if err != nil || n < 0 || n >= len(ms) {
			return nil, &SpanError{Msg: "a placeholder is changed by the template"}
		}
		phs = append(phs, ph{at, at + e + len(shut), n})
		i = at + e + len(shut)
	}
	a := &alignment{}
	tpos, mpos := 0, 0
	for k, p := range phs {
		lit := masked[mpos:p.at]
		if !strings.HasPrefix(text[tpos:], lit) {
			return nil, &SpanError{Msg: fmt.Sprintf("the template's text before message %d differs when the contents differ (it branches on a message's text)", p.msg)}
		}
		a.pieces = append(a.pieces, piece{tpos, mpos, len(lit)})
		tpos += len(lit)
		mpos = p.end
		next := len(masked)
		if k+1 < len(phs) {
			next = phs[k+1].at
		}
		after := masked[mpos:next]
		last := k+1 == len(phs)
		x, ok := matchContent(text[tpos:], ms[p.msg].content, after, last)
		if !ok {
			return nil, &SpanError{Msg: fmt.Sprintf("message %d: the rendered content is not the message's text (stripped of whitespace at most)", p.msg)}
		}
		a.contents = append(a.contents, span2{p.msg, tpos, tpos + x})
		tpos += x
	}
	if text[tpos:] != masked[mpos:] {
		return nil, &SpanError{Msg: "the template's text at the end differs when the contents differ (it branches on a message's text)"}
	}
	a.pieces = append(a.pieces, piece{tpos, mpos, len(text) - tpos})
	return a, nil
}

// matchContent finds the length of the rendered content at the start of
// rest: content itself or content stripped of leading and trailing
// whitespace (Python's, JavaScript's or Go's idea of it, or newlines
// only), followed by after (the template's text up to the next
// placeholder; with last, the rest of the text).
func matchContent(rest, content, after string, last bool) (int, bool) {
	var starts, ends []int
	addS := func(n int) {
		if !slices.Contains(starts, n) {
			starts = append(starts, n)
		}
	}
	addE := func(n int) {
		if !slices.Contains(ends, n) {
			ends = append(ends, n)
		}
	}
	addS(0)
	addE(len(content))
	for _, f := range []func(rune) bool{unicode.IsSpace, isAnySpace, isNewline} {
		t := strings.TrimLeftFunc(content, f)
		addS(len(content) - len(t))
		addE(len(strings.TrimRightFunc(content, f)))
	}
	for _, s := range starts {
		for _, e := range ends {
			if e < s {
				continue
			}
			x := content[s:e]
			if !strings.HasPrefix(rest, x) {
				continue
			}
			if last && rest[len(x):] == after || !last && strings.HasPrefix(rest[len(x):], after) {
				return len(x), true
			}
		}
	}
	return 0, false
}

// isAnySpace is whitespace to Python's str.strip or JavaScript's
// String.prototype.trim.
func isAnySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f || r == 0xFEFF || r == 0x2028 || r == 0x2029
}

func isNewline(r rune) bool { return r == '\n' }
