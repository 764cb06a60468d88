// Package cmd wires the sharegpt command line to the stages: it parses
// flags into options and calls the stage packages, which know nothing of
// cobra.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Exit statuses (the README's table).
const (
	ExitOK          = 0
	ExitFailure     = 1   // a run failed, or validate found violations
	ExitInputError  = 2   // bad usage, an unreadable input or an unwritable output
	ExitEmpty       = 3   // --fail-empty: nothing kept from a non-empty input
	ExitInterrupted = 130 // SIGINT or SIGTERM: nothing was written
)

// exitError carries an exit status with an error already reported.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// NewRootCmd builds the sharegpt command tree.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "sharegpt",
		Short: "Turn raw ShareGPT conversation dumps into training-ready data",
		Long: `sharegpt turns raw ShareGPT conversation dumps into training-ready data for
Vicuna-style chat models. Its commands chain through pipes (JSONL on stdin and
stdout) and files (JSON, JSONL, optionally .gz or .zst).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetVersionTemplate("{{.Version}}")
	// FastChat's scripts name their files --in/--in-file and --out/--out-file:
	// hidden aliases of --input and --output.
	root.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "in", "in-file":
			name = "input"
		case "out", "out-file":
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	var prof profileFlags
	prof.register(root)
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return prof.start() }
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return prof.stop() }
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.AddCommand(
		newConvertCmd(ios),
		newCleanCmd(ios),
		newValidateCmd(ios),
		newStatsCmd(ios),
		newSplitCmd(ios),
		newDedupCmd(ios),
		newAugmentCmd(ios),
		newExportCmd(ios),
		newTokenizeCmd(ios),
		newSampleCmd(ios),
		newIdentityCmd(ios),
		newImportCmd(ios),
		newVersionCmd(ios),
	)
	registerCompletions(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitInputError, err: fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	return root
}

// Execute runs the command line and returns the process exit status,
// having printed any error as one line on stderr.
func Execute(ctx context.Context, ios *IOStreams, args []string) int {
	root := NewRootCmd(ios)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *exitError
	var ie *pipeline.InputError
	var oe *pipeline.OutputError
	var opt *pipeline.OptionError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ie), errors.As(err, &oe), errors.As(err, &opt) && opt.Usage():
		code = ExitInputError
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(ios.ErrOut, "sharegpt: interrupted; no output was written")
		return ExitInterrupted
	case strings.HasPrefix(err.Error(), "unknown command "):
		code = ExitInputError
		err = fmt.Errorf("%w\nrun 'sharegpt --help' for the commands", err)
	}
	if ee == nil || ee.err != nil {
		fmt.Fprintf(ios.ErrOut, "sharegpt: %s\n", flagNames(err))
	}
	return code
}

// flagNames returns err's message with the options an OptionError in its
// chain names written as flags ("--threshold", not "threshold").
func flagNames(err error) string {
	msg := err.Error()
	var opt *pipeline.OptionError
	if errors.As(err, &opt) {
		msg = strings.Replace(msg, opt.Error(), opt.Flags(), 1)
	}
	return msg
}
