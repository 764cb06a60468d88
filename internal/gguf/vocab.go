package gguf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protowire"
)

// Token types of tokenizer.ggml.token_type. They are SentencePiece's piece
// types, which llama.cpp uses unchanged.
const (
	TokenNormal      = 1
	TokenUnknown     = 2
	TokenControl     = 3
	TokenUserDefined = 4
	TokenUnused      = 5
	TokenByte        = 6
)

// Vocab is a SentencePiece vocabulary as GGUF stores it.
type Vocab struct {
	Tokens []string
	Scores []float32
	Types  []int32

	BOS, EOS, UNK int
	PAD           int // -1: none
	AddBOS        bool
}

// LoadVocab reads a SentencePiece tokenizer.model.
func LoadVocab(path string) (Vocab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Vocab{}, err
	}
	v, err := ParseVocab(b)
	if err != nil {
		return Vocab{}, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

var errProto = errors.New("truncated or malformed protobuf")

// ParseVocab parses the bytes of a SentencePiece ModelProto: its pieces
// (field 1) and the special ids of its TrainerSpec (field 2).
func ParseVocab(b []byte) (Vocab, error) {
	v := Vocab{UNK: 0, BOS: 1, EOS: 2, PAD: -1, AddBOS: true}
	err := fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			piece, score, ptype, err := parsePiece(bs)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(v.Tokens), err)
			}
			v.Tokens = append(v.Tokens, piece)
			v.Scores = append(v.Scores, score)
			v.Types = append(v.Types, ptype)
		case num == 2 && typ == protowire.BytesType:
			return fields(bs, func(num protowire.Number, typ protowire.Type, x uint64, _ []byte) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case 40:
					v.UNK = int(int32(x))
				case 41:
					v.BOS = int(int32(x))
				case 42:
					v.EOS = int(int32(x))
				case 43:
					v.PAD = int(int32(x))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return Vocab{}, err
	}
	if len(v.Tokens) == 0 {
		return Vocab{}, errors.New("no pieces: not a SentencePiece model")
	}
	for _, id := range []int{v.UNK, v.BOS, v.EOS} {
		if id < 0 || id >= len(v.Tokens) {
			return Vocab{}, fmt.Errorf("special token id %d outside the vocabulary of %d", id, len(v.Tokens))
		}
	}
	return v, nil
}

// parsePiece parses ModelProto.SentencePiece: piece (1), score (2), type (3).
func parsePiece(b []byte) (piece string, score float32, typ int32, err error) {
	typ = TokenNormal
	err = fields(b, func(num protowire.Number, wt protowire.Type, x uint64, bs []byte) error {
		switch {
		case num == 1 && wt == protowire.BytesType:
			piece = string(bs)
		case num == 2 && wt == protowire.Fixed32Type:
			score = math.Float32frombits(uint32(x))
		case num == 3 && wt == protowire.VarintType:
			typ = int32(x)
		}
		return nil
	})
	if typ < TokenNormal || typ > TokenByte {
		return "", 0, 0, fmt.Errorf("piece %q has unknown type %d", piece, typ)
	}
	return piece, score, typ, err
}

// fields calls fn for each field of the message b; fixed-size and varint
// values come as x, length-delimited ones as bs.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, x uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errProto
		}
		b = b[n:]
		var x uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			x = uint64(v)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errProto
		}
		b = b[n:]
		if err := fn(num, typ, x, bs); err != nil {
			return err
		}
	}
	return nil
}

// TokenizerModelPath is the project's LLaMA tokenizer.model, relative to the
// repository root (the file the tokenizer package embeds).
const TokenizerModelPath = "internal/tokenizer/llama/tokenizer.model"

// FindTokenizerModel looks for TokenizerModelPath in dir and its parents, so
// that the command and tests find it from anywhere in the repository.
func FindTokenizerModel(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, TokenizerModelPath)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s not found in %s or its parents", TokenizerModelPath, abs)
		}
	}
}
