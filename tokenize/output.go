package tokenize

import (
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/internal/hfdataset"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Schema is the Arrow schema of tokenized rows: what Hugging Face datasets
// makes of a tokenizer's output (input_ids int32, attention_mask int8),
// with labels as int32 (trainers widen them to int64 tensors) and the row
// length. id is null for a record without one.
func Schema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "input_ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "labels", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "attention_mask", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true},
		{Name: "n_tokens", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
}

// TableOptions say where tokenized rows go when they go to a table rather
// than to the JSON output of the run.
type TableOptions struct {
	// Path is a .parquet, .arrow (IPC file) or .arrows (IPC stream) file,
	// or any name with Format set; shards are named
	// PREFIX-00000-of-0000N.EXT.
	Path   string
	Format string // "" by extension: parquet, arrow or arrow-stream
	// HFDisk is a folder in datasets' save_to_disk layout; HFHub a folder
	// in the Hub layout (Parquet shards under data/ and a README.md).
	HFDisk, HFHub string
	// Force lets HFDisk or HFHub replace a folder sharegpt did not write
	// (hfdataset.CheckTarget).
	Force bool
	// Compression, RowGroupSize, ShardRows and ShardBytes configure the
	// files as for every other command (pipeline.WriteOptions); a
	// RowGroupSize of 0 is DefaultRowGroupSize.
	Write pipeline.WriteOptions
}

// DefaultRowGroupSize is the number of tokenized rows per Parquet row
// group: about 150k tokens per column chunk with ShareGPT data. Larger row
// groups of long int lists are slow to write with arrow/go v15, whose
// repetition-level encoder grows its buffer by reallocation (measured on
// the ShareGPT sample, one core: 1.5M tokens/s with 100 rows per group,
// 0.26M with 1000).
const DefaultRowGroupSize = 100

// IsTable reports whether the output path names a table format, not JSON.
func IsTable(path, format string) bool {
	if format != "" {
		_, err := columnar.ParseFormat(format)
		return err == nil
	}
	if path == "" || path == "-" {
		return false
	}
	_, ok := columnar.FormatOf(path)
	return ok
}

// TableSink writes tokenized rows (the records Stage keeps) to an Arrow
// or Parquet table or a Hugging Face layout, in the order it gets them
// (a pipeline.Job's Sink gets them in input order). Nothing appears under
// a final name before Commit. It is not safe for concurrent use.
type TableSink struct {
	w      *columnar.TableWriter
	layout *hfdataset.Layout
	desc   string

	ids, labels, mask *array.ListBuilder
	idsV, labelsV     *array.Int32Builder
	maskV             *array.Int8Builder
	idB               *array.StringBuilder
	nB                *array.Int32Builder
	scratch           []int32
	ones              []int8

	shards []columnar.Shard
	splits []hfdataset.Split
	done   bool
}

// OpenTable opens the table of o. Exactly one of Path, HFDisk and HFHub
// must be set.
func OpenTable(o TableOptions) (*TableSink, error) {
	set := 0
	for _, s := range []string{o.Path, o.HFDisk, o.HFHub} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("tokenize: give one table output: a file, a save_to_disk folder or a Hub folder")
	}
	if o.Write.RowGroupSize == 0 {
		o.Write.RowGroupSize = DefaultRowGroupSize
	}
	s := &TableSink{}
	switch {
	case o.Path != "":
		f, ok := columnar.FormatOf(o.Path)
		if o.Format != "" {
			var err error
			if f, err = columnar.ParseFormat(o.Format); err != nil {
				return nil, err
			}
		} else if !ok {
			return nil, pipeline.OptionErrorf("%s: not a table format (want .parquet, .arrow or .arrows, or {output-format})", o.Path)
		}
		w, err := columnar.Create(o.Path, Schema(), columnar.Options{
			Format:       f,
			Compression:  o.Write.Compression,
			RowGroupSize: o.Write.RowGroupSize,
			ShardRows:    o.Write.ShardRows,
			ShardBytes:   o.Write.ShardBytes,
		})
		if err != nil {
			return nil, err
		}
		s.w, s.desc = w, o.Path
	default:
		create, dir := hfdataset.CreateDisk, o.HFDisk
		if o.HFHub != "" {
			create, dir = hfdataset.CreateHub, o.HFHub
		}
		l, err := create(dir, Schema(), nil, hfdataset.Options{
			ShardBytes:   o.Write.ShardBytes,
			ShardRows:    o.Write.ShardRows,
			Compression:  o.Write.Compression,
			RowGroupSize: o.Write.RowGroupSize,
			Force:        o.Force,
			Description:  "Tokenized conversations written by `sharegpt tokenize`: input_ids, labels (-100 outside the assistant replies), attention_mask, n_tokens.",
		})
		if err != nil {
			return nil, err
		}
		s.layout, s.w, s.desc = l, l.Split(""), dir
	}
	b := s.w.Builder()
	s.idB = b.Field(0).(*array.StringBuilder)
	s.ids = b.Field(1).(*array.ListBuilder)
	s.labels = b.Field(2).(*array.ListBuilder)
	s.mask = b.Field(3).(*array.ListBuilder)
	s.nB = b.Field(4).(*array.Int32Builder)
	s.idsV = s.ids.ValueBuilder().(*array.Int32Builder)
	s.labelsV = s.labels.ValueBuilder().(*array.Int32Builder)
	s.maskV = s.mask.ValueBuilder().(*array.Int8Builder)
	return s, nil
}

// Write appends one row made by Stage (it implements
// pipeline.RecordWriter, so that a pipeline.Job can use it as its Sink).
func (s *TableSink) Write(rec *pipeline.Record) error {
	ids, err := s.ints(rec, "input_ids", s.scratch[:0])
	if err != nil {
		return err
	}
	n := len(ids)
	s.ids.Append(true)
	s.idsV.AppendValues(ids, nil)
	labels, err := s.ints(rec, "labels", ids[:0])
	if err != nil {
		return err
	}
	if len(labels) != n {
		return fmt.Errorf("tokenize: row %q has %d labels for %d input_ids", rec.ID, len(labels), n)
	}
	s.labels.Append(true)
	s.labelsV.AppendValues(labels, nil)
	s.scratch = labels[:0]
	for len(s.ones) < n {
		s.ones = append(s.ones, 1)
	}
	s.mask.Append(true)
	s.maskV.AppendValues(s.ones[:n], nil)
	if rec.HasID() {
		s.idB.Append(rec.ID)
	} else {
		s.idB.AppendNull()
	}
	s.nB.Append(int32(n))
	if err := s.w.EndRow(); err != nil {
		return fmt.Errorf("write %s: %w", s.desc, err)
	}
	return nil
}

func (s *TableSink) ints(rec *pipeline.Record, key string, dst []int32) ([]int32, error) {
	raw, ok := rec.Field(key)
	if !ok {
		return nil, fmt.Errorf("tokenize: row %q has no %s (not a tokenized row)", rec.ID, key)
	}
	v, err := parseInts(raw, dst)
	if err != nil {
		return nil, fmt.Errorf("tokenize: row %q: %s: %w", rec.ID, key, err)
	}
	return v, nil
}

// parseInts parses a JSON array of integers as written by appendInts.
func parseInts(raw []byte, dst []int32) ([]int32, error) {
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return nil, errors.New("not a JSON array of integers")
	}
	body := raw[1 : len(raw)-1]
	if len(body) == 0 {
		return dst, nil
	}
	var v int64
	neg, digits := false, 0
	for i := 0; i <= len(body); i++ {
		if i == len(body) || body[i] == ',' {
			if digits == 0 || v > 1<<31 || (!neg && v > 1<<31-1) {
				return nil, fmt.Errorf("bad integer at byte %d", i+1)
			}
			if neg {
				v = -v
			}
			dst = append(dst, int32(v))
			v, neg, digits = 0, false, 0
			continue
		}
		c := body[i]
		switch {
		case c == '-' && digits == 0 && !neg:
			neg = true
		case c >= '0' && c <= '9':
			v = v*10 + int64(c-'0')
			digits++
			if digits > 11 {
				return nil, fmt.Errorf("bad integer at byte %d", i+1)
			}
		default:
			return nil, fmt.Errorf("unexpected %q at byte %d", c, i+1)
		}
	}
	return dst, nil
}

// Commit finishes the files and puts them in place.
func (s *TableSink) Commit() error {
	if s.done {
		return errors.New("tokenize: table already committed or aborted")
	}
	s.done = true
	var err error
	if s.layout != nil {
		s.splits, err = s.layout.Commit()
	} else {
		s.shards, err = s.w.Commit()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.desc, err)
	}
	return nil
}

// Abort discards everything written; after Commit it does nothing.
func (s *TableSink) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.layout != nil {
		s.layout.Abort()
	} else {
		s.w.Abort()
	}
}

// Shards returns the files written, after Commit.
func (s *TableSink) Shards() []columnar.Shard {
	if s.layout != nil {
		var out []columnar.Shard
		for _, sp := range s.splits {
			out = append(out, sp.Shards...)
		}
		return out
	}
	return s.shards
}
