// Package gguf writes small LLaMA models in llama.cpp's GGUF format (version
// 3) with seeded random weights and a real SentencePiece vocabulary, and
// reads a GGUF file's header back.
//
// The models answer with gibberish: they exist to run a real inference
// server (llama.cpp's llama-server) in tests, where no trained weights can be
// downloaded.
//
//	v, err := gguf.LoadVocab("internal/tokenizer/llama/tokenizer.model")
//	err = gguf.Write(w, gguf.DefaultConfig(), v)
//	h, err := gguf.ReadHeader(r)
//
// Layout (little-endian): magic "GGUF", version, tensor count, metadata
// count, the metadata key/value pairs, the tensor infos (name, dimensions
// innermost first, type, offset in the data section), padding to
// general.alignment, then the tensor data, each tensor aligned.
package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Magic is the first four bytes of a GGUF file.
const Magic = "GGUF"

// Version is the GGUF version this package writes.
const Version = 3

// Alignment is the alignment of the data section and of each tensor.
const Alignment = 32

// Metadata value types.
const (
	TypeUint8   uint32 = 0
	TypeInt8    uint32 = 1
	TypeUint16  uint32 = 2
	TypeInt16   uint32 = 3
	TypeUint32  uint32 = 4
	TypeInt32   uint32 = 5
	TypeFloat32 uint32 = 6
	TypeBool    uint32 = 7
	TypeString  uint32 = 8
	TypeArray   uint32 = 9
	TypeUint64  uint32 = 10
	TypeInt64   uint32 = 11
	TypeFloat64 uint32 = 12
)

// Tensor types (ggml_type).
const (
	GGMLTypeF32 uint32 = 0
	GGMLTypeF16 uint32 = 1
)

// VicunaTemplate is Vicuna v1.1's conversation format as a Jinja chat
// template (tokenizer.chat_template), the format FastChat serves Vicuna with.
const VicunaTemplate = `{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set loop_messages = messages[1:] %}` +
	`{% else %}{% set system = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions." %}{% set loop_messages = messages %}{% endif %}` +
	`{{ bos_token + system }}{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ ' USER: ' + message['content'] }}` +
	`{% elif message['role'] == 'assistant' %}{{ ' ASSISTANT: ' + message['content'] + eos_token }}{% endif %}{% endfor %}` +
	`{% if add_generation_prompt %}{{ ' ASSISTANT:' }}{% endif %}`

// Config is the shape of the generated model.
type Config struct {
	Name      string // general.name
	Embedding int    // llama.embedding_length
	Layers    int    // llama.block_count
	Heads     int    // llama.attention.head_count
	HeadsKV   int    // llama.attention.head_count_kv (grouped-query attention when < Heads)
	FF        int    // llama.feed_forward_length
	Context   int    // llama.context_length
	F16       bool   // F16 weight matrices (norms stay F32)
	Seed      uint64 // seed of the random weights
	Std       float64
	Template  string // tokenizer.chat_template; empty: none
}

// DefaultConfig is a tiny model: 64-wide embeddings, 2 layers, 4 heads,
// feed-forward 128, context 2048, F32, Vicuna chat template.
func DefaultConfig() Config {
	return Config{
		Name: "sharegpt-test-llama", Embedding: 64, Layers: 2, Heads: 4, HeadsKV: 4,
		FF: 128, Context: 2048, Seed: 1, Std: 0.5, Template: VicunaTemplate,
	}
}

func (c Config) validate(v Vocab) error {
	switch {
	case c.Embedding <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.HeadsKV <= 0 || c.FF <= 0 || c.Context <= 0:
		return fmt.Errorf("embedding, layers, heads, heads-kv, ff and context must be positive (got %d, %d, %d, %d, %d, %d)",
			c.Embedding, c.Layers, c.Heads, c.HeadsKV, c.FF, c.Context)
	case c.Embedding%c.Heads != 0:
		return fmt.Errorf("embedding %d is not a multiple of heads %d", c.Embedding, c.Heads)
	case c.Heads%c.HeadsKV != 0:
		return fmt.Errorf("heads %d is not a multiple of heads-kv %d", c.Heads, c.HeadsKV)
	case (c.Embedding/c.Heads)%2 != 0:
		return fmt.Errorf("head size %d must be even (rotary embeddings)", c.Embedding/c.Heads)
	case !(c.Std > 0):
		return fmt.Errorf("std %v must be positive", c.Std)
	case len(v.Tokens) == 0 || len(v.Scores) != len(v.Tokens) || len(v.Types) != len(v.Tokens):
		return fmt.Errorf("vocabulary: %d tokens, %d scores, %d types", len(v.Tokens), len(v.Scores), len(v.Types))
	}
	return nil
}

// tensor is one tensor's info; dims are innermost first (ggml's ne).
type tensor struct {
	name string
	dims []uint64
	typ  uint32
	norm bool // all ones instead of random
}

func (t tensor) elems() uint64 {
	n := uint64(1)
	for _, d := range t.dims {
		n *= d
	}
	return n
}

func (t tensor) size() uint64 {
	if t.typ == GGMLTypeF16 {
		return 2 * t.elems()
	}
	return 4 * t.elems()
}

func (c Config) tensors(nVocab int) []tensor {
	e, ff, v := uint64(c.Embedding), uint64(c.FF), uint64(nVocab)
	kv := e / uint64(c.Heads) * uint64(c.HeadsKV)
	mt := GGMLTypeF32
	if c.F16 {
		mt = GGMLTypeF16
	}
	ts := []tensor{{name: "token_embd.weight", dims: []uint64{e, v}, typ: mt}}
	for i := range c.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			tensor{name: p + "attn_norm.weight", dims: []uint64{e}, typ: GGMLTypeF32, norm: true},
			tensor{name: p + "attn_q.weight", dims: []uint64{e, e}, typ: mt},
			tensor{name: p + "attn_k.weight", dims: []uint64{e, kv}, typ: mt},
			tensor{name: p + "attn_v.weight", dims: []uint64{e, kv}, typ: mt},
			tensor{name: p + "attn_output.weight", dims: []uint64{e, e}, typ: mt},
			tensor{name: p + "ffn_norm.weight", dims: []uint64{e}, typ: GGMLTypeF32, norm: true},
			tensor{name: p + "ffn_gate.weight", dims: []uint64{e, ff}, typ: mt},
			tensor{name: p + "ffn_down.weight", dims: []uint64{ff, e}, typ: mt},
			tensor{name: p + "ffn_up.weight", dims: []uint64{e, ff}, typ: mt},
		)
	}
	return append(ts,
		tensor{name: "output_norm.weight", dims: []uint64{e}, typ: GGMLTypeF32, norm: true},
		tensor{name: "output.weight", dims: []uint64{e, v}, typ: mt},
	)
}

// Write writes the model. The output depends only on c and v: the same
// arguments give the same bytes.
func Write(w io.Writer, c Config, v Vocab) error {
	if err := c.validate(v); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	e := &enc{w: bw}
	ts := c.tensors(len(v.Tokens))

	fileType := uint32(0) // all F32
	if c.F16 {
		fileType = 1 // mostly F16
	}
	type kv struct {
		key string
		fn  func()
	}
	u32 := func(x int) func() { return func() { e.u32(TypeUint32); e.u32(uint32(x)) } }
	meta := []kv{
		{"general.architecture", func() { e.u32(TypeString); e.str("llama") }},
		{"general.name", func() { e.u32(TypeString); e.str(c.Name) }},
		{"general.alignment", u32(Alignment)},
		{"general.file_type", u32(int(fileType))},
		{"llama.vocab_size", u32(len(v.Tokens))},
		{"llama.context_length", u32(c.Context)},
		{"llama.embedding_length", u32(c.Embedding)},
		{"llama.block_count", u32(c.Layers)},
		{"llama.feed_forward_length", u32(c.FF)},
		{"llama.rope.dimension_count", u32(c.Embedding / c.Heads)},
		{"llama.attention.head_count", u32(c.Heads)},
		{"llama.attention.head_count_kv", u32(c.HeadsKV)},
		{"llama.attention.layer_norm_rms_epsilon", func() { e.u32(TypeFloat32); e.f32(1e-5) }},
		{"llama.rope.freq_base", func() { e.u32(TypeFloat32); e.f32(10000) }},
		{"tokenizer.ggml.model", func() { e.u32(TypeString); e.str("llama") }},
		{"tokenizer.ggml.tokens", func() {
			e.u32(TypeArray)
			e.u32(TypeString)
			e.u64(uint64(len(v.Tokens)))
			for _, t := range v.Tokens {
				e.str(t)
			}
		}},
		{"tokenizer.ggml.scores", func() {
			e.u32(TypeArray)
			e.u32(TypeFloat32)
			e.u64(uint64(len(v.Scores)))
			for _, s := range v.Scores {
				e.f32(s)
			}
		}},
		{"tokenizer.ggml.token_type", func() {
			e.u32(TypeArray)
			e.u32(TypeInt32)
			e.u64(uint64(len(v.Types)))
			for _, t := range v.Types {
				e.u32(uint32(t))
			}
		}},
		{"tokenizer.ggml.bos_token_id", u32(v.BOS)},
		{"tokenizer.ggml.eos_token_id", u32(v.EOS)},
		{"tokenizer.ggml.unknown_token_id", u32(v.UNK)},
		{"tokenizer.ggml.add_bos_token", func() { e.u32(TypeBool); e.bool(v.AddBOS) }},
		{"tokenizer.ggml.add_eos_token", func() { e.u32(TypeBool); e.bool(false) }},
	}
	if v.PAD >= 0 && v.PAD < len(v.Tokens) {
		meta = append(meta, kv{"tokenizer.ggml.padding_token_id", u32(v.PAD)})
	}
	if c.Template != "" {
		meta = append(meta, kv{"tokenizer.chat_template", func() { e.u32(TypeString); e.str(c.Template) }})
	}

	e.raw([]byte(Magic))
	e.u32(Version)
	e.u64(uint64(len(ts)))
	e.u64(uint64(len(meta)))
	for _, m := range meta {
		e.str(m.key)
		m.fn()
	}
	var off uint64
	for _, t := range ts {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(t.typ)
		e.u64(off)
		off = align(off + t.size())
	}
	e.pad()

	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed_6775_6667))
	for _, t := range ts {
		n := t.elems()
		for range n {
			x := 1.0
			if !t.norm {
				x = rng.NormFloat64() * c.Std
			}
			if t.typ == GGMLTypeF16 {
				e.u16(f16(float32(x)))
			} else {
				e.f32(float32(x))
			}
		}
		e.pad()
	}
	if e.err != nil {
		return fmt.Errorf("gguf: %w", e.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	return nil
}

func align(n uint64) uint64 { return (n + Alignment - 1) / Alignment * Alignment }

// enc writes little-endian values and remembers the first error.
type enc struct {
	w   *bufio.Writer
	n   uint64
	err error
	buf [8]byte
}

func (e *enc) raw(b []byte) {
	if e.err != nil {
		return
	}
	var k int
	k, e.err = e.w.Write(b)
	e.n += uint64(k)
}

func (e *enc) u16(x uint16) { binary.LittleEndian.PutUint16(e.buf[:], x); e.raw(e.buf[:2]) }
func (e *enc) u32(x uint32) { binary.LittleEndian.PutUint32(e.buf[:], x); e.raw(e.buf[:4]) }
func (e *enc) u64(x uint64) { binary.LittleEndian.PutUint64(e.buf[:], x); e.raw(e.buf[:8]) }
func (e *enc) f32(x float32) {
	e.u32(math.Float32bits(x))
}
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }
func (e *enc) bool(b bool) {
	if b {
		e.raw([]byte{1})
	} else {
		e.raw([]byte{0})
	}
}

var zeros [Alignment]byte

func (e *enc) pad() { e.raw(zeros[:align(e.n)-e.n]) }

// f16 converts to IEEE 754 half precision, rounding to nearest even. The
// weights are small normal numbers; overflow saturates to infinity.
func f16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case (b>>23)&0xff == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is correct rounding
	}
	return sign | uint16(h)
}

// errFormat marks a file that is not a GGUF file this package can read.
var errFormat = errors.New("not a GGUF file")
