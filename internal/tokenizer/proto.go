package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Piece types of sentencepiece_model.proto (ModelProto.SentencePiece.Type).
const (
	pieceNormal      = 1
	pieceUnknown     = 2
	pieceControl     = 3
	pieceUserDefined = 4
	pieceUnused      = 5
	pieceByte        = 6
)

// Model types of sentencepiece_model.proto (TrainerSpec.ModelType).
const (
	modelUnigram = 1
	modelBPE     = 2
	modelWord    = 3
	modelChar    = 4
)

func modelTypeName(t int) string {
	switch t {
	case modelUnigram:
		return "UNIGRAM"
	case modelBPE:
		return "BPE"
	case modelWord:
		return "WORD"
	case modelChar:
		return "CHAR"
	}
	return fmt.Sprintf("unknown model type %d", t)
}

// spPiece is ModelProto.SentencePiece.
type spPiece struct {
	piece string
	score float32
	typ   int
}

// spModel holds the fields of a SentencePiece ModelProto that encoding and
// decoding need. Defaults are those of sentencepiece_model.proto.
type spModel struct {
	pieces []spPiece

	// TrainerSpec
	modelType               int
	byteFallback            bool
	treatWhitespaceAsSuffix bool
	unkID, bosID, eosID     int
	padID                   int
	unkPiece, bosPiece      string
	eosPiece, padPiece      string
	unkSurface              string

	// NormalizerSpec
	normName               string
	precompiledCharsmap    []byte
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

func defaultSPModel() spModel {
	return spModel{
		modelType:              modelUnigram,
		unkID:                  0,
		bosID:                  1,
		eosID:                  2,
		padID:                  -1,
		unkPiece:               "<unk>",
		bosPiece:               "<s>",
		eosPiece:               "</s>",
		padPiece:               "<pad>",
		unkSurface:             " \u2047 ",
		addDummyPrefix:         true,
		removeExtraWhitespaces: true,
		escapeWhitespaces:      true,
	}
}

var errTruncated = errors.New("truncated or malformed protobuf")

// protoFields calls fn for each field of the message b. fn receives the
// field number, wire type, and either the varint/fixed value or the bytes of
// a length-delimited field. Unknown fields are skipped.
func protoFields(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errTruncated, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v  uint64
			bs []byte
		)
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			v = uint64(v32)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", errTruncated, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, bs); err != nil {
			return err
		}
	}
	return nil
}

func wantType(num protowire.Number, got, want protowire.Type) error {
	if got != want {
		return fmt.Errorf("field %d has wire type %d, want %d", num, got, want)
	}
	return nil
}

func int32Field(v uint64) int { return int(int32(v)) }

// parseModelProto decodes a serialized SentencePiece ModelProto.
func parseModelProto(b []byte) (*spModel, error) {
	m := defaultSPModel()
	err := protoFields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch num {
		case 1: // pieces
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			p, err := parsePiece(bs)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case 2: // trainer_spec
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			if err := parseTrainerSpec(bs, &m); err != nil {
				return fmt.Errorf("trainer_spec: %w", err)
			}
		case 3: // normalizer_spec
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			if err := parseNormalizerSpec(bs, &m); err != nil {
				return fmt.Errorf("normalizer_spec: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func parsePiece(b []byte) (spPiece, error) {
	p := spPiece{typ: pieceNormal}
	err := protoFields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch num {
		case 1:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			if !utf8.Valid(bs) {
				return fmt.Errorf("piece %q is not valid UTF-8", bs)
			}
			p.piece = string(bs)
		case 2:
			if err := wantType(num, typ, protowire.Fixed32Type); err != nil {
				return err
			}
			p.score = math.Float32frombits(uint32(v))
		case 3:
			if err := wantType(num, typ, protowire.VarintType); err != nil {
				return err
			}
			p.typ = int32Field(v)
		}
		return nil
	})
	return p, err
}

func parseTrainerSpec(b []byte, m *spModel) error {
	return protoFields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		var want protowire.Type
		switch num {
		case 3, 24, 35, 40, 41, 42, 43:
			want = protowire.VarintType
		case 44, 45, 46, 47, 48:
			want = protowire.BytesType
		default:
			return nil
		}
		if err := wantType(num, typ, want); err != nil {
			return err
		}
		switch num {
		case 3:
			m.modelType = int32Field(v)
		case 24:
			m.treatWhitespaceAsSuffix = v != 0
		case 35:
			m.byteFallback = v != 0
		case 40:
			m.unkID = int32Field(v)
		case 41:
			m.bosID = int32Field(v)
		case 42:
			m.eosID = int32Field(v)
		case 43:
			m.padID = int32Field(v)
		case 44:
			m.unkSurface = string(bs)
		case 45:
			m.unkPiece = string(bs)
		case 46:
			m.bosPiece = string(bs)
		case 47:
			m.eosPiece = string(bs)
		case 48:
			m.padPiece = string(bs)
		}
		return nil
	})
}

func parseNormalizerSpec(b []byte, m *spModel) error {
	return protoFields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		var want protowire.Type
		switch num {
		case 1, 2:
			want = protowire.BytesType
		case 3, 4, 5:
			want = protowire.VarintType
		default:
			return nil
		}
		if err := wantType(num, typ, want); err != nil {
			return err
		}
		switch num {
		case 1:
			m.normName = string(bs)
		case 2:
			m.precompiledCharsmap = append([]byte(nil), bs...)
		case 3:
			m.addDummyPrefix = v != 0
		case 4:
			m.removeExtraWhitespaces = v != 0
		case 5:
			m.escapeWhitespaces = v != 0
		}
		return nil
	})
}
