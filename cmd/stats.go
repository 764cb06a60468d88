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
	var format, count, tokenizerPath string
	c := &cobra.Command{
		Use:   "stats [INPUT...]",
		Short: "Report what a dataset holds",
		Long: `Stats reports records, turns per conversation, characters per role, turn
lengths and a histogram of conversation lengths in FastChat's bins (0, 1024,
2048, 4096, 8192, 16384, 32768) on stdout, as text or (--format json) JSON.
Lengths count Unicode characters (--count chars, the default) or tokens
without BOS/EOS (--count tokens), as FastChat's get_stats does, with the
embedded LLaMA tokenizer or --tokenizer (a tokenizer.model, tokenizer.json or
model folder; giving it implies --count tokens). --report writes the run
report with the statistics in it.`,
		Example: `  sharegpt stats data/train.json
  sharegpt stats --format json shards/*.jsonl > stats.json
  sharegpt stats --count tokens split.jsonl
  sharegpt stats --tokenizer models/vicuna-7b split.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			if asJSON {
				fmt.Fprintln(ios.ErrOut, "stats: warning: --json is deprecated: use --format json, as validate")
				format = "json"
			}
			if format != "text" && format != "json" {
				return usageError(fmt.Errorf("--format must be text or json, not %q", format))
			}
			job, err := f.job("stats", args, ios)
			if err != nil {
				return err
			}
			var counter stats.Counter
			switch count {
			case "chars", "tokens":
			default:
				return usageError(fmt.Errorf("--count must be chars or tokens, not %q", count))
			}
			if count == "tokens" || c.Flags().Changed("tokenizer") {
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
			if format == "json" {
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
	fl := c.Flags()
	fl.StringVar(&format, "format", "text", "output: text or json")
	fl.BoolVar(&asJSON, "json", false, "the same as --format json")
	fl.MarkHidden("json")
	fl.StringVar(&count, "count", "chars", "what lengths count: chars or tokens")
	fl.StringVar(&tokenizerPath, "tokenizer", "", tokenizerUsage+"; implies --count tokens")
	return c
}
