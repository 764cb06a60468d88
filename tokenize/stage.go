package tokenize

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Reasons a conversation is rejected.
const (
	// ReasonInvalidRoles: the turns are not human, gpt, human, ... after an
	// optional leading system turn (a role the template has no place for,
	// two human turns in a row; with StrictRoles a conversation opening
	// with gpt).
	ReasonInvalidRoles pipeline.Reason = "invalid-roles"
	// ReasonEmptyTurn: a turn's text is empty; FastChat's templates render
	// it as a bare role tag with no separator ("ASSISTANT:USER: ...").
	ReasonEmptyTurn pipeline.Reason = "empty-turn"
	// ReasonNoReply: the conversation has no assistant turn, so no token
	// would carry a label.
	ReasonNoReply pipeline.Reason = "no-reply"
	// ReasonTruncatedAway: every assistant token lies beyond MaxLength, so
	// nothing is left to learn from after truncation.
	ReasonTruncatedAway pipeline.Reason = "truncated-away"
	// ReasonTemplate: a model's own chat template refused the conversation
	// (its raise_exception), or its text could not be told apart from the
	// messages' (chat.SpanError).
	ReasonTemplate pipeline.Reason = "template-error"
	// ReasonBadToolCall: a function_call turn whose value is not a JSON
	// {"name", "arguments"} object (or a list of them), or a record's
	// "tools" that is not a JSON array.
	ReasonBadToolCall pipeline.Reason = "bad-tool-call"
)

// DefaultMaxLength is FastChat's model_max_length for Vicuna.
const DefaultMaxLength = 2048

// DefaultTemplate is the template FastChat's train.py applies.
const DefaultTemplate = "vicuna_v1.1"

// Options configure a Stage. The zero value is FastChat's setting: the
// vicuna_v1.1 template, 2048 tokens, the embedded LLaMA tokenizer.
type Options struct {
	// Template names the chat template: "" is DefaultTemplate, chat.Auto
	// ("auto") the model's own Jinja chat template from TemplateConfig.
	Template string
	// TemplateConfig is the tokenizer_config.json, or the folder holding
	// it (a model's tokenizer folder), whose chat_template Template "auto"
	// renders.
	TemplateConfig string
	MaxLength      int // 0 is DefaultMaxLength; longer sequences are cut to it
	// System replaces the template's default system message when not nil
	// ("" for none). A conversation's own leading system turn wins over
	// both.
	System *string
	// Legacy gives every piece of text between special tokens its own
	// dummy prefix (Hugging Face's LlamaTokenizer legacy=True); see
	// NewEncoder.
	Legacy bool
	// StrictRoles rejects a conversation that opens with a gpt turn
	// instead of dropping that turn as FastChat's train.py does.
	StrictRoles bool
	Tokenizer   *tokenizer.Tokenizer // nil: tokenizer.Default()
	// TokenizerName names the tokenizer in the report ("" is its Source).
	TokenizerName string
}

// Stage is the tokenize pipeline stage: each conversation becomes one row
// of input_ids, labels, attention_mask and n_tokens, or a reject. It keeps
// no state across records but its report counters, so it runs on all
// workers at once.
type Stage struct {
	opts Options
	tmpl chat.Template
	enc  *Encoder

	rows, tokens, labelTokens, truncated, tokensCut, longest, droppedFirst, nonText atomic.Int64
}

// New returns a tokenize stage.
func New(opts Options) (*Stage, error) {
	if opts.Template == "" {
		opts.Template = DefaultTemplate
	}
	if opts.MaxLength == 0 {
		opts.MaxLength = DefaultMaxLength
	}
	if opts.MaxLength < 1 {
		return nil, fmt.Errorf("max length must be positive, not %d", opts.MaxLength)
	}
	tmpl, err := chat.Resolve(opts.Template, opts.TemplateConfig)
	if err != nil {
		return nil, err
	}
	if opts.Tokenizer == nil {
		opts.Tokenizer = tokenizer.Default()
	}
	if opts.TokenizerName == "" {
		opts.TokenizerName = opts.Tokenizer.Source()
	}
	enc, err := NewEncoder(opts.Tokenizer, tmpl, opts.Legacy)
	if err != nil {
		return nil, err
	}
	return &Stage{opts: opts, tmpl: tmpl, enc: enc}, nil
}

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return "tokenize" }

// Encoder returns the stage's encoder.
func (s *Stage) Encoder() *Encoder { return s.enc }

// RejectError says why a conversation cannot be tokenized.
type RejectError struct {
	Reason pipeline.Reason
	Detail string
}

func (e *RejectError) Error() string { return string(e.Reason) + ": " + e.Detail }

func reject(reason pipeline.Reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Messages maps ShareGPT turns to the template's messages: an optional
// leading "system" turn gives the system message; a gpt turn that opens
// the conversation is dropped (dropped is true), as FastChat's train.py
// drops it, unless StrictRoles; then the turns must be human, gpt, human,
// gpt, ... ("user" and "assistant" are accepted for human and gpt); a
// trailing human turn is kept. system is the system message to render
// with.
func (s *Stage) Messages(turns []pipeline.Turn) (system string, msgs []chat.Message, dropped bool, err *RejectError) {
	system = s.tmpl.DefaultSystem
	if s.opts.System != nil {
		system = *s.opts.System
	}
	first := 0
	if len(turns) > 0 && turns[0].From == pipeline.RoleSystem {
		system = turns[0].Value
		first = 1
	}
	if !s.opts.StrictRoles && first < len(turns) && isAssistant(turns[first].From) {
		first++ // FastChat's train.py: a conversation opening with gpt loses that turn
		dropped = true
	}
	msgs = make([]chat.Message, 0, len(turns)-first)
	replies := 0
	for i := first; i < len(turns); i++ {
		t := turns[i]
		want := chat.Role((i - first) % 2)
		var role chat.Role
		switch t.From {
		case pipeline.RoleHuman, "user":
			role = chat.User
		case pipeline.RoleGPT, "assistant":
			role = chat.Assistant
		default:
			return "", nil, false, reject(ReasonInvalidRoles, "turn %d: from %q; the template knows human and gpt (and a leading system turn)", i, t.From)
		}
		if role != want {
			wantFrom := pipeline.RoleHuman
			if want == chat.Assistant {
				wantFrom = pipeline.RoleGPT
			}
			return "", nil, false, reject(ReasonInvalidRoles, "turn %d: from %q, want %q (turns must alternate human, gpt)", i, t.From, wantFrom)
		}
		if t.Value == "" {
			return "", nil, false, reject(ReasonEmptyTurn, "turn %d (%s) is empty", i, t.From)
		}
		if role == chat.Assistant {
			replies++
		}
		msgs = append(msgs, chat.Message{Role: role, Content: t.Value})
	}
	if replies == 0 {
		return "", nil, false, reject(ReasonNoReply, "%d turn(s), no gpt turn answering a human turn", len(turns))
	}
	return system, msgs, dropped, nil
}

func isAssistant(from string) bool { return from == pipeline.RoleGPT || from == "assistant" }

// Example is one tokenized conversation.
type Example struct {
	Tokens
	// Cut is the number of tokens removed by truncation.
	Cut int
	// DroppedFirst says the conversation's opening gpt turn was left out.
	DroppedFirst bool
}

// Encode renders turns with the stage's template, tokenizes them and cuts
// the result to MaxLength tokens (the tokens past it are counted, not
// kept). A conversation that cannot be used is a *RejectError.
func (s *Stage) Encode(turns []pipeline.Turn) (Example, *RejectError) {
	system, msgs, dropped, rerr := s.Messages(turns)
	if rerr != nil {
		return Example{}, rerr
	}
	r, err := s.tmpl.Render(system, msgs)
	if err != nil {
		var te *chat.TemplateError
		var se *chat.SpanError
		if errors.As(err, &te) || errors.As(err, &se) {
			return Example{}, reject(ReasonTemplate, "%v", err)
		}
		// Messages checked the roles for the named templates
		return Example{}, reject(ReasonInvalidRoles, "%v", err)
	}
	return s.encodeRendered(&r, dropped)
}

// encodeRendered tokenizes r and cuts it to MaxLength tokens.
func (s *Stage) encodeRendered(r *chat.Rendered, dropped bool) (Example, *RejectError) {
	toks, n := s.enc.EncodePrefix(r, s.opts.MaxLength)
	ex := Example{Tokens: toks, DroppedFirst: dropped}
	if n > s.opts.MaxLength {
		ex.Cut = n - s.opts.MaxLength
		if ex.LabelCount() == 0 {
			return Example{}, reject(ReasonTruncatedAway, "%d tokens; the first assistant token is past --max-length %d", n, s.opts.MaxLength)
		}
	}
	return ex, nil
}

// Process implements pipeline.Stage: the kept record is the row
// {"id", "input_ids", "labels", "attention_mask", "n_tokens"} (no id when
// the input record has none).
func (s *Stage) Process(ctx context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	var ex Example
	var rerr *RejectError
	if s.tmpl.IsJinja() {
		ex, rerr = s.EncodeRecord(rec)
	} else {
		ex, rerr = s.Encode(rec.Conversations)
	}
	if rerr != nil {
		out.Reject(rec, rerr.Reason, rerr.Detail)
		return nil
	}
	row, err := ex.Record(rec)
	if err != nil {
		return err
	}
	n := int64(len(ex.IDs))
	s.rows.Add(1)
	s.tokens.Add(n)
	s.labelTokens.Add(int64(ex.LabelCount()))
	if ex.DroppedFirst {
		s.droppedFirst.Add(1)
	}
	for _, t := range rec.Conversations {
		s.nonText.Add(int64(t.NonText))
	}
	if ex.Cut > 0 {
		s.truncated.Add(1)
		s.tokensCut.Add(int64(ex.Cut))
	}
	for {
		l := s.longest.Load()
		if n <= l || s.longest.CompareAndSwap(l, n) {
			break
		}
	}
	out.Keep(row)
	return nil
}

// Columns of a tokenized row, in order.
var Columns = []string{"id", "input_ids", "labels", "attention_mask", "n_tokens"}

// Record returns the example as a pipeline record: the id of src (when it
// has one), input_ids, labels, attention_mask (all 1: rows are not
// padded) and n_tokens.
func (ex *Example) Record(src *pipeline.Record) (*pipeline.Record, error) {
	row, err := pipeline.DecodeRecord([]byte("{}"), pipeline.InputStyle(0))
	if err != nil {
		return nil, fmt.Errorf("tokenize: new row: %w", err)
	}
	if src.HasID() {
		row.SetID(src.ID)
	}
	n := len(ex.IDs)
	row.SetField("input_ids", appendInts(nil, ex.IDs))
	row.SetField("labels", appendInts(nil, ex.Labels))
	mask := make([]byte, 0, 2*n+2)
	mask = append(mask, '[')
	for i := range n {
		if i > 0 {
			mask = append(mask, ',')
		}
		mask = append(mask, '1')
	}
	row.SetField("attention_mask", append(mask, ']'))
	row.SetField("n_tokens", strconv.AppendInt(nil, int64(n), 10))
	return row, nil
}

func appendInts(dst []byte, xs []int32) []byte {
	dst = append(dst, '[')
	for i, x := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(x), 10)
	}
	return append(dst, ']')
}

// Details is what the stage adds to the run report.
type Details struct {
	Template    string `json:"template"`
	Tokenizer   string `json:"tokenizer"`
	MaxLength   int    `json:"max_length"`
	Legacy      bool   `json:"legacy"`
	StrictRoles bool   `json:"strict_roles"`
	Rows        int64  `json:"rows"`
	Tokens      int64  `json:"tokens"`
	LabelTokens int64  `json:"label_tokens"`
	Truncated   int64  `json:"truncated"`
	TokensCut   int64  `json:"tokens_cut"`
	Longest     int64  `json:"longest"`
	// LeadingGPTDropped counts kept rows whose opening gpt turn was left
	// out (FastChat's rule; StrictRoles rejects them instead).
	LeadingGPTDropped int64 `json:"leading_gpt_dropped"`
	// NonTextParts counts the content parts of kept rows' turns that are
	// not text (images, audio: pipeline.Turn.NonText), which the rows do
	// not carry.
	NonTextParts int64 `json:"non_text_parts,omitempty"`
}

// Details returns the stage's counts so far.
func (s *Stage) Details() *Details {
	return &Details{
		Template:    s.opts.Template,
		Tokenizer:   s.opts.TokenizerName,
		MaxLength:   s.opts.MaxLength,
		Legacy:      s.opts.Legacy,
		StrictRoles: s.opts.StrictRoles,
		Rows:        s.rows.Load(),
		Tokens:      s.tokens.Load(),
		LabelTokens: s.labelTokens.Load(),
		Truncated:   s.truncated.Load(),
		TokensCut:   s.tokensCut.Load(),
		Longest:     s.longest.Load(),

		LeadingGPTDropped: s.droppedFirst.Load(),
		NonTextParts:      s.nonText.Load(),
	}
}

// ReportDetails implements pipeline.DetailedStage.
func (s *Stage) ReportDetails() any { return s.Details() }
