package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/split"
)

func newSplitCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	opts := split.Options{MaxLength: split.DefaultMaxLength}
	var mode, count, tokenizerPath string
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
separators, BOS and EOS; llama-2, chatml; or auto, the model's own Jinja
chat template from --tokenizer DIR's tokenizer_config.json, as transformers'
apply_chat_template renders it), so that no segment of several pairs
exceeds the trainer's model_max_length.

Reject reasons: too-short, invalid-roles, oversize (--drop-oversize),
fastchat-lost-pair and empty-segment (--mode fastchat).`,
		Example: `  sharegpt split -i clean.json -o split.json
  sharegpt convert -i raw.json -o - | sharegpt split -i - -o out.jsonl
  sharegpt split --count template --max-length 4096 --tokenizer models/vicuna-7b -i in.jsonl -o out.jsonl
  sharegpt split --mode fastchat --rejects lost.jsonl -i sharegpt_clean.json -o sharegpt_split.json
  sharegpt split --count template --template auto --tokenizer models/Llama-3.1-8B-Instruct --max-length 8192 clean.jsonl -o split.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("template") && count != "template" {
				return usageError(fmt.Errorf("--template applies only with --count template"))
			}
			var err error
			if opts.Mode, err = split.ParseMode(mode); err != nil {
				return usageError(fmt.Errorf("--mode: %w", err))
			}
			if opts.Count, err = split.ParseCounting(count); err != nil {
				return usageError(fmt.Errorf("--count: %w", err))
			}
			if opts.MaxLength < 1 {
				return usageError(fmt.Errorf("--max-length must be at least 1, not %d", opts.MaxLength))
			}
			if opts.Count != split.CountTemplate {
				opts.Template = ""
			}
			tok, config, err := tokenizerFlags(tokenizerPath, opts.Template)
			if err != nil {
				return usageError(err)
			}
			opts.Tokenizer, opts.TokenizerName, opts.TemplateConfig = tok, tok.Source(), config
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
	fl.IntVar(&opts.MaxLength, "max-length", split.DefaultMaxLength, "segment limit in tokens (the trainer's model_max_length)")
	fl.StringVar(&mode, "mode", "default", "default (keep the pair FastChat loses) or fastchat (FastChat's output exactly)")
	fl.StringVar(&count, "count", "fastchat", "how to count a segment: fastchat (tokens + 7 per turn) or template (exact templated tokens)")
	fl.StringVar(&opts.Template, "template", split.DefaultTemplate, templateUsage+" (for --count template)")
	fl.BoolVar(&opts.DropOversize, "drop-oversize", false, "reject a single pair over the limit (reason oversize) instead of keeping it as its own segment")
	fl.BoolVar(&opts.TokenCounts, "token-counts", false, `write each segment's length as "n_tokens"`)
	fl.StringVar(&tokenizerPath, "tokenizer", "", tokenizerUsage)
	return c
}

// templateUsage and tokenizerUsage describe --template and --tokenizer
// wherever they appear.
var (
	templateUsage  = "chat template: " + strings.Join(chat.Names(), ", ") + ", or auto (the model's own, from --tokenizer DIR)"
	tokenizerUsage = "tokenizer.model, tokenizer.json or a model folder with tokenizer_config.json (default: the embedded LLaMA tokenizer)"
)

// tokenizerFlags loads --tokenizer and, for --template auto, names the
// folder or file holding the chat template.
func tokenizerFlags(path, template string) (tok *tokenizer.Tokenizer, config string, err error) {
	if template == chat.Auto && (path == "" || path == "default") {
		return nil, "", fmt.Errorf("--template auto needs --tokenizer DIR: the model's tokenizer_config.json holds its chat template")
	}
	if tok, err = loadTokenizer(path); err != nil {
		return nil, "", err
	}
	if template == chat.Auto {
		config = path
	}
	return tok, config, nil
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
