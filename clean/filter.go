package clean

import (
	"context"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Reasons a record is rejected by clean. The first nine are FastChat's
// clean_sharegpt.py and optional_clean.py counts (FastChat counts blocked
// responses as blocked words).
const (
	ReasonTooShort         pipeline.Reason = "too-short"
	ReasonWrongFormat      pipeline.Reason = "wrong-format"
	ReasonBlockedWords     pipeline.Reason = "blocked-words"
	ReasonBlockedResponse  pipeline.Reason = "blocked-response"
	ReasonParserError      pipeline.Reason = "parser-error"
	ReasonIDDuplication    pipeline.Reason = "id-duplication"
	ReasonPlugin           pipeline.Reason = "plugin"
	ReasonValueDuplication pipeline.Reason = "value-duplication"
	ReasonRepetition       pipeline.Reason = "repetition"
	ReasonWrongListIndices pipeline.Reason = "wrong-list-indices"
	ReasonRefusal          pipeline.Reason = "refusal"
	ReasonLanguage         pipeline.Reason = "language"
	ReasonMissingID        pipeline.Reason = "missing-id"
)

// DefaultBlockedWords is FastChat's list: a turn containing one of them
// (case-insensitive, anywhere in the raw value) rejects the record.
var DefaultBlockedWords = []string{"openai", "chatgpt"}

// blockedResponses are FastChat's: a gpt turn starting with one of them is
// a scraped error page, not an answer.
var blockedResponses = []string{
	"Too many requests in 1 hour. Try again later.",
	"!Too many requests in 1 hour. Try again later.",
}

// wrongListIndices is FastChat's filter_wrong_format pattern: a numbered
// list that restarts at 1 (the converter lost the list's numbering).
var wrongListIndices = regexp.MustCompile(`\n1\. [^2]*\n1\. `)

// Options configure the clean stages.
type Options struct {
	// BlockedWords replaces DefaultBlockedWords when not nil; an empty,
	// non-nil list disables the filter.
	BlockedWords []string
	// Disabled lists default filters to switch off, by reason code (see
	// Switchable and ParseDisabled); a disabled parser-error keeps a turn
	// the converter cannot read as it is.
	Disabled []pipeline.Reason
	// Opt-in filters.
	WrongListIndices bool // FastChat's filter_wrong_format
	ReduceRepetition bool // FastChat's --reduce-rep: nine equal digits in a row
	DropRefusals     bool // gpt turns with a refusal phrase
	RefusalPhrases   []string
	// Language filter and tagging; nil for none.
	Language *LanguageFilter
}

func (o *Options) enabled(r pipeline.Reason) bool { return !slices.Contains(o.Disabled, r) }

// Switchable are the default filters that can be switched off.
var Switchable = []pipeline.Reason{ReasonTooShort, ReasonWrongFormat, ReasonBlockedWords, ReasonBlockedResponse,
	ReasonParserError, ReasonIDDuplication, ReasonPlugin, ReasonValueDuplication}

// ParseDisabled checks names of filters to switch off against Switchable.
func ParseDisabled(names []string) ([]pipeline.Reason, error) {
	var out []pipeline.Reason
	for _, n := range names {
		r := pipeline.Reason(strings.TrimSpace(n))
		if !slices.Contains(Switchable, r) {
			var known []string
			for _, k := range Switchable {
				known = append(known, string(k))
			}
			return nil, pipeline.OptionErrorf("{disable}: no default filter is called %q (known: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

// Stage converts and filters records one at a time; it runs on all
// workers. Cross-record filters are in DuplicateStage.
type Stage struct {
	opts     Options
	conv     *Converter
	blocked  []string
	refusals *lang.PhraseMatcher
	mu       sync.Mutex
	wordHits map[string]int64
	turnsCut int64
	tally    turnTally // kept turns by role and change rule
}

// NewStage returns the per-record clean stage.
func NewStage(opts Options) *Stage {
	s := &Stage{opts: opts, conv: NewConverter(), wordHits: map[string]int64{}}
	s.blocked = DefaultBlockedWords
	if opts.BlockedWords != nil {
		s.blocked = nil
		for _, w := range opts.BlockedWords {
			if w = strings.TrimSpace(w); w != "" {
				s.blocked = append(s.blocked, strings.ToLower(w))
			}
		}
	}
	if !opts.enabled(ReasonBlockedWords) {
		s.blocked = nil
	}
	if opts.DropRefusals {
		phrases := opts.RefusalPhrases
		if phrases == nil {
			phrases = lang.RefusalPhrases
		}
		s.refusals = lang.NewPhraseMatcher(phrases)
	}
	return s
}

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return "clean" }

// Process implements pipeline.Stage.
func (s *Stage) Process(ctx context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	var tally turnTally
	reason, detail, cut := s.clean(rec, &tally)
	if reason == "" {
		reason, detail = s.optional(rec)
	}
	if reason == "" && s.opts.Language != nil {
		reason, detail = s.opts.Language.apply(rec)
	}
	s.mu.Lock()
	s.turnsCut += int64(cut)
	if reason == "" {
		s.tally.add(&tally)
	}
	s.mu.Unlock()
	if reason != "" {
		out.Reject(rec, reason, detail)
		return nil
	}
	out.Keep(rec)
	return nil
}

// clean applies FastChat's clean_html_one_sample to rec in place. It
// returns a reject reason, or "" and the number of turns cut off, and
// counts the kept turns in tally.
func (s *Stage) clean(rec *pipeline.Record, tally *turnTally) (pipeline.Reason, string, int) {
	turns := rec.Conversations
	tooShort := s.opts.enabled(ReasonTooShort)
	if len(turns) <= 1 && tooShort {
		return ReasonTooShort, fmt.Sprintf("%d turns", len(turns)), 0
	}
	if len(turns) > 0 && turns[0].From != pipeline.RoleHuman {
		turns = turns[1:]
	}
	if len(turns) > 0 && turns[len(turns)-1].From == pipeline.RoleHuman {
		turns = turns[:len(turns)-1]
	}
	if len(turns) <= 1 && tooShort {
		return ReasonTooShort, "fewer than 2 turns after dropping a leading non-human and a trailing human turn", 0
	}
	roles := [2]string{pipeline.RoleHuman, pipeline.RoleGPT}
	chars := 0
	kept := make([]pipeline.Turn, 0, len(turns))
	var last turnChange
	for i, t := range turns {
		if t.From != roles[i%2] && s.opts.enabled(ReasonWrongFormat) {
			return ReasonWrongFormat, fmt.Sprintf("turn %d is %q, want %q", i, t.From, roles[i%2]), 0
		}
		if w := s.blockedWord(t.Value); w != "" {
			return ReasonBlockedWords, fmt.Sprintf("turn %d contains %q", i, w), 0
		}
		value, kind, err := s.conv.ConvertTurn(t.From, t.Value)
		if err != nil {
			if s.opts.enabled(ReasonParserError) {
				return ReasonParserError, fmt.Sprintf("turn %d: %v", i, err), 0
			}
			value = t.Value // kept as it is
		}
		if t.From == pipeline.RoleGPT && s.opts.enabled(ReasonBlockedResponse) {
			for _, b := range blockedResponses {
				if strings.HasPrefix(value, b) {
					return ReasonBlockedResponse, fmt.Sprintf("turn %d starts with %q", i, b), 0
				}
			}
		}
		// An empty answer, or one starting with a non-printable
		// character, ends the conversation (FastChat: "break").
		if r, _ := utf8.DecodeRuneInString(value); value == "" || !unicode.IsPrint(r) {
			break
		}
		chars += utf8.RuneCountInString(value)
		last = newTurnChange(t.From, t.Value, value, kind)
		tally.count(last, 1)
		t.Value = value
		kept = append(kept, t)
	}
	if len(kept)%2 == 1 {
		tally.count(last, -1) // the last turn is cut off
	}
	cut := len(rec.Conversations) - len(kept)/2*2
	rec.Conversations = kept[:len(kept)/2*2]
	if tooShort && (chars < 16 || len(rec.Conversations) == 0) {
		return ReasonTooShort, fmt.Sprintf("%d characters in %d turns", chars, len(rec.Conversations)), cut
	}
	return "", "", cut
}

// blockedWord returns the first blocked word in v, case-insensitively.
func (s *Stage) blockedWord(v string) string {
	if len(s.blocked) == 0 {
		return ""
	}
	ascii := isASCII(v)
	var lower string
	for _, w := range s.blocked {
		var hit bool
		if ascii && isASCII(w) {
			hit = containsFoldASCII(v, w)
		} else {
			if lower == "" {
				lower = strings.ToLower(v)
			}
			hit = strings.Contains(lower, w)
		}
		if hit {
			s.mu.Lock()
			s.wordHits[w]++
			s.mu.Unlock()
			return w
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether the ASCII text s contains the
// lower-case ASCII word w in any case, as strings.Contains(strings.ToLower(s), w)
// would, without making the lower-case copy.
func containsFoldASCII(s, w string) bool {
	if w == "" {
		return true
	}
	first, upper := w[0], w[0]
	if 'a' <= first && first <= 'z' {
		upper -= 'a' - 'A'
	}
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i] != first && s[i] != upper {
			continue
		}
		j := 1
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// optional applies the opt-in filters to the cleaned record.
func (s *Stage) optional(rec *pipeline.Record) (pipeline.Reason, string) {
	for i, t := range rec.Conversations {
		if s.opts.ReduceRepetition && hasRepeatedDigit(t.Value, 9) {
			return ReasonRepetition, fmt.Sprintf("turn %d has a digit repeated 9 times", i)
		}
		if s.opts.WrongListIndices && wrongListIndices.MatchString(t.Value) {
			return ReasonWrongListIndices, fmt.Sprintf("turn %d has a numbered list restarting at 1", i)
		}
		if s.refusals != nil && t.From == pipeline.RoleGPT {
			if p := s.refusals.Match(t.Value); p != "" {
				return ReasonRefusal, fmt.Sprintf("turn %d: %q", i, p)
			}
		}
	}
	return "", ""
}

// hasRepeatedDigit reports whether s holds n equal ASCII digits in a row
// (FastChat's regex (\d)\1{8} for n = 9).
func hasRepeatedDigit(s string, n int) bool {
	run := 0
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			run = 0
			continue
		}
		if run > 0 && c == prev {
			run++
		} else {
			run = 1
		}
		prev = c
		if run >= n {
			return true
		}
	}
	return false
}

// Details is what the clean stage adds to the report.
type Details struct {
	BlockedWordHits map[string]int64 `json:"blocked_word_hits,omitempty"`
	RefusalHits     map[string]int64 `json:"refusal_phrase_hits,omitempty"`
	TurnsCut        int64            `json:"turns_cut"`
	// TurnKinds counts the kept assistant turns by what Classify took
	// them for: markdown, share-page, html-fragment.
	TurnKinds map[string]int64 `json:"turn_kinds"`
	// TurnChanges counts the kept turns of each role (gpt, human, other)
	// by what clean did to them: unchanged, html-converted, trimmed,
	// noise-removed (see ChangeRule).
	TurnChanges map[string]map[string]int64 `json:"turn_changes"`
	Languages   map[string]int64            `json:"languages,omitempty"`
}

// Details returns the stage's counters.
func (s *Stage) Details() Details {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := Details{TurnsCut: s.turnsCut, BlockedWordHits: map[string]int64{}}
	d.TurnKinds, d.TurnChanges = s.tally.maps()
	for k, v := range s.wordHits {
		d.BlockedWordHits[k] = v
	}
	if s.refusals != nil {
		d.RefusalHits = s.refusals.Hits()
	}
	if s.opts.Language != nil {
		d.Languages = s.opts.Language.Distribution()
	}
	return d
}

// DuplicateStage applies FastChat's cross-record filters in input order:
// an id seen before, a record with plugins, and a (first human, first gpt)
// pair seen before. Only kept records count as seen, as in FastChat.
// Records without an id skip the id check. It keeps two 64-bit hashes and
// the id of each kept record.
type DuplicateStage struct {
	opts   Options
	seed   maphash.Seed
	ids    map[uint64]string // id hash → id
	values map[uint64]string // pair hash → id of the record kept with it
}

// NewDuplicateStage returns the ordered duplicate stage.
func NewDuplicateStage(opts Options) *DuplicateStage {
	return &DuplicateStage{opts: opts, seed: maphash.MakeSeed(), ids: map[uint64]string{}, values: map[uint64]string{}}
}

// Name implements pipeline.Stage.
func (d *DuplicateStage) Name() string { return "clean-duplicates" }

// Ordered marks the stage as one that sees records in input order.
func (d *DuplicateStage) Ordered() {}

// Process implements pipeline.Stage.
func (d *DuplicateStage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	idHash := maphash.String(d.seed, rec.ID)
	if first, ok := d.ids[idHash]; ok && rec.HasID() && first == rec.ID && d.opts.enabled(ReasonIDDuplication) {
		out.RejectRelated(rec, ReasonIDDuplication, "id seen before", first)
		return nil
	}
	if raw, ok := rec.Field("plugins"); ok && string(raw) != "null" && d.opts.enabled(ReasonPlugin) {
		out.Reject(rec, ReasonPlugin, "record uses plugins")
		return nil
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	if len(rec.Conversations) >= 2 {
		h.WriteString(rec.Conversations[0].Value)
		h.WriteByte(0)
		h.WriteString(rec.Conversations[1].Value)
	}
	pair := h.Sum64()
	if first, ok := d.values[pair]; ok && d.opts.enabled(ReasonValueDuplication) {
		out.RejectRelated(rec, ReasonValueDuplication, "same first human and gpt values as a kept record", first)
		return nil
	}
	if rec.HasID() {
		d.ids[idHash] = rec.ID
	}
	d.values[pair] = rec.ID
	out.Keep(rec)
	return nil
}

// ReportDetails implements pipeline.DetailedStage.
func (s *Stage) ReportDetails() any { return s.Details() }
