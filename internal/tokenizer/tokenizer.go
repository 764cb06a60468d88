package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	sugar "github.com/sugarme/tokenizer"
)

// Tokenizer encodes text to token ids and decodes ids to text. It is
// immutable after loading and safe for concurrent use.
type Tokenizer struct {
	enc    *encoder
	pieces []string
	types  []uint8
	ids    map[string]int

	bos, eos, unk, pad int

	// SentencePiece decoding
	unkSurface      string
	stripFirstSpace bool

	// tokenizer.json: decoding is delegated to sugarme/tokenizer.
	hf *sugar.Tokenizer

	bl      *byteLevel  // byte-level BPE (tokenizer.json), else enc encodes
	added   *addedVocab // tokenizer.json added tokens, matched before encoding
	spAdded *addedVocab // tokenizer.model: control pieces, for EncodeSpecial
	config  Config

	source string
}

// Source describes where the tokenizer was loaded from.
func (t *Tokenizer) Source() string { return t.source }

// Encode returns the token ids of text, without BOS or EOS. text is always
// plain text: "<s>" in it is encoded as the characters '<', 's', '>'.
func (t *Tokenizer) Encode(text string) []int {
	return t.AppendEncode(nil, text)
}

// AppendEncode appends the token ids of text to dst and returns the
// extended slice.
func (t *Tokenizer) AppendEncode(dst []int, text string) []int {
	o := output{ids: dst}
	t.encode(&o, text, false)
	return o.ids
}

// EncodeSpecial is Encode for text in which the strings of added and
// special tokens stand for those tokens ("<|eot_id|>" gives its id), as
// transformers' tokenizer(text, add_special_tokens=False) gives them:
// for a rendered chat template. Plain text (a message's content) goes
// through Encode, where only the added tokens not marked special are
// matched.
func (t *Tokenizer) EncodeSpecial(text string) []int {
	return t.AppendEncodeSpecial(nil, text)
}

// AppendEncodeSpecial is EncodeSpecial appending to dst.
func (t *Tokenizer) AppendEncodeSpecial(dst []int, text string) []int {
	o := output{ids: dst}
	t.encode(&o, text, true)
	return o.ids
}

// EncodeSpecialOffsets is EncodeSpecial with the offsets EncodeOffsets
// gives; a special token starts where its string does.
func (t *Tokenizer) EncodeSpecialOffsets(text string) (ids []int, starts []int) {
	o := output{offs: true}
	t.encode(&o, text, true)
	return o.ids, o.starts
}

// SpecialID returns the id of an added or special token given by its
// string ("<|eot_id|>", "<start_of_turn>", "</s>"): the id EncodeSpecial
// gives for that string.
func (t *Tokenizer) SpecialID(s string) (int, bool) {
	for _, a := range []*addedVocab{t.added, t.spAdded} {
		if a != nil {
			if id, ok := a.ids[s]; ok {
				return int(id), true
			}
		}
	}
	return -1, false
}

// Config returns what the model folder's tokenizer_config.json says (the
// zero Config when there was none).
func (t *Tokenizer) Config() Config { return t.config }

// Count returns the number of tokens Encode(text) would return, without
// keeping them: its memory does not grow with text.
func (t *Tokenizer) Count(text string) int {
	o := output{countOnly: true}
	t.encode(&o, text, false)
	return o.n
}

// encode sends the tokens of text to o; special selects EncodeSpecial.
func (t *Tokenizer) encode(o *output, text string, special bool) {
	a := t.added
	if special && a == nil {
		a = t.spAdded
	}
	if a == nil {
		if t.bl != nil {
			t.bl.segment(o, nil, text, 0, special)
		} else {
			t.enc.encode(o, text)
		}
		return
	}
	a.split(&a.raw, text, special, func(lo, hi int, id int32) {
		if o.stop {
			return
		}
		if id >= 0 {
			o.add(id, int32(lo))
			return
		}
		t.segment(o, a, text[lo:hi], lo, special)
	})
}

// segment encodes text between added tokens found in the original text,
// starting at byte base of it.
func (t *Tokenizer) segment(o *output, a *addedVocab, seg string, base int, special bool) {
	if t.bl != nil {
		t.bl.segment(o, a, seg, base, special)
		return
	}
	// SentencePiece-style: normalized added tokens hold no space (checked
	// when loading), so they are found in the same places before and
	// after the normalizer.
	a.split(&a.norm, seg, special, func(lo, hi int, id int32) {
		if o.stop {
			return
		}
		if id >= 0 {
			o.add(id, int32(base+lo))
			return
		}
		o.base = int32(base + lo)
		t.enc.encode(o, seg[lo:hi])
		o.base = 0
	})
}

// Tokens returns an iterator over the tokens of text: the id of each
// token and the byte offset in text where it starts, as EncodeOffsets
// gives them. It holds no list of tokens, so its memory does not grow
// with text; stopping the loop stops the encoding.
func (t *Tokenizer) Tokens(text string) iter.Seq2[int, int] {
	return func(yield func(id, start int) bool) {
		o := output{yield: yield}
		t.encode(&o, text, false)
	}
}

// EncodeOffsets is Encode that also returns, for each token, the byte
// offset in text where the token starts. A token made of an escaped space
// ("▁...") starts at that space; the first token starts at the first byte
// of text (the dummy "▁" prefix has no bytes of its own); byte-fallback
// tokens of one character start at successive bytes of that character.
// Offsets never decrease.
func (t *Tokenizer) EncodeOffsets(text string) (ids []int, starts []int) {
	o := output{offs: true}
	t.encode(&o, text, false)
	return o.ids, o.starts
}

// BOS returns the id of the beginning-of-sequence token, or -1.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the id of the end-of-sequence token, or -1.
func (t *Tokenizer) EOS() int { return t.eos }

// UNK returns the id of the unknown token, or -1 (byte-level models).
func (t *Tokenizer) UNK() int { return t.unk }

// PAD returns the id of the padding token, or -1 if the model has none.
func (t *Tokenizer) PAD() int { return t.pad }

// VocabSize returns the number of pieces (ids are 0..VocabSize()-1).
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the piece of id, or "" if id is out of range.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// ID returns the id of piece.
func (t *Tokenizer) ID(piece string) (int, bool) {
	id, ok := t.ids[piece]
	return id, ok
}

// IsControl reports whether id is a control token such as <s> or </s>.
func (t *Tokenizer) IsControl(id int) bool {
	return id >= 0 && id < len(t.types) && t.types[id] == pieceControl
}

// Decode returns the text of ids. For a SentencePiece model it matches
// SentencePieceProcessor.Decode: control tokens are dropped, the unknown
// token becomes " ⁇ ", byte tokens are joined into UTF-8 (invalid bytes
// become U+FFFD), "▁" becomes a space and the leading space of the first
// piece is removed. Out-of-range ids decode like the unknown token. For a
// tokenizer.json, decoding is its decoder's, skipping special tokens.
func (t *Tokenizer) Decode(ids []int) string {
	if t.bl != nil {
		return t.bl.decode(t, ids)
	}
	if t.hf != nil {
		if s, ok := t.decodeHF(ids); ok {
			return s
		}
	}
	var (
		b       strings.Builder
		bytes   []byte
		bosWS   = true
		surface string
	)
	flush := func() {
		for len(bytes) > 0 {
			r, n := utf8.DecodeRune(bytes)
			if r == utf8.RuneError && n <= 1 {
				b.WriteString("\uFFFD")
				n = 1
			} else {
				b.Write(bytes[:n])
			}
			bytes = bytes[n:]
		}
		bytes = bytes[:0]
	}
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) {
			flush()
			b.WriteString(t.unkSurface)
			bosWS = false
			continue
		}
		switch t.types[id] {
		case pieceControl:
			flush()
			continue
		case pieceByte:
			if v, ok := byteOfPiece(t.pieces[id]); ok {
				bytes = append(bytes, v)
				bosWS = false
				continue
			}
		}
		flush()
		if t.types[id] == pieceUnknown {
			surface = t.unkSurface
		} else {
			surface = t.pieces[id]
			if bosWS && t.stripFirstSpace {
				surface = strings.TrimPrefix(surface, string(spaceSymbol))
			}
			surface = strings.ReplaceAll(surface, string(spaceSymbol), " ")
		}
		b.WriteString(surface)
		bosWS = false
	}
	flush()
	return b.String()
}

// decodeHF decodes with sugarme/tokenizer; ok is false when it cannot
// (it panics on some inputs, e.g. no tokens left after skipping special
// ones), and the SentencePiece rules are used instead.
func (t *Tokenizer) decodeHF(ids []int) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) {
			return "", false
		}
	}
	return t.hf.Decode(ids, true), true
}

func byteOfPiece(p string) (byte, bool) {
	if len(p) != 6 || !strings.HasPrefix(p, "<0x") || p[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(p[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// ParseModel builds a Tokenizer from the bytes of a SentencePiece
// tokenizer.model. name is used in error messages.
func ParseModel(data []byte, name string) (t *Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("tokenizer: %s: corrupt SentencePiece model: %v", name, r)
		}
	}()
	m, err := parseModelProto(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: not a SentencePiece model: %w", name, err)
	}
	t, err = newFromSP(m)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	t.source = name
	return t, nil
}

func newFromSP(m *spModel) (*Tokenizer, error) {
	if len(m.pieces) == 0 {
		return nil, errors.New("SentencePiece model has no pieces")
	}
	if m.modelType != modelBPE {
		return nil, fmt.Errorf("unsupported SentencePiece model type %s (only BPE is supported)", modelTypeName(m.modelType))
	}
	if len(m.precompiledCharsmap) > 0 {
		return nil, fmt.Errorf("unsupported SentencePiece normalizer %q (a precompiled charsmap; only identity normalization is supported)", m.normName)
	}
	if m.treatWhitespaceAsSuffix {
		return nil, errors.New("unsupported SentencePiece option treat_whitespace_as_suffix")
	}
	t := &Tokenizer{
		pieces:          make([]string, len(m.pieces)),
		types:           make([]uint8, len(m.pieces)),
		ids:             make(map[string]int, len(m.pieces)),
		unk:             -1,
		bos:             -1,
		eos:             -1,
		pad:             -1,
		unkSurface:      m.unkSurface,
		stripFirstSpace: m.addDummyPrefix || m.removeExtraWhitespaces,
	}
	scores := make([]float32, len(m.pieces))
	for i, p := range m.pieces {
		if p.typ < pieceNormal || p.typ > pieceByte {
			return nil, fmt.Errorf("piece %d (%q) has unknown type %d", i, p.piece, p.typ)
		}
		if p.piece == "" {
			return nil, fmt.Errorf("piece %d is empty", i)
		}
		if _, dup := t.ids[p.piece]; dup {
			return nil, fmt.Errorf("piece %q is defined twice", p.piece)
		}
		if p.typ == pieceByte && !m.byteFallback {
			return nil, fmt.Errorf("byte piece %q but byte_fallback is off", p.piece)
		}
		t.pieces[i], t.types[i], scores[i] = p.piece, uint8(p.typ), p.score
		t.ids[p.piece] = i
		if p.typ == pieceUnknown && t.unk < 0 {
			t.unk = i
		}
	}
	if t.unk < 0 {
		return nil, errors.New("SentencePiece model has no unknown piece")
	}
	special := func(piece string, id int) int {
		if i, ok := t.ids[piece]; ok && t.types[i] == pieceControl {
			return i
		}
		if id >= 0 && id < len(t.pieces) && t.types[id] == pieceControl {
			return id
		}
		return -1
	}
	t.bos = special(m.bosPiece, m.bosID)
	t.eos = special(m.eosPiece, m.eosID)
	t.pad = special(m.padPiece, m.padID)
	// EncodeSpecial matches the control and unknown pieces ("<s>",
	// "</s>", "<unk>"), as transformers' LlamaTokenizer does.
	var sp []addedToken
	for id, p := range t.pieces {
		if t.types[id] == pieceControl || t.types[id] == pieceUnknown {
			sp = append(sp, addedToken{content: p, id: int32(id), special: true})
		}
	}
	if len(sp) > 0 {
		t.spAdded = newAddedVocab(sp)
	}

	mergeable := func(id int) bool {
		switch t.types[id] {
		case pieceNormal, pieceUserDefined, pieceUnused:
			return true
		}
		return false
	}
	enc, err := newEncoder(encoderConfig{
		pieces:       t.pieces,
		types:        t.types,
		byteFallback: m.byteFallback,
		unk:          int32(t.unk),
		mergeable:    mergeable,
		reservedOut:  func(id int) bool { return !mergeable(id) },
		merges:       spMerges(t.pieces, scores, mergeable),
		addDummy:     m.addDummyPrefix,
		removeExtra:  m.removeExtraWhitespaces,
		escapeWS:     m.escapeWhitespaces,
	})
	if err != nil {
		return nil, err
	}
	t.enc = enc
	return t, nil
}

// Load reads a tokenizer from path: a SentencePiece tokenizer.model, a
// Hugging Face tokenizer.json, or a model folder holding one of them
// (tokenizer.model is preferred). The tokenizer_config.json and
// chat_template.jinja beside the file are read into Config, and its
// bos_token, eos_token and pad_token set BOS, EOS and PAD.
func Load(path string) (*Tokenizer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if fi.IsDir() {
		for _, name := range []string{"tokenizer.model", "tokenizer.json"} {
			p := filepath.Join(path, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return Load(p)
			}
		}
		return nil, fmt.Errorf("tokenizer: %s: folder holds neither tokenizer.model nor tokenizer.json", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var t *Tokenizer
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".json", ext != ".model" && json.Valid(data):
		t, err = ParseJSON(data, path)
	default:
		t, err = ParseModel(data, path)
	}
	if err != nil {
		return nil, err
	}
	if err := t.loadConfig(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return t, nil
}
