package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/stats"
)

func newStatsCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var asJSON bool
	var tokenizerPath string
	c := &cobra.Command{
		Use:   "stats [INPUT...]",
		Short: "Report what a dataset holds",
		Long: `Stats reports records, turns per conversation, characters per role, turn
lengths and a histogram of conversation lengths in FastChat's bins (0, 1024,
2048, 4096, 8192, 16384, 32768) on stdout. Lengths count Unicode characters;
with --tokenizer they count tokens (without BOS/EOS), as FastChat's
get_stats does: --tokenizer default is the embedded LLaMA tokenizer, or give
a tokenizer.model, tokenizer.json or model folder.`,
		Example: `  sharegpt stats data/train.json
  sharegpt stats --json shards/*.jsonl > stats.json
  sharegpt stats --tokenizer default split.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			job, err := f.job("stats", args, ios)
			if err != nil {
				return err
			}
			var counter stats.Counter
			if c.Flags().Changed("tokenizer") {
				tok, err := loadTokenizer(tokenizerPath)
				if err != nil {
					return usageError(err)
				}
				counter = tok
			}
			collector := stats.NewCollector(counter)
			job.Output = ""
			job.Stages = append(job.Stages, collector)
			f.quiet = true // the statistics are the output
			if _, err := f.run(c.Context(), job, ios); err != nil {
				return err
			}
			s := collector.Stats()
			if asJSON {
				b, err := json.MarshalIndent(s, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(ios.Out, "%s\n", b)
				return err
			}
			return s.WriteText(ios.Out)
		},
	}
	f.bind(c, false)
	c.Flags().StringVar(&f.rejects, "rejects", "", "write records that could not be read to this JSONL file")
	c.Flags().BoolVar(&asJSON, "json", false, "print the statistics as JSON")
	c.Flags().StringVar(&tokenizerPath, "tokenizer", "", "count tokens instead of characters: default (the embedded LLaMA tokenizer), or a tokenizer.model, tokenizer.json or model folder")
	return c
}
