package hfdataset

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// TrainTestFiles names FastChat's split_train_test.py outputs for name:
// X.json gives X_train.json and X_test.json (.json when name has no
// extension).
func TrainTestFiles(name string) (train, test string) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if ext == "" {
		ext = ".json"
	}
	return base + "_train" + ext, base + "_test" + ext
}

// TrainTestOptions say what TrainTest writes.
type TrainTestOptions struct {
	Train, Test string // the two files, in the job's write options
	Ratio       float64
	Seed        uint32
}

// TrainTest runs job and writes its records as FastChat's
// split_train_test.py does (see Exporter.FinishFiles) to o.Train and
// o.Test, which appear, with the job's other outputs, only when the run
// succeeds. run runs the job (nil: job.Run); the report's Extra names the
// files and their record counts.
func TrainTest(ctx context.Context, job *pipeline.Job, o TrainTestOptions, run func(context.Context, *pipeline.Job) (*pipeline.Report, error)) (*pipeline.Report, error) {
	job.OtherFiles = append(job.OtherFiles, o.Train, o.Test)
	if err := job.CheckOutputs(); err != nil {
		return nil, err
	}
	ex, err := NewExporter(ExportOptions{SplitRatio: o.Ratio, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	defer ex.Close()
	job.Sink = ex
	var train, test *pipeline.FileWriter
	abort := func() {
		for _, w := range []*pipeline.FileWriter{train, test} {
			if w != nil {
				w.Abort()
			}
		}
	}
	job.Finish = func(rep *pipeline.Report) error {
		var err error
		if train, err = job.Registry.Create(o.Train, job.Stdout, job.Write); err != nil {
			return err
		}
		if test, err = job.Registry.Create(o.Test, job.Stdout, job.Write); err != nil {
			return err
		}
		nTrain, nTest, err := ex.FinishFiles(ctx, train, test)
		if err != nil {
			return err
		}
		rep.Extra = map[string]any{"train": o.Train, "test": o.Test, "train_records": nTrain, "test_records": nTest}
		return nil
	}
	if run == nil {
		run = func(ctx context.Context, j *pipeline.Job) (*pipeline.Report, error) { return j.Run(ctx) }
	}
	rep, err := run(ctx, job)
	if err != nil {
		abort()
		return rep, err
	}
	if err := train.Commit(); err != nil {
		abort()
		return rep, err
	}
	return rep, test.Commit()
}
