package dedup

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/sharegpt/sharegpt/pipeline"
)

// RunOptions say what a [Deduper.Run] reads and writes besides its job.
type RunOptions struct {
	// Against are inputs whose records are compared with but never
	// written; input records that duplicate one are rejected.
	Against []string
	// ClustersPath, when set, receives the clusters (see
	// [Deduper.WriteClusters]), written atomically with the outputs.
	ClustersPath string
	// Final runs the pass-2 job; nil means job.Run. Commands pass their
	// runner with progress and summary.
	Final func(ctx context.Context, job *pipeline.Job) (*pipeline.Report, error)
}

// Run deduplicates job's inputs into job's outputs in two passes: pass 1
// runs [Signer] stages over the --against inputs and the inputs with no
// output; [Deduper.Resolve] finds the clusters; pass 2 runs job with the
// [Deduper.Filter] stage appended to its stages. Stdin is spooled to an
// unlinked temporary file in TempDir during pass 1 and read again from it.
func (d *Deduper) Run(ctx context.Context, job *pipeline.Job, ro RunOptions) (*pipeline.Report, error) {
	if slices.Contains(ro.Against, "-") {
		return nil, pipeline.OptionErrorf("{against} cannot read stdin")
	}
	if len(ro.Against) > 0 {
		if err := d.sign(ctx, job, ro.Against, d.Signer(true), nil); err != nil {
			return nil, fmt.Errorf("the files to dedup against: %w", err)
		}
	}
	inputs := job.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	stdin := job.Stdin
	var spool *os.File
	if slices.Contains(inputs, "-") {
		var err error
		spool, err = os.CreateTemp(d.opt.TempDir, "sharegpt-dedup-stdin-*")
		if err != nil {
			return nil, fmt.Errorf("spool stdin: %w", err)
		}
		os.Remove(spool.Name()) // unlinked: gone when closed, whatever happens
		defer spool.Close()
		stdin = io.TeeReader(job.Stdin, spool)
	}
	if err := d.sign(ctx, job, inputs, d.Signer(false), stdin); err != nil {
		return nil, err
	}
	if err := d.Resolve(); err != nil {
		return nil, err
	}

	j := *job
	if spool != nil {
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("spool stdin: %w", err)
		}
		j.Stdin = spool
	}
	j.Stages = append(slices.Clip(job.Stages), d.Filter())
	var cl *pipeline.Output
	finish := job.Finish
	j.Finish = func(rep *pipeline.Report) error {
		rep.Stage(StageName).Details = d.Details()
		if finish != nil {
			if err := finish(rep); err != nil {
				return err
			}
		}
		if ro.ClustersPath == "" {
			return nil
		}
		o, err := pipeline.CreateOutput(ro.ClustersPath, job.Stdout)
		if err != nil {
			return err
		}
		if err := d.WriteClusters(o); err != nil {
			o.Abort()
			return fmt.Errorf("write %s: %w", ro.ClustersPath, err)
		}
		cl = o
		return nil
	}
	final := ro.Final
	if final == nil {
		final = func(ctx context.Context, job *pipeline.Job) (*pipeline.Report, error) { return job.Run(ctx) }
	}
	rep, err := final(ctx, &j)
	if err != nil {
		if cl != nil {
			cl.Abort()
		}
		return rep, err
	}
	if cl != nil {
		if err := cl.Commit(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// sign runs pass 1: the signer over inputs, with job's read options and
// shard (not for --against inputs), writing nothing.
func (d *Deduper) sign(ctx context.Context, job *pipeline.Job, inputs []string, s *Signer, stdin io.Reader) error {
	j := *job
	j.Inputs, j.Output, j.RejectsPath, j.ReportPath = inputs, "", "", ""
	j.Stages, j.Stdin, j.Progress, j.Finish, j.Sink = []pipeline.Stage{s}, stdin, nil, nil, nil
	if s.against {
		j.Shard = pipeline.Shard{} // --against records are never sharded
	}
	rep, err := j.Run(ctx)
	if err != nil {
		return err
	}
	s.Done(rep.RecordsIn + rep.OtherShards)
	return nil
}

// Sign runs pass 1 alone over job's inputs (of its shard, if any): what a
// sharded run does before WriteState.
func (d *Deduper) Sign(ctx context.Context, job *pipeline.Job) error {
	inputs := job.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	return d.sign(ctx, job, inputs, d.Signer(false), job.Stdin)
}
