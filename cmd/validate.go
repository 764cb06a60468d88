package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/validate"
)

type validateOptions struct {
	inputs         []string
	inputFormat    string
	inputStyle     string
	maxRecordBytes int64
	schema         string
	strictRoles    bool
	format         string
	maxViolations  int
	quiet          bool
}

func newValidateCmd(ios *IOStreams) *cobra.Command {
	var o validateOptions
	c := &cobra.Command{
		Use:   "validate [INPUT...]",
		Short: "Check records against the record schema, for CI",
		Long: `Validate checks every record against schemas/sharegpt.schema.json (JSON Schema
2020-12, built in; --schema replaces it), that ids are unique across all inputs,
and with --strict-roles that turns alternate human/gpt from a human turn (one
leading system turn allowed). Each violation names file, record index, id and
field path.

Records are read as every other command reads them (--input-style,
--max-record-bytes): a record any command would reject is a violation whose
kind is its reject reason (invalid-json, invalid-utf8, bad-shape such as a
member given twice, too-large), so data validate passes is read by all of them.

Exit status: 0 valid, 1 violations found, 2 unusable input.`,
		Example: `  sharegpt validate data/train.json
  sharegpt validate --strict-roles --format json shards/*.jsonl > violations.json`,
		RunE: func(c *cobra.Command, args []string) error {
			return validateRun(c, &o, append(append([]string(nil), o.inputs...), args...), ios)
		},
	}
	fl := c.Flags()
	fl.StringArrayVarP(&o.inputs, "input", "i", nil, "input file, repeatable; - is stdin")
	fl.StringVar(&o.inputFormat, "input-format", "", "input format: json, jsonl, parquet, arrow or arrow-stream (default: by magic bytes, extension, then content)")
	fl.StringVar(&o.inputStyle, "input-style", "auto", "record style: auto, sharegpt (conversations/from/value) or openai (messages/role/content)")
	fl.Int64Var(&o.maxRecordBytes, "max-record-bytes", pipeline.DefaultMaxRecordBytes, "records larger than this many bytes are violations (too-large)")
	fl.StringVar(&o.schema, "schema", "", "JSON Schema file to use instead of the built-in record schema")
	fl.BoolVar(&o.strictRoles, "strict-roles", false, "require turns alternating human/gpt from a human turn")
	fl.StringVar(&o.format, "format", "text", "output: text (one line per violation) or json")
	fl.IntVar(&o.maxViolations, "max-violations", 1000, "list at most this many violations (all are counted; 0: no limit)")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "print violations only, no summary")
	return c
}

func validateRun(c *cobra.Command, o *validateOptions, inputs []string, ios *IOStreams) error {
	if o.format != "text" && o.format != "json" {
		return usageError(fmt.Errorf("--format must be text or json, not %q", o.format))
	}
	style, err := pipeline.ParseInputStyle(o.inputStyle)
	if err != nil {
		return usageError(err)
	}
	opts := validate.Options{StrictRoles: o.strictRoles, Style: style}
	if o.schema != "" {
		doc, err := os.ReadFile(o.schema)
		if err != nil {
			return usageError(fmt.Errorf("read schema: %w", err))
		}
		opts.Schema = doc
	}
	v, err := validate.New(opts)
	if err != nil {
		return usageError(err)
	}
	var listed []validate.Violation
	total, readErr := v.Run(c.Context(), validate.Files{
		Inputs: inputs, Registry: registry(), Stdin: ios.In, Max: o.maxViolations,
		Read: pipeline.ReadOptions{Format: o.inputFormat, Style: style, MaxRecordBytes: o.maxRecordBytes},
		Each: func(viol validate.Violation) {
			if o.format == "text" {
				fmt.Fprintln(ios.Out, viol)
			} else {
				listed = append(listed, viol)
			}
		},
	})
	if o.format == "json" {
		b, err := validate.MarshalViolations(v.Records(), listed, total)
		if err != nil {
			return err
		}
		fmt.Fprintf(ios.Out, "%s\n", b)
	}
	if readErr != nil {
		return &exitError{code: ExitInputError, err: readErr}
	}
	if !o.quiet {
		fmt.Fprintf(ios.ErrOut, "validate: %d records, %d violations\n", v.Records(), total)
	}
	if total > 0 {
		return &exitError{code: ExitFailure}
	}
	return nil
}
