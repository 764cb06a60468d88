package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParseModel: ParseModel never panics (the recover in ParseModel is
// bypassed here so that a panic fails), and a model it accepts can encode
// and decode.
func FuzzParseModel(f *testing.F) {
	f.Add(tinyModel(true))
	f.Add(tinyModel(false))
	f.Add(llamaModel[:4096])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseModelProto(data)
		if err != nil {
			return
		}
		tok, err := newFromSP(m)
		if err != nil {
			return
		}
		for _, s := range []string{"", "a", " hello  world", "\xff\x00<s>", "▁▁x"} {
			ids, starts := tok.EncodeOffsets(s)
			if len(ids) != len(starts) || tok.Count(s) != len(ids) {
				t.Fatalf("inconsistent encoding of %q", s)
			}
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
			tok.Decode(ids)
		}
		tok.Decode([]int{-1, 0, 1, 2, 3, tok.VocabSize()})
	})
}

// FuzzEncode: Encode, Count and EncodeOffsets agree, offsets are in range
// and non-decreasing.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "\n    if x:", "a\xffb", "中文 😀", "<s></s>"} {
		f.Add(s)
	}
	tok := Default()
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		got, starts := tok.EncodeOffsets(s)
		if !slices.Equal(ids, got) || tok.Count(s) != len(ids) || len(starts) != len(ids) {
			t.Fatalf("Encode, EncodeOffsets and Count disagree on %q", s)
		}
		for i, st := range starts {
			if st < 0 || st >= len(s) || (i > 0 && st < starts[i-1]) {
				t.Fatalf("bad offsets %v for %q", starts, s)
			}
		}
		for _, id := range ids {
			if tok.IsControl(id) {
				t.Fatalf("control id %d from %q", id, s)
			}
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzParseModel when
// WRITE_FUZZ_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set WRITE_FUZZ_SEEDS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseModel")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"tiny_bytefallback": tinyModel(true),
		"tiny_unk":          tinyModel(false),
		"llama_prefix":      llamaModel[:2048],
		"unigram":           withModelType(tinyModel(true), modelUnigram),
		"empty":             {},
		"bad_wiretype":      {0x0d, 0, 0, 0, 0},
		"truncated_varint":  {0x10, 0xff},
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
