package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/sample"
)

func newSampleCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	o := sample.DefaultOptions()
	c := &cobra.Command{
		Use:   "sample [INPUT...]",
		Short: "Take a seeded sample of conversations, as FastChat's sample.py does",
		Long: `Sample shuffles the records with numpy's generator (np.random.seed(42);
np.random.shuffle, reproduced exactly), takes positions --begin to --end of the
shuffled list and keeps those whose turn values hold at most --max-length
characters together: the same records, in the same order, as FastChat's
fastchat/data/sample.py. Several inputs are sampled as one list, as if merged.

The shuffle needs the number of records first, so the inputs are read twice
(stdin is copied to a temporary file); records are never held in memory: 4
bytes per input record for the permutation, and the sampled records wait in a
temporary file (--temp-dir) until they are written in shuffled order.
--keep-order takes the positions in input order, in one streaming pass.

Reject reasons: not-sampled (outside --begin/--end), too-long (over
--max-length).`,
		Example: `  sharegpt sample sharegpt_clean.json -o sampled.json
  sharegpt sample --begin 0 --end 1000 --max-length -1 --seed 7 train.jsonl -o dev.jsonl
  sharegpt sample --keep-order --end 10 -i big.jsonl.zst | head`,
		RunE: func(c *cobra.Command, args []string) error {
			s, err := sample.New(o)
			if err != nil {
				return usageError(fmt.Errorf("--begin/--end: %w", err))
			}
			defer s.Close()
			job, err := f.job("sample", args, ios)
			if err != nil {
				return err
			}
			if err := s.Prepare(c.Context(), job); err != nil {
				return err
			}
			_, err = f.run(c.Context(), job, ios)
			return err
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.Int64Var(&o.Begin, "begin", o.Begin, "first position of the shuffled list to take")
	fl.Int64Var(&o.End, "end", o.End, "position after the last one to take")
	fl.Int64Var(&o.MaxLength, "max-length", o.MaxLength, "reject sampled records with more characters than this in all turn values; -1: no cap")
	fl.BoolVar(&o.KeepOrder, "keep-order", false, "do not shuffle: take the positions in input order (one pass)")
	fl.Uint32Var(&o.Seed, "seed", o.Seed, "numpy seed of the shuffle (FastChat uses 42)")
	fl.StringVar(&o.TempDir, "temp-dir", "", "directory for the temporary files (default: the system's)")
	return c
}
