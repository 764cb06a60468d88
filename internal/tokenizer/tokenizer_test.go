package tokenizer

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestDefault(t *testing.T) {
	tok := Default()
	if tok != Default() {
		t.Fatal("Default is not shared")
	}
	if tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 || tok.PAD() != -1 {
		t.Fatalf("vocab %d bos %d eos %d unk %d pad %d", tok.VocabSize(), tok.BOS(), tok.EOS(), tok.UNK(), tok.PAD())
	}
	if p := tok.Piece(450); p != "▁The" {
		t.Errorf("Piece(450) = %q", p)
	}
	if id, ok := tok.ID("<0x0A>"); !ok || id != 13 {
		t.Errorf("ID(<0x0A>) = %d, %v", id, ok)
	}
	if _, ok := tok.ID("no such piece"); ok {
		t.Error("ID of a missing piece")
	}
	if tok.Piece(-1) != "" || tok.Piece(32000) != "" || !tok.IsControl(1) || tok.IsControl(450) {
		t.Error("Piece/IsControl out of range")
	}
	// "    if" after a newline: the whitespace-only pieces merge last.
	got := tok.Encode("\n    if")
	want := []int{29871, 13, 1678, 565}
	if !slices.Equal(got, want) {
		t.Errorf("Encode(\\n    if) = %v, want %v", got, want)
	}
	// Control text is plain text.
	for _, s := range []string{"<s>", "</s>", "<unk>", "<0x0A>"} {
		for _, id := range tok.Encode(s) {
			if tok.IsControl(id) || id == tok.UNK() {
				t.Errorf("Encode(%q) produced %d", s, id)
			}
		}
	}
	if got := tok.AppendEncode([]int{7}, "Hello"); !slices.Equal(got, []int{7, 15043}) {
		t.Errorf("AppendEncode = %v", got)
	}
	if tok.Encode("") != nil || tok.Count("") != 0 {
		t.Error("empty text gives tokens")
	}
}

// TestOffsets checks that each token starts where its text is.
func TestOffsets(t *testing.T) {
	tok := Default()
	texts := []string{"Hello world", "  two  spaces ", "\n    if x:\n\ty", "héllo 😀 中文", "a\xffb", "\ufffd", "▁x ▁", "<s>hi</s>"}
	for _, c := range loadRefs(t) {
		texts = append(texts, c.text)
	}
	if turns, err := turnTexts(filepath.Join(sharedDataDir(), "sharegpt", "vicuna_long_multilingual_sample.json")); err == nil {
		texts = append(texts, turns...)
	}
	for _, text := range texts {
		ids, starts := tok.EncodeOffsets(text)
		if !slices.Equal(ids, tok.Encode(text)) {
			t.Fatalf("EncodeOffsets(%q) ids differ from Encode", text)
		}
		if len(starts) != len(ids) {
			t.Fatalf("%d starts for %d ids", len(starts), len(ids))
		}
		for i, s := range starts {
			if s < 0 || s >= len(text) || (i > 0 && s < starts[i-1]) {
				t.Fatalf("%q: bad start %d at token %d (%v)", text, s, i, starts)
			}
			p := tok.Piece(ids[i])
			if b, ok := byteOfPiece(p); ok {
				if utf8.ValidString(text) && text[s] != b {
					t.Fatalf("%q: byte token %s at %d but text has %#x", text, p, s, text[s])
				}
				continue
			}
			if !utf8.ValidString(text) {
				continue
			}
			if i == 0 {
				p = strings.TrimPrefix(p, "▁")
			}
			if rest := strings.ReplaceAll(text[s:], " ", "▁"); !strings.HasPrefix(rest, p) {
				t.Fatalf("%q: token %d %q starts at %d: %q", text, i, p, s, text[s:min(len(text), s+20)])
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	tok := Default()
	rng := rand.New(rand.NewPCG(5, 6))
	var texts []string
	for range 200 {
		texts = append(texts, randomText(rng))
	}
	texts = append(texts, strings.Repeat("long text without many breaks 中文中文 ", 200))
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range texts {
				i := (k + g*31) % len(texts)
				if got := tok.Encode(texts[i]); !slices.Equal(got, want[i]) {
					t.Errorf("concurrent Encode differs for text %d", i)
					return
				}
				if n := tok.Count(texts[i]); n != len(want[i]) {
					t.Errorf("concurrent Count differs for text %d", i)
					return
				}
				tok.Decode(want[i])
			}
		}()
	}
	wg.Wait()
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tokenizer.model")
	if err := os.WriteFile(model, llamaModel, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("Hello world"); !slices.Equal(got, []int{15043, 3186}) {
		t.Errorf("Encode = %v", got)
	}
	// A folder: tokenizer.model is preferred over tokenizer.json.
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"model":{"type":"WordPiece"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err = Load(dir)
	if err != nil || tok.Source() != model {
		t.Fatalf("Load(folder) = %v, %v", tok, err)
	}
	// A folder with only tokenizer.json.
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "tokenizer.json")
	if err := os.WriteFile(jpath, llamaTokenizerJSON(t, Default(), llamaScores(t), false), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err = Load(jdir)
	if err != nil || tok.Source() != jpath {
		t.Fatalf("Load(json folder) = %v, %v", tok, err)
	}

	bad := func(name string, data []byte, wantMsg string) {
		t.Helper()
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := Load(p)
		if err == nil {
			t.Errorf("Load(%s) = %v, want error", name, tok)
			return
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("Load(%s) error %q does not name the file or %q", name, err, wantMsg)
		}
	}
	bad("tokenizer.model", llamaModel[:1000], "not a SentencePiece model")
	bad("tokenizer.model", []byte("garbage\xff\xff\xff"), "not a SentencePiece model")
	bad("tokenizer.model", nil, "no pieces")
	bad("tokenizer.model", withModelType(llamaModel, modelUnigram), "UNIGRAM")
	bad("tokenizer.model", withModelType(llamaModel, modelWord), "WORD")
	bad("tokenizer.model", withModelType(llamaModel, modelChar), "CHAR")
	bad("tokenizer.json", []byte(`{"model":{"type":"WordPiece"}}`), "WordPiece")
	bad("tokenizer.json", []byte(`{"model":`), "not a tokenizer.json")
	bad("tokenizer.json", []byte(`{"model":{"type":"BPE"}}`), "tokenizer.json")
	bad("tokenizer.json", []byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"NFKC"}}`), "NFKC")

	_, err = Load(filepath.Join(dir, "missing", "tokenizer.model"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Load(missing) = %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("Load(empty folder) = %v", err)
	}
}

// withModelType appends a trainer_spec with model_type to a serialized
// model; protobuf merges it into the existing one.
func withModelType(model []byte, typ int) []byte {
	inner := protowire.AppendTag(nil, 3, protowire.VarintType)
	inner = protowire.AppendVarint(inner, uint64(typ))
	b := slices.Clone(model)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}

// buildModel serializes a SentencePiece ModelProto.
func buildModel(pieces []spPiece, modelType int, byteFallback bool, norm func(b []byte) []byte) []byte {
	var b []byte
	for _, p := range pieces {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, p.piece)
		m = protowire.AppendTag(m, 2, protowire.Fixed32Type)
		m = protowire.AppendFixed32(m, mathFloat32bits(p.score))
		if p.typ != pieceNormal {
			m = protowire.AppendTag(m, 3, protowire.VarintType)
			m = protowire.AppendVarint(m, uint64(p.typ))
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	var ts []byte
	ts = protowire.AppendTag(ts, 3, protowire.VarintType)
	ts = protowire.AppendVarint(ts, uint64(modelType))
	ts = protowire.AppendTag(ts, 35, protowire.VarintType)
	ts = protowire.AppendVarint(ts, protowire.EncodeBool(byteFallback))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, ts)
	var ns []byte
	ns = protowire.AppendTag(ns, 1, protowire.BytesType)
	ns = protowire.AppendString(ns, "identity")
	if norm != nil {
		ns = norm(ns)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	return protowire.AppendBytes(b, ns)
}

// tinyModel has user-defined and unused pieces, which LLaMA lacks.
func tinyModel(byteFallback bool) []byte {
	pieces := []spPiece{{"<unk>", 0, pieceUnknown}, {"<s>", 0, pieceControl}, {"</s>", 0, pieceControl}}
	if byteFallback {
		for b := range 256 {
			pieces = append(pieces, spPiece{"<0x" + strings.ToUpper(hex2(b)) + ">", 0, pieceByte})
		}
	}
	pieces = append(pieces,
		spPiece{"<tag>", 0, pieceUserDefined},
		spPiece{"x▁y", 0, pieceUserDefined},
		spPiece{"ca", -0.5, pieceUnused},
		spPiece{"ab", -1, pieceNormal},
		spPiece{"▁a", -2, pieceNormal},
		spPiece{"bc", -2, pieceNormal},
		spPiece{"cab", -3, pieceNormal},
		spPiece{"▁▁", -4, pieceNormal},
		spPiece{"▁ab", -5, pieceNormal},
		spPiece{"cca", -6, pieceNormal},
		spPiece{"▁", -10, pieceNormal},
		spPiece{"a", -11, pieceNormal},
		spPiece{"b", -12, pieceNormal},
		spPiece{"c", -13, pieceNormal},
		spPiece{"x", -14, pieceNormal},
		spPiece{"y", -15, pieceNormal},
	)
	return buildModel(pieces, modelBPE, byteFallback, nil)
}

func hex2(b int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func TestTinyModel(t *testing.T) {
	tok, err := ParseModel(tinyModel(true), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("x y<tag>"); !slices.Equal(got, []int{tok.mustID(t, "▁"), tok.mustID(t, "x▁y"), tok.mustID(t, "<tag>")}) {
		t.Errorf("user-defined: %v", got)
	}
	// "ca" is unused: "cab" forms from "ca"+"b" and stays; a lone "ca"
	// is split back into "c" "a".
	if got := tok.Encode("ca"); !slices.Equal(got, []int{tok.mustID(t, "▁"), tok.mustID(t, "c"), tok.mustID(t, "a")}) {
		t.Errorf("unused: %v", got)
	}
	nb, err := ParseModel(tinyModel(false), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if got := nb.Encode("azéz"); !slices.Equal(got, []int{nb.mustID(t, "▁a"), 0}) {
		t.Errorf("no byte fallback: %v", got)
	}
}

func (t *Tokenizer) mustID(tb testing.TB, p string) int {
	id, ok := t.ID(p)
	if !ok {
		tb.Fatalf("no piece %q", p)
	}
	return id
}

func mathFloat32bits(f float32) uint32 { return math.Float32bits(f) }
