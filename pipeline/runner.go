package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Stage processes one record at a time. Stages hold no knowledge of the
// command line; a command builds them from its flags.
type Stage interface {
	// Name is the stage name used in reports and rejects ("clean", ...).
	Name() string
	// Process handles one record: it passes on zero or more records with
	// out.Keep and rejects with out.Reject. A record must not vanish
	// without a reason. An error stops the whole run.
	Process(ctx context.Context, rec *Record, out *Out) error
}

// DetailedStage is a stage with details of its own for the report (hit
// counts, a histogram): when a job's records are processed, and before
// Job.Finish runs, the stage's ReportDetails value becomes its
// StageReport.Details.
type DetailedStage interface {
	Stage
	ReportDetails() any
}

// OrderedStage is a stage that keeps state across records and so must see
// them one at a time, in input order (a duplicate filter, say). Stages
// without this mark run on all workers at once.
type OrderedStage interface {
	Stage
	Ordered()
}

// Out collects what a stage made of one record.
type Out struct {
	kept    []*Record
	rejects []rejected
	seq     int64
	file    string
	index   int64
}

// Kept returns the records the stage passed on for the current record.
func (o *Out) Kept() []*Record { return o.kept }

// Rejects returns the rejects the stage made for the current record (the
// Stage field is filled in by the runner afterwards).
func (o *Out) Rejects() []Reject {
	out := make([]Reject, len(o.rejects))
	for i, r := range o.rejects {
		out[i] = r.rej
	}
	return out
}

// Seq returns the position of the input record being processed among all
// records of all inputs of the run (0-based): a stable key for stages that
// keep per-record state, such as dedup.
func (o *Out) Seq() int64 { return o.seq }

// Origin returns the input file and the record's index within it.
func (o *Out) Origin() (file string, index int64) { return o.file, o.index }

type rejected struct {
	rec *Record
	rej Reject
}

// Keep passes rec on to the next stage.
func (o *Out) Keep(rec *Record) { o.kept = append(o.kept, rec) }

// Reject rejects rec (the record, or a part cut from it) with a reason.
func (o *Out) Reject(rec *Record, reason Reason, detail string) {
	o.RejectRelated(rec, reason, detail, "")
}

// RejectRelated is Reject naming a related record, such as the id of the
// duplicate that was kept.
func (o *Out) RejectRelated(rec *Record, reason Reason, detail, related string) {
	o.rejects = append(o.rejects, rejected{rec: rec, rej: Reject{Reason: reason, Detail: detail, Related: related}})
}

// RecordWriter receives the records a run keeps, in input order.
type RecordWriter interface {
	Write(rec *Record) error
}

// Source yields the elements of one input.
type Source interface {
	Name() string
	Next() (Element, error) // io.EOF after the last element
	Close() error
}

// Progress receives running totals; it is called from one goroutine.
type Progress func(records, bytes int64)

// Runner runs records from sources through stages into a writer: in
// parallel on Workers goroutines, with bounded memory, in input order.
type Runner struct {
	Command  string
	Style    InputStyle
	Workers  int // 0: all cores
	Stages   []Stage
	Out      RecordWriter
	Rejects  *RejectWriter // nil: rejects are only counted
	Progress Progress      // nil: none
	// AllowNoConversations lets records without a conversation list
	// through (convert does; stages that work on turns do not).
	AllowNoConversations bool
	// Shard, when set, processes only its part of the input; the other
	// records are counted in Report.OtherShards and go nowhere.
	Shard Shard
}

const (
	batchRecords = 64
	batchBytes   = 4 << 20
)

// item is one input record on its way through the stages.
type item struct {
	seq     int64 // position among all input records
	file    string
	el      Element
	recs    []*Record
	rejects []rejectedAt
	other   bool // belongs to another shard
}

type rejectedAt struct {
	rejected
	part bool // a part of a record that was otherwise kept
}

type batch struct {
	seq     int64
	items   []item
	reports []*StageReport // per stage, counted by the worker
	bytes   int64
}

// Run processes every element of the sources in turn. On error (including
// cancellation) it returns it; the caller then discards its outputs.
func (r *Runner) Run(ctx context.Context, sources []Source) (*Report, error) {
	rep := &Report{Command: r.Command, start: time.Now()}
	for _, s := range sources {
		rep.Inputs = append(rep.Inputs, s.Name())
	}
	rep.Stage(StageRead)
	for _, s := range r.Stages {
		rep.Stage(s.Name())
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	split := len(r.Stages) // stages before split run on the workers
	for i, s := range r.Stages {
		if _, ok := s.(OrderedStage); ok {
			split = i
			break
		}
	}

	g, ctx := errgroup.WithContext(ctx)
	tokens := make(chan struct{}, 4*workers) // bounds batches in flight
	todo := make(chan *batch, workers)
	done := make(chan *batch, workers)
	g.Go(func() error {
		defer close(todo)
		return r.read(ctx, sources, tokens, todo)
	})
	var working atomic.Int32
	working.Store(int32(workers))
	for range workers {
		g.Go(func() error {
			defer func() {
				if working.Add(-1) == 0 {
					close(done)
				}
			}()
			for b := range todo {
				if err := r.work(ctx, b, r.Stages[:split]); err != nil {
					return err
				}
				select {
				case done <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		return r.collect(ctx, rep, done, tokens, split)
	})
	// A reader blocked on a pipe (stdin left open) cannot be interrupted:
	// on cancellation return at once instead of waiting for it.
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		select {
		case err = <-waited:
		case <-time.After(200 * time.Millisecond):
			err = context.Cause(ctx)
		}
	}
	rep.Seconds = time.Since(rep.start).Seconds()
	if err != nil {
		return rep, err
	}
	return rep, rep.Check()
}

// read cuts the sources into batches.
func (r *Runner) read(ctx context.Context, sources []Source, tokens chan struct{}, todo chan<- *batch) error {
	var seq, n int64
	b := &batch{}
	send := func() error {
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case todo <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		seq++
		b = &batch{seq: seq}
		return nil
	}
	for _, src := range sources {
		for {
			el, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				// The input cannot be read on: corrupt, cut short, or
				// failing. Commands exit with status 2 for it.
				return &InputError{Err: fmt.Errorf("read %s: %w", src.Name(), err)}
			}
			b.items = append(b.items, item{seq: n, file: src.Name(), el: el})
			n++
			b.bytes += el.Size
			if len(b.items) >= batchRecords || b.bytes >= batchBytes {
				if err := send(); err != nil {
					return err
				}
			}
		}
	}
	if len(b.items) == 0 {
		return nil
	}
	return send()
}

// work decodes a batch and runs the unordered stages on it.
func (r *Runner) work(ctx context.Context, b *batch, stages []Stage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.reports = make([]*StageReport, len(stages)+1)
	b.reports[0] = newStageReport(StageRead)
	for i, s := range stages {
		b.reports[i+1] = newStageReport(s.Name())
	}
	var out Out
	for i := range b.items {
		it := &b.items[i]
		r.decode(it, b.reports[0])
		for j, s := range stages {
			if err := applyStage(ctx, s, it, &out, b.reports[j+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// decode turns an element into a record or a read reject.
func (r *Runner) decode(it *item, rep *StageReport) {
	rec, derr := it.el.Rec, it.el.Err
	if rec == nil && derr == nil {
		var err error
		rec, err = DecodeRecord(it.el.Raw, r.Style)
		if err != nil {
			var ok bool
			if derr, ok = err.(*DecodeError); !ok {
				derr = &DecodeError{Reason: ReasonInvalidJSON, Msg: err.Error()}
			}
			derr.Offset += int(it.el.Offset)
			it.el.Err = derr
		}
	}
	if !r.Shard.ownsItem(rec, it.el) {
		it.other, it.el.Raw = true, nil
		return
	}
	rep.In++
	if derr == nil && !r.AllowNoConversations && !rec.HasConversations() {
		derr = &DecodeError{Reason: ReasonNoConversations, Msg: "record has no conversations (or messages) member"}
	}
	if derr != nil {
		rep.Rejected[derr.Reason]++
		it.rejects = append(it.rejects, rejectedAt{rejected: rejected{
			rec: rec,
			rej: Reject{Stage: StageRead, Reason: derr.Reason, Detail: derr.Error()},
		}})
		return
	}
	it.el.Raw = nil // the record holds what is needed now
	rep.Out++
	rep.Emitted++
	it.recs = []*Record{rec}
}

// applyStage runs one stage over the records of an item and counts the
// outcome: the item is kept if any record came out, else rejected with the
// first reason given.
func applyStage(ctx context.Context, s Stage, it *item, out *Out, rep *StageReport) error {
	if len(it.recs) == 0 {
		return nil
	}
	rep.In++
	var next []*Record
	firstReject := len(it.rejects)
	out.seq, out.file, out.index = it.seq, it.file, it.el.Index
	for _, rec := range it.recs {
		out.kept, out.rejects = out.kept[:0], out.rejects[:0]
		if err := s.Process(ctx, rec, out); err != nil {
			return fmt.Errorf("%s: record %d: %w", s.Name(), it.el.Index, err)
		}
		if len(out.kept) == 0 && len(out.rejects) == 0 {
			return fmt.Errorf("%s: record %d: the stage dropped a record without a reason (a bug)", s.Name(), it.el.Index)
		}
		next = append(next, out.kept...)
		for _, rj := range out.rejects {
			rj.rej.Stage = s.Name()
			it.rejects = append(it.rejects, rejectedAt{rejected: rj})
		}
	}
	it.recs = next
	if len(next) > 0 {
		rep.Out++
		rep.Emitted += int64(len(next))
		for i := firstReject; i < len(it.rejects); i++ {
			it.rejects[i].part = true
			if rep.PartsRejected == nil {
				rep.PartsRejected = map[Reason]int64{}
			}
			rep.PartsRejected[it.rejects[i].rej.Reason]++
		}
		return nil
	}
	// The record is rejected with the first reason; its other parts are
	// rejects too, each a line of --rejects, so each is counted.
	rep.Rejected[it.rejects[firstReject].rej.Reason]++
	for i := firstReject + 1; i < len(it.rejects); i++ {
		it.rejects[i].part = true
		if rep.PartsRejected == nil {
			rep.PartsRejected = map[Reason]int64{}
		}
		rep.PartsRejected[it.rejects[i].rej.Reason]++
	}
	return nil
}

// collect puts batches back in input order, runs the ordered stages, and
// writes records and rejects.
func (r *Runner) collect(ctx context.Context, rep *Report, done <-chan *batch, tokens <-chan struct{}, split int) error {
	pending := map[int64]*batch{}
	var next int64
	var out Out
	for {
		var b *batch
		var ok bool
		select {
		case b, ok = <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			if len(pending) > 0 {
				return errors.New("pipeline: batches lost (a bug)")
			}
			return nil
		}
		pending[b.seq] = b
		for pending[next] != nil {
			b := pending[next]
			delete(pending, next)
			next++
			if err := r.finish(ctx, rep, b, split, &out); err != nil {
				return err
			}
			<-tokens
		}
	}
}

func (r *Runner) finish(ctx context.Context, rep *Report, b *batch, split int, out *Out) error {
	for _, sr := range b.reports {
		mergeStage(rep.Stage(sr.Name), sr)
	}
	for i := range b.items {
		it := &b.items[i]
		if it.other {
			rep.OtherShards++
			continue
		}
		for j, s := range r.Stages[split:] {
			if err := applyStage(ctx, s, it, out, rep.Stage(r.Stages[split+j].Name())); err != nil {
				return err
			}
		}
		rep.RecordsIn++
		rep.BytesIn += it.el.Size
		if len(it.recs) > 0 {
			rep.Kept++
			rep.RecordsOut += int64(len(it.recs))
		} else {
			rep.Rejected++
		}
		for _, rec := range it.recs {
			for i := range rec.Conversations {
				rep.NonTextParts += int64(rec.Conversations[i].NonText)
			}
			if err := r.Out.Write(rec); err != nil {
				return err
			}
		}
		if r.Rejects != nil {
			for _, rj := range it.rejects {
				if err := r.Rejects.write(it, rj); err != nil {
					return err
				}
			}
		}
	}
	if r.Progress != nil {
		r.Progress(rep.RecordsIn, rep.BytesIn)
	}
	return nil
}

func mergeStage(dst, src *StageReport) {
	dst.In += src.In
	dst.Out += src.Out
	dst.Emitted += src.Emitted
	for k, v := range src.Rejected {
		dst.Rejected[k] += v
	}
	for k, v := range src.PartsRejected {
		if dst.PartsRejected == nil {
			dst.PartsRejected = map[Reason]int64{}
		}
		dst.PartsRejected[k] += v
	}
}
