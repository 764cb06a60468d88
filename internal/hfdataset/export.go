package hfdataset

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/pipeline"
)

// ExportOptions configure Export.
type ExportOptions struct {
	Kind Kind
	Dir  string
	// SplitRatio, when above 0, splits the records into "train" and "test"
	// as FastChat's split_train_test does: np.random.seed(Seed);
	// perm = np.random.permutation(n); the first int(n*SplitRatio) records
	// of the permuted order are train, the rest test (both in permuted
	// order).
	SplitRatio float64
	Seed       uint32
	Options
}

// Exporter writes conversation records to a Hugging Face layout. It takes
// the records (Write, as a pipeline RecordWriter), keeping them in a
// temporary spool file: the split needs their count, and the columns
// written are only those some record uses. Finish writes the layout.
type Exporter struct {
	opts    ExportOptions
	spool   *os.File
	w       *bufio.Writer
	offsets []int64
	pos     int64
	use     columnar.ColumnUse
	buf     []byte
}

// NewExporter checks the options and opens the spool.
func NewExporter(opts ExportOptions) (*Exporter, error) {
	if opts.SplitRatio < 0 || opts.SplitRatio > 1 {
		return nil, fmt.Errorf("split ratio %v is not between 0 and 1", opts.SplitRatio)
	}
	if opts.Dir != "" { // "" for FinishFiles
		if err := CheckTarget(opts.Kind, opts.Dir, opts.Force); err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp("", "sharegpt-export-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	os.Remove(f.Name()) // lives while open
	e := &Exporter{opts: opts, spool: f, w: bufio.NewWriterSize(f, 1<<20)}
	e.use.IgnoreOrder = true
	return e, nil
}

// Write spools one record.
func (e *Exporter) Write(rec *pipeline.Record) error {
	e.use.Add(rec)
	e.buf = pipeline.AppendRecord(e.buf[:0], rec, pipeline.OutShareGPT)
	if _, err := e.w.Write(e.buf); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	e.offsets = append(e.offsets, e.pos)
	e.pos += int64(len(e.buf))
	return nil
}

// Records returns the number of records taken.
func (e *Exporter) Records() int { return len(e.offsets) }

// Close removes the spool.
func (e *Exporter) Close() error { return e.spool.Close() }

// Finish writes the layout: every record in input order, or the train and
// test splits in permuted order. It returns the splits written.
func (e *Exporter) Finish(ctx context.Context) ([]Split, error) {
	if err := e.w.Flush(); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	n := len(e.offsets)
	schema := columnar.RecordSchemaOf(e.use.Columns())
	var names []string
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	train := n
	if e.opts.SplitRatio > 0 {
		names = []string{"train", "test"}
		var err error
		if order, err = Permutation(n, e.opts.Seed); err != nil {
			return nil, err
		}
		train = SplitPoint(n, e.opts.SplitRatio)
	}
	opts := e.opts.Options
	if opts.Description == "" {
		opts.Description = "Conversations in the ShareGPT format (`id`, `conversations` of `from`/`value` turns), written by `sharegpt export`."
	}
	var l *Layout
	var err error
	if e.opts.Kind == Hub {
		l, err = CreateHub(e.opts.Dir, schema, names, opts)
	} else {
		l, err = CreateDisk(e.opts.Dir, schema, names, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := e.fill(ctx, l, order, train, names); err != nil {
		l.Abort()
		return nil, err
	}
	return l.Commit()
}

func (e *Exporter) fill(ctx context.Context, l *Layout, order []int, train int, names []string) error {
	trainName, testName := "", ""
	if names != nil {
		trainName, testName = names[0], names[1]
	} else if e.opts.Kind == Hub {
		trainName = "train"
	}
	type sink struct {
		w   *columnar.TableWriter
		app *columnar.RecordAppender
	}
	sinks := map[string]*sink{}
	get := func(name string) (*sink, error) {
		if s, ok := sinks[name]; ok {
			return s, nil
		}
		w := l.Split(name)
		if w == nil {
			return nil, fmt.Errorf("no split %q", name)
		}
		app, err := columnar.NewRecordAppender(w.Builder())
		if err != nil {
			return nil, err
		}
		app.IgnoreOrder = true
		s := &sink{w: w, app: app}
		sinks[name] = s
		return s, nil
	}
	var buf []byte
	for k, i := range order {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := e.record(i, &buf)
		if err != nil {
			return err
		}
		name := trainName
		if k >= train {
			name = testName
		}
		s, err := get(name)
		if err != nil {
			return err
		}
		if err := s.app.Append(rec); err != nil {
			return err
		}
		if err := s.w.EndRow(); err != nil {
			return err
		}
	}
	return nil
}

// record reads spooled record i, using buf.
func (e *Exporter) record(i int, buf *[]byte) (*pipeline.Record, error) {
	end := e.pos
	if i+1 < len(e.offsets) {
		end = e.offsets[i+1]
	}
	size := int(end - e.offsets[i])
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	b := (*buf)[:size]
	if _, err := e.spool.ReadAt(b, e.offsets[i]); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("spool: %w", err)
	}
	rec, err := pipeline.DecodeRecord(b, pipeline.StyleShareGPT)
	if err != nil {
		return nil, fmt.Errorf("spool: record %d: %w", i, err)
	}
	return rec, nil
}

// FinishFiles writes the records as FastChat's split_train_test writes
// X_train.json and X_test.json: np.random.seed(Seed), perm =
// np.random.permutation(n), the first int(n*SplitRatio) records of the
// permuted order to train and the rest to test. It returns how many went
// to each.
func (e *Exporter) FinishFiles(ctx context.Context, train, test pipeline.RecordWriter) (nTrain, nTest int, err error) {
	if err := e.w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	n := len(e.offsets)
	order, err := Permutation(n, e.opts.Seed)
	if err != nil {
		return 0, 0, err
	}
	split := SplitPoint(n, e.opts.SplitRatio)
	var buf []byte
	for k, i := range order {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		rec, err := e.record(i, &buf)
		if err != nil {
			return 0, 0, err
		}
		w := train
		if k >= split {
			w = test
		}
		if err := w.Write(rec); err != nil {
			return 0, 0, err
		}
	}
	return split, n - split, nil
}
