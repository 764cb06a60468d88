package validate

import (
	"context"
	"fmt"
	"io"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Files says what Run reads and how many violations it keeps.
type Files struct {
	Inputs   []string // "-" is Stdin; none means stdin
	Registry *pipeline.Registry
	Read     pipeline.ReadOptions
	Stdin    io.Reader
	// Max is how many violations are passed to Each (all are counted); 0
	// means no limit.
	Max int
	// Each gets the violations, in input order, up to Max.
	Each func(Violation)
}

// Run checks every record of the inputs, in order, and returns how many
// violations were found. A file that cannot be opened or read stops the
// run with a *pipeline.InputError; the violations found before it were
// passed to Each.
func (v *Validator) Run(ctx context.Context, f Files) (total int64, err error) {
	inputs := f.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	report := func(viol Violation) {
		total++
		if f.Max <= 0 || total <= int64(f.Max) {
			f.Each(viol)
		}
	}
	for _, in := range inputs {
		src, err := f.Registry.Open(in, f.Stdin, f.Read)
		if err != nil {
			return total, &pipeline.InputError{Err: fmt.Errorf("open %s: %w", in, err)}
		}
		err = v.Check(ctx, src, report)
		src.Close()
		if err != nil {
			return total, &pipeline.InputError{Err: err}
		}
	}
	return total, nil
}
