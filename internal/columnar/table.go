package columnar

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Shard is one file a TableWriter wrote.
type Shard struct {
	Path  string
	Rows  int64
	Bytes int64 // file size
	// DataBytes is the size of the shard's Arrow buffers in memory (what
	// Hugging Face datasets reports as num_bytes).
	DataBytes int64
}

// TableWriter writes rows of one Arrow schema to a file, or to shards of
// it, in batches: memory holds one batch (and, for Parquet, nothing more).
// Rows are appended to the builders of Builder, one value per field, and
// ended with EndRow; or whole batches are given to WriteRecord. Commit
// moves the files into place; Abort, or any error, leaves none behind.
// A TableWriter is not safe for concurrent use.
type TableWriter struct {
	path   string
	schema *arrow.Schema
	opts   Options

	b       *array.RecordBuilder
	rows    int // rows in the builder
	part    *part
	parts   []*part
	total   int64
	dataAll int64 // Arrow bytes written
	fileAll int64 // file bytes of closed shards
	failed  bool
}

type part struct {
	out  *pipeline.Output
	enc  Encoder
	rows int64
	data int64 // Arrow bytes
}

// Create opens a table writer for path. With opts.ShardRows, ShardBytes or
// ShardNames the files are named by pipeline.ShardName(path, i, n); else
// path itself is written. Nothing appears under a final name before Commit.
func Create(path string, schema *arrow.Schema, opts Options) (*TableWriter, error) {
	if path == "" || path == "-" {
		return nil, errors.New("columnar: a table needs a file name")
	}
	if opts.Format == Parquet {
		if _, err := ParseCompression(opts.Compression); err != nil {
			return nil, err
		}
	}
	w := &TableWriter{path: path, schema: withMetadata(schema, opts.Metadata), opts: opts}
	w.opts.Metadata = nil // applied to w.schema
	w.b = array.NewRecordBuilder(opts.alloc(), w.schema)
	if !opts.sharded() {
		if err := w.openPart(); err != nil {
			w.b.Release()
			return nil, err
		}
	}
	return w, nil
}

// Schema returns the schema rows are written in (with the options'
// metadata).
func (w *TableWriter) Schema() *arrow.Schema { return w.schema }

// Builder returns the builder rows are appended to: append one value to
// every field builder, then call EndRow.
func (w *TableWriter) Builder() *array.RecordBuilder { return w.b }

// EndRow ends the row appended to the builder: it writes a batch when the
// batch is full and closes a shard when the shard is.
func (w *TableWriter) EndRow() error {
	if w.failed {
		return errors.New("columnar: write after a failed write")
	}
	w.rows++
	w.total++
	pending := recordBuilderBytes(w.b)
	full := w.rows >= w.opts.batchRows() || pending >= w.opts.batchBytes()
	if !full && w.opts.ShardRows > 0 && w.partRows()+int64(w.rows) >= w.opts.ShardRows {
		full = true
	}
	if !full && w.opts.ShardBytes > 0 &&
		w.partBytes()+scaled(pending, w.fileAll+w.partBytes(), w.dataAll) >= w.opts.ShardBytes {
		full = true
	}
	if full {
		return w.flush()
	}
	return nil
}

func (w *TableWriter) partRows() int64 {
	if w.part == nil {
		return 0
	}
	return w.part.rows
}

func (w *TableWriter) partBytes() int64 {
	if w.part == nil {
		return 0
	}
	return w.part.out.Bytes() + w.part.out.Pending()
}

// flush writes the builder's rows as one batch, then closes the shard if
// it is full.
func (w *TableWriter) flush() error {
	if w.rows == 0 {
		return nil
	}
	rec := w.b.NewRecord()
	defer rec.Release()
	w.rows = 0
	return w.write(rec)
}

// WriteRecord writes a whole batch (after any rows still in the builder).
// Its schema must equal Schema() up to metadata. Batches are not split
// across shards: a shard is closed after the batch that fills it.
func (w *TableWriter) WriteRecord(rec arrow.Record) error {
	if w.failed {
		return errors.New("columnar: write after a failed write")
	}
	if !rec.Schema().Equal(w.schema) {
		if !sameFields(rec.Schema(), w.schema) {
			return fmt.Errorf("columnar: record schema %v does not match the table's %v", rec.Schema(), w.schema)
		}
		rec = array.NewRecord(w.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.total += rec.NumRows()
	return w.write(rec)
}

func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		if !a.Field(i).Equal(b.Field(i)) {
			return false
		}
	}
	return true
}

func (w *TableWriter) write(rec arrow.Record) error {
	if w.part == nil {
		if err := w.openPart(); err != nil {
			w.failed = true
			return err
		}
	}
	if err := w.part.enc.Write(rec); err != nil {
		w.failed = true
		return fmt.Errorf("write %s: %w", w.part.out.Name, err)
	}
	n := RecordBytes(rec)
	w.part.rows += rec.NumRows()
	w.part.data += n
	w.dataAll += n
	if w.opts.ShardRows > 0 && w.part.rows >= w.opts.ShardRows ||
		w.opts.ShardBytes > 0 && w.partBytes() >= w.opts.ShardBytes {
		return w.closePart()
	}
	return nil
}

func (w *TableWriter) openPart() error {
	out, err := pipeline.CreateOutput(w.path, nil)
	if err != nil {
		return err
	}
	enc, err := NewEncoder(out, w.schema, w.opts)
	if err != nil {
		out.Abort()
		return err
	}
	w.part = &part{out: out, enc: enc}
	return nil
}

func (w *TableWriter) closePart() error {
	p := w.part
	w.part = nil
	w.parts = append(w.parts, p)
	if err := p.enc.Close(); err != nil {
		w.failed = true
		return fmt.Errorf("write %s: %w", p.out.Name, err)
	}
	if err := p.out.Finish(); err != nil {
		w.failed = true
		return err
	}
	w.fileAll += p.out.Bytes()
	return nil
}

// Rows returns the number of rows written (or ended) so far.
func (w *TableWriter) Rows() int64 { return w.total }

// DataBytes returns the size of the Arrow buffers written so far.
func (w *TableWriter) DataBytes() int64 { return w.dataAll }

// Commit writes what is left, closes the files and moves them to their
// final names; it returns the shards in order. Shards of an earlier run
// under the same prefix with another total are removed.
func (w *TableWriter) Commit() ([]Shard, error) {
	defer w.b.Release()
	if w.failed {
		w.abortParts()
		return nil, errors.New("columnar: commit after a failed write")
	}
	if err := w.flush(); err != nil {
		w.abortParts()
		return nil, err
	}
	if w.part == nil && len(w.parts) == 0 {
		if err := w.openPart(); err != nil {
			return nil, err
		}
	}
	if w.part != nil {
		if err := w.closePart(); err != nil {
			w.abortParts()
			return nil, err
		}
	}
	n := len(w.parts)
	var shards []Shard
	for i, p := range w.parts {
		name := w.path
		if w.opts.sharded() {
			name = pipeline.ShardName(w.path, i, n)
		}
		size := p.out.Bytes()
		if err := p.out.CommitAs(name); err != nil {
			for _, q := range w.parts[i+1:] {
				q.out.Abort()
			}
			for _, s := range shards {
				os.Remove(s.Path)
			}
			return nil, err
		}
		shards = append(shards, Shard{Path: name, Rows: p.rows, Bytes: size, DataBytes: p.data})
	}
	w.parts = nil
	if w.opts.sharded() {
		pipeline.RemoveStaleShards(w.path, n)
	}
	return shards, nil
}

// Abort discards everything written.
func (w *TableWriter) Abort() {
	w.abortParts()
	w.b.Release()
}

func (w *TableWriter) abortParts() {
	if w.part != nil {
		w.part.out.Abort()
		w.part = nil
	}
	for _, p := range w.parts {
		p.out.Abort()
	}
	w.parts = nil
}

// RecordBytes returns the size of a batch's Arrow buffers.
func RecordBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

// recordBuilderBytes estimates the bytes a record builder holds.
func recordBuilderBytes(b *array.RecordBuilder) int64 {
	var n int64
	for _, f := range b.Fields() {
		n += builderBytes(f)
	}
	return n
}

// builderBytes estimates the bytes a builder holds.
func builderBytes(b array.Builder) int64 {
	switch b := b.(type) {
	case *array.StringBuilder:
		return int64(b.DataLen()) + 4*int64(b.Len())
	case *array.LargeStringBuilder:
		return int64(b.DataLen()) + 8*int64(b.Len())
	case *array.BinaryBuilder:
		return int64(b.DataLen()) + 4*int64(b.Len())
	case *array.ListBuilder:
		return builderBytes(b.ValueBuilder()) + 4*int64(b.Len())
	case *array.LargeListBuilder:
		return builderBytes(b.ValueBuilder()) + 8*int64(b.Len())
	case *array.FixedSizeListBuilder:
		return builderBytes(b.ValueBuilder())
	case *array.StructBuilder:
		var n int64
		for i := 0; i < b.NumField(); i++ {
			n += builderBytes(b.FieldBuilder(i))
		}
		return n
	case *array.BooleanBuilder:
		return int64(b.Len()+7) / 8
	}
	if fw, ok := b.Type().(arrow.FixedWidthDataType); ok {
		return int64(b.Len()) * int64(fw.BitWidth()+7) / 8
	}
	return 0
}

func newBuilder(t arrow.DataType) array.Builder {
	return array.NewBuilder(memory.DefaultAllocator, t)
}

func newRecord(schema *arrow.Schema, cols []arrow.Array, n int64) arrow.Record {
	return array.NewRecord(schema, cols, n)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
