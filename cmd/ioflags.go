package cmd

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/internal/hfdataset"
	"github.com/sharegpt/sharegpt/pipeline"
)

// ioFlags are the input, output and reporting flags every stage command
// shares.
type ioFlags struct {
	inputs         []string
	output         string
	inputFormat    string
	outputFormat   string
	inputStyle     string
	outputStyle    string
	rejects        string
	report         string
	workers        int
	maxRecordBytes int64
	quiet          bool
	shard          string
	shardRows      int64
	shardBytes     string
	compression    string
	rowGroupSize   int
	withOutput     bool
	failEmpty      bool
	split          string
}

// quietUsage is -q's meaning in every command.
const quietUsage = "print no progress and no summary (errors and warnings still appear)"

// bind defines the shared flags on c: inputs, run flags and, with
// withOutput, the output flags.
func (f *ioFlags) bind(c *cobra.Command, withOutput bool) {
	fl := c.Flags()
	f.bindInputs(fl)
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), "parallel workers")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, quietUsage)
	fl.BoolVar(&f.failEmpty, "fail-empty", false, "exit with status 3 when nothing is kept from a non-empty input (for Makefiles and CI)")
	fl.StringVar(&f.shard, "shard", "", "process only part i of N of the input (i/N, by a stable hash of the id), for runs spread over N machines")
	f.bindReports(fl)
	if withOutput {
		f.bindOutputs(fl)
	}
}

// bindInputs defines the input flags.
func (f *ioFlags) bindInputs(fl *pflag.FlagSet) {
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "input file, repeatable; - is stdin (default -); positional arguments are inputs too")
	fl.StringVar(&f.inputFormat, "input-format", "", "input format: json, jsonl, parquet, arrow or arrow-stream (default: by magic bytes, extension, then content)")
	fl.StringVar(&f.inputStyle, "input-style", "auto", "record style: auto, sharegpt (conversations/from/value) or openai (messages/role/content)")
	fl.Int64Var(&f.maxRecordBytes, "max-record-bytes", pipeline.DefaultMaxRecordBytes, "reject records larger than this many bytes")
	fl.StringVar(&f.split, "split", "", "a dataset folder as input (save_to_disk or Hub layout): the split to read, e.g. train (default: its only split)")
}

// expandInputs replaces dataset folders among the inputs by their data
// files (hfdataset.InputFiles), so that every command reads what export
// and tokenize write.
func (f *ioFlags) expandInputs(inputs []string) ([]string, error) {
	var out []string
	folders := 0
	for _, in := range inputs {
		if st, err := os.Stat(in); in == "-" || err != nil || !st.IsDir() {
			out = append(out, in)
			continue
		}
		folders++
		files, err := hfdataset.InputFiles(in, f.split)
		if err != nil {
			return nil, &pipeline.InputError{Err: err}
		}
		out = append(out, files...)
	}
	if f.split != "" && folders == 0 {
		return nil, usageError(fmt.Errorf("--split applies to dataset folders given as input"))
	}
	return out, nil
}

// bindReports defines --rejects and --report.
func (f *ioFlags) bindReports(fl *pflag.FlagSet) {
	fl.StringVar(&f.rejects, "rejects", "", "write rejected records with stage and reason to this JSONL file")
	fl.StringVar(&f.report, "report", "", "write the run summary as JSON to this file")
}

// bindOutputs defines the output flags of a command that writes records.
func (f *ioFlags) bindOutputs(fl *pflag.FlagSet) {
	f.withOutput = true
	fl.StringVarP(&f.output, "output", "o", "-", "output file; - is stdout (JSONL); .parquet, .arrow (IPC file), .arrows (IPC stream); .gz/.zst compress")
	fl.StringVar(&f.outputFormat, "output-format", "", "output format: json, jsonl, parquet, arrow or arrow-stream (default: by extension)")
	fl.Int64Var(&f.shardRows, "shard-rows", 0, "split the output into shards of at most N records: PREFIX-00000-of-0000N.EXT")
	fl.StringVar(&f.shardBytes, "shard-bytes", "", "split the output into shards of about SIZE bytes (e.g. 500MB, 1GiB)")
	fl.StringVar(&f.compression, "compression", columnar.DefaultCompression, "Parquet compression: zstd, snappy, gzip or none")
	fl.IntVar(&f.rowGroupSize, "row-group-size", columnar.DefaultRowGroupSize, "records per Parquet row group")
	fl.StringVar(&f.outputStyle, "output-style", "sharegpt", "record style to write: sharegpt or openai")
}

// registry returns the formats commands read and write.
func registry() *pipeline.Registry {
	return pipeline.NewRegistry(append(pipeline.JSONFormats(), columnar.Formats()...)...)
}

// stdinHint is printed when a command reads records from a terminal.
const stdinHint = "sharegpt: reading records from stdin; Ctrl-D ends, -i FILE reads a file"

// job builds a pipeline job from the flags.
func (f *ioFlags) job(command string, args []string, ios *IOStreams) (*pipeline.Job, error) {
	inStyle, err := pipeline.ParseInputStyle(f.inputStyle)
	if err != nil {
		return nil, usageError(err)
	}
	outStyle, err := pipeline.ParseOutputStyle(f.outputStyle)
	if err != nil {
		return nil, usageError(err)
	}
	reg := registry()
	for _, name := range []string{f.inputFormat, f.outputFormat} {
		if name != "" {
			if _, err := reg.Lookup(name); err != nil {
				return nil, usageError(err)
			}
		}
	}
	if f.workers < 1 {
		return nil, usageError(fmt.Errorf("--workers must be at least 1"))
	}
	write, err := f.writeOptions(outStyle)
	if err != nil {
		return nil, usageError(err)
	}
	var shard pipeline.Shard
	if f.shard != "" {
		if shard, err = pipeline.ParseShard(f.shard); err != nil {
			return nil, usageError(fmt.Errorf("--shard: %w", err))
		}
	}
	inputs, err := f.expandInputs(append(slices.Clone(f.inputs), args...))
	if err != nil {
		return nil, err
	}
	readsStdin := len(inputs) == 0 || slices.Contains(inputs, "-")
	if readsStdin && ios.StdinTTY {
		fmt.Fprintln(ios.ErrOut, stdinHint)
	}
	return &pipeline.Job{
		Shard:       shard,
		Command:     command,
		Registry:    reg,
		Inputs:      inputs,
		Output:      f.output,
		RejectsPath: f.rejects,
		ReportPath:  f.report,
		Read:        pipeline.ReadOptions{Format: f.inputFormat, Style: inStyle, MaxRecordBytes: f.maxRecordBytes},
		Write:       write,
		Workers:     f.workers,
		Stdin:       ios.In,
		Stdout:      ios.Out,
	}, nil
}

// writeOptions checks the output flags.
func (f *ioFlags) writeOptions(style pipeline.OutputStyle) (pipeline.WriteOptions, error) {
	o := pipeline.WriteOptions{Format: f.outputFormat, Style: style, Compression: f.compression,
		RowGroupSize: f.rowGroupSize, ShardRows: f.shardRows}
	if !f.withOutput && f.compression == "" && f.rowGroupSize == 0 {
		return o, nil // a command without output flags
	}
	if _, err := columnar.ParseCompression(f.compression); err != nil {
		return o, fmt.Errorf("--compression: %w", err)
	}
	if f.rowGroupSize < 1 {
		return o, fmt.Errorf("--row-group-size must be at least 1")
	}
	if f.shardRows < 0 {
		return o, fmt.Errorf("--shard-rows must not be negative")
	}
	if f.shardBytes != "" {
		n, err := pipeline.ParseSize(f.shardBytes)
		if err != nil {
			return o, fmt.Errorf("--shard-bytes: %w", err)
		}
		o.ShardBytes = n
	}
	if o.Sharded() && f.output == "-" {
		return o, fmt.Errorf("--shard-rows and --shard-bytes need an output file (-o)")
	}
	return o, nil
}

// run runs a job with a progress bar for people and prints the summary.
func (f *ioFlags) run(ctx context.Context, job *pipeline.Job, ios *IOStreams) (*pipeline.Report, error) {
	var bar *progressbar.ProgressBar
	if ios.StderrTTY && !f.quiet {
		bar = newProgressBar(ios, job.Inputs)
		job.Progress = func(records, bytes int64) {
			bar.Describe(fmt.Sprintf("%d records", records))
			bar.Set64(bytes)
		}
	}
	rep, err := job.Run(ctx)
	if bar != nil {
		bar.Finish()
		bar.Clear()
	}
	if err != nil {
		return rep, err
	}
	if !f.quiet {
		rep.WriteTable(ios.ErrOut)
	}
	return rep, f.checkEmpty(rep, ios)
}

// checkEmpty warns when a run kept nothing of a non-empty input, naming
// the reason that took the most, and with --fail-empty fails it (exit 3).
func (f *ioFlags) checkEmpty(rep *pipeline.Report, ios *IOStreams) error {
	if rep == nil || rep.RecordsIn == 0 || rep.Kept > 0 {
		return nil
	}
	type count struct {
		what string
		n    int64
	}
	var counts []count
	for _, st := range rep.Stages {
		for reason, n := range st.Rejected {
			counts = append(counts, count{fmt.Sprintf("%d as %s by %s", n, reason, st.Name), n})
		}
	}
	slices.SortStableFunc(counts, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.what, b.what)) })
	why := "rejected "
	for i, c := range counts {
		if i > 0 {
			why += ", "
		}
		why += c.what
	}
	if len(counts) == 0 {
		why = "no stage kept any"
	}
	msg := fmt.Sprintf("%s: warning: nothing kept of %d records (%s)", rep.Command, rep.RecordsIn, why)
	fmt.Fprintln(ios.ErrOut, msg)
	if f.failEmpty {
		return &exitError{code: ExitEmpty}
	}
	return nil
}

// newProgressBar shows bytes of the total when every input is a plain file
// of known size, and a spinner with the record count otherwise.
func newProgressBar(ios *IOStreams, inputs []string) *progressbar.ProgressBar {
	total := int64(0)
	for _, in := range inputs {
		st, err := os.Stat(in)
		if comp, _ := pipeline.CompressionOf(in); in == "-" || err != nil || comp != pipeline.NoCompression {
			total = -1
			break
		}
		total += st.Size()
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
	)
}

func usageError(err error) error {
	return &exitError{code: ExitInputError, err: err}
}
