package sample

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/internal/nprand"
	"github.com/sharegpt/sharegpt/pipeline"
)

// FastChat's defaults (sample.py).
const (
	DefaultBegin    = 0
	DefaultEnd      = 100
	DefaultMaxChars = 1024
	DefaultSeed     = 42
)

// StageName names the stage in reports and rejects.
const StageName = "sample"

// Reasons a record is not in the sample.
const (
	// ReasonNotSampled: the record's position (after the shuffle) is
	// outside [Begin, End).
	ReasonNotSampled pipeline.Reason = "not-sampled"
	// ReasonTooLong: the record is in the window but its turn values hold
	// more than MaxChars characters together.
	ReasonTooLong pipeline.Reason = "too-long"
)

// Options configure a sample. The zero value is not FastChat's default;
// see DefaultOptions.
type Options struct {
	// Begin and End bound the positions taken from the (shuffled) list:
	// [Begin, min(End, n)).
	Begin, End int64
	// MaxChars caps the characters (code points) of a record's turn
	// values together; 0 means no cap.
	MaxChars int64
	// KeepOrder takes positions of the input order instead of shuffling.
	KeepOrder bool
	// Seed seeds numpy's legacy generator (FastChat uses 42).
	Seed uint32
	// TempDir holds the temporary files ("" is the system's).
	TempDir string
}

// DefaultOptions returns FastChat's sample.py defaults.
func DefaultOptions() Options {
	return Options{Begin: DefaultBegin, End: DefaultEnd, MaxChars: DefaultMaxChars, Seed: DefaultSeed}
}

// Details is what the sample stage adds to the report.
type Details struct {
	Shuffled bool   `json:"shuffled"`
	Seed     uint32 `json:"seed,omitempty"`
	// Records is the number of input records the shuffle ran over (0 with
	// KeepOrder, which does not count them first).
	Records int64 `json:"records,omitempty"`
	Begin   int64 `json:"begin"`
	End     int64 `json:"end"`
	// Window is the number of positions in [Begin, min(End, n)).
	Window int64 `json:"window"`
	// Sampled is the number of records written.
	Sampled int64 `json:"sampled"`
}

// Sampler samples the records of a pipeline job. Use New, Prepare the job,
// run it, then Close.
type Sampler struct {
	opts Options
	ctx  context.Context

	// picks are the sampled input positions (Out.Seq) with their
	// positions in the shuffled list, sorted by input position; nil with
	// KeepOrder.
	picks  []pick
	n      int64
	window int64

	stdin  *os.File // stdin copied for two passes
	spool  *spool
	out    *pipeline.FileWriter
	commit bool

	mu      sync.Mutex
	sampled int64
}

type pick struct {
	seq uint32 // position in the input
	pos uint32 // position in the shuffled list, minus Begin
}

// New checks the options.
func New(opts Options) (*Sampler, error) {
	if opts.Begin < 0 {
		return nil, pipeline.OptionErrorf("{begin} must not be negative, not %d", opts.Begin)
	}
	if opts.End < opts.Begin {
		return nil, pipeline.OptionErrorf("{end} (%d) must not be below {begin} (%d)", opts.End, opts.Begin)
	}
	if opts.MaxChars < 0 {
		return nil, pipeline.OptionErrorf("{max-chars} must not be negative, not %d (0: no cap)", opts.MaxChars)
	}
	return &Sampler{opts: opts}, nil
}

// Prepare sets the job up to write the sample. When shuffling it reads the
// inputs once to count their records (copying stdin to a temporary file
// first), creates the output itself and sets Finish to write it in shuffled
// order; the job's Output is then left empty. Call Close after the run.
func (s *Sampler) Prepare(ctx context.Context, job *pipeline.Job) error {
	if err := job.CheckOutputs(); err != nil {
		return err
	}
	s.ctx = ctx
	job.Stages = append(job.Stages, &stage{s: s})
	finish := job.Finish
	job.Finish = func(rep *pipeline.Report) error {
		if s.spool != nil {
			if err := s.writeSpool(rep); err != nil {
				return err
			}
		}
		if s.opts.KeepOrder {
			s.window = max(0, min(s.opts.End, rep.RecordsIn)-s.opts.Begin)
		}
		rep.Stage(StageName).Details = s.Details()
		if finish != nil {
			return finish(rep)
		}
		return nil
	}
	if s.opts.KeepOrder {
		return nil
	}

	inputs := job.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	if slices.Contains(inputs, "-") {
		f, err := copyToTemp(job.Stdin, s.opts.TempDir)
		if err != nil {
			return err
		}
		s.stdin, job.Stdin = f, f
	}
	n, err := count(ctx, job, inputs)
	if err != nil {
		return err
	}
	if s.stdin != nil {
		if _, err := s.stdin.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("rewind the copy of stdin: %w", err)
		}
	}
	if err := s.plan(n); err != nil {
		return err
	}
	if s.spool, err = newSpool(s.opts.TempDir, s.window); err != nil {
		return err
	}
	if job.Output != "" {
		if s.out, err = job.Registry.Create(job.Output, job.Stdout, job.Write); err != nil {
			return err
		}
		job.Output = ""
	}
	return nil
}

// plan computes FastChat's shuffle of n records and keeps the positions in
// the window.
func (s *Sampler) plan(n int64) error {
	perm, err := nprand.New(s.opts.Seed).Permutation(n)
	if err != nil {
		return fmt.Errorf("shuffle: %w", err)
	}
	end := min(s.opts.End, n)
	begin := min(s.opts.Begin, end)
	s.n, s.window = n, end-begin
	s.picks = make([]pick, 0, s.window)
	for p := begin; p < end; p++ {
		s.picks = append(s.picks, pick{seq: perm[p], pos: uint32(p - begin)})
	}
	slices.SortFunc(s.picks, func(a, b pick) int { return int(a.seq) - int(b.seq) })
	return nil
}

// position returns the record's place in the sample (0 for position
// Begin), or false when it is not sampled.
func (s *Sampler) position(seq int64) (int64, bool) {
	if s.opts.KeepOrder {
		if seq < s.opts.Begin || seq >= s.opts.End {
			return 0, false
		}
		return seq - s.opts.Begin, true
	}
	if seq > nprand.MaxPermutation {
		return 0, false
	}
	i, ok := slices.BinarySearchFunc(s.picks, uint32(seq), func(p pick, seq uint32) int { return int(p.seq) - int(seq) })
	if !ok {
		return 0, false
	}
	return int64(s.picks[i].pos), true
}

// Details returns what the sample did so far.
func (s *Sampler) Details() Details {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := Details{Shuffled: !s.opts.KeepOrder, Records: s.n, Begin: s.opts.Begin, End: s.opts.End,
		Window: s.window, Sampled: s.sampled}
	if d.Shuffled {
		d.Seed = s.opts.Seed
	}
	return d
}

// writeSpool writes the spooled records to the output in shuffled order
// and commits it.
func (s *Sampler) writeSpool(rep *pipeline.Report) error {
	if s.out == nil {
		return nil
	}
	err := s.spool.each(s.ctx, func(rec *pipeline.Record) error { return s.out.Write(rec) })
	if err == nil {
		err = s.out.Commit()
	}
	if err != nil {
		return err
	}
	s.commit = true
	rep.BytesOut = s.out.Bytes()
	return nil
}

// Close removes the temporary files and, unless the run finished, the
// output.
func (s *Sampler) Close() error {
	if s.out != nil && !s.commit {
		s.out.Abort()
	}
	var errs []error
	if s.spool != nil {
		errs = append(errs, s.spool.f.Close())
	}
	if s.stdin != nil {
		errs = append(errs, s.stdin.Close())
	}
	return errors.Join(errs...)
}

// stage rejects records outside the window or over the length cap, and
// spools the others when the output is shuffled. It is safe for parallel
// use.
type stage struct{ s *Sampler }

func (st *stage) Name() string { return StageName }

func (st *stage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	s := st.s
	pos, ok := s.position(out.Seq())
	if !ok {
		out.Reject(rec, ReasonNotSampled, "")
		return nil
	}
	if s.opts.MaxChars > 0 {
		if n := Chars(rec); n > s.opts.MaxChars {
			out.Reject(rec, ReasonTooLong, fmt.Sprintf("%d characters, over %d", n, s.opts.MaxChars))
			return nil
		}
	}
	if s.spool != nil {
		if err := s.spool.put(pos, rec); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.sampled++
	s.mu.Unlock()
	out.Keep(rec)
	return nil
}

// Chars returns the length FastChat's sample.py caps: the number of
// Unicode code points in all turn values together.
func Chars(rec *pipeline.Record) int64 {
	var n int64
	for _, t := range rec.Conversations {
		n += int64(utf8.RuneCountInString(t.Value))
	}
	return n
}

// count reads every input once and returns the number of records, as the
// runner numbers them (elements that will be rejected count too).
func count(ctx context.Context, job *pipeline.Job, inputs []string) (int64, error) {
	var n int64
	for _, in := range inputs {
		src, err := job.Registry.Open(in, job.Stdin, job.Read)
		if err != nil {
			return 0, &pipeline.InputError{Err: fmt.Errorf("open %s: %w", in, unwrapPathError(err))}
		}
		for {
			if n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					src.Close()
					return 0, err
				}
			}
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				src.Close()
				return 0, &pipeline.InputError{Err: fmt.Errorf("read %s: %w", src.Name(), err)}
			}
			n++
		}
		if err := src.Close(); err != nil {
			return 0, fmt.Errorf("read %s: %w", src.Name(), err)
		}
	}
	return n, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// copyToTemp copies r to an unlinked temporary file, positioned at 0.
func copyToTemp(r io.Reader, dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "sharegpt-sample-stdin-*")
	if err != nil {
		return nil, fmt.Errorf("copy stdin to a temporary file: %w", err)
	}
	os.Remove(f.Name())
	if r != nil {
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return nil, fmt.Errorf("copy stdin to a temporary file: %w", err)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy stdin to a temporary file: %w", err)
	}
	return f, nil
}

// spool holds sampled records, encoded as JSON, in an unlinked temporary
// file, with their place in the sample.
type spool struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	off int64
	at  []span // by position in the sample
}

type span struct {
	off int64
	n   int64 // 0: no record at this position
}

func newSpool(dir string, positions int64) (*spool, error) {
	f, err := os.CreateTemp(dir, "sharegpt-sample-*")
	if err != nil {
		return nil, fmt.Errorf("sample spool: %w", err)
	}
	os.Remove(f.Name())
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20), at: make([]span, positions)}, nil
}

func (sp *spool) put(pos int64, rec *pipeline.Record) error {
	data := pipeline.AppendRecord(nil, rec, pipeline.OutShareGPT)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if _, err := sp.w.Write(data); err != nil {
		return fmt.Errorf("sample spool: %w", err)
	}
	sp.at[pos] = span{off: sp.off, n: int64(len(data))}
	sp.off += int64(len(data))
	return nil
}

// each decodes the spooled records in sample order.
func (sp *spool) each(ctx context.Context, fn func(*pipeline.Record) error) error {
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("sample spool: %w", err)
	}
	for i, s := range sp.at {
		if s.n == 0 {
			continue
		}
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// A fresh buffer each time: the record keeps slices of it, and a
		// columnar writer holds records until its row group is full.
		buf := make([]byte, s.n)
		if _, err := sp.f.ReadAt(buf, s.off); err != nil {
			return fmt.Errorf("sample spool: %w", err)
		}
		rec, err := pipeline.DecodeRecord(buf, pipeline.StyleShareGPT)
		if err != nil {
			return fmt.Errorf("sample spool: record %d: %w (a bug)", i, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}
