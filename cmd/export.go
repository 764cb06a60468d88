package cmd

import (
	"fmt"

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
--shard-rows. Columns that no record uses (extra, _layout, model...) are left out.`,
		Example: `  sharegpt export -i clean.json --hf-disk out/sharegpt_disk
  sharegpt export -i clean.json --hf-hub out/sharegpt_hub --split-ratio 0.99 --seed 0
  python3 -c 'import datasets; print(datasets.load_from_disk("out/sharegpt_disk"))'`,
		RunE: func(c *cobra.Command, args []string) error {
			if (hfDisk == "") == (hfHub == "") {
				return usageError(fmt.Errorf("give one of --hf-disk DIR or --hf-hub DIR"))
			}
			if splitRatio < 0 || splitRatio > 1 {
				return usageError(fmt.Errorf("--split-ratio must be between 0 and 1"))
			}
			if seed < 0 || seed > 1<<32-1 {
				return usageError(fmt.Errorf("--seed must be between 0 and 2**32-1 (numpy's range)"))
			}
			job, err := f.job("export", args, ios)
			if err != nil {
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
				splits, err = ex.Finish(c.Context())
				return err
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
	fl.StringVar(&hfDisk, "hf-disk", "", "write the datasets save_to_disk layout to this folder")
	fl.StringVar(&hfHub, "hf-hub", "", "write a Hub dataset folder (Parquet shards under data/, README.md card)")
	fl.Float64Var(&splitRatio, "split-ratio", 0, "train share for a train/test split as FastChat's split_train_test (e.g. 0.99); 0: no split")
	fl.Int64Var(&seed, "seed", 0, "numpy seed for --split-ratio")
	fl.BoolVar(&force, "force", false, "replace an existing folder sharegpt did not write (never a file, never a folder holding an input)")
	fl.StringVar(&f.rejects, "rejects", "", "write rejected records with stage and reason to this JSONL file")
	fl.StringVar(&f.report, "report", "", "write the run summary as JSON to this file")
	fl.Int64Var(&f.shardRows, "shard-rows", 0, "at most N records per shard")
	fl.StringVar(&f.shardBytes, "shard-bytes", "500MB", "about SIZE bytes per shard (datasets' max_shard_size)")
	fl.StringVar(&f.compression, "compression", columnar.DefaultCompression, "Parquet compression for --hf-hub: zstd, snappy, gzip or none")
	fl.IntVar(&f.rowGroupSize, "row-group-size", columnar.DefaultRowGroupSize, "records per Parquet row group for --hf-hub")
	f.output = ""
	return c
}
