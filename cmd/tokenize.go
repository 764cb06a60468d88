package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/tokenize"
)

func newTokenizeCmd(ios *IOStreams) *cobra.Command {
	var (
		f             ioFlags
		o             tokenize.Options
		system        string
		tokenizerPath string
		hfDisk, hfHub string
		force         bool
	)
	c := &cobra.Command{
		Use:   "tokenize [INPUT...]",
		Short: "Apply a chat template and write pre-tokenized training rows (input_ids, labels, attention_mask)",
		Long: `Tokenize renders each conversation in a chat template and writes one row per
conversation: id, input_ids, labels, attention_mask and n_tokens, the columns
trainers (Hugging Face Trainer, axolotl, LLaMA-Factory) load as a pre-tokenized
dataset.

--template vicuna_v1.1 (default) is FastChat's train.py template: the system
message, then "USER: " + text + " " and "ASSISTANT: " + reply + "</s>".
llama-2 ([INST] <<SYS>>...) and chatml (<|im_start|>role ... <|im_end|>) are
FastChat's too. The text is tokenized as one string with BOS first, the
template's own special tokens (</s>, <s>) as their ids and everything else as
text: a "</s>" typed in a message is the characters </s>, never EOS. The
dummy prefix "▁" is added only at the start of the string, as SentencePiece
does; --legacy gives the text after each special token its own, as Hugging
Face's LlamaTokenizer(legacy=True) and FastChat's trainer do ("</s>" "▁US" "ER"
instead of "</s>" "USER").

labels are -100 on every token except those of the assistant replies and
their closing end token; they come from the byte offsets of the replies in
the rendered text. Rows are cut to --max-length tokens (no padding;
attention_mask is all 1).

Output: JSONL on stdout or -o FILE.jsonl; -o FILE.parquet, .arrow (IPC file)
or .arrows (IPC stream), sharded with --shard-rows or --shard-bytes; or
--hf-disk DIR (datasets.load_from_disk) or --hf-hub DIR (Parquet shards under
data/ and a README.md dataset card).

A leading "system" turn is the system message. A conversation that opens with
a gpt turn loses that turn, as in FastChat's train.py (counted in the report as
leading_gpt_dropped); --strict-roles rejects it instead.

Reject reasons: invalid-roles (turns not human, gpt, human, ...; a role other
than human/user, gpt/assistant or a leading system), empty-turn, no-reply (no
gpt turn), truncated-away (no reply token within --max-length).`,
		Example: `  sharegpt tokenize -i split.json -o train.parquet
  sharegpt tokenize -i split.json --hf-disk out/tokenized --rejects rejects.jsonl
  sharegpt tokenize --template chatml --max-length 4096 --tokenizer models/vicuna-7b -i in.jsonl -o out.jsonl
  sharegpt split -i clean.json -o - | sharegpt tokenize -o train-shards.parquet --shard-rows 100000`,
		RunE: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("output-style") {
				return usageError(fmt.Errorf("--output-style does not apply to tokenize: it writes token rows, not records"))
			}
			outputExplicit := c.Flags().Changed("output")
			if c.Flags().Changed("system") {
				o.System = &system
			}
			if hfDisk != "" && hfHub != "" || (hfDisk != "" || hfHub != "") && outputExplicit {
				return usageError(fmt.Errorf("give one output: -o FILE, --hf-disk DIR or --hf-hub DIR"))
			}
			if o.MaxLength < 1 {
				return usageError(fmt.Errorf("--max-length must be at least 1, not %d", o.MaxLength))
			}
			tok, config, err := tokenizerFlags(tokenizerPath, o.Template)
			if err != nil {
				return usageError(err)
			}
			o.Tokenizer, o.TemplateConfig = tok, config
			stage, err := tokenize.New(o)
			if err != nil {
				return usageError(err)
			}
			if hfDisk != "" || hfHub != "" {
				f.output = "" // the folder is the output
			}
			job, err := f.job("tokenize", args, ios)
			if err != nil {
				return err
			}
			write := job.Write
			if !c.Flags().Changed("row-group-size") {
				write.RowGroupSize = 0 // tokenize.DefaultRowGroupSize
			}
			sink, err := tokenize.Attach(job, stage, tokenize.TableOptions{
				Path: f.output, Format: f.outputFormat, HFDisk: hfDisk, HFHub: hfHub, Write: write, Force: force,
			})
			if err != nil {
				return usageError(err)
			}
			if sink != nil {
				defer sink.Abort() // does nothing after Commit
			}
			if _, err := f.run(c.Context(), job, ios); err != nil {
				return err
			}
			if !f.quiet {
				writeTokenizeSummary(ios, stage.Details(), sink)
			}
			return nil
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.MarkHidden("output-style") // rows have one layout
	fl.StringVar(&o.Template, "template", tokenize.DefaultTemplate, templateUsage)
	fl.IntVar(&o.MaxLength, "max-length", tokenize.DefaultMaxLength, "cut rows to this many tokens (the trainer's model_max_length)")
	fl.StringVar(&tokenizerPath, "tokenizer", "", tokenizerUsage)
	fl.BoolVar(&o.Legacy, "legacy", false, "give the text after each special token its own dummy prefix (Hugging Face legacy=True)")
	fl.BoolVar(&o.StrictRoles, "strict-roles", false, "reject a conversation that opens with a gpt turn instead of dropping that turn (FastChat)")
	fl.StringVar(&system, "system", "", "system message instead of the template's (a conversation's own leading system turn still wins)")
	fl.StringVar(&hfDisk, "hf-disk", "", "write the datasets save_to_disk layout to this folder")
	fl.StringVar(&hfHub, "hf-hub", "", "write a Hub dataset folder (Parquet shards under data/, README.md card)")
	fl.BoolVar(&force, "force", false, "replace an existing --hf-disk/--hf-hub folder sharegpt did not write (never a file, never a folder holding an input)")
	return c
}

// writeTokenizeSummary prints the token counts after the run's table.
func writeTokenizeSummary(ios *IOStreams, d *tokenize.Details, sink *tokenize.TableSink) {
	fmt.Fprintf(ios.ErrOut, "tokenize: %d rows, %d tokens (%d labelled), longest %d; %d rows cut at %d tokens (%d tokens dropped); %d opening gpt turns dropped; template %s, tokenizer %s\n",
		d.Rows, d.Tokens, d.LabelTokens, d.Longest, d.Truncated, d.MaxLength, d.TokensCut, d.LeadingGPTDropped, d.Template, d.Tokenizer)
	if sink == nil {
		return
	}
	for _, s := range sink.Shards() {
		fmt.Fprintf(ios.ErrOut, "tokenize: wrote %s: %d rows, %d bytes\n", s.Path, s.Rows, s.Bytes)
	}
}
