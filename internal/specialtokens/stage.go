package specialtokens

import (
	"context"
	"sync/atomic"

	"github.com/sharegpt/sharegpt/pipeline"
)

// StageName is the escaping stage's name in reports.
const StageName = "escape-special-tokens"

// Stage escapes the special tokens in every turn value of the records it
// passes on (convert --escape-special-tokens). Safe for concurrent use.
type Stage struct {
	tokens        Tokens
	turns, values atomic.Int64
}

// NewStage returns a stage escaping t's tokens.
func NewStage(t Tokens) *Stage { return &Stage{tokens: t} }

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return StageName }

// Process implements pipeline.Stage: it escapes and keeps rec.
func (s *Stage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	for i := range rec.Conversations {
		t := &rec.Conversations[i]
		s.turns.Add(1)
		if v := Replace(t.Value, s.tokens); v != t.Value {
			t.Value = v
			s.values.Add(1)
		}
	}
	out.Keep(rec)
	return nil
}

// Details is what the stage reports.
type Details struct {
	Turns        int64 `json:"turns"`
	TurnsChanged int64 `json:"turns_changed"`
}

// ReportDetails implements pipeline.DetailedStage.
func (s *Stage) ReportDetails() any {
	return Details{Turns: s.turns.Load(), TurnsChanged: s.values.Load()}
}
