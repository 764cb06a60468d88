package split

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/lengthhist"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Reasons a record or a segment is rejected.
const (
	// ReasonTooShort: fewer than two turns once cut to an even number.
	ReasonTooShort pipeline.Reason = "too-short"
	// ReasonEmptySegment: the empty segment FastChat emits when the first
	// pair alone is over the limit (ModeFastChat only).
	ReasonEmptySegment pipeline.Reason = "empty-segment"
	// ReasonInvalidRoles: the segment's roles do not alternate human, gpt
	// from its first turn (FastChat's filter_invalid_roles).
	ReasonInvalidRoles pipeline.Reason = "invalid-roles"
	// ReasonLostPair: the last pair, which FastChat's loop never emits when
	// it is the one that overflows (ModeFastChat only).
	ReasonLostPair pipeline.Reason = "fastchat-lost-pair"
	// ReasonOversize: a single pair over the limit (with DropOversize).
	ReasonOversize pipeline.Reason = "oversize"
	// ReasonTemplate: the chat template refused the conversation (a Jinja
	// template's raise_exception) or could not be rendered (CountTemplate
	// only).
	ReasonTemplate pipeline.Reason = "template-error"
)

// DefaultTemplate is the template CountTemplate uses when none is named:
// FastChat's train.py's.
const DefaultTemplate = "vicuna_v1.1"

// DefaultMaxLength is FastChat's default max_length (and Vicuna's
// model_max_length).
const DefaultMaxLength = 2048

// Mode chooses between FastChat's exact output and the default that keeps
// the pair FastChat loses.
type Mode int

const (
	ModeDefault  Mode = iota // emit the overflowing last pair as its own segment
	ModeFastChat             // reproduce FastChat exactly (the lost pair is rejected)
)

func (m Mode) String() string {
	if m == ModeFastChat {
		return "fastchat"
	}
	return "default"
}

// ParseMode parses "default" or "fastchat".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "default":
		return ModeDefault, nil
	case "fastchat":
		return ModeFastChat, nil
	}
	return 0, fmt.Errorf("unknown mode %q (want default or fastchat)", s)
}

// Counting chooses how a segment's length is counted.
type Counting int

const (
	CountFastChat Counting = iota // tokens + 1 (BOS) + 6 per turn
	CountTemplate                 // exact tokens of the templated segment
)

func (c Counting) String() string {
	if c == CountTemplate {
		return "template"
	}
	return "fastchat"
}

// ParseCounting parses "fastchat" or "template".
func ParseCounting(s string) (Counting, error) {
	switch s {
	case "fastchat":
		return CountFastChat, nil
	case "template":
		return CountTemplate, nil
	}
	return 0, fmt.Errorf("unknown counting %q (want fastchat or template)", s)
}

// Counter counts the tokens of a text, without BOS or EOS
// (*tokenizer.Tokenizer is one). It must be safe for concurrent use.
type Counter interface {
	Count(text string) int
}

// Options configure a Stage. The zero value, with MaxLength 0 meaning
// DefaultMaxLength, is FastChat's setting with the embedded LLaMA
// tokenizer.
type Options struct {
	MaxLength int
	Mode      Mode
	Count     Counting
	// Template names the chat template (package chat) with CountTemplate:
	// "" is DefaultTemplate, chat.Auto the model's own Jinja template from
	// TemplateConfig.
	Template string
	// TemplateConfig is the tokenizer_config.json (or the folder holding
	// it) whose chat_template Template "auto" renders.
	TemplateConfig string
	DropOversize   bool
	TokenCounts    bool    // write "n_tokens" on each segment
	Tokenizer      Counter // nil: tokenizer.Default()
	// TokenizerName names the tokenizer in the report.
	TokenizerName string
}

// Stage is the split pipeline stage. It keeps no state across records but
// its report counters, so it runs on all workers at once.
type Stage struct {
	opts     Options
	tok      Counter
	template chat.Template

	recordsIn, recordsSplit, segmentsOut, tokensOut atomic.Int64
	oversizeKept, trailingDropped                   atomic.Int64
	hist                                            lengthhist.Histogram
}

// New returns a split stage.
func New(opts Options) (*Stage, error) {
	if opts.MaxLength == 0 {
		opts.MaxLength = DefaultMaxLength
	}
	if opts.MaxLength < 1 {
		return nil, fmt.Errorf("max length must be positive, not %d", opts.MaxLength)
	}
	if opts.Mode != ModeDefault && opts.Mode != ModeFastChat {
		return nil, fmt.Errorf("unknown mode %d", opts.Mode)
	}
	s := &Stage{opts: opts, tok: opts.Tokenizer}
	switch opts.Count {
	case CountFastChat:
		if opts.Template != "" {
			return nil, fmt.Errorf("a template (%s) applies only to template counting", opts.Template)
		}
	case CountTemplate:
		name := opts.Template
		if name == "" {
			name = DefaultTemplate
		}
		t, err := chat.Resolve(name, opts.TemplateConfig)
		if err != nil {
			return nil, err
		}
		s.template = t
		s.opts.Template = name
	default:
		return nil, fmt.Errorf("unknown counting %d", opts.Count)
	}
	if s.tok == nil {
		t := tokenizer.Default()
		s.tok = t
		if s.opts.TokenizerName == "" {
			s.opts.TokenizerName = t.Source()
		}
	}
	return s, nil
}

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return "split" }

// Segment is one piece of a conversation: turns [Start, End) of the
// record, its length under the stage's counting, and, when it is not
// emitted, why.
type Segment struct {
	Start, End int
	Tokens     int
	Reason     pipeline.Reason // "" when the segment is kept
	Detail     string
}

// Plan cuts turns into segments, in order, including the ones that are
// rejected (with a Reason). A conversation rejected whole gives one
// segment covering all its turns with ReasonTooShort. Plan also returns
// how many trailing turns were cut off to make the count even.
func (s *Stage) Plan(turns []pipeline.Turn) (segs []Segment, trailing int) {
	n := len(turns) / 2 * 2
	trailing = len(turns) - n
	if n < 2 {
		return []Segment{{Start: 0, End: len(turns), Reason: ReasonTooShort,
			Detail: fmt.Sprintf("%d turn(s); a conversation needs at least one (human, gpt) pair", len(turns))}}, trailing
	}
	turns = turns[:n]
	var L lengther
	var tl *templateLen
	if s.opts.Count == CountTemplate {
		tl = newTemplateLen(&s.template, s.tok, turns)
		L = tl
	} else {
		L = newFastChatLen(s.tok, turns)
	}
	limit := s.opts.MaxLength
	pairs := n / 2
	emit := func(start, end, tokens int) {
		segs = append(segs, Segment{Start: 2 * start, End: 2 * end, Tokens: tokens})
	}
	// FastChat's loop, over pair indices.
	segStart, cur := 0, 0
	for p := 0; p < pairs; p++ {
		empty := segStart == p
		var tmp int
		if empty {
			tmp = L.first(p)
		} else {
			tmp = L.next(p)
		}
		if cur+tmp > limit {
			var emptySeg []Segment
			switch {
			case !empty:
				emit(segStart, p, cur)
			case s.opts.Mode == ModeFastChat:
				emptySeg = append(emptySeg, Segment{Reason: ReasonEmptySegment,
					Detail: fmt.Sprintf("the first pair alone is %d tokens, over the limit of %d: FastChat emits an empty segment before it", tmp, limit)})
			}
			if !empty {
				tmp = L.first(p)
			}
			segStart, cur = p, tmp
			if p == pairs-1 {
				emit(p, pairs, cur)
				if s.opts.Mode == ModeFastChat {
					last := &segs[len(segs)-1]
					last.Reason = ReasonLostPair
					last.Detail = fmt.Sprintf("the last pair (turns %d-%d, %d tokens) overflowed the open segment; FastChat's loop never emits it", 2*p, 2*p+1, cur)
				}
			}
			// After the lost pair, so that a record rejected whole is
			// counted under the reason that lost its content.
			segs = append(segs, emptySeg...)
			continue
		}
		cur += tmp
		if p == pairs-1 {
			emit(segStart, pairs, cur)
		}
	}
	if tl != nil && tl.err != nil {
		return []Segment{{Start: 0, End: len(turns) + trailing, Reason: ReasonTemplate, Detail: tl.err.Error()}}, trailing
	}
	// FastChat's filter, then the oversize check.
	for i := range segs {
		seg := &segs[i]
		if seg.Reason != "" {
			continue
		}
		for j := seg.Start; j < seg.End; j++ {
			want := pipeline.RoleHuman
			if (j-seg.Start)%2 == 1 {
				want = pipeline.RoleGPT
			}
			if turns[j].From != want {
				seg.Reason = ReasonInvalidRoles
				seg.Detail = fmt.Sprintf("turn %d is %q, want %q: roles must alternate human, gpt", j, turns[j].From, want)
				break
			}
		}
		if seg.Reason == "" && s.opts.DropOversize && seg.Tokens > limit {
			seg.Reason = ReasonOversize
			seg.Detail = fmt.Sprintf("one pair of %d tokens is over the limit of %d", seg.Tokens, limit)
		}
	}
	return segs, trailing
}

// Process implements pipeline.Stage.
func (s *Stage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	s.recordsIn.Add(1)
	segs, trailing := s.Plan(rec.Conversations)
	if len(segs) == 1 && (segs[0].Reason == ReasonTooShort || segs[0].Reason == ReasonTemplate) {
		out.Reject(rec, ReasonTooShort, segs[0].Detail)
		return nil
	}
	id := rec.ID
	if !rec.HasID() {
		id = strconv.FormatInt(out.Seq(), 10)
	}
	kept := 0
	for _, seg := range segs {
		turns := rec.Conversations[seg.Start:seg.End:seg.End]
		if turns == nil {
			turns = []pipeline.Turn{}
		}
		r := rec.WithTurns(id+"_"+strconv.Itoa(seg.Start), turns)
		if s.opts.TokenCounts {
			r.SetField("n_tokens", strconv.AppendInt(nil, int64(seg.Tokens), 10))
		}
		if seg.Reason != "" {
			out.Reject(r, seg.Reason, seg.Detail)
			continue
		}
		out.Keep(r)
		kept++
		s.segmentsOut.Add(1)
		s.tokensOut.Add(int64(seg.Tokens))
		if seg.Tokens > s.opts.MaxLength {
			s.oversizeKept.Add(1)
		}
		s.hist.Add(int64(seg.Tokens))
	}
	if kept > 1 {
		s.recordsSplit.Add(1)
	}
	if kept > 0 {
		s.trailingDropped.Add(int64(trailing))
	}
	return nil
}

// Details is what the stage reports of its own (pipeline.StageReport's
// Details). Rejections by reason are in the stage report itself.
type Details struct {
	MaxLength    int    `json:"max_length"`
	Mode         string `json:"mode"`
	Count        string `json:"count"`
	Template     string `json:"template,omitempty"`
	Tokenizer    string `json:"tokenizer,omitempty"`
	DropOversize bool   `json:"drop_oversize"`
	RecordsIn    int64  `json:"records_in"`
	// RecordsSplit counts records that gave more than one segment.
	RecordsSplit int64 `json:"records_split"`
	SegmentsOut  int64 `json:"segments_out"`
	TokensOut    int64 `json:"tokens_out"`
	// OversizeKept counts kept single-pair segments over the limit (the
	// trainer truncates them).
	OversizeKept int64 `json:"oversize_kept"`
	// TrailingTurnsDropped counts the unanswered last turns cut off kept
	// records to make their turn counts even.
	TrailingTurnsDropped int64 `json:"trailing_turns_dropped"`
	// Histogram counts kept segments by length in tokens, in FastChat's bins.
	Histogram []lengthhist.Bin `json:"histogram"`
}

// Details returns the counts so far.
func (s *Stage) Details() *Details {
	d := &Details{
		MaxLength:            s.opts.MaxLength,
		Mode:                 s.opts.Mode.String(),
		Count:                s.opts.Count.String(),
		Template:             s.opts.Template,
		Tokenizer:            s.opts.TokenizerName,
		DropOversize:         s.opts.DropOversize,
		RecordsIn:            s.recordsIn.Load(),
		RecordsSplit:         s.recordsSplit.Load(),
		SegmentsOut:          s.segmentsOut.Load(),
		TokensOut:            s.tokensOut.Load(),
		OversizeKept:         s.oversizeKept.Load(),
		TrailingTurnsDropped: s.trailingDropped.Load(),
	}
	d.Histogram = s.hist.Bins()
	return d
}

// lengther gives the lengths the loop accumulates.
type lengther interface {
	// first is the length of a segment holding pair p alone.
	first(p int) int
	// next is the length pair p adds to the open segment, which ends with
	// pair p-1.
	next(p int) int
}

// fastChatLen is FastChat's count: tokens + 1 + 6 per turn.
type fastChatLen struct {
	lens []int
}

func newFastChatLen(tok Counter, turns []pipeline.Turn) *fastChatLen {
	l := &fastChatLen{lens: make([]int, len(turns))}
	for i, t := range turns {
		l.lens[i] = tok.Count(t.Value) + 1 + 6
	}
	return l
}

func (l *fastChatLen) first(p int) int { return l.lens[2*p] + l.lens[2*p+1] }
func (l *fastChatLen) next(p int) int  { return l.first(p) }

// templateLen counts the tokens of the templated segment: the segment's
// turns are rendered with the template (roles by position: user, assistant,
// user, ...; the template's default system message), the text is cut at
// the special tokens the template placed that are control tokens of the
// tokenizer, each piece is counted on its own and each special token is
// one token; a named template adds 1 for BOS (a Jinja template writes its
// BOS itself). Pieces are counted once per record (cache): a pair's length
// is the difference between the counts of the segment with and without it.
type templateLen struct {
	t       *chat.Template
	tok     Counter
	turns   []pipeline.Turn
	control func(string) bool
	cache   map[string]int
	msgs    []chat.Message

	segStart int // first pair of the open segment
	segLen   int // its length so far
	err      error
}

// controlIDs is the part of *tokenizer.Tokenizer that tells its control
// tokens.
type controlIDs interface {
	ID(piece string) (int, bool)
	IsControl(id int) bool
}

func newTemplateLen(t *chat.Template, tok Counter, turns []pipeline.Turn) *templateLen {
	l := &templateLen{t: t, tok: tok, turns: turns, cache: map[string]int{}}
	l.control = func(string) bool { return true }
	if c, ok := tok.(controlIDs); ok {
		l.control = func(s string) bool {
			id, ok := c.ID(s)
			return ok && c.IsControl(id)
		}
	}
	return l
}

// total is the length of the segment of pairs [from, to).
func (l *templateLen) total(from, to int) int {
	if l.err != nil {
		return 0
	}
	l.msgs = l.msgs[:0]
	for j := 2 * from; j < 2*to; j++ {
		l.msgs = append(l.msgs, chat.Message{Role: chat.Role(j % 2), Content: l.turns[j].Value})
	}
	r, err := l.t.RenderConversation(&chat.Conversation{System: l.t.DefaultSystem, Messages: l.msgs})
	if err != nil {
		l.err = err
		return 0
	}
	n, pos := 0, 0
	if !l.t.IsJinja() {
		n++ // BOS
	}
	for _, sp := range r.Specials {
		if !l.control(r.Text[sp.Start:sp.End]) {
			continue
		}
		n += l.count(r.Text[pos:sp.Start]) + 1
		pos = sp.End
	}
	return n + l.count(r.Text[pos:])
}

func (l *templateLen) count(piece string) int {
	if piece == "" {
		return 0
	}
	n, ok := l.cache[piece]
	if !ok {
		n = l.tok.Count(piece)
		l.cache[piece] = n
	}
	return n
}

func (l *templateLen) first(p int) int {
	l.segStart = p
	l.segLen = l.total(p, p+1)
	return l.segLen
}

func (l *templateLen) next(p int) int {
	n := l.total(l.segStart, p+1)
	d := n - l.segLen
	l.segLen = n
	return d
}

// ReportDetails implements pipeline.DetailedStage.
func (s *Stage) ReportDetails() any { return s.Details() }
