package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

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
		IgnoreMerges            bool     `json:"ignore_merges"`
	} `json:"model"`
	Normalizer   *hfStep `json:"normalizer"`
	PreTokenizer *hfStep `json:"pre_tokenizer"`
	AddedTokens  []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
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
}

// ParseJSON builds a Tokenizer from the bytes of a Hugging Face
// tokenizer.json holding a SentencePiece-style BPE model (LLaMA: byte
// fallback, "▁" for spaces). Encoding follows SentencePiece: the pair whose
// merged token has the best rank is merged first, leftmost on ties, so a
// tokenizer.json converted from a tokenizer.model encodes exactly like it.
// name is used in error messages.
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
	if cfg.Model.IgnoreMerges {
		return nil, errors.New("unsupported tokenizer.json: ignore_merges")
	}
	var ws wsConfig
	if err := ws.normalizer(cfg.Normalizer); err != nil {
		return nil, err
	}
	if err := ws.preTokenizer(cfg.PreTokenizer); err != nil {
		return nil, err
	}
	if ws.prefixes > 1 {
		return nil, errors.New("unsupported tokenizer.json: both normalizer and pre_tokenizer add a \"▁\" prefix")
	}

	hf, err := pretrained.FromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("sugarme/tokenizer cannot load it: %w", err)
	}
	bm, ok := hf.GetModel().(*bpe.BPE)
	if !ok || bm.Merges == nil {
		return nil, fmt.Errorf("sugarme/tokenizer loaded model %T, want BPE", hf.GetModel())
	}
	vocab := hf.GetVocab(true)
	n := 0
	for _, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("negative id %d in vocabulary", id)
		}
		if id >= n {
			n = id + 1
		}
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
		hf:              hf,
	}
	for p, id := range vocab {
		if t.pieces[id] != "" {
			return nil, fmt.Errorf("id %d is used by %q and %q", id, t.pieces[id], p)
		}
		t.pieces[id] = p
		t.ids[p] = id
		t.types[id] = pieceNormal
		if _, ok := byteOfPiece(p); ok && cfg.Model.ByteFallback {
			t.types[id] = pieceByte
		}
	}
	for id, p := range t.pieces {
		if p == "" {
			t.types[id] = pieceUnused // a hole in the ids; never produced
		}
	}
	for _, a := range cfg.AddedTokens {
		id, ok := t.ids[a.Content]
		if !ok {
			continue
		}
		if a.Special {
			t.types[id] = pieceControl
		} else if t.types[id] == pieceNormal {
			t.types[id] = pieceUserDefined
		}
	}
	if cfg.Model.UnkToken != nil {
		if id, ok := t.ids[*cfg.Model.UnkToken]; ok {
			t.unk = id
			t.types[id] = pieceUnknown
		}
	}
	if t.unk < 0 {
		return nil, errors.New("tokenizer.json has no unk_token in its vocabulary")
	}
	for _, s := range []struct {
		dst   *int
		names []string
	}{
		{&t.bos, []string{"<s>", "<|begin_of_text|>", "<bos>"}},
		{&t.eos, []string{"</s>", "<|end_of_text|>", "<eos>"}},
		{&t.pad, []string{"<pad>"}},
	} {
		for _, name := range s.names {
			if id, ok := t.ids[name]; ok && t.types[id] == pieceControl {
				*s.dst = id
				break
			}
		}
	}

	// Priority of a pair: the best (lowest) rank of any merge producing the
	// same token, so that all ways of building a token tie, as in
	// SentencePiece, and ties go to the leftmost pair.
	best := map[int]int{}
	for _, v := range *bm.Merges {
		if r, ok := best[v.NewId]; !ok || v.Rank < r {
			best[v.NewId] = v.Rank
		}
	}
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
			merged: int32(v.NewId), score: -float32(best[v.NewId]),
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
	t.enc = enc
	return t, nil
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
