package cmd

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/internal/hfdataset"
	"github.com/sharegpt/sharegpt/pipeline"
)

func newExportCmd(ios *IOStreams) *cobra.Command {
	var (
		f          ioFlags
		hfDisk     string
		hfHub      string
		splitRatio float64
		ratio      float64
		seed       int64
		force      bool
	)
	c := &cobra.Command{
		Use:   "export [INPUT...] (--hf-disk DIR | --hf-hub DIR)",
		Short: "Write records as a Hugging Face dataset folder (save_to_disk or Hub layout)",
		Long: `Export writes records as a folder Hugging Face datasets loads without a
conversion step:

  --hf-disk DIR  the save_to_disk layout: data-00000-of-0000N.arrow (Arrow IPC
                 streams), dataset_info.json and state.json, which
                 datasets.load_from_disk(DIR) opens; with --split-ratio a
                 DatasetDict (DIR/dataset_dict.json, DIR/train, DIR/test).
                 DIR is replaced as a whole when the export succeeds; an
                 existing DIR must be empty or a save_to_disk folder
                 (--force replaces any other folder, never a file and never
                 a folder holding an input).
  --hf-hub DIR   a dataset repository: DIR/data/train-00000-of-0000N.parquet
                 (and test) and DIR/README.md, a dataset card whose YAML header
                 declares the configs and dataset_info (features, splits,
                 sizes); upload it as it is, or load_dataset(DIR). In an
                 existing DIR (a clone of the dataset's repository) only
                 data/ and README.md are replaced; data/ must hold only
                 Parquet files and README.md be a card sharegpt wrote,
                 unless --force.

--split-ratio R splits as FastChat's split_train_test does: np.random.seed(SEED),
perm = np.random.permutation(N), the first int(N*R) records of the permuted
order are train, the rest test (numpy's generator is reproduced exactly).
Shards are at most --shard-bytes (default 500MB, as datasets) or
--shard-rows. Columns that no record uses (extra, _layout, model...) are left out.

-o FILE writes one file instead of a folder (.parquet, .arrow, .arrows, .json,
.jsonl), as convert does. --ratio R is FastChat's split_train_test.py itself:
the same permutation as --split-ratio, written as two files named after -o
FILE or the one input, X.json -> X_train.json and X_test.json (json.dump with
indent=2, as FastChat writes them).`,
		Example: `  sharegpt export -i clean.json --hf-disk out/sharegpt_disk
  sharegpt export -i clean.json --hf-hub out/sharegpt_hub --split-ratio 0.99 --seed 0
  python3 -c 'import datasets; print(datasets.load_from_disk("out/sharegpt_disk"))'
  sharegpt export --ratio 0.9 sharegpt_clean.json     # sharegpt_clean_train.json, sharegpt_clean_test.json
  sharegpt export -i clean.json -o clean.parquet`,
		RunE: func(c *cobra.Command, args []string) error {
			outputs := 0
			for _, set := range []bool{hfDisk != "", hfHub != "", f.output != "" && ratio == 0} {
				if set {
					outputs++
				}
			}
			if outputs != 1 && ratio == 0 {
				return usageError(fmt.Errorf("give one output: --hf-disk DIR, --hf-hub DIR or -o FILE"))
			}
			if ratio != 0 && (hfDisk != "" || hfHub != "") {
				return usageError(fmt.Errorf("--ratio writes two files; for a dataset folder with train and test splits use --split-ratio"))
			}
			for _, r := range []struct {
				name string
				v    float64
			}{{"--split-ratio", splitRatio}, {"--ratio", ratio}} {
				if r.v < 0 || r.v > 1 {
					return usageError(fmt.Errorf("%s must be between 0 and 1", r.name))
				}
			}
			if seed < 0 || seed > 1<<32-1 {
				return usageError(fmt.Errorf("--seed must be between 0 and 2**32-1 (numpy's range)"))
			}
			if ratio != 0 {
				return exportRatio(c.Context(), &f, args, ratio, uint32(seed), ios)
			}
			job, err := f.job("export", args, ios)
			if err != nil {
				return err
			}
			if f.output != "" {
				_, err := f.run(c.Context(), job, ios)
				return err
			}
			opts := hfdataset.ExportOptions{
				Kind: hfdataset.Disk, Dir: hfDisk, SplitRatio: splitRatio, Seed: uint32(seed),
				Options: hfdataset.Options{ShardRows: job.Write.ShardRows, ShardBytes: job.Write.ShardBytes,
					Compression: job.Write.Compression, RowGroupSize: job.Write.RowGroupSize, Force: force},
			}
			if hfHub != "" {
				opts.Kind, opts.Dir = hfdataset.Hub, hfHub
			}
			job.Folders, job.OtherFiles = hfdataset.Replaces(opts.Kind, opts.Dir)
			if err := job.CheckOutputs(); err != nil {
				return err
			}
			ex, err := hfdataset.NewExporter(opts)
			if err != nil {
				return usageError(err)
			}
			defer ex.Close()
			job.Sink = ex
			var splits []hfdataset.Split
			job.Finish = func(rep *pipeline.Report) error {
				var err error
				if splits, err = ex.Finish(c.Context()); err != nil {
					return err
				}
				for _, s := range splits {
					rep.BytesOut += s.FileBytes
				}
				return nil
			}
			if _, err := f.run(c.Context(), job, ios); err != nil {
				return err
			}
			if !f.quiet {
				for _, s := range splits {
					name := s.Name
					if name == "" {
						name = "dataset"
					}
					fmt.Fprintf(ios.ErrOut, "export: %s: %d records in %d files, %d bytes\n", name, s.Rows, len(s.Shards), s.FileBytes)
				}
			}
			return nil
		},
	}
	f.bind(c, false)
	fl := c.Flags()
	fl.StringVarP(&f.output, "output", "o", "", "write one file instead of a folder (.parquet, .arrow, .arrows, .json, .jsonl); with --ratio, names the train and test files")
	fl.StringVar(&f.outputFormat, "output-format", "", "format of -o: json, jsonl, parquet, arrow or arrow-stream (default: by extension)")
	fl.Float64Var(&ratio, "ratio", 0, "FastChat's split_train_test.py: write X_train.json and X_test.json with this train share (e.g. 0.9)")
	fl.StringVar(&hfDisk, "hf-disk", "", "write the datasets save_to_disk layout to this folder")
	fl.StringVar(&hfHub, "hf-hub", "", "write a Hub dataset folder (Parquet shards under data/, README.md card)")
	fl.Float64Var(&splitRatio, "split-ratio", 0, "train share for a train/test split as FastChat's split_train_test (e.g. 0.99); 0: no split")
	fl.Int64Var(&seed, "seed", 0, "numpy seed for --split-ratio and --ratio (FastChat's split_train_test uses 0)")
	fl.BoolVar(&force, "force", false, "replace an existing folder sharegpt did not write (never a file, never a folder holding an input)")
	fl.Int64Var(&f.shardRows, "shard-rows", 0, "at most N records per shard")
	fl.StringVar(&f.shardBytes, "shard-bytes", "", "about SIZE bytes per shard (datasets' max_shard_size; default 500MB for a folder, none for -o)")
	fl.StringVar(&f.compression, "compression", columnar.DefaultCompression, "Parquet compression for --hf-hub: zstd, snappy, gzip or none")
	fl.IntVar(&f.rowGroupSize, "row-group-size", columnar.DefaultRowGroupSize, "records per Parquet row group for --hf-hub")
	return c
}

// exportRatio writes FastChat's split_train_test.py files: X_train.json
// and X_test.json next to -o X.json, or to the one input.
func exportRatio(ctx context.Context, f *ioFlags, args []string, ratio float64, seed uint32, ios *IOStreams) error {
	name := f.output
	if inputs := append(slices.Clone(f.inputs), args...); name == "" {
		if len(inputs) != 1 || inputs[0] == "-" {
			return usageError(fmt.Errorf("--ratio names its files after the input (X.json -> X_train.json): give one input file, or -o X.json"))
		}
		name = inputs[0]
	}
	train, test := hfdataset.TrainTestFiles(name)
	f.output = ""
	job, err := f.job("export", args, ios)
	if err != nil {
		return err
	}
	rep, err := hfdataset.TrainTest(ctx, job, hfdataset.TrainTestOptions{Train: train, Test: test, Ratio: ratio, Seed: seed},
		func(ctx context.Context, job *pipeline.Job) (*pipeline.Report, error) { return f.run(ctx, job, ios) })
	if err != nil {
		return err
	}
	if !f.quiet {
		fmt.Fprintf(ios.ErrOut, "export: %s: %v records, %s: %v records\n", train, rep.Extra["train_records"], test, rep.Extra["test_records"])
	}
	return nil
}
