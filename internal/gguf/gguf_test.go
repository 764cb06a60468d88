package gguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

func llamaVocab(t *testing.T) Vocab {
	t.Helper()
	p, err := FindTokenizerModel(".")
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVocab(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadVocabIsTheProjectTokenizer(t *testing.T) {
	v := llamaVocab(t)
	tok := tokenizer.Default()
	if len(v.Tokens) != tok.VocabSize() || len(v.Tokens) != 32000 {
		t.Fatalf("%d tokens, tokenizer has %d, want 32000", len(v.Tokens), tok.VocabSize())
	}
	for id, p := range v.Tokens {
		if p != tok.Piece(id) {
			t.Fatalf("token %d = %q, tokenizer piece %q", id, p, tok.Piece(id))
		}
	}
	if v.UNK != tok.UNK() || v.BOS != tok.BOS() || v.EOS != tok.EOS() || v.PAD != -1 || !v.AddBOS {
		t.Errorf("unk/bos/eos/pad = %d/%d/%d/%d add_bos %v", v.UNK, v.BOS, v.EOS, v.PAD, v.AddBOS)
	}
	count := map[int32]int{}
	for _, ty := range v.Types {
		count[ty]++
	}
	want := map[int32]int{TokenUnknown: 1, TokenControl: 2, TokenByte: 256, TokenNormal: 32000 - 259}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("token types %v, want %v", count, want)
	}
	for id := 3; id <= 258; id++ {
		if want := fmt.Sprintf("<0x%02X>", id-3); v.Tokens[id] != want || v.Types[id] != TokenByte {
			t.Fatalf("token %d = %q type %d, want byte token %s", id, v.Tokens[id], v.Types[id], want)
		}
	}
	// SentencePiece BPE scores: merges rank by score, so normal pieces'
	// scores fall with the id.
	if v.Scores[260] != -1 || v.Scores[261] != -2 || v.Scores[31999] >= v.Scores[1000] {
		t.Errorf("scores[260], [261], [1000], [31999] = %v, %v, %v, %v", v.Scores[260], v.Scores[261], v.Scores[1000], v.Scores[31999])
	}
}

func TestWriteReadHeader(t *testing.T) {
	v := llamaVocab(t)
	tests := []struct {
		name string
		edit func(*Config)
		typ  uint32
	}{
		{"default f32", func(*Config) {}, GGMLTypeF32},
		{"f16 gqa no template", func(c *Config) { c.F16, c.HeadsKV, c.Template, c.Layers = true, 2, "", 3 }, GGMLTypeF16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			var buf bytes.Buffer
			if err := Write(&buf, c, v); err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != 3 {
				t.Errorf("version %d", h.Version)
			}
			for k, want := range map[string]any{
				"general.architecture":                   "llama",
				"general.alignment":                      uint32(32),
				"llama.embedding_length":                 uint32(c.Embedding),
				"llama.block_count":                      uint32(c.Layers),
				"llama.attention.head_count":             uint32(c.Heads),
				"llama.attention.head_count_kv":          uint32(c.HeadsKV),
				"llama.feed_forward_length":              uint32(c.FF),
				"llama.context_length":                   uint32(2048),
				"llama.rope.dimension_count":             uint32(16),
				"llama.vocab_size":                       uint32(32000),
				"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
				"tokenizer.ggml.model":                   "llama",
				"tokenizer.ggml.bos_token_id":            uint32(1),
				"tokenizer.ggml.eos_token_id":            uint32(2),
				"tokenizer.ggml.unknown_token_id":        uint32(0),
				"tokenizer.ggml.add_bos_token":           true,
				"tokenizer.ggml.add_eos_token":           false,
			} {
				if got := h.Meta[k]; got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if _, ok := h.Meta["tokenizer.ggml.padding_token_id"]; ok {
				t.Error("padding_token_id written for a vocabulary without padding")
			}
			if tmpl, _ := h.Meta["tokenizer.chat_template"].(string); tmpl != c.Template {
				t.Errorf("chat template %q, want %q", tmpl, c.Template)
			}
			toks := h.Meta["tokenizer.ggml.tokens"].([]any)
			scores := h.Meta["tokenizer.ggml.scores"].([]any)
			types := h.Meta["tokenizer.ggml.token_type"].([]any)
			if len(toks) != 32000 || len(scores) != 32000 || len(types) != 32000 {
				t.Fatalf("%d tokens, %d scores, %d types", len(toks), len(scores), len(types))
			}
			for _, id := range []int{0, 1, 2, 3, 258, 259, 4013, 31999} {
				if toks[id] != v.Tokens[id] || scores[id] != v.Scores[id] || types[id] != v.Types[id] {
					t.Errorf("token %d = %q %v %v, want %q %v %v", id, toks[id], scores[id], types[id], v.Tokens[id], v.Scores[id], v.Types[id])
				}
			}

			if want := 1 + 9*c.Layers + 2; len(h.Tensors) != want {
				t.Fatalf("%d tensors, want %d", len(h.Tensors), want)
			}
			kv := uint64(c.Embedding / c.Heads * c.HeadsKV)
			byName := map[string]TensorInfo{}
			var end uint64
			for i, ti := range h.Tensors {
				byName[ti.Name] = ti
				if ti.Offset%Alignment != 0 || (i > 0 && ti.Offset < end) {
					t.Errorf("tensor %s at offset %d overlaps or is unaligned (previous end %d)", ti.Name, ti.Offset, end)
				}
				size := uint64(4)
				if ti.Type == GGMLTypeF16 {
					size = 2
				}
				for _, d := range ti.Dims {
					size *= d
				}
				end = ti.Offset + size
			}
			for name, want := range map[string]string{
				"token_embd.weight":        fmt.Sprintf("[64 32000] %d", tt.typ),
				"output.weight":            fmt.Sprintf("[64 32000] %d", tt.typ),
				"output_norm.weight":       "[64] 0",
				"blk.0.attn_norm.weight":   "[64] 0",
				"blk.0.attn_q.weight":      fmt.Sprintf("[64 64] %d", tt.typ),
				"blk.1.attn_k.weight":      fmt.Sprintf("[64 %d] %d", kv, tt.typ),
				"blk.1.attn_v.weight":      fmt.Sprintf("[64 %d] %d", kv, tt.typ),
				"blk.1.attn_output.weight": fmt.Sprintf("[64 64] %d", tt.typ),
				"blk.1.ffn_gate.weight":    fmt.Sprintf("[64 128] %d", tt.typ),
				"blk.1.ffn_up.weight":      fmt.Sprintf("[64 128] %d", tt.typ),
				"blk.1.ffn_down.weight":    fmt.Sprintf("[128 64] %d", tt.typ),
				"blk.1.ffn_norm.weight":    "[64] 0",
			} {
				ti, ok := byName[name]
				if got := fmt.Sprintf("%v %d", ti.Dims, ti.Type); !ok || got != want {
					t.Errorf("tensor %s = %s (present %v), want %s", name, got, ok, want)
				}
			}
			if h.DataOffset%Alignment != 0 || h.DataOffset+(end+Alignment-1)/Alignment*Alignment != uint64(buf.Len()) {
				t.Errorf("data at %d, tensors end at %d, file is %d bytes", h.DataOffset, end, buf.Len())
			}

			// Norm weights are ones; matrices are random with the configured spread.
			data := buf.Bytes()[h.DataOffset:]
			norm := byName["blk.0.ffn_norm.weight"]
			for i := range 64 {
				if f := math.Float32frombits(binary.LittleEndian.Uint32(data[norm.Offset+4*uint64(i):])); f != 1 {
					t.Fatalf("ffn_norm[%d] = %v, want 1", i, f)
				}
			}
			q := byName["blk.0.attn_q.weight"]
			var sum2 float64
			for i := range 64 * 64 {
				var f float64
				if tt.typ == GGMLTypeF16 {
					f = float64(halfToFloat(binary.LittleEndian.Uint16(data[q.Offset+2*uint64(i):])))
				} else {
					f = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[q.Offset+4*uint64(i):])))
				}
				sum2 += f * f
			}
			if std := math.Sqrt(sum2 / (64 * 64)); math.Abs(std-c.Std) > 0.05*c.Std {
				t.Errorf("attn_q std %.3f, want %.3f", std, c.Std)
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	v := llamaVocab(t)
	sum := func(c Config) [32]byte {
		var buf bytes.Buffer
		if err := Write(&buf, c, v); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(buf.Bytes())
	}
	c := DefaultConfig()
	a, b := sum(c), sum(c)
	c.Seed = 2
	if a != b {
		t.Error("two writes with the same seed differ")
	}
	if sum(c) == a {
		t.Error("another seed gives the same bytes")
	}
}

func TestWriteFileAndErrors(t *testing.T) {
	v := llamaVocab(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if err := WriteFile(path, DefaultConfig(), v); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ReadHeader(f); err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"heads do not divide", func(c *Config) { c.Heads = 5 }, "not a multiple of heads"},
		{"zero layers", func(c *Config) { c.Layers = 0 }, "must be positive"},
		{"kv heads do not divide", func(c *Config) { c.HeadsKV = 3 }, "not a multiple of heads-kv"},
		{"odd head size", func(c *Config) { c.Embedding, c.Heads, c.HeadsKV = 12, 4, 4 }, "must be even"},
		{"zero std", func(c *Config) { c.Std = 0 }, "std"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			p := filepath.Join(dir, "bad.gguf")
			err := WriteFile(p, c, v)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %v, want one naming %s and saying %q", err, p, tt.want)
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("failed write left %s behind", p)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestReadHeaderRejectsCorruptFiles(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, DefaultConfig(), llamaVocab(t)); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	huge := bytes.Clone(good[:24])
	binary.LittleEndian.PutUint64(huge[16:], 1<<40) // metadata count
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a GGUF file"},
		{"wrong magic", []byte("GGML\x03\x00\x00\x00"), "not a GGUF file"},
		{"version 1", []byte("GGUF\x01\x00\x00\x00" + strings.Repeat("\x00", 16)), "version 1"},
		{"huge count", huge, "corrupt header"},
		{"truncated in metadata", good[:5000], io.ErrUnexpectedEOF.Error()},
		{"truncated in tensor infos", good[:len(good)-17400000], io.ErrUnexpectedEOF.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHeader(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if tt.want == "not a GGUF file" && !errors.Is(err, errFormat) {
				t.Errorf("error %v is not errFormat", err)
			}
		})
	}
}

func TestParseVocabErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no pieces"},
		{"garbage", []byte{0xff, 0xff, 0xff}, "malformed protobuf"},
		// piece "a" with type 9
		{"bad type", []byte{0x0a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x09}, "unknown type 9"},
		// one piece; bos id (field 41 of field 2) = 7
		{"bos outside", []byte{0x0a, 0x03, 0x0a, 0x01, 'a', 0x12, 0x03, 0xc8, 0x02, 0x07}, "special token id 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVocab(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := LoadVocab(filepath.Join(t.TempDir(), "missing.model")); err == nil || !strings.Contains(err.Error(), "missing.model") {
		t.Errorf("missing file: %v", err)
	}
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		f := float32(mant) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

func TestF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},
		{65520, 0x7c00}, // rounds to infinity
		{1e9, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{6.103515625e-05, 0x0400},       // smallest normal
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
		{1e-9, 0x0000},
		{1.0009765625, 0x3c01},  // 1 + 2^-10
		{1.00048828125, 0x3c00}, // halfway, rounds to even
		{1.00146484375, 0x3c02}, // halfway, rounds to even (up)
	}
	for _, tt := range tests {
		if got := f16(tt.in); got != tt.want {
			t.Errorf("f16(%v) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
	if got := f16(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("f16(NaN) = %#04x", got)
	}
	for _, f := range []float32{0.1, -0.37, 1.7, 3.14159, 1e-3} {
		if back := halfToFloat(f16(f)); math.Abs(float64(back-f)) > math.Abs(float64(f))/1024 {
			t.Errorf("%v -> %v", f, back)
		}
	}
}
