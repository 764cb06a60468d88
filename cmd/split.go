package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/split"
)

type splitOptions struct {
	maxLength    int
	mode         string
	count        string
	template     string
	dropOversize bool
	tokenCounts  bool
	tokenizer    string
}

func newSplitCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var o splitOptions
	c := &cobra.Command{
		Use:   "split [INPUT...]",
		Short: "Cut long conversations into segments that fit the trainer's token limit",
		Long: `Split cuts each conversation into segments of whole (human, gpt) pairs that fit
--max-length tokens, with FastChat's split_long_conversation rules: pairs are
added to a segment until the next one would overflow it; a pair longer than
the limit is a segment of its own. Segment ids are ORIGINALID_STARTINDEX (a
record without an id uses its 0-based position in the run); all other fields
are kept. Segments whose roles do not alternate human, gpt are rejected.

FastChat silently loses the last pair of a conversation when that pair is the
one that overflows; split emits it as a segment of its own. --mode fastchat
reproduces FastChat's output exactly and reports the lost pair as a reject
(fastchat-lost-pair).

--count fastchat (default) counts FastChat's way: tokens + 1 + 6 per turn.
--count template counts the exact tokens the trainer sees under the chat
template (--template vicuna_v1.1: system prompt, USER:/ASSISTANT: tags,
separators, BOS and EOS), so that no segment of several pairs exceeds the
trainer's model_max_length.

Reject reasons: too-short, invalid-roles, oversize (--drop-oversize),
fastchat-lost-pair and empty-segment (--mode fastchat).`,
		Example: `  sharegpt split -i clean.json -o split.json
  sharegpt convert -i raw.json -o - | sharegpt split -i - -o out.jsonl
  sharegpt split --count template --max-length 4096 --tokenizer models/vicuna-7b -i in.jsonl -o out.jsonl
  sharegpt split --mode fastchat --rejects lost.jsonl -i sharegpt_clean.json -o sharegpt_split.json`,
		RunE: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("template") && o.count != "template" {
				return usageError(fmt.Errorf("--template applies only with --count template"))
			}
			opts, err := o.options()
			if err != nil {
				return usageError(err)
			}
			stage, err := split.New(opts)
			if err != nil {
				return usageError(err)
			}
			job, err := f.job("split", args, ios)
			if err != nil {
				return err
			}
			job.Stages = []pipeline.Stage{stage}
			if _, err := f.run(c.Context(), job, ios); err != nil {
				return err
			}
			if !f.quiet {
				writeSplitSummary(ios, stage.Details())
			}
			return nil
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.IntVar(&o.maxLength, "max-length", split.DefaultMaxLength, "segment limit in tokens (the trainer's model_max_length)")
	fl.StringVar(&o.mode, "mode", "default", "default (keep the pair FastChat loses) or fastchat (FastChat's output exactly)")
	fl.StringVar(&o.count, "count", "fastchat", "how to count a segment: fastchat (tokens + 7 per turn) or template (exact templated tokens)")
	fl.StringVar(&o.template, "template", split.VicunaV11.Name, "chat template for --count template: "+strings.Join(split.TemplateNames(), ", "))
	fl.BoolVar(&o.dropOversize, "drop-oversize", false, "reject a single pair over the limit (reason oversize) instead of keeping it as its own segment")
	fl.BoolVar(&o.tokenCounts, "token-counts", false, `write each segment's length as "n_tokens"`)
	fl.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer.model, tokenizer.json or a model folder (default: the embedded LLaMA tokenizer)")
	return c
}

func (o *splitOptions) options() (split.Options, error) {
	mode, err := split.ParseMode(o.mode)
	if err != nil {
		return split.Options{}, fmt.Errorf("--mode: %w", err)
	}
	count, err := split.ParseCounting(o.count)
	if err != nil {
		return split.Options{}, fmt.Errorf("--count: %w", err)
	}
	if o.maxLength < 1 {
		return split.Options{}, fmt.Errorf("--max-length must be at least 1, not %d", o.maxLength)
	}
	opts := split.Options{
		MaxLength:    o.maxLength,
		Mode:         mode,
		Count:        count,
		DropOversize: o.dropOversize,
		TokenCounts:  o.tokenCounts,
	}
	if count == split.CountTemplate {
		opts.Template = o.template
	}
	tok, err := loadTokenizer(o.tokenizer)
	if err != nil {
		return split.Options{}, err
	}
	opts.Tokenizer, opts.TokenizerName = tok, tok.Source()
	return opts, nil
}

// loadTokenizer loads --tokenizer: "" or "default" is the embedded LLaMA
// tokenizer.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if path == "" || path == "default" {
		return tokenizer.Default(), nil
	}
	return tokenizer.Load(path)
}

// writeSplitSummary prints the segment counts and length histogram after
// the run's table.
func writeSplitSummary(ios *IOStreams, d *split.Details) {
	fmt.Fprintf(ios.ErrOut, "split: %d records, %d split, %d segments out (%d over %d tokens kept whole), %d trailing turns cut; segment lengths (%s tokens):",
		d.RecordsIn, d.RecordsSplit, d.SegmentsOut, d.OversizeKept, d.MaxLength, d.TrailingTurnsDropped, d.Count)
	for _, b := range d.Histogram {
		to := "inf"
		if b.To >= 0 {
			to = fmt.Sprint(b.To)
		}
		fmt.Fprintf(ios.ErrOut, " [%d,%s) %d", b.From, to, b.Count)
	}
	fmt.Fprintln(ios.ErrOut)
}
