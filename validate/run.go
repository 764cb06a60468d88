package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Files says what Run reads and writes.
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
	// Workers check records at once (0 or 1: one); violations are still
	// reported in input order.
	Workers int
	// Rejects, when set, gets one JSONL line per record with violations,
	// in the form of every command's --rejects: file, index, line, id,
	// stage "validate", reason (the first violation's kind), detail (all
	// violations) and the record as read.
	Rejects io.Writer
}

// Summary is what a run found.
type Summary struct {
	Command    string           `json:"command"`
	Inputs     []string         `json:"inputs"`
	Records    int64            `json:"records"`
	Invalid    int64            `json:"invalid_records"`
	Violations int64            `json:"violations"`
	ByKind     map[string]int64 `json:"by_kind"`
	Seconds    float64          `json:"seconds"`
}

// Run checks every record of the inputs, in order. A file that cannot be
// opened or read stops the run with a *pipeline.InputError; what was found
// before it was reported.
func (v *Validator) Run(ctx context.Context, f Files) (Summary, error) {
	start := time.Now()
	inputs := f.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	sum := Summary{Command: "validate", Inputs: inputs, ByKind: map[string]int64{}}
	var err error
	for _, in := range inputs {
		if err = v.runFile(ctx, in, f, &sum); err != nil {
			break
		}
	}
	sum.Records, sum.Seconds = v.records, time.Since(start).Seconds()
	return sum, err
}

// checked is one record and what inspect found in it.
type checked struct {
	el   pipeline.Element
	f    finding
	done chan struct{}
}

// runFile checks one input: a reader passes its records in order to
// Workers goroutines and to the loop below, which waits for each in turn.
func (v *Validator) runFile(ctx context.Context, in string, f Files, sum *Summary) error {
	src, err := f.Registry.Open(in, f.Stdin, f.Read)
	if err != nil {
		return &pipeline.InputError{Err: err}
	}
	defer src.Close()
	workers := max(f.Workers, 1)
	g, gctx := errgroup.WithContext(ctx)
	todo := make(chan *checked, 2*workers)
	order := make(chan *checked, 4*workers)
	var readErr error // reported after the records read before it
	g.Go(func() error {
		defer close(todo)
		defer close(order)
		for {
			if err := gctx.Err(); err != nil {
				return err
			}
			el, err := src.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				readErr = &pipeline.InputError{Err: fmt.Errorf("%s: %w", src.Name(), err)}
				return nil
			}
			c := &checked{el: el, done: make(chan struct{})}
			select {
			case order <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case todo <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	for range workers {
		w := *v // its own message printer; the schema is shared
		w.printer = message.NewPrinter(language.English)
		g.Go(func() error {
			for c := range todo {
				c.f = w.inspect(c.el)
				close(c.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for c := range order {
			select {
			case <-c.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			var viols []Violation
			v.report(src.Name(), c.el, c.f, func(viol Violation) {
				viols = append(viols, viol)
				sum.Violations++
				sum.ByKind[viol.Kind]++
				if f.Each != nil && (f.Max <= 0 || sum.Violations <= int64(f.Max)) {
					f.Each(viol)
				}
			})
			if len(viols) > 0 {
				sum.Invalid++
				if f.Rejects != nil {
					if _, err := f.Rejects.Write(rejectLine(src.Name(), c.el, viols)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return readErr
}

// rejectLine is a --rejects line for a record with violations.
func rejectLine(file string, el pipeline.Element, viols []Violation) []byte {
	b := []byte(`{"file":`)
	b = pipeline.AppendString(b, file)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, el.Index, 10)
	if el.Line > 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, el.Line, 10)
	}
	if id := viols[0].ID; id != "" {
		b = append(b, `,"id":`...)
		b = pipeline.AppendString(b, id)
	}
	b = append(b, `,"stage":"validate","reason":`...)
	b = pipeline.AppendString(b, viols[0].Kind)
	details := make([]string, len(viols))
	for i, viol := range viols {
		details[i] = viol.Kind + " " + viol.Path + ": " + viol.Msg
	}
	b = append(b, `,"detail":`...)
	b = pipeline.AppendString(b, strings.ToValidUTF8(strings.Join(details, "; "), "\uFFFD"))
	switch {
	case el.Raw != nil && json.Valid(el.Raw):
		var compact bytes.Buffer
		json.Compact(&compact, el.Raw)
		b = append(b, `,"record":`...)
		b = append(b, compact.Bytes()...)
	case el.Raw != nil:
		b = append(b, `,"raw":`...)
		b = pipeline.AppendString(b, strings.ToValidUTF8(string(el.Raw), "\uFFFD"))
	case el.Rec != nil:
		b = append(b, `,"record":`...)
		b = pipeline.AppendRecord(b, el.Rec, pipeline.OutShareGPT)
	}
	return append(b, '}', '\n')
}
