package selectexpr

import (
	"context"
	"sync/atomic"

	"github.com/sharegpt/sharegpt/pipeline"
)

// StageName names the stage in reports and rejects.
const StageName = "select"

// ReasonNotSelected rejects a record that the expression does not match.
const ReasonNotSelected pipeline.Reason = "not-selected"

// Options configure the stage.
type Options struct {
	// Select keeps only the records it matches; nil keeps all.
	Select *Expr
	// FirstTurns, when at least 0, cuts every conversation to its first
	// FirstTurns turns (FastChat's extract_single_round is 2), after the
	// selection; a negative value keeps every turn.
	FirstTurns int
}

// Details is what the stage adds to the report.
type Details struct {
	Select string `json:"select,omitempty"`
	// RecordsCut counts kept records that lost turns to FirstTurns, and
	// TurnsDropped the turns they lost.
	RecordsCut   int64 `json:"records_cut,omitempty"`
	TurnsDropped int64 `json:"turns_dropped,omitempty"`
}

// Stage selects records and cuts their turns. It is safe for parallel use.
type Stage struct {
	opts         Options
	recordsCut   atomic.Int64
	turnsDropped atomic.Int64
}

// New returns the stage.
func New(opts Options) *Stage { return &Stage{opts: opts} }

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return StageName }

// Process implements pipeline.Stage.
func (s *Stage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	if s.opts.Select != nil && !s.opts.Select.Match(rec, out.Seq()) {
		out.Reject(rec, ReasonNotSelected, "")
		return nil
	}
	if n := s.opts.FirstTurns; n >= 0 && len(rec.Conversations) > n {
		s.recordsCut.Add(1)
		s.turnsDropped.Add(int64(len(rec.Conversations) - n))
		rec.Conversations = rec.Conversations[:n:n]
	}
	out.Keep(rec)
	return nil
}

// Details returns the counts so far.
func (s *Stage) Details() Details {
	d := Details{RecordsCut: s.recordsCut.Load(), TurnsDropped: s.turnsDropped.Load()}
	if s.opts.Select != nil {
		d.Select = s.opts.Select.String()
	}
	return d
}

// ReportDetails implements pipeline.DetailedStage.
func (s *Stage) ReportDetails() any { return s.Details() }
