package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/validate"
)

type validateOptions struct {
	schema        string
	strictRoles   bool
	format        string
	maxViolations int
}

func newValidateCmd(ios *IOStreams) *cobra.Command {
	var o validateOptions
	var f ioFlags
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

--rejects FILE writes each record with violations as a JSONL line (stage
validate, reason: its first violation's kind, detail: all of them), --report
FILE the counts per kind as JSON; --workers checks records in parallel, the
violations still listed in input order.

Exit status: 0 valid, 1 violations found, 2 unusable input.`,
		Example: `  sharegpt validate data/train.json
  sharegpt validate --strict-roles --format json shards/*.jsonl > violations.json
  sharegpt validate --rejects invalid.jsonl --report validate.json data/*.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			return validateRun(c, &o, &f, args, ios)
		},
	}
	fl := c.Flags()
	f.bindInputs(fl)
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), "parallel workers")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, quietUsage)
	f.bindReports(fl)
	fl.StringVar(&o.schema, "schema", "", "JSON Schema file to use instead of the built-in record schema")
	fl.BoolVar(&o.strictRoles, "strict-roles", false, "require turns alternating human/gpt from a human turn")
	fl.StringVar(&o.format, "format", "text", "output: text (one line per violation) or json")
	fl.IntVar(&o.maxViolations, "max-violations", 1000, "list at most this many violations (all are counted; 0: no limit)")
	return c
}

func validateRun(c *cobra.Command, o *validateOptions, f *ioFlags, args []string, ios *IOStreams) error {
	if o.format != "text" && o.format != "json" {
		return usageError(fmt.Errorf("--format must be text or json, not %q", o.format))
	}
	if f.workers < 1 {
		return usageError(fmt.Errorf("--workers must be at least 1"))
	}
	inputs, err := f.expandInputs(append(slices.Clone(f.inputs), args...))
	if err != nil {
		return err
	}
	check := &pipeline.Job{Inputs: inputs, RejectsPath: f.rejects, ReportPath: f.report}
	if err := check.CheckOutputs(); err != nil {
		return err
	}
	style, err := pipeline.ParseInputStyle(f.inputStyle)
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
	var rejects *pipeline.Output
	if f.rejects != "" {
		if rejects, err = pipeline.CreateOutput(f.rejects, ios.Out); err != nil {
			return err
		}
		defer rejects.Abort() // does nothing after Commit
	}
	var listed []validate.Violation
	files := validate.Files{
		Inputs: inputs, Registry: registry(), Stdin: ios.In, Max: o.maxViolations, Workers: f.workers,
		Read: pipeline.ReadOptions{Format: f.inputFormat, Style: style, MaxRecordBytes: f.maxRecordBytes},
		Each: func(viol validate.Violation) {
			if o.format == "text" {
				fmt.Fprintln(ios.Out, viol)
			} else {
				listed = append(listed, viol)
			}
		},
	}
	if rejects != nil {
		files.Rejects = rejects
	}
	sum, readErr := v.Run(c.Context(), files)
	total := sum.Violations
	if readErr == nil {
		if err := commitValidateOutputs(rejects, f.report, sum, ios); err != nil {
			return err
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
	if !f.quiet {
		fmt.Fprintf(ios.ErrOut, "validate: %d records, %d violations\n", v.Records(), total)
	}
	if total > 0 {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// commitValidateOutputs writes the report and commits the rejects: they
// appear together, and only for a run that read all its input.
func commitValidateOutputs(rejects *pipeline.Output, report string, sum validate.Summary, ios *IOStreams) error {
	if report != "" {
		err := pipeline.WriteFileAtomic(report, ios.Out, func(w io.Writer) error {
			b, err := json.MarshalIndent(sum, "", "  ")
			if err != nil {
				return err
			}
			_, err = w.Write(append(b, '\n'))
			return err
		})
		if err != nil {
			return err
		}
	}
	if rejects != nil {
		return rejects.Commit()
	}
	return nil
}
