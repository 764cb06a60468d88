package columnar

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// Format is a columnar file format.
type Format int

const (
	// Parquet files (.parquet).
	Parquet Format = iota
	// ArrowFile is the Arrow IPC file format (.arrow, also called Feather
	// v2): record batches with a footer for random access.
	ArrowFile
	// ArrowStream is the Arrow IPC stream format (.arrows, and the .arrow
	// files of Hugging Face datasets caches and save_to_disk folders).
	ArrowStream
)

// Names of the formats, as --output-format takes them.
const (
	NameParquet     = "parquet"
	NameArrowFile   = "arrow"
	NameArrowStream = "arrow-stream"
)

// String returns the format's name.
func (f Format) String() string {
	switch f {
	case Parquet:
		return NameParquet
	case ArrowFile:
		return NameArrowFile
	case ArrowStream:
		return NameArrowStream
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Ext returns the file extension the format is written with.
func (f Format) Ext() string {
	switch f {
	case Parquet:
		return ".parquet"
	case ArrowStream:
		return ".arrows"
	}
	return ".arrow"
}

// ParseFormat parses a format name: parquet, arrow (the IPC file format) or
// arrow-stream.
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(name) {
	case NameParquet:
		return Parquet, nil
	case NameArrowFile, "feather", "ipc":
		return ArrowFile, nil
	case NameArrowStream, "arrows":
		return ArrowStream, nil
	}
	return 0, fmt.Errorf("unknown columnar format %q (want parquet, arrow or arrow-stream)", name)
}

// FormatOf returns the format a file name's extension names.
func FormatOf(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return Parquet, true
	case ".arrow", ".feather", ".ipc":
		return ArrowFile, true
	case ".arrows":
		return ArrowStream, true
	}
	return 0, false
}

// Magic numbers.
var (
	parquetMagic = []byte("PAR1")
	arrowMagic   = []byte("ARROW1")
	// An IPC stream starts with a message: the continuation marker and a
	// metadata length (pre-0.15 streams start with the length alone, which
	// is not recognised here).
	streamMagic = []byte{0xff, 0xff, 0xff, 0xff}
)

// Sniff returns the format of a file from its first bytes.
func Sniff(head []byte) (Format, bool) {
	switch {
	case len(head) >= 4 && string(head[:4]) == string(parquetMagic):
		return Parquet, true
	case len(head) >= 6 && string(head[:6]) == string(arrowMagic):
		return ArrowFile, true
	case len(head) >= 8 && string(head[:4]) == string(streamMagic):
		return ArrowStream, true
	}
	return 0, false
}

// Compression codecs for Parquet.
const (
	DefaultCompression  = "zstd"
	DefaultRowGroupSize = 1000
	// DefaultBatchRows is the number of rows per Arrow record batch, as
	// Hugging Face datasets writes them.
	DefaultBatchRows = 1000
	// maxBatchBytes closes a batch (and a Parquet row group) early when its
	// rows are this large, to bound memory.
	maxBatchBytes = 64 << 20
)

// ParseCompression checks a Parquet codec name: zstd, snappy, gzip or none.
func ParseCompression(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "", "zstd":
		return compress.Codecs.Zstd, nil
	case "snappy":
		return compress.Codecs.Snappy, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown Parquet compression %q (want zstd, snappy, gzip or none)", name)
}

// Options configure columnar writers.
type Options struct {
	Format Format
	// Compression is the Parquet codec: zstd (default), snappy, gzip or
	// none. Arrow IPC files are written uncompressed, as Hugging Face
	// datasets and most readers expect.
	Compression string
	// RowGroupSize is the number of rows per Parquet row group
	// (default 1000; a row group is also closed at 64 MiB of data).
	RowGroupSize int
	// BatchRows is the number of rows per Arrow record batch (default 1000).
	BatchRows int
	// ShardRows and ShardBytes split the output into shards of at most
	// ShardRows rows and about ShardBytes bytes (a shard is closed after
	// the row that takes it to the size).
	ShardRows  int64
	ShardBytes int64
	// ShardNames names the output PREFIX-00000-of-00001.EXT even when it
	// is not split (the Hugging Face layouts always are).
	ShardNames bool
	// Metadata is added to the schema's metadata (e.g. "huggingface").
	Metadata map[string]string
	// Allocator for Arrow buffers (default memory.DefaultAllocator).
	Allocator memory.Allocator
}

func (o Options) sharded() bool { return o.ShardRows > 0 || o.ShardBytes > 0 || o.ShardNames }

func (o Options) alloc() memory.Allocator {
	if o.Allocator == nil {
		return memory.DefaultAllocator
	}
	return o.Allocator
}

// batchBytes is the Arrow size that closes a batch: 64 MiB, or an eighth
// of the shard size, so that a shard holds several batches and its size
// can be estimated from those already written.
func (o Options) batchBytes() int64 {
	n := int64(maxBatchBytes)
	if o.ShardBytes > 0 && o.ShardBytes/8 < n {
		n = max(o.ShardBytes/8, 1)
	}
	return n
}

// scaled estimates the file bytes of raw Arrow bytes from the ratio seen so
// far (written file bytes per Arrow byte); 1 before anything was written.
func scaled(raw, written, rawDone int64) int64 {
	if rawDone <= 0 || written <= 0 {
		return raw
	}
	return int64(float64(raw) * float64(written) / float64(rawDone))
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (o Options) batchRows() int {
	n := o.BatchRows
	if o.Format == Parquet {
		n = o.RowGroupSize
		if n <= 0 {
			n = DefaultRowGroupSize
		}
	}
	if n <= 0 {
		n = DefaultBatchRows
	}
	return n
}

// Encoder writes record batches of one schema to one stream.
type Encoder interface {
	// Write writes a batch; for Parquet each batch is one row group.
	Write(rec arrow.Record) error
	// Close writes what ends the stream (footer) but does not close it.
	Close() error
}

// NewEncoder returns an encoder writing schema's batches to w in the
// options' format. For Parquet w must not be closed by the encoder: it is
// not (the pipeline's outputs have no Close method).
func NewEncoder(w io.Writer, schema *arrow.Schema, opts Options) (Encoder, error) {
	schema = withMetadata(schema, opts.Metadata)
	switch opts.Format {
	case Parquet:
		codec, err := ParseCompression(opts.Compression)
		if err != nil {
			return nil, err
		}
		level := compress.DefaultCompressionLevel
		if codec == compress.Codecs.Zstd {
			level = 1 // pyarrow's default for zstd: fast, and close in size to higher levels on text
		}
		props := parquet.NewWriterProperties(
			// v15 writes the root REPEATED unless told; strict readers refuse that.
			parquet.WithRootRepetition(parquet.Repetitions.Required),
			parquet.WithCompression(codec),
			parquet.WithCompressionLevel(level),
			parquet.WithMaxRowGroupLength(int64(opts.batchRows())),
			parquet.WithAllocator(opts.alloc()),
			parquet.WithCreatedBy("sharegpt (parquet-go v15)"),
			// Conversation text, ids and JSON are nearly all distinct:
			// dictionaries only cost time there.
			parquet.WithDictionaryDefault(false),
		)
		fw, err := pqarrow.NewFileWriter(schema, w, props,
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(opts.alloc())))
		if err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
		return &parquetEncoder{fw: fw}, nil
	case ArrowFile:
		fw, err := ipc.NewFileWriter(&tellWriter{w: w}, ipc.WithSchema(schema), ipc.WithAllocator(opts.alloc()))
		if err != nil {
			return nil, fmt.Errorf("arrow: %w", err)
		}
		return &ipcEncoder{w: fw, schema: schema}, nil
	case ArrowStream:
		return &ipcEncoder{w: ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(opts.alloc())), schema: schema}, nil
	}
	return nil, fmt.Errorf("unknown columnar format %v", opts.Format)
}

// withMetadata returns schema with extra schema-level metadata.
func withMetadata(schema *arrow.Schema, extra map[string]string) *arrow.Schema {
	if len(extra) == 0 {
		return schema
	}
	md := schema.Metadata()
	keys := append([]string(nil), md.Keys()...)
	values := append([]string(nil), md.Values()...)
	for _, k := range sortedKeys(extra) {
		if i := md.FindKey(k); i >= 0 {
			values[i] = extra[k]
			continue
		}
		keys, values = append(keys, k), append(values, extra[k])
	}
	m := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(schema.Fields(), &m)
}

type parquetEncoder struct {
	fw *pqarrow.FileWriter
}

func (e *parquetEncoder) Write(rec arrow.Record) error {
	if rec.NumRows() == 0 {
		return nil
	}
	return e.fw.Write(rec)
}

func (e *parquetEncoder) Close() error { return e.fw.Close() }

type ipcWriter interface {
	Write(arrow.Record) error
	Close() error
}

type ipcEncoder struct {
	w       ipcWriter
	schema  *arrow.Schema
	written bool
}

func (e *ipcEncoder) Write(rec arrow.Record) error {
	e.written = true
	return e.w.Write(rec)
}

func (e *ipcEncoder) Close() error {
	if !e.written {
		// The file writer refuses to close before it wrote its header:
		// an empty table is a schema and no batches.
		if fw, ok := e.w.(*ipc.FileWriter); ok {
			empty := emptyRecord(e.schema)
			defer empty.Release()
			if err := fw.Write(empty); err != nil {
				return err
			}
		}
	}
	return e.w.Close()
}

func emptyRecord(schema *arrow.Schema) arrow.Record {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		b := newBuilder(f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := newRecord(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// tellWriter gives the Arrow file writer the io.WriteSeeker it asks for:
// it only ever asks for the current position.
type tellWriter struct {
	w   io.Writer
	pos int64
}

func (t *tellWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.pos += int64(n)
	return n, err
}

func (t *tellWriter) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekCurrent {
		return t.pos, nil
	}
	return 0, errors.New("arrow: output is not seekable")
}
