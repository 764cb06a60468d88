package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	sugar "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/model/bpe"
	"github.com/sugarme/tokenizer/pretrained"
)

// hfConfig is the part of a Hugging Face tokenizer.json that encoding
// depends on. Vocabulary and merges come from sugarme/tokenizer.
type hfConfig struct {
	Model struct {
		Type                    string   `json:"type"`
		Dropout                 *float64 `json:"dropout"`
		UnkToken                *string  `json:"unk_token"`
		ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
		ByteFallback            bool     `json:"byte_fallback"`
		FuseUnk                 bool     `json:"fuse_unk"`
		IgnoreMerges            bool     `json:"ignore_merges"`
	} `json:"model"`
	Normalizer   *hfStep `json:"normalizer"`
	PreTokenizer *hfStep `json:"pre_tokenizer"`
	AddedTokens  []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Special    bool   `json:"special"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		SingleWord bool   `json:"single_word"`
	} `json:"added_tokens"`
}

type hfStep struct {
	Type          string    `json:"type"`
	Normalizers   []*hfStep `json:"normalizers"`
	PreTokenizers []*hfStep `json:"pretokenizers"`
	Prepend       string    `json:"prepend"`
	Pattern       struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content        string  `json:"content"`
	Replacement    string  `json:"replacement"`
	AddPrefixSpace *bool   `json:"add_prefix_space"`
	PrependScheme  *string `json:"prepend_scheme"`
	Behavior       string  `json:"behavior"`
	Invert         bool    `json:"invert"`
	UseRegex       *bool   `json:"use_regex"`
}

// isByteLevel reports whether a pre-tokenizer holds a ByteLevel step.
func isByteLevel(s *hfStep) bool {
	if s == nil {
		return false
	}
	if s.Type == "ByteLevel" {
		return true
	}
	for _, c := range s.PreTokenizers {
		if isByteLevel(c) {
			return true
		}
	}
	return false
}

// ParseJSON builds a Tokenizer from the bytes of a Hugging Face
// tokenizer.json holding a BPE model: byte-level (GPT-2's ByteLevel, with
// Split pre-tokenizers: Llama 3, Qwen, DeepSeek, gpt-oss) or
// SentencePiece-style ("▁" for spaces, byte fallback: LLaMA 2, Mistral,
// Gemma). Encoding follows Hugging Face tokenizers (see the package
// documentation); a component it cannot reproduce exactly is refused with
// an error naming it. name is used in error messages.
func ParseJSON(data []byte, name string) (t *Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("tokenizer: %s: cannot load tokenizer.json: %v", name, r)
		}
	}()
	t, err = parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	t.source = name
	return t, nil
}

func parseJSON(data []byte) (*Tokenizer, error) {
	var cfg hfConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if cfg.Model.Type != "BPE" {
		return nil, fmt.Errorf("unsupported tokenizer.json model type %q (only BPE is supported)", cfg.Model.Type)
	}
	if cfg.Model.Dropout != nil && *cfg.Model.Dropout > 0 {
		return nil, errors.New("unsupported tokenizer.json: BPE dropout")
	}
	if p := cfg.Model.ContinuingSubwordPrefix; p != nil && *p != "" {
		return nil, errors.New("unsupported tokenizer.json: continuing_subword_prefix")
	}
	if p := cfg.Model.EndOfWordSuffix; p != nil && *p != "" {
		return nil, errors.New("unsupported tokenizer.json: end_of_word_suffix")
	}
	isBL := isByteLevel(cfg.PreTokenizer)
	var (
		ws wsConfig
		bl *byteLevel
	)
	if isBL {
		bl = &byteLevel{ignoreMerges: cfg.Model.IgnoreMerges}
		if err := bl.normalizer(cfg.Normalizer); err != nil {
			return nil, err
		}
		seen := false
		if err := bl.preTokenizer(cfg.PreTokenizer, &seen); err != nil {
			return nil, err
		}
	} else {
		if cfg.Model.IgnoreMerges {
			return nil, errors.New("unsupported tokenizer.json: ignore_merges without a ByteLevel pre_tokenizer")
		}
		if err := ws.normalizer(cfg.Normalizer); err != nil {
			return nil, err
		}
		if err := ws.preTokenizer(cfg.PreTokenizer); err != nil {
			return nil, err
		}
		if !cfg.Model.ByteFallback && !cfg.Model.FuseUnk {
			// SentencePiece's loop joins a run of unknown characters
			// into one <unk>; tokenizers does so only with fuse_unk.
			return nil, errors.New("unsupported tokenizer.json: BPE without byte_fallback and with fuse_unk false")
		}
		if ws.prefixes > 1 {
			return nil, errors.New("unsupported tokenizer.json: both normalizer and pre_tokenizer add a \"▁\" prefix")
		}
	}

	hf, err := sugarLoad(data, isBL)
	if err != nil {
		return nil, err
	}
	bm, ok := hf.GetModel().(*bpe.BPE)
	if !ok || bm.Merges == nil {
		return nil, fmt.Errorf("sugarme/tokenizer loaded model %T, want BPE", hf.GetModel())
	}
	vocab := hf.GetVocab(false)
	n := 0
	for _, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("negative id %d in vocabulary", id)
		}
		n = max(n, id+1)
	}
	for _, a := range cfg.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("negative id %d of added token %q", a.ID, a.Content)
		}
		n = max(n, a.ID+1)
	}
	if n > 4*len(vocab)+1024 {
		return nil, fmt.Errorf("vocabulary ids are sparse (%d tokens, largest id %d)", len(vocab), n-1)
	}
	t := &Tokenizer{
		pieces: make([]string, n),
		types:  make([]uint8, n),
		ids:    make(map[string]int, len(vocab)),
		unk:    -1, bos: -1, eos: -1, pad: -1,
		unkSurface:      " \u2047 ",
		stripFirstSpace: true,
	}
	for p, id := range vocab {
		if t.pieces[id] != "" {
			return nil, fmt.Errorf("id %d is used by %q and %q", id, t.pieces[id], p)
		}
		t.pieces[id] = p
		t.ids[p] = id
		t.types[id] = pieceNormal
		if _, ok := byteOfPiece(p); ok && cfg.Model.ByteFallback && !isBL {
			t.types[id] = pieceByte
		}
	}
	var added []addedToken
	for _, a := range cfg.AddedTokens {
		if a.Content == "" {
			continue
		}
		if t.pieces[a.ID] == "" {
			t.pieces[a.ID] = a.Content
			t.types[a.ID] = pieceNormal
		}
		if _, ok := t.ids[a.Content]; !ok {
			t.ids[a.Content] = a.ID
		}
		if a.Special {
			t.types[a.ID] = pieceControl
		} else if t.types[a.ID] == pieceNormal {
			t.types[a.ID] = pieceUserDefined
		}
		if a.Normalized && !isBL && strings.ContainsAny(a.Content, " ▁") {
			return nil, fmt.Errorf("unsupported tokenizer.json: added token %q with normalized=true contains a space", a.Content)
		}
		added = append(added, addedToken{
			content: a.Content, id: int32(a.ID), special: a.Special,
			lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: a.Normalized, singleWord: a.SingleWord,
		})
	}
	if len(added) > 0 {
		t.added = newAddedVocab(added)
	}
	for id, p := range t.pieces {
		if p == "" {
			t.types[id] = pieceUnused // a hole in the ids; never produced
		}
	}
	if cfg.Model.UnkToken != nil {
		if id, ok := t.ids[*cfg.Model.UnkToken]; ok {
			t.unk = id
			t.types[id] = pieceUnknown
		}
	}
	for _, s := range []struct {
		dst   *int
		names []string
	}{
		{&t.bos, []string{"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>", "<｜begin▁of▁sentence｜>"}},
		{&t.eos, []string{"</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>", "<｜end▁of▁sentence｜>"}},
		{&t.pad, []string{"<pad>"}},
	} {
		for _, name := range s.names {
			if id, ok := t.ids[name]; ok && t.types[id] == pieceControl {
				*s.dst = id
				break
			}
		}
	}
	if isBL {
		if err := bl.build(t, vocab, bm); err != nil {
			return nil, err
		}
		t.bl = bl
		return t, nil
	}
	if t.unk < 0 {
		return nil, errors.New("tokenizer.json has no unk_token in its vocabulary")
	}
	t.hf = hf

	// Priority of a pair: its merge's rank, the leftmost pair on ties
	// (tokenizers' BPE).
	merges := make([]mergeSpec, 0, len(*bm.Merges))
	for p, v := range *bm.Merges {
		if !validID(t.pieces, p.C1) || !validID(t.pieces, p.C2) || !validID(t.pieces, v.NewId) {
			return nil, fmt.Errorf("merge refers to an unknown id")
		}
		if t.pieces[p.C1]+t.pieces[p.C2] != t.pieces[v.NewId] {
			return nil, fmt.Errorf("merge %q + %q does not give %q", t.pieces[p.C1], t.pieces[p.C2], t.pieces[v.NewId])
		}
		merges = append(merges, mergeSpec{
			left: t.pieces[p.C1], right: t.pieces[p.C2],
			merged: int32(v.NewId), score: -float32(v.Rank),
		})
	}
	sort.Slice(merges, func(i, j int) bool { // deterministic construction
		if merges[i].score != merges[j].score {
			return merges[i].score > merges[j].score
		}
		if merges[i].left != merges[j].left {
			return merges[i].left < merges[j].left
		}
		return merges[i].right < merges[j].right
	})
	mergeable := func(id int) bool {
		switch t.types[id] {
		case pieceNormal, pieceUserDefined:
			return true
		}
		return false
	}
	enc, err := newEncoder(encoderConfig{
		pieces:       t.pieces,
		types:        t.types,
		byteFallback: cfg.Model.ByteFallback,
		unk:          int32(t.unk),
		mergeable:    mergeable,
		reservedOut:  func(id int) bool { return false },
		merges:       merges,
		addDummy:     ws.prefixes > 0,
		escapeWS:     ws.escape,
	})
	if err != nil {
		return nil, err
	}
	enc.userDefined = nil // added tokens are found before encoding
	t.enc = enc
	return t, nil
}

// sugarLoad loads the vocabulary and merges with sugarme/tokenizer,
// without the normalizer and pre-tokenizer (which it cannot compile when
// their regular expressions use lookahead, and which this package
// applies itself), and for a byte-level model without the decoder.
func sugarLoad(data []byte, byteLevel bool) (*sugar.Tokenizer, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	drop := []string{"normalizer", "pre_tokenizer", "post_processor"}
	if byteLevel {
		drop = append(drop, "decoder")
	}
	for _, k := range drop {
		if _, ok := top[k]; ok {
			top[k] = json.RawMessage("null")
		}
	}
	b, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	hf, err := pretrained.FromReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("sugarme/tokenizer cannot load it: %w", err)
	}
	return hf, nil
}

// normalizer accepts the normalizers a byte-level model may have.
func (b *byteLevel) normalizer(s *hfStep) error {
	if s == nil {
		return nil
	}
	switch s.Type {
	case "Sequence":
		for _, c := range s.Normalizers {
			if err := b.normalizer(c); err != nil {
				return err
			}
		}
		return nil
	case "NFC":
		b.nfc = true
		return nil
	}
	return fmt.Errorf("unsupported tokenizer.json normalizer %q (with a ByteLevel pre_tokenizer only NFC is supported)", s.Type)
}

// preTokenizer builds the Split steps; ByteLevel must come last.
func (b *byteLevel) preTokenizer(s *hfStep, seen *bool) error {
	if s == nil {
		return nil
	}
	if *seen {
		return fmt.Errorf("unsupported tokenizer.json pre_tokenizer %q after ByteLevel", s.Type)
	}
	switch s.Type {
	case "Sequence":
		for _, c := range s.PreTokenizers {
			if err := b.preTokenizer(c, seen); err != nil {
				return err
			}
		}
		return nil
	case "Split":
		if s.Invert {
			return errors.New("unsupported tokenizer.json pre_tokenizer Split with invert")
		}
		beh, err := parseBehavior(s.Behavior)
		if err != nil {
			return err
		}
		var st *splitStep
		switch {
		case s.Pattern.Regex != nil:
			st, err = newSplitStep(*s.Pattern.Regex, beh)
		case s.Pattern.String != nil:
			st, err = newStringStep(*s.Pattern.String, beh)
		default:
			err = errors.New("unsupported tokenizer.json pre_tokenizer Split without a pattern")
		}
		if err != nil {
			return err
		}
		b.steps = append(b.steps, st)
		return nil
	case "ByteLevel":
		if s.AddPrefixSpace != nil && *s.AddPrefixSpace {
			return errors.New("unsupported tokenizer.json pre_tokenizer ByteLevel with add_prefix_space")
		}
		if s.UseRegex == nil || *s.UseRegex {
			st, err := newSplitStep(patGPT2, splitIsolated)
			if err != nil {
				return err
			}
			b.steps = append(b.steps, st)
		}
		*seen = true
		return nil
	}
	return fmt.Errorf("unsupported tokenizer.json pre_tokenizer %q", s.Type)
}

// build fills the byte tables from the model's vocabulary and merges.
func (b *byteLevel) build(t *Tokenizer, vocab map[string]int, bm *bpe.BPE) error {
	n := len(t.pieces)
	b.vocab = make(map[string]int32, len(vocab))
	b.pieceLen = make([]int32, n)
	b.raw = make([]string, n)
	for i := range b.byteID {
		b.byteID[i] = -1
	}
	for p, id := range vocab {
		raw, ok := byteLevelBytes(p)
		if !ok {
			b.raw[id] = p
			continue
		}
		b.raw[id] = raw
		b.pieceLen[id] = int32(len(raw))
		b.vocab[raw] = int32(id)
		if len(raw) == 1 {
			b.byteID[raw[0]] = int32(id)
		}
	}
	for id, p := range t.pieces {
		if b.raw[id] == "" {
			b.raw[id] = p // added tokens: their content
		}
	}
	for c, id := range b.byteID {
		if id < 0 {
			return fmt.Errorf("byte-level vocabulary has no token for byte 0x%02X", c)
		}
	}
	b.merges = newMergeTable(len(*bm.Merges))
	for p, v := range *bm.Merges {
		if p.C1 < 0 || p.C1 >= n || p.C2 < 0 || p.C2 >= n || v.NewId < 0 || v.NewId >= n {
			return errors.New("merge refers to an unknown id")
		}
		if b.raw[p.C1]+b.raw[p.C2] != b.raw[v.NewId] {
			return fmt.Errorf("merge %q + %q does not give %q", t.pieces[p.C1], t.pieces[p.C2], t.pieces[v.NewId])
		}
		b.merges.put(int32(p.C1), int32(p.C2), mergeVal{merged: int32(v.NewId), score: float32(v.Rank)})
	}
	return nil
}

func validID(pieces []string, id int) bool { return id >= 0 && id < len(pieces) && pieces[id] != "" }

// wsConfig is what the supported normalizers and pre-tokenizers do.
type wsConfig struct {
	prefixes int  // how many steps prepend "▁"
	escape   bool // " " becomes "▁"
}

func (w *wsConfig) normalizer(s *hfStep) error {
	if s == nil {
		return nil
	}
	switch s.Type {
	case "Sequence":
		for _, c := range s.Normalizers {
			if err := w.normalizer(c); err != nil {
				return err
			}
		}
		return nil
	case "Prepend":
		if s.Prepend != "▁" {
			return fmt.Errorf("unsupported tokenizer.json normalizer Prepend(%q)", s.Prepend)
		}
		if w.escape {
			return errors.New("unsupported tokenizer.json normalizer: Prepend after Replace")
		}
		w.prefixes++
		return nil
	case "Replace":
		if s.Pattern.String == nil || *s.Pattern.String != " " || s.Content != "▁" {
			return fmt.Errorf("unsupported tokenizer.json normalizer Replace (only \" \" -> \"▁\" is supported)")
		}
		w.escape = true
		return nil
	}
	return fmt.Errorf("unsupported tokenizer.json normalizer %q", s.Type)
}

func (w *wsConfig) preTokenizer(s *hfStep) error {
	if s == nil {
		return nil
	}
	switch s.Type {
	case "Sequence":
		for _, c := range s.PreTokenizers {
			if err := w.preTokenizer(c); err != nil {
				return err
			}
		}
		return nil
	case "Split":
		// Gemma 3: the normalizer has already replaced every space by
		// "▁", so splitting on " " finds nothing.
		if s.Pattern.String != nil && *s.Pattern.String == " " && w.escape && !s.Invert {
			return nil
		}
		return errors.New("unsupported tokenizer.json pre_tokenizer Split (without a ByteLevel pre_tokenizer only Split on \" \" after a Replace(\" \", \"▁\") normalizer is supported)")
	case "Metaspace":
		if s.Replacement != "" && s.Replacement != "▁" {
			return fmt.Errorf("unsupported tokenizer.json pre_tokenizer Metaspace(replacement %q)", s.Replacement)
		}
		prepend := true
		if s.AddPrefixSpace != nil {
			prepend = *s.AddPrefixSpace
		}
		if s.PrependScheme != nil {
			switch *s.PrependScheme {
			case "always", "first":
				prepend = true
			case "never":
				prepend = false
			default:
				return fmt.Errorf("unsupported tokenizer.json Metaspace prepend_scheme %q", *s.PrependScheme)
			}
		}
		if prepend {
			w.prefixes++
		}
		// Metaspace's split and its "no prefix when the text already
		// starts with a space" rule are not applied: encoding follows
		// SentencePiece, which the tokenizer.json was converted from.
		w.escape = true
		return nil
	}
	return fmt.Errorf("unsupported tokenizer.json pre_tokenizer %q", s.Type)
}
