package pipeline

import (
	"bufio"
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
}

// FormatWriter writes records in one format to a stream; Close writes what
// closes the stream (a JSON array's "]") but does not close the stream.
type FormatWriter interface {
	Write(rec *Record) error
	Close() error
}

// Format reads and writes records in one file format.
type Format struct {
	Name string
	Exts []string // lower-case, with the dot
	// NewSource reads a stream. name is used in messages.
	NewSource func(r io.Reader, name string, opts ReadOptions) Source
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
		name, r = "stdin", stdin
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
	dr, closeDecomp, err := decompress(r)
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
	src := format.NewSource(dr, name, opts)
	return &closingSource{Source: src, close: func() error {
		err := closeDecomp()
		if cerr := closeFile(); err == nil {
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
	if path != "-" {
		if f, ok := reg.ByExtension(path); ok {
			return f, nil
		}
	}
	br := bufio.NewReaderSize(*r, 64<<10)
	*r = br
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
		return Format{}, fmt.Errorf("cannot tell the format: expected a JSON array or JSONL (use --input-format)")
	}
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
	s.buf = AppendRecordIndent(s.buf, rec, s.style, 1)
	_, err := s.w.Write(s.buf)
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

// FileWriter writes records to one output in one format. Commit finishes
// it; Abort (on any failure) leaves nothing behind.
type FileWriter struct {
	out *Output
	fw  FormatWriter
	n   int64
}

// Create opens a record writer for path ("-" is stdout, JSONL unless a
// format is given).
func (reg *Registry) Create(path string, stdout io.Writer, opts WriteOptions) (*FileWriter, error) {
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
			err = fmt.Errorf("%s: cannot tell the output format from the extension (use --output-format)", path)
		}
	}
	if err != nil {
		return nil, err
	}
	out, err := CreateOutput(path, stdout)
	if err != nil {
		return nil, err
	}
	return &FileWriter{out: out, fw: format.NewWriter(out, opts)}, nil
}

// Write writes one record.
func (w *FileWriter) Write(rec *Record) error {
	w.n++
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", w.out.Name, err)
	}
	return nil
}

// Records returns the number of records written.
func (w *FileWriter) Records() int64 { return w.n }

// Bytes returns the bytes written to the file so far.
func (w *FileWriter) Bytes() int64 { return w.out.Bytes() }

// Commit finishes the format, flushes and moves the file into place.
func (w *FileWriter) Commit() error {
	if err := w.fw.Close(); err != nil {
		w.out.Abort()
		return fmt.Errorf("write %s: %w", w.out.Name, err)
	}
	return w.out.Commit()
}

// Abort discards the output.
func (w *FileWriter) Abort() { w.out.Abort() }
