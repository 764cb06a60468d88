package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMaxRecordBytes is the size over which a record is rejected
// without being held in memory.
const DefaultMaxRecordBytes = 64 << 20

// ReadOptions configure sources.
type ReadOptions struct {
	Format         string // "" picks by extension, then by content
	Style          InputStyle
	MaxRecordBytes int64 // 0: DefaultMaxRecordBytes
}

// WriteOptions configure record writers.
type WriteOptions struct {
	Format string // "" picks by extension; stdout defaults to JSONL
	Style  OutputStyle
	// Compression is the codec inside a columnar file: for Parquet "zstd"
	// (the default), "snappy" or "none". Formats without one ignore it.
	Compression string
	// RowGroupSize is the number of records per Parquet row group (0: the
	// format's default).
	RowGroupSize int
	// ShardRows and ShardBytes, when set, split a file output into shards
	// of at most ShardRows records and of about ShardBytes bytes each
	// (a shard is closed after the record that takes it to the size),
	// named PREFIX-00000-of-00008.EXT; see ShardName.
	ShardRows  int64
	ShardBytes int64
}

// Sharded reports whether the options ask for shards.
func (o WriteOptions) Sharded() bool { return o.ShardRows > 0 || o.ShardBytes > 0 }

// FormatWriter writes records in one format to a stream; Close writes what
// closes the stream (a JSON array's "]", a Parquet footer) but does not
// close the stream.
type FormatWriter interface {
	Write(rec *Record) error
	Close() error
}

// PendingWriter is a FormatWriter that holds data it has not yet written
// to its stream (a Parquet row group being built); PendingBytes estimates
// its size, so that shards can be cut by size.
type PendingWriter interface {
	PendingBytes() int64
}

// Format reads and writes records in one file format.
type Format struct {
	Name string
	Exts []string // lower-case, with the dot
	// Sniff, when set, reports whether an input's first bytes (up to 16)
	// are in this format. Binary formats have magic numbers; they are
	// recognised whatever the file is called.
	Sniff func(head []byte) bool
	// NewSource reads a stream. name is used in messages.
	NewSource func(r io.Reader, name string, opts ReadOptions) Source
	// OpenFile, when set, reads a format that needs random access (Parquet,
	// the Arrow IPC file format) and is used instead of NewSource. Stdin and
	// compressed inputs are first copied to a temporary file. The source
	// does not close f.
	OpenFile func(f *os.File, name string, opts ReadOptions) (Source, error)
	// NewWriter writes a stream.
	NewWriter func(w io.Writer, opts WriteOptions) FormatWriter
}

// Registry holds the formats commands can read and write.
type Registry struct {
	formats []Format
}

// NewRegistry returns a registry of the given formats.
func NewRegistry(formats ...Format) *Registry {
	return &Registry{formats: formats}
}

// Formats returns the registered formats, in order.
func (reg *Registry) Formats() []Format { return append([]Format(nil), reg.formats...) }

// JSONFormats are the formats of this package: JSON and JSONL.
func JSONFormats() []Format {
	return []Format{
		{
			Name: "json",
			Exts: []string{".json"},
			NewSource: func(r io.Reader, name string, opts ReadOptions) Source {
				return &streamSource{name: name, next: newValueScanner(r, opts.maxBytes()).Next}
			},
			NewWriter: func(w io.Writer, opts WriteOptions) FormatWriter {
				return &jsonArrayWriter{w: w, style: opts.Style}
			},
		},
		{
			Name: "jsonl",
			Exts: []string{".jsonl", ".ndjson"},
			NewSource: func(r io.Reader, name string, opts ReadOptions) Source {
				return &streamSource{name: name, next: newLineScanner(r, opts.maxBytes()).Next}
			},
			NewWriter: func(w io.Writer, opts WriteOptions) FormatWriter {
				return &jsonlWriter{w: w, style: opts.Style}
			},
		},
	}
}

func (o ReadOptions) maxBytes() int64 {
	if o.MaxRecordBytes <= 0 {
		return DefaultMaxRecordBytes
	}
	return o.MaxRecordBytes
}

// Lookup returns the named format.
func (reg *Registry) Lookup(name string) (Format, error) {
	var names []string
	for _, f := range reg.formats {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	return Format{}, fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(names, ", "))
}

// ByExtension returns the format a file name's extension names, looking
// through a compression extension.
func (reg *Registry) ByExtension(path string) (Format, bool) {
	_, base := CompressionOf(path)
	ext := strings.ToLower(filepath.Ext(base))
	for _, f := range reg.formats {
		for _, e := range f.Exts {
			if e == ext {
				return f, true
			}
		}
	}
	return Format{}, false
}

// Open opens an input ("-" is stdin) as a source of elements.
func (reg *Registry) Open(path string, stdin io.Reader, opts ReadOptions) (Source, error) {
	name := path
	var r io.Reader
	var file *os.File
	if path == "-" {
		name, r = "stdin", &stickyEOF{r: stdin}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s is a directory", path)
		}
		file, r = f, f
	}
	closeFile := func() error {
		if file != nil {
			return file.Close()
		}
		return nil
	}
	dr, closeDecomp, compressed, err := decompress(r)
	if err != nil {
		closeFile()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	format, err := reg.pick(path, opts.Format, &dr)
	if err != nil {
		closeDecomp()
		closeFile()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if format.OpenFile != nil {
		return openRandomAccess(format, file, dr, compressed, name, opts, closeDecomp, closeFile)
	}
	if format.NewSource == nil {
		closeDecomp()
		closeFile()
		return nil, fmt.Errorf("%s: the %s format cannot be read", name, format.Name)
	}
	src := format.NewSource(dr, name, opts)
	return &closingSource{Source: src, close: func() error {
		err := closeDecomp()
		if cerr := closeFile(); err == nil {
			err = cerr
		}
		return err
	}}, nil
}

// stickyEOF ends a stream at its first end of file. A terminal gives one
// EOF per Ctrl-D and then reads on; without this, a reader that looks ahead
// (format sniffing, then the scanner) would need Ctrl-D twice.
type stickyEOF struct {
	r   io.Reader
	eof bool
}

func (s *stickyEOF) Read(p []byte) (int, error) {
	if s.eof {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// openRandomAccess hands a format that needs random access the input file
// itself when it can seek in it, else a temporary copy of the (decompressed)
// stream.
func openRandomAccess(format Format, file *os.File, r io.Reader, compressed bool, name string, opts ReadOptions, closeDecomp, closeFile func() error) (Source, error) {
	f := file
	var spooled *os.File
	if file == nil || compressed {
		f = nil
	} else if _, err := file.Seek(0, io.SeekStart); err != nil {
		f = nil // a pipe named as a path
	}
	if f == nil {
		var err error
		if spooled, err = spool(r); err != nil {
			closeDecomp()
			closeFile()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		f = spooled
	}
	closeAll := func() error {
		err := closeDecomp()
		if spooled != nil {
			spooled.Close()
		}
		if cerr := closeFile(); err == nil {
			err = cerr
		}
		return err
	}
	src, err := format.OpenFile(f, name, opts)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &closingSource{Source: src, close: func() error {
		err := src.Close()
		if cerr := closeAll(); err == nil {
			err = cerr
		}
		return err
	}}, nil
}

// pick chooses the input format: by flag, by extension, or by the first
// non-space byte ('[' is a JSON array, '{' is JSONL).
func (reg *Registry) pick(path, name string, r *io.Reader) (Format, error) {
	if name != "" {
		return reg.Lookup(name)
	}
	br, ok := (*r).(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(*r, 64<<10)
		*r = br
	}
	if head, _ := br.Peek(16); len(head) > 0 {
		for _, f := range reg.formats {
			if f.Sniff != nil && f.Sniff(head) {
				return f, nil
			}
		}
	}
	if path != "-" {
		if f, ok := reg.ByExtension(path); ok {
			if (f.Name == "json" || f.Name == "jsonl") && !startsJSON(br) {
				return Format{}, OptionErrorf("%s, not records: expected a JSON array, JSONL, Parquet or Arrow (or name the format with {input-format})", describe(br))
			}
			return f, nil
		}
	}
	for i := 1; ; i++ {
		head, err := br.Peek(i)
		if len(head) < i {
			if err == io.EOF {
				return reg.Lookup("jsonl") // empty input: no records
			}
			return Format{}, err
		}
		switch head[i-1] {
		case ' ', '\t', '\r', '\n':
			if i < 64<<10 {
				continue
			}
		case '[':
			return reg.Lookup("json")
		case '{':
			return reg.Lookup("jsonl")
		}
		return Format{}, OptionErrorf("%s, not records: expected a JSON array, JSONL, Parquet or Arrow (or name the format with {input-format})", describe(br))
	}
}

// startsJSON reports whether the input is empty or white space, or its
// first other byte opens a JSON array or object.
func startsJSON(br *bufio.Reader) bool {
	for i := 1; i <= 64<<10; i++ {
		head, _ := br.Peek(i)
		if len(head) < i {
			return true // empty or only white space: no records
		}
		switch head[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '[', '{':
			return true
		}
		if i <= 3 && bytes.HasPrefix([]byte("\ufeff"), head) {
			continue // a byte-order mark
		}
		return false
	}
	return false
}

type streamSource struct {
	name string
	next func() (Element, error)
}

func (s *streamSource) Name() string           { return s.name }
func (s *streamSource) Next() (Element, error) { return s.next() }
func (s *streamSource) Close() error           { return nil }

// closingSource closes the file and decompressor under a source.
type closingSource struct {
	Source
	close func() error
}

func (s *closingSource) Close() error { return s.close() }

// jsonlWriter writes one compact record per line.
type jsonlWriter struct {
	w     io.Writer
	style OutputStyle
	buf   []byte
}

func (s *jsonlWriter) Write(rec *Record) error {
	s.buf = AppendRecord(s.buf[:0], rec, s.style)
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	return err
}

func (s *jsonlWriter) Close() error { return nil }

// jsonArrayWriter writes a JSON array exactly as Python's
// json.dump(records, f, indent=2, ensure_ascii=False) does.
type jsonArrayWriter struct {
	w     io.Writer
	style OutputStyle
	n     int
	buf   []byte
}

func (s *jsonArrayWriter) Write(rec *Record) error {
	s.buf = s.buf[:0]
	if s.n == 0 {
		s.buf = append(s.buf, "[\n  "...)
	} else {
		s.buf = append(s.buf, ",\n  "...)
	}
	s.n++
	// Written in pieces: indentation can make a deeply nested record
	// hundreds of times its size.
	var err error
	s.buf, err = WriteRecordIndent(s.w, s.buf, rec, s.style, 1)
	return err
}

func (s *jsonArrayWriter) Close() error {
	end := "\n]"
	if s.n == 0 {
		end = "[]"
	}
	_, err := io.WriteString(s.w, end)
	return err
}

// FileWriter writes records to one output in one format, or to shards of
// it. Commit finishes it; Abort (on any failure) leaves nothing behind.
type FileWriter struct {
	path   string
	stdout io.Writer
	format Format
	opts   WriteOptions

	out   *Output      // the file, or the shard being written
	fw    FormatWriter // nil between shards
	parts []*Output    // finished shards, under temporary names
	n     int64        // records written
	partN int64        // records in the open shard
	done  int64        // bytes of finished shards
	names []string     // final names, after Commit
}

// OutputFormat is the format Create writes path in: opts.Format, else
// the extension's; stdout and special files without a known extension
// (/dev/null, a named pipe) are JSONL.
func (reg *Registry) OutputFormat(path string, opts WriteOptions) (Format, error) {
	var format Format
	var err error
	switch {
	case opts.Format != "":
		format, err = reg.Lookup(opts.Format)
	case path == "-":
		format, err = reg.Lookup("jsonl")
	default:
		var ok bool
		if format, ok = reg.ByExtension(path); !ok {
			if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() && !st.IsDir() {
				return reg.Lookup("jsonl")
			}
			err = OptionErrorf("%s: cannot tell the output format from the extension (use {output-format})", path)
		}
	}
	if err != nil {
		return Format{}, err
	}
	if format.NewWriter == nil {
		return Format{}, fmt.Errorf("%s: the %s format cannot be written", path, format.Name)
	}
	return format, nil
}

// Create opens a record writer for path ("-" is stdout, JSONL unless a
// format is given). With opts.ShardRows or opts.ShardBytes the output is
// split into shards named by ShardName; they appear under their final names
// only on Commit.
func (reg *Registry) Create(path string, stdout io.Writer, opts WriteOptions) (*FileWriter, error) {
	format, err := reg.OutputFormat(path, opts)
	if err != nil {
		return nil, err
	}
	if opts.Sharded() && path == "-" {
		return nil, errors.New("sharded output needs a file name, not stdout")
	}
	w := &FileWriter{path: path, stdout: stdout, format: format, opts: opts}
	if !opts.Sharded() {
		// A single output is created at once, so that an unwritable path
		// fails before any work.
		if err := w.openPart(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *FileWriter) openPart() error {
	out, err := CreateOutput(w.path, w.stdout)
	if err != nil {
		return err
	}
	w.out, w.fw, w.partN = out, w.format.NewWriter(out, w.opts), 0
	return nil
}

// closePart finishes the open shard and keeps it for Commit.
func (w *FileWriter) closePart() error {
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", w.out.Name, err)
	}
	if err := w.out.Finish(); err != nil {
		return err
	}
	w.done += w.out.Bytes()
	w.parts = append(w.parts, w.out)
	w.out, w.fw = nil, nil
	return nil
}

// Write writes one record.
func (w *FileWriter) Write(rec *Record) error {
	if w.out == nil {
		if err := w.openPart(); err != nil {
			return err
		}
	}
	w.n++
	w.partN++
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.out.Name, err)
	}
	if w.opts.Sharded() && w.partFull() {
		return w.closePart()
	}
	return nil
}

func (w *FileWriter) partFull() bool {
	if w.opts.ShardRows > 0 && w.partN >= w.opts.ShardRows {
		return true
	}
	if w.opts.ShardBytes > 0 {
		size := w.out.Bytes() + w.out.Pending()
		if p, ok := w.fw.(PendingWriter); ok {
			size += p.PendingBytes()
		}
		return size >= w.opts.ShardBytes
	}
	return false
}

// Records returns the number of records written.
func (w *FileWriter) Records() int64 { return w.n }

// Bytes returns the bytes written to the file (or shards) so far.
func (w *FileWriter) Bytes() int64 {
	if w.out == nil {
		return w.done
	}
	return w.done + w.out.Bytes()
}

// Paths returns the names of the files written, after Commit.
func (w *FileWriter) Paths() []string { return w.names }

// Commit finishes the format, flushes and moves the file, or every shard,
// into place. Shards of an earlier run under the same prefix but with
// another total are removed.
func (w *FileWriter) Commit() error {
	if !w.opts.Sharded() {
		if err := w.fw.Close(); err != nil {
			w.out.Abort()
			return fmt.Errorf("write %s: %w", w.out.Name, err)
		}
		if err := w.out.Commit(); err != nil {
			return err
		}
		w.names = []string{w.out.Name}
		return nil
	}
	if w.out == nil && len(w.parts) == 0 {
		// No records: one empty shard, so that readers find a (valid,
		// empty) file.
		if err := w.openPart(); err != nil {
			return err
		}
	}
	if w.out != nil {
		if err := w.closePart(); err != nil {
			w.Abort()
			return err
		}
	}
	n := len(w.parts)
	for i, p := range w.parts {
		name := ShardName(w.path, i, n)
		if err := p.CommitAs(name); err != nil {
			for _, q := range w.parts[i+1:] {
				q.Abort()
			}
			for _, done := range w.names {
				os.Remove(done)
			}
			w.names = nil
			return err
		}
		w.names = append(w.names, name)
	}
	RemoveStaleShards(w.path, n)
	return nil
}

// Abort discards the output: the file, or every shard.
func (w *FileWriter) Abort() {
	if w.out != nil {
		w.out.Abort()
	}
	for _, p := range w.parts {
		p.Abort()
	}
}

// ShardName returns the name of shard i of n for an output path, the
// Hugging Face way: "train.parquet" becomes "train-00000-of-00008.parquet",
// "out.jsonl.gz" becomes "out-00000-of-00008.jsonl.gz".
func ShardName(path string, i, n int) string {
	dir, base := filepath.Split(path)
	_, plain := CompressionOf(base)
	compExt := base[len(plain):]
	ext := filepath.Ext(plain)
	stem := plain[:len(plain)-len(ext)]
	return dir + fmt.Sprintf("%s-%05d-of-%05d%s%s", stem, i, n, ext, compExt)
}

// RemoveStaleShards removes shards of path with a total other than n: what
// an earlier run with other shard sizes left, which a glob over the prefix
// would otherwise mix in. It runs after the new shards are in place; a
// run's inputs are never among them (Guard.CheckShards refuses such a run
// before it starts).
func RemoveStaleShards(path string, n int) {
	dir, _ := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !isShardOf(path, name) || isShardOfTotal(path, name, n) {
			continue
		}
		os.Remove(filepath.Join(dir, name))
	}
}

// isShardOfTotal reports whether name, a shard of path, is one of n.
func isShardOfTotal(path, name string, n int) bool {
	_, want := filepath.Split(ShardName(path, 0, n))
	i := strings.LastIndex(want, "-of-")
	return len(name) == len(want) && name[i:] == want[i:]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
