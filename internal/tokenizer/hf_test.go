package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// llamaTokenizerJSON converts a SentencePiece Tokenizer into a Hugging Face
// tokenizer.json the way transformers' LlamaConverter does: vocab is
// piece -> id, merges are every split of a piece into two vocabulary
// pieces, ordered by the piece's score (stable, so equal scores keep id
// order) and within a piece by the ids of its parts; byte fallback;
// normalizer Prepend("▁") + Replace(" ", "▁"); decoder Replace, ByteFallback,
// Fuse, Strip. pairMerges selects the newer ["a", "b"] merge format.
func llamaTokenizerJSON(t testing.TB, tok *Tokenizer, scores []float32, pairMerges bool) []byte {
	t.Helper()
	vocab := map[string]int{}
	for id := range tok.VocabSize() {
		vocab[tok.Piece(id)] = id
	}
	type merge struct {
		l, r  string
		id    int
		score float32
	}
	var merges []merge
	for id := range tok.VocabSize() {
		p := tok.Piece(id)
		var local []merge
		for i := range p {
			if i == 0 {
				continue
			}
			if _, ok := vocab[p[:i]]; !ok {
				continue
			}
			if _, ok := vocab[p[i:]]; !ok {
				continue
			}
			local = append(local, merge{p[:i], p[i:], id, scores[id]})
		}
		sort.SliceStable(local, func(a, b int) bool {
			if vocab[local[a].l] != vocab[local[b].l] {
				return vocab[local[a].l] < vocab[local[b].l]
			}
			return vocab[local[a].r] < vocab[local[b].r]
		})
		merges = append(merges, local...)
	}
	sort.SliceStable(merges, func(a, b int) bool { return merges[a].score > merges[b].score })
	var jm []any
	for _, m := range merges {
		if pairMerges {
			jm = append(jm, []string{m.l, m.r})
		} else {
			if strings.Contains(m.l, " ") || strings.Contains(m.r, " ") {
				t.Fatalf("piece with a space: %q %q", m.l, m.r)
			}
			jm = append(jm, m.l+" "+m.r)
		}
	}
	var added []map[string]any
	for id := range tok.VocabSize() {
		if tok.types[id] == pieceControl || tok.types[id] == pieceUnknown {
			added = append(added, map[string]any{"id": id, "content": tok.Piece(id), "single_word": false,
				"lstrip": false, "rstrip": false, "normalized": false, "special": true})
		}
	}
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"},
		}},
		"pre_tokenizer": nil,
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
				map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 1}}, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}},
			"special_tokens": map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{1}, "tokens": []string{"<s>"}}},
		},
		"decoder": map[string]any{"type": "Sequence", "decoders": []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"},
			map[string]any{"type": "Fuse"},
			map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0},
		}},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": "<unk>", "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": true, "byte_fallback": true, "vocab": vocab, "merges": jm,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func llamaScores(t testing.TB) []float32 {
	m, err := parseModelProto(llamaModel)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]float32, len(m.pieces))
	for i, p := range m.pieces {
		s[i] = p.score
	}
	return s
}

func writeLlamaJSON(t *testing.T, pairMerges bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(p, llamaTokenizerJSON(t, Default(), llamaScores(t), pairMerges), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenizerJSONMatchesModel(t *testing.T) {
	for _, pairMerges := range []bool{false, true} {
		path := writeLlamaJSON(t, pairMerges)
		hf, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if hf.hf == nil {
			t.Fatal("tokenizer.json not loaded through sugarme")
		}
		ref := Default()
		if hf.VocabSize() != ref.VocabSize() || hf.BOS() != 1 || hf.EOS() != 2 || hf.UNK() != 0 {
			t.Fatalf("vocab %d bos %d eos %d unk %d", hf.VocabSize(), hf.BOS(), hf.EOS(), hf.UNK())
		}
		texts := []string{}
		for _, c := range append(loadVectors(t), loadRefs(t)...) {
			texts = append(texts, c.text)
		}
		texts = append(texts, "\n    if x:\n        return  y", "a  b   c    d     e      f", strings.Repeat(" ", 37)+"x")
		if files, err := filepath.Glob(filepath.Join(sharedDataDir(), "sharegpt", "sharegpt_v3_sample_1000.json")); err == nil && len(files) == 1 && !testing.Short() && !pairMerges {
			turns, err := turnTexts(files[0])
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, turns...)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for range 5000 {
			texts = append(texts, randomText(rng))
		}
		for n := 1; n <= 300; n++ {
			sp := strings.Repeat(" ", n)
			texts = append(texts, sp, "x"+sp, "x"+sp+"y", "\n"+sp+"if", sp+"▁"+sp+"a", "a"+strings.Repeat("▁", n)+"b")
		}
		bad, badDecode := 0, 0
		for _, text := range texts {
			want := ref.Encode(text)
			got := hf.Encode(text)
			if !slices.Equal(got, want) {
				bad++
				if bad < 4 {
					t.Errorf("pairMerges=%v: %s", pairMerges, diffIDs(ref, text, got, want))
				}
			}
			if len(text) > 2000 {
				continue // sugarme's decoder is slow on long texts
			}
			if d, w := hf.Decode(want), ref.Decode(want); d != w {
				badDecode++
				if badDecode < 4 {
					t.Errorf("tokenizer.json Decode(%v) = %q, tokenizer.model gives %q", want, d, w)
				}
			}
		}
		if bad > 0 {
			t.Errorf("pairMerges=%v: %d of %d texts differ", pairMerges, bad, len(texts))
		}
		t.Logf("pairMerges=%v: %d texts identical", pairMerges, len(texts)-bad)
	}
}
