package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/internal/selectexpr"
	"github.com/sharegpt/sharegpt/internal/specialtokens"
)

func newConvertCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var selectExpr string
	var firstTurns int
	var escape bool
	c := &cobra.Command{
		Use:   "convert [INPUT...]",
		Short: "Convert, merge and filter records between formats and styles",
		Long: `Convert reads records in any supported format (JSON array, JSONL; gzip or zstd
compressed) and style (ShareGPT or OpenAI messages) and writes them in another,
keeping every field. Several inputs are merged in order (FastChat's merge.py).

--select EXPR keeps the records the expression matches and rejects the others
(reason not-selected). Operands are paths into the record (model, id,
conversations[0].from, meta["some-key"]), JSON literals ("gpt4", 2, true,
null) and functions: has(PATH), len(X) (characters of a string, elements of
an array: len(conversations) is the number of turns), chars() (characters of
all turn values), index() (position among all input records), lower(X),
contains(X, Y), matches(X, "RE"). Operators: == != < <= > >=, && (and),
|| (or), ! (not), parentheses. A missing member equals null, as Python's
dict.get does.

--first-turns N keeps the first N turns of each conversation (after
--select): FastChat's extract_single_round is --first-turns 2.

--escape-special-tokens writes the LLaMA tokenizer's special-token strings
in turn values with a vertical line inserted ("</s>" becomes "<|/s|>", "<s>"
"<|s|>", "<unk>" "<|unk|>"), as FastChat's optional_replace.py does, for
trainers that would read them in text as the real tokens.`,
		Example: `  sharegpt convert -i sharegpt.json -o sharegpt.jsonl
  sharegpt convert -i chats.jsonl.zst --output-style openai -o - | head
  sharegpt convert a.json b.json hardcoded.json -o merged.json
  sharegpt convert --select 'model == "gpt4" || model == null' sharegpt.json -o sharegpt_gpt4.json
  sharegpt convert --first-turns 2 sharegpt.json -o sharegpt_single.json
  sharegpt convert --escape-special-tokens sharegpt.json -o sharegpt_escaped.json
  sharegpt convert --select 'len(conversations) >= 4 && !has(plugins)' -i in.jsonl -o out.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			opts := selectexpr.Options{FirstTurns: -1}
			if c.Flags().Changed("select") {
				e, err := selectexpr.Parse(selectExpr)
				if err != nil {
					return usageError(fmt.Errorf("--select: %w", err))
				}
				opts.Select = e
			}
			if c.Flags().Changed("first-turns") {
				if firstTurns < 0 {
					return usageError(fmt.Errorf("--first-turns must not be negative, not %d", firstTurns))
				}
				opts.FirstTurns = firstTurns
			}
			job, err := f.job("convert", args, ios)
			if err != nil {
				return err
			}
			job.AllowNoConversations = true
			if opts.Select != nil || opts.FirstTurns >= 0 {
				st := selectexpr.New(opts)
				job.Stages = append(job.Stages, st)
			}
			if escape {
				job.Stages = append(job.Stages, specialtokens.NewStage(specialtokens.LLaMA))
			}
			_, err = f.run(c.Context(), job, ios)
			return err
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.BoolVar(&escape, "escape-special-tokens", false, `write "</s>", "<s>" and "<unk>" in turn values as "<|/s|>", "<|s|>" and "<|unk|>" (FastChat's optional_replace.py)`)
	fl.StringVar(&selectExpr, "select", "", `keep only records matching EXPR, e.g. 'model == "gpt4" || model == null'`)
	fl.IntVar(&firstTurns, "first-turns", -1, "keep only the first N turns of each conversation (default: all)")
	return c
}
