package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/identity"
	"github.com/sharegpt/sharegpt/pipeline"
)

func newIdentityCmd(ios *IOStreams) *cobra.Command {
	var o identity.Options
	var f ioFlags
	c := &cobra.Command{
		Use:   "identity --name NAME --org ORG",
		Short: "Write identity Q&A conversations, as FastChat's hardcoded_questions.py does",
		Long: `Identity writes the 937 question-and-answer conversations of FastChat's
fastchat/data/hardcoded_questions.py ("Who are you?" "I am NAME, a language
model trained by researchers from ORG."; "Are you ChatGPT?" "No, ..."), with
the same questions, answers, order and ids (identity_0 ... identity_936), for
the given model name and organisation. Merge them into the training data:
sharegpt convert train.json identity.json -o train_with_identity.json.

With --name Vicuna --org "Large Model Systems Organization (LMSYS)" and a .json
output the file is byte for byte FastChat's hardcoded.json (a non-ASCII name
is written as UTF-8, where FastChat would write \uXXXX escapes).`,
		Example: `  sharegpt identity --name Vicuna --org "Large Model Systems Organization (LMSYS)" -o hardcoded.json
  sharegpt identity --name Koala --org BAIR --id-prefix koala_identity_ -o identity.jsonl
  sharegpt identity --name Vicuna --org LMSYS -o identity.parquet --shard-rows 500`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if !c.Flags().Changed("name") || !c.Flags().Changed("org") {
				return usageError(fmt.Errorf(`--name and --org are required, e.g. --name Vicuna --org "Large Model Systems Organization (LMSYS)"`))
			}
			recs, err := identity.Records(o)
			if err != nil {
				return usageError(err)
			}
			style, err := pipeline.ParseOutputStyle(f.outputStyle)
			if err != nil {
				return usageError(err)
			}
			write, err := f.writeOptions(style)
			if err != nil {
				return usageError(err)
			}
			reg := registry()
			check := &pipeline.Job{Output: f.output, Registry: reg, Write: write}
			if err := check.CheckOutputs(); err != nil {
				return err
			}
			w, err := reg.Create(f.output, ios.Out, write)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := c.Context().Err(); err != nil {
					w.Abort()
					return err
				}
				if err := w.Write(r); err != nil {
					w.Abort()
					return err
				}
			}
			if err := w.Commit(); err != nil {
				return err
			}
			if !f.quiet {
				fmt.Fprintf(ios.ErrOut, "identity: %d conversations for %s (%s)\n", len(recs), o.Name, o.Org)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Name, "name", "", `the model's name (FastChat: "Vicuna")`)
	fl.StringVar(&o.Org, "org", "", `who trained it (FastChat: "Large Model Systems Organization (LMSYS)")`)
	fl.StringVar(&o.IDPrefix, "id-prefix", identity.DefaultIDPrefix, "record ids are this prefix and a number from 0")
	f.bindOutputs(fl)
	fl.BoolVarP(&f.quiet, "quiet", "q", false, quietUsage)
	return c
}
