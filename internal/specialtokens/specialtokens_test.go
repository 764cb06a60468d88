package specialtokens

import "testing"

func TestInsertVline(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", " "},
		{"x", " "},
		{"ab", "a|b"},
		{"<s>", "<|s|>"},
		{"</s>", "<|/s|>"},
		{"<unk>", "<|unk|>"},
		{"<|endoftext|>", "<||endoftext||>"},
		{"«é»", "«|é|»"}, // code points, not bytes
		{"日本", "日|本"},
	} {
		if got := InsertVline(tt.in); got != tt.want {
			t.Errorf("InsertVline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReplace(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		tok      Tokens
		want     string
	}{
		{"empty text", "", LLaMA, ""},
		{"no tokens", "plain text", LLaMA, "plain text"},
		{"eos", "end</s>", LLaMA, "end<|/s|>"},
		{"bos and eos", "<s>hi</s>", LLaMA, "<|s|>hi<|/s|>"},
		{"unk twice", "<unk> and <unk>", LLaMA, "<|unk|> and <|unk|>"},
		{"already escaped stays", "<|/s|>", LLaMA, "<|/s|>"},
		{"no tokens set", "</s>", Tokens{}, "</s>"},
		// Sequential: BOS first, then EOS sees the result. With BOS "s>"
		// the EOS "</s>" is already broken up when its turn comes.
		{"order matters", "</s>", Tokens{BOS: "s>", EOS: "</s>"}, "</s|>"},
		// A one-character token becomes a space.
		{"single char pad", "a#b", Tokens{PAD: "#"}, "a b"},
		{"chatml-like", "<|im_end|>", Tokens{EOS: "<|im_end|>"}, "<||im_end||>"},
	} {
		if got := Replace(tt.in, tt.tok); got != tt.want {
			t.Errorf("%s: Replace(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
