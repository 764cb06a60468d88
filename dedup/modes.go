package dedup

import (
	"context"
	"io"
	"os"

	"github.com/sharegpt/sharegpt/pipeline"
)

// A sharded run has three steps, each a function here: every shard signs
// its part (SignShard), one merge decides (Merge), and every shard filters
// its part with the decisions (FilterShard).

// SignShard runs pass 1 over job's inputs (of its shard) and writes the
// state to path ("-" is stdout), atomically.
func SignShard(ctx context.Context, opt Options, job *pipeline.Job, path string) error {
	d, err := New(opt)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := job.CheckOutputs(); err != nil {
		return err
	}
	if err := d.Sign(ctx, job); err != nil {
		return err
	}
	return pipeline.WriteFileAtomic(path, job.Stdout, d.WriteState)
}

// MergeOptions say what Merge reads and writes.
type MergeOptions struct {
	States    []string  // the shards' state files
	Decisions string    // the decisions file to write
	Clusters  string    // the clusters file to write; "" for none
	Stdout    io.Writer // for "-" as an output
}

// Merge reads the shards' states, finds the duplicates and writes the
// decisions (and clusters). It returns the merged run's statistics.
func Merge(opt Options, mo MergeOptions) (Stats, error) {
	if err := pipeline.CheckDistinct(mo.Decisions, mo.Clusters); err != nil {
		return Stats{}, err
	}
	g := pipeline.NewGuard(mo.States)
	for _, out := range []string{mo.Decisions, mo.Clusters} {
		if err := g.CheckFile(out); err != nil {
			return Stats{}, err
		}
	}
	d, err := New(opt)
	if err != nil {
		return Stats{}, err
	}
	defer d.Close()
	for _, p := range mo.States {
		if err := loadStateFile(d, p); err != nil {
			return Stats{}, &pipeline.InputError{Err: err}
		}
	}
	if err := d.Resolve(); err != nil {
		return Stats{}, err
	}
	if err := pipeline.WriteFileAtomic(mo.Decisions, mo.Stdout, d.WriteDecisions); err != nil {
		return Stats{}, err
	}
	if mo.Clusters != "" {
		if err := pipeline.WriteFileAtomic(mo.Clusters, mo.Stdout, d.WriteClusters); err != nil {
			return Stats{}, err
		}
	}
	return d.Stats(), nil
}

func loadStateFile(d *Deduper, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return d.LoadState(f, path)
}

// FilterShard prepares job to filter its shard with the decisions file at
// path: the decisions stage is appended to its stages, the file is
// protected as an input, and the run fails before anything is committed
// when the shard's records do not match the decisions.
func FilterShard(job *pipeline.Job, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &pipeline.InputError{Err: err}
	}
	defer f.Close()
	dec, err := LoadDecisions(f, path)
	if err != nil {
		return &pipeline.InputError{Err: err}
	}
	job.Stages = append(job.Stages, dec)
	job.Finish = func(rep *pipeline.Report) error {
		if err := dec.Check(rep); err != nil {
			return &pipeline.InputError{Err: err}
		}
		return nil
	}
	return nil
}
