package tokenizer

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// tinyByteLevel returns a byte-level tokenizer.json: the 256 byte tokens,
// merges "a a" -> "aa", "aa aa" -> "aaaa", "Ġ a" -> "Ġa", an added special
// token "<|end|>" and a non-special "<x>"; edit changes the parsed JSON
// before it is written back.
func tinyByteLevel(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	vocab := map[string]int{}
	for b := range 256 {
		vocab[string(byteToRune[b])] = b
	}
	vocab["aa"], vocab["aaaa"], vocab["Ġa"] = 256, 257, 258
	m := map[string]any{
		"version":    "1.0",
		"normalizer": nil,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": patLlama3}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "byte_fallback": false,
			"ignore_merges": false, "vocab": vocab, "merges": []any{"a a", "aa aa", "Ġ a"}},
		"added_tokens": []any{
			map[string]any{"id": 259, "content": "<|end|>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
			map[string]any{"id": 260, "content": "<x>", "special": false, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
		},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTinyByteLevel(t *testing.T) {
	tok, err := ParseJSON(tinyByteLevel(t, nil), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text    string
		special bool
		want    []int
	}{
		{"aaaaa", false, []int{257, 'a'}},
		{" aaa", false, []int{' ', 256, 'a'}}, // "a a" has the best rank
		{" a", false, []int{258}},
		{"a<|end|>a", true, []int{'a', 259, 'a'}},
		{"a<|end|>", false, []int{'a', '<', '|', 'e', 'n', 'd', '|', '>'}},
		{"<x><x>", false, []int{260, 260}},
		{"\xff", false, []int{0xEF, 0xBF, 0xBD}}, // U+FFFD's bytes
	} {
		var got []int
		if c.special {
			got = tok.EncodeSpecial(c.text)
		} else {
			got = tok.Encode(c.text)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q (special %v): %v, want %v", c.text, c.special, got, c.want)
		}
	}
	if id, ok := tok.SpecialID("<|end|>"); !ok || id != 259 || !tok.IsControl(259) || tok.IsControl(260) {
		t.Fatalf("SpecialID = %d %v", id, ok)
	}
	if d := tok.Decode([]int{258, 259, 260, 'b'}); d != " a<x>b" {
		t.Fatalf("Decode = %q", d)
	}
	if _, starts := tok.EncodeOffsets("x\xffaa"); !slices.Equal(starts, []int{0, 1, 1, 1, 2}) {
		t.Fatalf("offsets through U+FFFD: %v", starts)
	}
}

// TestByteLevelLongWord encodes one word of 4 MB: the heap merge is
// O(n log n) and the result is exact (all "aaaa" tokens).
func TestByteLevelLongWord(t *testing.T) {
	tok, err := ParseJSON(tinyByteLevel(t, nil), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	n := 4 << 20
	start := time.Now()
	ids := tok.Encode(strings.Repeat("a", n+3))
	if len(ids) != n/4+2 || ids[0] != 257 || ids[n/4-1] != 257 || ids[n/4] != 256 || ids[n/4+1] != 'a' {
		t.Fatalf("%d ids, head %v tail %v", len(ids), ids[:3], ids[len(ids)-3:])
	}
	if d := time.Since(start); d > 60*time.Second { // quadratic time would take hours
		t.Fatalf("a 4 MB word took %v", d)
	}
}

func TestByteLevelRefused(t *testing.T) {
	step := func(typ string, kv ...any) map[string]any {
		m := map[string]any{"type": typ}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		want string
		edit func(m map[string]any)
	}{
		{"NFKC", func(m map[string]any) { m["normalizer"] = step("NFKC") }},
		{"Lowercase", func(m map[string]any) {
			m["normalizer"] = step("Sequence", "normalizers", []any{step("NFC"), step("Lowercase")})
		}},
		{"Whitespace", func(m map[string]any) {
			m["pre_tokenizer"] = step("Sequence", "pretokenizers", []any{step("Whitespace"), step("ByteLevel", "use_regex", false)})
		}},
		{"add_prefix_space", func(m map[string]any) { m["pre_tokenizer"] = step("ByteLevel", "add_prefix_space", true) }},
		{"invert", func(m map[string]any) {
			m["pre_tokenizer"] = step("Sequence", "pretokenizers", []any{
				step("Split", "pattern", map[string]any{"String": "x"}, "behavior", "Isolated", "invert", true), step("ByteLevel")})
		}},
		{"Split regex", func(m map[string]any) {
			m["pre_tokenizer"] = step("Sequence", "pretokenizers", []any{
				step("Split", "pattern", map[string]any{"Regex": "(?<!"}, "behavior", "Isolated"), step("ByteLevel")})
		}},
		{"after ByteLevel", func(m map[string]any) {
			m["pre_tokenizer"] = step("Sequence", "pretokenizers", []any{step("ByteLevel"), step("Digits")})
		}},
		{"WordPiece", func(m map[string]any) { m["model"].(map[string]any)["type"] = "WordPiece" }},
		{"dropout", func(m map[string]any) { m["model"].(map[string]any)["dropout"] = 0.1 }},
		{"continuing_subword_prefix", func(m map[string]any) { m["model"].(map[string]any)["continuing_subword_prefix"] = "##" }},
	} {
		_, err := ParseJSON(tinyByteLevel(t, c.edit), "tiny")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %q, got %v", c.want, err)
		}
	}
}

func TestModelEncodeSpecial(t *testing.T) {
	tok := Default()
	got := tok.EncodeSpecial("<s>[INST] hi [/INST]</s>")
	if got[0] != tok.BOS() || got[len(got)-1] != tok.EOS() {
		t.Fatalf("EncodeSpecial = %v", got)
	}
	if plain := tok.Encode("<s>hi"); plain[0] == tok.BOS() {
		t.Fatalf("Encode matched <s>: %v", plain)
	}
	if id, ok := tok.SpecialID("</s>"); !ok || id != tok.EOS() {
		t.Fatalf("SpecialID(</s>) = %d %v", id, ok)
	}
	if want := append([]int{tok.BOS()}, tok.Encode("hi")...); !slices.Equal(tok.EncodeSpecial("<s>hi"), want) {
		t.Fatalf("EncodeSpecial(<s>hi) = %v, want %v", tok.EncodeSpecial("<s>hi"), want)
	}
}

// TestByteLevelConcurrent encodes with two byte-level tokenizers at once:
// their word caches share scratch buffers from one pool and must not mix.
func TestByteLevelConcurrent(t *testing.T) {
	a, err := ParseJSON(tinyByteLevel(t, nil), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseJSON(tinyByteLevel(t, func(m map[string]any) {
		m["model"].(map[string]any)["merges"] = []any{"Ġ a", "a a"}
	}), "b")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat(" aaa bb aaaaa ", 200)
	wantA, wantB := a.Encode(text), b.Encode(text)
	if slices.Equal(wantA, wantB) {
		t.Fatal("the two tokenizers should differ on the text")
	}
	done := make(chan string, 8)
	for g := range 8 {
		go func() {
			tok, want := a, wantA
			if g%2 == 1 {
				tok, want = b, wantB
			}
			for range 50 {
				if got := tok.Encode(text); !slices.Equal(got, want) {
					done <- tok.Source() + " differs"
					return
				}
			}
			done <- ""
		}()
	}
	for range 8 {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}
