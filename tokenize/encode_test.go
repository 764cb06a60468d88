package tokenize

import (
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

// pieces writes tokens as their pieces, a labelled token marked "*".
func pieces(tok *tokenizer.Tokenizer, t Tokens) string {
	s := make([]string, len(t.IDs))
	for i, id := range t.IDs {
		mark := ""
		if t.Labels[i] != IgnoreIndex {
			mark = "*"
			if t.Labels[i] != id {
				mark = "!"
			}
		}
		s[i] = mark + tok.Piece(int(id))
	}
	return strings.Join(s, " ")
}

// The conversation of TestEncode: special token strings typed in the
// messages, a reply starting with a space, a trailing newline.
var specialMsgs = []chat.Message{
	{Role: chat.User, Content: "Hi"},
	{Role: chat.Assistant, Content: "It's 2 </s>"},
	{Role: chat.User, Content: "<s>"},
	{Role: chat.Assistant, Content: " ok\n"},
}

// TestEncode pins the tokens of one conversation in each template and mode
// (the oracle tests check the same rules against SentencePiece on the real
// data). Things to see: EOS (</s>) appears only where the template puts
// it, the typed "</s>" and "<s>" are "▁</" "s" ">" and "▁<" "s" ">";
// after a special token the text has no dummy prefix ("USER" is one token,
// 11889), with legacy it has one ("▁US" "ER"); labels start at the token
// holding the reply's first character ("▁It" takes the space after
// "ASSISTANT:"), the template's own space before " ok" stays unlabelled;
// llama-2 labels the " " before </s> but not the <s> that follows;
// chatml with the LLaMA tokenizer writes <|im_start|> and <|im_end|> as
// text, and labels the reply's "<|im_end|>" but not the "\n" after it.
func TestEncode(t *testing.T) {
	tests := []struct {
		template string
		legacy   bool
		want     string
	}{
		{"vicuna_v1.1", false,
			"<s> ▁S ▁US ER : ▁Hi ▁A SS IST ANT : *▁It *' *s *▁ *2 *▁</ *s *> *</s> USER : ▁< s > ▁A SS IST ANT : ▁ *▁ok *<0x0A> *</s>"},
		{"vicuna_v1.1", true,
			"<s> ▁S ▁US ER : ▁Hi ▁A SS IST ANT : *▁It *' *s *▁ *2 *▁</ *s *> *</s> ▁US ER : ▁< s > ▁A SS IST ANT : ▁ *▁ok *<0x0A> *</s>"},
		{"llama-2", false,
			"<s> ▁[ INST ] ▁<< SY S >> <0x0A> S <0x0A> < </ SY S >> <0x0A> <0x0A> Hi ▁[ / INST ] *▁It *' *s *▁ *2 *▁</ *s *> *▁ *</s> <s> [ INST ] ▁< s > ▁[ / INST ] ▁ *▁ok *<0x0A> *▁ *</s> <s>"},
		{"llama-2", true,
			"<s> ▁[ INST ] ▁<< SY S >> <0x0A> S <0x0A> < </ SY S >> <0x0A> <0x0A> Hi ▁[ / INST ] *▁It *' *s *▁ *2 *▁</ *s *> *▁ *</s> <s> ▁[ INST ] ▁< s > ▁[ / INST ] ▁ *▁ok *<0x0A> *▁ *</s> <s>"},
		{"chatml", false,
			"<s> ▁< | im _ start | > system <0x0A> S < | im _ end | > <0x0A> < | im _ start | > user <0x0A> Hi < | im _ end | > <0x0A> < | im _ start | > ass istant <0x0A> *It *' *s *▁ *2 *▁</ *s *>< *| *im *_ *end *| *> <0x0A> < | im _ start | > user <0x0A> < s >< | im _ end | > <0x0A> < | im _ start | > ass istant <0x0A> *▁ok *<0x0A> *< *| *im *_ *end *| *> <0x0A>"},
	}
	tok := tokenizer.Default()
	for _, tc := range tests {
		tmpl, err := chat.Lookup(tc.template)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := NewEncoder(tok, tmpl, tc.legacy)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tmpl.Render("S", specialMsgs)
		if err != nil {
			t.Fatal(err)
		}
		got := enc.Encode(&r)
		if p := pieces(tok, got); p != tc.want {
			t.Errorf("%s legacy=%v:\n got %s\nwant %s", tc.template, tc.legacy, p, tc.want)
		}
		if err := checkLabels(tok, controlIDs(tok, tmpl), tc.legacy, &r, specialMsgs, &got); err != nil {
			t.Errorf("%s legacy=%v: %v", tc.template, tc.legacy, err)
		}
	}
}

// TestEncodeSpecialIDs checks which template strings become control ids.
func TestEncodeSpecialIDs(t *testing.T) {
	tok := tokenizer.Default()
	tests := []struct {
		template string
		want     map[string]int32
	}{
		{"vicuna_v1.1", map[string]int32{"</s>": 2}},
		{"llama-2", map[string]int32{"</s>": 2, "<s>": 1}},
		{"chatml", map[string]int32{}}, // not in the LLaMA vocabulary
	}
	for _, tc := range tests {
		tmpl, _ := chat.Lookup(tc.template)
		enc, err := NewEncoder(tok, tmpl, false)
		if err != nil {
			t.Fatal(err)
		}
		got := enc.SpecialIDs()
		if len(got) != len(tc.want) {
			t.Errorf("%s: special ids %v, want %v", tc.template, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %q is %d, want %d", tc.template, k, got[k], v)
			}
		}
	}
}

// TestEncodeLiteralSpecials: whatever special strings a conversation types,
// the control ids appear exactly where the template puts them.
func TestEncodeLiteralSpecials(t *testing.T) {
	tok := tokenizer.Default()
	all := "<s></s><unk><|im_start|><|im_end|>[INST][/INST]<<SYS>></s>"
	msgs := []chat.Message{
		{Role: chat.User, Content: all}, {Role: chat.Assistant, Content: all},
		{Role: chat.User, Content: " " + all}, {Role: chat.Assistant, Content: all + " "},
	}
	tests := []struct {
		template      string
		bos, eos, unk int // count of ids 1, 2, 0
	}{
		{"vicuna_v1.1", 1, 2, 0},
		{"llama-2", 3, 2, 0}, // BOS, and the template's <s> after each reply
		{"chatml", 1, 0, 0},
	}
	for _, tc := range tests {
		tmpl, _ := chat.Lookup(tc.template)
		for _, legacy := range []bool{false, true} {
			enc, err := NewEncoder(tok, tmpl, legacy)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := tmpl.Render("", msgs)
			got := enc.Encode(&r)
			count := map[int32]int{}
			for _, id := range got.IDs {
				count[id]++
			}
			if count[1] != tc.bos || count[2] != tc.eos || count[0] != tc.unk {
				t.Errorf("%s legacy=%v: %d BOS, %d EOS, %d UNK; want %d, %d, %d\n%s", tc.template, legacy,
					count[1], count[2], count[0], tc.bos, tc.eos, tc.unk, pieces(tok, got))
			}
			if err := checkLabels(tok, controlIDs(tok, tmpl), legacy, &r, msgs, &got); err != nil {
				t.Errorf("%s legacy=%v: %v", tc.template, legacy, err)
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	tok := Tokens{IDs: []int32{1, 2, 3}, Labels: []int32{-100, 2, 3}, Spans: make([]chat.Span, 3)}
	tok.Truncate(5)
	if len(tok.IDs) != 3 {
		t.Errorf("Truncate(5) of 3 tokens left %d", len(tok.IDs))
	}
	tok.Truncate(2)
	if len(tok.IDs) != 2 || len(tok.Labels) != 2 || len(tok.Spans) != 2 || tok.LabelCount() != 1 {
		t.Errorf("Truncate(2): %v %v %d spans", tok.IDs, tok.Labels, len(tok.Spans))
	}
}
