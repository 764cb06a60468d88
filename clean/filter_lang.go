package clean

import (
	"fmt"
	"slices"
	"sync"

	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// LanguageOptions configure the language filter.
type LanguageOptions struct {
	Keep []string // ISO 639-1 codes to keep (others rejected); empty: all
	Skip []string // ISO 639-1 codes to reject
	// Unknown says what happens to conversations of unknown language:
	// "keep", "skip", or "" for FastChat's behaviour (unknown is a language
	// like any other: rejected by a keep list, kept by a skip list).
	Unknown string
	// Candidates restricts the languages the detector considers (less
	// memory, faster); empty means all 75 lingua languages.
	Candidates    []string
	Bytes         int     // prose bytes examined per conversation (default 2048)
	MinConfidence float64 // below it the language is unknown
	HighAccuracy  bool    // lingua's high-accuracy mode (much more memory)
	Tag           bool    // write the language into a "lang" field instead of filtering
}

// LanguageFilter detects the language of each conversation's human prose
// (lang.HumanProse) and filters or tags records. One detector is shared by
// all workers.
type LanguageFilter struct {
	opts     LanguageOptions
	detector *lang.Detector
	mu       sync.Mutex
	counts   map[string]int64
}

// NewLanguageFilter builds the filter and its detector.
func NewLanguageFilter(opts LanguageOptions) (*LanguageFilter, error) {
	if opts.Bytes <= 0 {
		opts.Bytes = 2048
	}
	switch opts.Unknown {
	case "", "keep", "skip":
	default:
		return nil, fmt.Errorf("unknown-language policy must be keep or skip, not %q", opts.Unknown)
	}
	d, err := lang.New(lang.Options{Candidates: opts.Candidates, MinConfidence: opts.MinConfidence, HighAccuracy: opts.HighAccuracy})
	if err != nil {
		return nil, err
	}
	return &LanguageFilter{opts: opts, detector: d, counts: map[string]int64{}}, nil
}

// Detect returns the ISO 639-1 code of a text's language, or lang.Unknown.
func (f *LanguageFilter) Detect(text string) string { return f.detector.Detect(text) }

// apply detects the record's language and tags or filters it.
func (f *LanguageFilter) apply(rec *pipeline.Record) (pipeline.Reason, string) {
	l := f.Detect(lang.HumanProse(rec, f.opts.Bytes))
	f.mu.Lock()
	f.counts[l]++
	f.mu.Unlock()
	if f.opts.Tag {
		rec.SetStringField("lang", l)
		return "", ""
	}
	if f.keep(l) {
		return "", ""
	}
	return ReasonLanguage, "language " + l
}

func (f *LanguageFilter) keep(l string) bool {
	if l == lang.Unknown && f.opts.Unknown != "" {
		return f.opts.Unknown == "keep"
	}
	if len(f.opts.Keep) > 0 && !slices.Contains(f.opts.Keep, l) {
		return false
	}
	return !slices.Contains(f.opts.Skip, l)
}

// Distribution returns how many conversations were detected per language.
func (f *LanguageFilter) Distribution() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}
