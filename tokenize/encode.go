package tokenize

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

// IgnoreIndex is the label of a token the loss ignores (PyTorch's
// CrossEntropyLoss ignore_index, FastChat's IGNORE_TOKEN_ID).
const IgnoreIndex = -100

// Tokens is a rendered conversation as tokens.
type Tokens struct {
	IDs []int32
	// Labels[i] is IDs[i] for a token of an assistant reply (or of its
	// closing end token), IgnoreIndex for every other token.
	Labels []int32
	// Spans[i] is the byte range of the rendered text that token i covers;
	// the BOS token covers nothing (an empty span at 0), a template special
	// token its string, a text token the bytes from its start to the next
	// token's start.
	Spans []chat.Span
}

// Truncate cuts the tokens to the first n.
func (t *Tokens) Truncate(n int) {
	if len(t.IDs) > n {
		t.IDs, t.Labels, t.Spans = t.IDs[:n], t.Labels[:n], t.Spans[:n]
	}
}

// LabelCount returns the number of tokens with a label.
func (t *Tokens) LabelCount() int {
	n := 0
	for _, l := range t.Labels {
		if l != IgnoreIndex {
			n++
		}
	}
	return n
}

// Encoder turns rendered conversations into token ids and labels. It is
// immutable and safe for concurrent use.
type Encoder struct {
	tok    *tokenizer.Tokenizer
	legacy bool
	// bos: the encoder writes the tokenizer's BOS first (named templates;
	// a Jinja template writes its own bos_token, and Hugging Face encodes
	// its rendering with add_special_tokens=False).
	bos bool
	// special maps the template's special token strings to the ids of the
	// tokenizer's control tokens of the same name; a special string the
	// tokenizer lacks is encoded as text.
	special map[string]int32
	// sentinel is a character that occurs in no piece of the vocabulary:
	// nothing merges with it, so encoding sentinel+text and dropping the
	// sentinel's tokens encodes text without the dummy prefix. It is empty
	// for a tokenizer that adds no dummy prefix (byte-level BPE, Gemma):
	// its pieces of text are encoded as they are.
	sentinel string
}

// NewEncoder returns an encoder for text rendered with tmpl.
//
// With legacy false (the default), the dummy prefix "▁" is added only at
// the start of the text, as SentencePiece adds it once to the whole string:
// text that follows a special token is encoded without one ("</s>" then
// "USER" ":"). With legacy true every piece of text between special
// tokens gets its own dummy prefix ("</s>" then "▁US" "ER" ":"), as Hugging
// Face's LlamaTokenizer does with legacy=True (its default, and the
// behaviour FastChat's trainer was written against).
func NewEncoder(tok *tokenizer.Tokenizer, tmpl chat.Template, legacy bool) (*Encoder, error) {
	if tok == nil {
		return nil, errors.New("no tokenizer")
	}
	e := &Encoder{tok: tok, legacy: legacy, bos: !tmpl.IsJinja(), special: map[string]int32{}}
	for _, s := range tmpl.SpecialTokens {
		if id, ok := tok.ID(s); ok && tok.IsControl(id) {
			e.special[s] = int32(id)
		}
	}
	if ids := tok.Encode("a"); len(ids) == 0 || !strings.HasPrefix(tok.Piece(ids[0]), "▁") {
		return e, nil // no dummy prefix: no sentinel needed
	}
	// U+E000-U+F8FF is the private use area; the LLaMA vocabulary has none
	// of it.
	for r := rune(0xE000); r <= 0xF8FF && e.sentinel == ""; r++ {
		if !vocabHas(tok, r) {
			e.sentinel = string(r)
		}
	}
	if e.sentinel == "" {
		return nil, fmt.Errorf("tokenizer %s: every private-use character occurs in its vocabulary; cannot encode text without a dummy prefix", tok.Source())
	}
	if !legacy && slices.Equal(tok.Encode("a  b"), tok.Encode("a b")) {
		// remove_extra_whitespaces: SentencePiece would strip the leading
		// spaces of text encoded without a dummy prefix, which the sentinel
		// protects; such models are not supported here.
		return nil, fmt.Errorf("tokenizer %s normalises whitespace (remove_extra_whitespaces); only legacy encoding is supported with it", tok.Source())
	}
	return e, nil
}

func vocabHas(tok *tokenizer.Tokenizer, r rune) bool {
	for id := range tok.VocabSize() {
		if strings.ContainsRune(tok.Piece(id), r) {
			return true
		}
	}
	return false
}

// SpecialIDs returns the template special strings that are encoded as
// control tokens, with their ids.
func (e *Encoder) SpecialIDs() map[string]int32 {
	m := make(map[string]int32, len(e.special))
	for k, v := range e.special {
		m[k] = v
	}
	return m
}

// Encode tokenizes r: BOS, then the text split at the template's special
// tokens, each special a control id, each piece of text between them
// encoded as text (a "</s>" typed in a message is text, never EOS). A
// token is labelled when the bytes it covers overlap an assistant reply
// span, so the labels are the replies and their closing end tokens; the
// first token of a reply may also cover the separator space before it
// ("▁It" after "ASSISTANT:").
func (e *Encoder) Encode(r *chat.Rendered) Tokens {
	t, _ := e.EncodePrefix(r, math.MaxInt)
	return t
}

// EncodePrefix is Encode cut to the first limit tokens, and the number of
// tokens of the whole conversation. Its memory grows with limit, not with
// the length of the conversation: the tokens past limit are only counted.
func (e *Encoder) EncodePrefix(r *chat.Rendered, limit int) (Tokens, int) {
	b := tokenSink{limit: limit}
	n := min(len(r.Text)/3+8, limit)
	b.t = Tokens{IDs: make([]int32, 0, n), Spans: make([]chat.Span, 0, n)}
	if bos := e.tok.BOS(); bos >= 0 && e.bos {
		b.add(int32(bos), chat.Span{})
	}
	pos := 0
	for _, sp := range r.Specials {
		id, ok := e.special[r.Text[sp.Start:sp.End]]
		if !ok {
			continue // not a token of this tokenizer: part of the text
		}
		e.appendText(&b, r.Text[pos:sp.Start], pos)
		b.add(id, sp)
		pos = sp.End
	}
	e.appendText(&b, r.Text[pos:], pos)
	b.t.Labels = labels(b.t.IDs, b.t.Spans, r.Replies, e.bos && e.tok.BOS() >= 0)
	return b.t, b.n
}

// tokenSink keeps the first limit tokens it is given and counts the rest.
type tokenSink struct {
	t     Tokens
	limit int
	n     int  // tokens given
	open  bool // the last token kept is text whose end is not known yet
}

// add appends a token covering sp.
func (b *tokenSink) add(id int32, sp chat.Span) {
	b.n++
	if len(b.t.IDs) < b.limit {
		b.t.IDs = append(b.t.IDs, id)
		b.t.Spans = append(b.t.Spans, sp)
	}
}

// addText appends a text token starting at byte start: it ends where the
// next token of the same text starts, or at the end of the text (end).
func (b *tokenSink) addText(id int32, start int) {
	b.end(start)
	b.add(id, chat.Span{Start: start})
	b.open = len(b.t.IDs) > 0 && b.n == len(b.t.IDs)
}

// end sets the end of the last text token, if it is still open.
func (b *tokenSink) end(pos int) {
	if b.open {
		b.t.Spans[len(b.t.Spans)-1].End = pos
		b.open = false
	}
}

// appendText appends the tokens of text, which starts at byte base of the
// rendered string.
func (e *Encoder) appendText(b *tokenSink, text string, base int) {
	if text == "" {
		return
	}
	src, skip := text, 0
	if base != 0 && !e.legacy && e.sentinel != "" {
		src, skip = e.sentinel+text, len(e.sentinel)
	}
	for id, start := range e.tok.Tokens(src) {
		if start < skip {
			continue // the sentinel's tokens
		}
		b.addText(int32(id), base+start-skip)
	}
	b.end(base + len(text))
}

// labels marks the tokens that overlap a reply span; the BOS token, when
// there is one, is never labelled. Spans of tokens and replies are both in
// text order.
func labels(ids []int32, spans []chat.Span, replies []chat.Span, bos bool) []int32 {
	out := make([]int32, len(ids))
	j := 0
	for i, s := range spans {
		out[i] = IgnoreIndex
		if i == 0 && bos {
			continue
		}
		for j < len(replies) && replies[j].End <= s.Start {
			j++
		}
		if j == len(replies) {
			continue
		}
		rep := replies[j]
		end := max(s.End, s.Start+1) // an empty token (the dummy prefix alone) counts at its position
		if rep.Start < rep.End && s.Start < rep.End && end > rep.Start {
			out[i] = ids[i]
		}
	}
	return out
}
