package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// InputError marks a failure to open or read an input: the run could not
// use its input at all (commands exit with status 2 for it).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Job is one command run over files: inputs through stages into an output,
// with optional rejects and report files. All file outputs are committed
// together on success and discarded on any failure.
type Job struct {
	Command     string
	Registry    *Registry
	Inputs      []string // "-" is stdin
	Output      string   // "-" is stdout; "" discards records
	RejectsPath string   // "" counts rejects without writing them
	ReportPath  string   // "" writes no JSON report
	Read        ReadOptions
	Write       WriteOptions
	Workers     int
	Stages      []Stage
	// AllowNoConversations passes records without turns (convert does).
	AllowNoConversations bool
	Stdin                io.Reader
	Stdout               io.Writer
	Progress             Progress
	// Finish, when set, runs after the records are processed and before
	// anything is committed, to add stage details to the report.
	Finish func(*Report) error
	// Shard, when set, processes only that part of the input.
	Shard Shard
	// Sink, when set, receives the kept records instead of Output: for a
	// command that writes them its own way (in Finish, say).
	Sink RecordWriter
	// OtherFiles and Folders name the run's other outputs (a cluster map, a
	// dataset folder), so that CheckOutputs keeps them off the inputs too.
	OtherFiles []string
	Folders    []string
	// Protect names other files the run reads (a dataset to dedup against,
	// a decisions file): no output may replace them either.
	Protect []string
}

// CheckOutputs checks, before any work, that the job's outputs may be
// written (see Guard): none is an input or replaces a shard that is one,
// no file replaces a folder or a folder a file, no two share a path. Run
// calls it; a command that opens an output before Run calls it first.
func (j *Job) CheckOutputs() error {
	inputs := j.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"} // no inputs: stdin
	}
	g := NewGuard(append(slices.Clone(inputs), j.Protect...))
	files := append([]string{j.Output, j.RejectsPath, j.ReportPath}, j.OtherFiles...)
	all := append(append([]string(nil), files...), j.Folders...)
	if err := CheckDistinct(all...); err != nil {
		return err
	}
	for _, f := range files {
		check := g.CheckFile
		if f == j.Output && j.Write.Sharded() {
			check = g.CheckShards
		}
		if err := check(f); err != nil {
			return err
		}
	}
	for _, d := range j.Folders {
		if err := g.CheckDir(d); err != nil {
			return err
		}
		for _, f := range files {
			if f != "" && f != "-" && inside(f, d) {
				return &OutputError{f, "is inside the folder output " + d + ", which the run replaces"}
			}
		}
	}
	for _, p := range all {
		if err := checkParent(p); err != nil {
			return err
		}
	}
	if j.Output != "" && j.Sink == nil && j.Registry != nil {
		if _, err := j.Registry.OutputFormat(j.Output, j.Write); err != nil {
			return err
		}
	}
	return nil
}

// checkParent checks that an output's folder exists, so that a run fails
// before any work, naming the folder, rather than at its end.
func checkParent(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err == nil && st.IsDir():
		return nil
	case err == nil:
		return &OutputError{path, dir + " is not a directory"}
	case errors.Is(err, os.ErrNotExist):
		return &OutputError{path, "output directory " + dir + " does not exist"}
	}
	return &OutputError{path, err.Error()}
}

// inside reports whether path lies in the folder dir.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	return err1 == nil && err2 == nil && p != d && within(p, d)
}

// Run runs the job and returns its report.
func (j *Job) Run(ctx context.Context) (*Report, error) {
	if err := j.CheckOutputs(); err != nil {
		return nil, err
	}
	sources, err := j.open()
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range sources {
			s.Close()
		}
	}()

	var commits []func() error
	var aborts []func()
	abort := func() {
		for _, a := range aborts {
			a()
		}
	}
	var out RecordWriter = discard{}
	var fw *FileWriter
	if j.Sink != nil {
		out = j.Sink
	} else if j.Output != "" {
		fw, err = j.Registry.Create(j.Output, j.Stdout, j.Write)
		if err != nil {
			return nil, err
		}
		out = fw
		commits, aborts = append(commits, fw.Commit), append(aborts, fw.Abort)
	}
	var rejects *RejectWriter
	if j.RejectsPath != "" {
		ro, err := CreateOutput(j.RejectsPath, j.Stdout)
		if err != nil {
			abort()
			return nil, err
		}
		rejects = NewRejectWriter(ro, j.Write.Style)
		commits, aborts = append(commits, ro.Commit), append(aborts, ro.Abort)
	}
	runner := &Runner{
		Command:              j.Command,
		Style:                j.Read.Style,
		Workers:              j.Workers,
		Stages:               j.Stages,
		Out:                  out,
		Rejects:              rejects,
		Progress:             j.Progress,
		AllowNoConversations: j.AllowNoConversations,
		Shard:                j.Shard,
	}
	rep, err := runner.Run(ctx, sources)
	if err == nil {
		for _, st := range j.Stages {
			if d, ok := st.(DetailedStage); ok {
				rep.Stage(st.Name()).Details = d.ReportDetails()
			}
		}
	}
	if err == nil && j.Finish != nil {
		err = j.Finish(rep)
	}
	if err != nil {
		abort()
		var se *SyntaxError
		if errors.As(err, &se) {
			err = &InputError{Err: err}
		}
		return rep, err
	}
	for i, c := range commits {
		if err := c(); err != nil {
			for _, a := range aborts[i+1:] {
				a()
			}
			return rep, err
		}
	}
	if fw != nil {
		rep.BytesOut = fw.Bytes()
	}
	if j.ReportPath != "" {
		if err := writeReport(j.ReportPath, j.Stdout, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (j *Job) open() ([]Source, error) {
	inputs := j.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	var sources []Source
	for _, in := range inputs {
		src, err := j.Registry.Open(in, j.Stdin, j.Read)
		if err != nil {
			for _, s := range sources {
				s.Close()
			}
			return nil, &InputError{Err: err}
		}
		sources = append(sources, src)
	}
	return sources, nil
}

// writeReport writes the JSON report to path, "-" being stdout.
func writeReport(path string, stdout io.Writer, rep *Report) error {
	if err := WriteFileAtomic(path, stdout, rep.WriteJSON); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

type discard struct{}

func (discard) Write(*Record) error { return nil }
