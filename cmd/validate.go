package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/validate"
)

type validateOptions struct {
	inputs        []string
	inputFormat   string
	schema        string
	strictRoles   bool
	format        string
	maxViolations int
	quiet         bool
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

Exit status: 0 valid, 1 violations found, 2 unusable input.`,
		Example: `  sharegpt validate data/train.json
  sharegpt validate --strict-roles --format json shards/*.jsonl > violations.json`,
		RunE: func(c *cobra.Command, args []string) error {
			return validateRun(c, &o, append(append([]string(nil), o.inputs...), args...), ios)
		},
	}
	fl := c.Flags()
	fl.StringArrayVarP(&o.inputs, "input", "i", nil, "input file, repeatable; - is stdin")
	fl.StringVar(&o.inputFormat, "input-format", "", "input format: json or jsonl (default: by extension, else by content)")
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
	opts := validate.Options{StrictRoles: o.strictRoles}
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
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	reg := registry()
	var listed []validate.Violation
	var total int64
	report := func(viol validate.Violation) {
		total++
		if o.maxViolations > 0 && total > int64(o.maxViolations) {
			return
		}
		if o.format == "text" {
			fmt.Fprintln(ios.Out, viol)
		} else {
			listed = append(listed, viol)
		}
	}
	var readErr error
	for _, in := range inputs {
		src, err := reg.Open(in, ios.In, pipeline.ReadOptions{Format: o.inputFormat})
		if err != nil {
			readErr = fmt.Errorf("open %s: %w", in, err)
			break
		}
		err = v.Check(c.Context(), src, report)
		src.Close()
		if err != nil {
			readErr = err
			break
		}
	}
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
