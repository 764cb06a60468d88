package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/sample"
)

func newSampleCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	o := sample.DefaultOptions()
	var maxLength int64
	c := &cobra.Command{
		Use:   "sample [INPUT...]",
		Short: "Take a seeded sample of conversations, as FastChat's sample.py does",
		Long: `Sample shuffles the records with numpy's generator (np.random.seed(42);
np.random.shuffle, reproduced exactly), takes positions --begin to --end of the
shuffled list and keeps those whose turn values hold at most --max-chars
characters together (FastChat's --max-length; 0: no cap): the same records, in the same order, as FastChat's
fastchat/data/sample.py. Several inputs are sampled as one list, as if merged.

The shuffle needs the number of records first, so the inputs are read twice
(stdin is copied to a temporary file); records are never held in memory: 4
bytes per input record for the permutation, and the sampled records wait in a
temporary file (--temp-dir) until they are written in shuffled order.
--keep-order takes the positions in input order, in one streaming pass.

Reject reasons: not-sampled (outside --begin/--end), too-long (over
--max-chars).`,
		Example: `  sharegpt sample sharegpt_clean.json -o sampled.json
  sharegpt sample --begin 0 --end 1000 --max-chars 0 --seed 7 train.jsonl -o dev.jsonl
  sharegpt sample --keep-order --end 10 -i big.jsonl.zst | head`,
		RunE: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("max-length") { // FastChat's name: -1 is no cap
				fmt.Fprintln(ios.ErrOut, "sample: warning: --max-length is deprecated: it counts characters here and tokens in split and tokenize; use --max-chars")
				if maxLength == 0 {
					return usageError(fmt.Errorf("--max-length 0 would reject every record; use --max-chars (0: no cap)"))
				}
				o.MaxChars = max(maxLength, 0)
			}
			s, err := sample.New(o)
			if err != nil {
				return err
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
	fl.Int64Var(&o.MaxChars, "max-chars", o.MaxChars, "reject sampled records with more characters than this in all turn values; 0: no cap")
	fl.Int64Var(&maxLength, "max-length", 0, "FastChat's name for --max-chars (-1: no cap)")
	fl.MarkHidden("max-length")
	fl.BoolVar(&o.KeepOrder, "keep-order", false, "do not shuffle: take the positions in input order (one pass)")
	fl.Uint32Var(&o.Seed, "seed", o.Seed, "numpy seed of the shuffle (FastChat uses 42)")
	fl.StringVar(&o.TempDir, "temp-dir", "", "directory for the temporary files (default: the system's)")
	return c
}
