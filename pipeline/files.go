package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression of a file, from its extension or magic bytes.
type Compression int

const (
	NoCompression Compression = iota
	Gzip
	Zstd
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// CompressionOf returns the compression a file name asks for and the name
// without the compression extension.
func CompressionOf(name string) (Compression, string) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".gz"):
		return Gzip, name[:len(name)-3]
	case strings.HasSuffix(lower, ".zst"):
		return Zstd, name[:len(name)-4]
	case strings.HasSuffix(lower, ".zstd"):
		return Zstd, name[:len(name)-5]
	}
	return NoCompression, name
}

// maxZstdWindow bounds the window a zstd stream may ask the decoder for:
// 128 MiB covers every level of the zstd command, --long included, while a
// hostile header cannot make it allocate gigabytes.
const maxZstdWindow = 128 << 20

// decompress wraps r in a decompressor chosen by its magic bytes, so a
// compressed stdin or a misnamed file is read all the same. compressed
// reports whether it did. Errors of the decompressor are CodecErrors.
func decompress(r io.Reader) (_ io.Reader, closeFn func() error, compressed bool, _ error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, nil, false, err
	}
	in := &byteCounter{r: br}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, nil, false, &CodecError{Codec: "gzip", Offset: in.n, Err: err}
		}
		return &codecReader{r: zr, codec: "gzip", in: in}, zr.Close, true, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderMaxMemory(maxZstdWindow))
		if err != nil {
			return nil, nil, false, &CodecError{Codec: "zstd", Offset: in.n, Err: err}
		}
		return &codecReader{r: zr, codec: "zstd", in: in}, func() error { zr.Close(); return nil }, true, nil
	}
	return br, func() error { return nil }, false, nil
}

// CodecError is a compressed input that cannot be decompressed: corrupt or
// cut short. Offset counts the compressed bytes the decoder had consumed.
type CodecError struct {
	Codec  string
	Offset int64
	Err    error
}

func (e *CodecError) Error() string {
	return fmt.Sprintf("%s: corrupt or truncated input after compressed byte %d: %v", e.Codec, e.Offset, e.Err)
}

func (e *CodecError) Unwrap() error { return e.Err }

// codecReader turns a decompressor's errors into CodecErrors.
type codecReader struct {
	r     io.Reader
	codec string
	in    *byteCounter
}

func (c *codecReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		var ce *CodecError
		if !errors.As(err, &ce) {
			err = &CodecError{Codec: c.codec, Offset: c.in.n, Err: err}
		}
	}
	return n, err
}

// byteCounter counts the bytes read through it; it is an io.ByteReader so
// that gzip reads from it directly, without a buffer of its own, and the
// count is the decoder's exact position.
type byteCounter struct {
	r *bufio.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *byteCounter) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// spool copies r to an unnamed temporary file for formats that need
// random access (Parquet, the Arrow IPC file format) when the input is
// stdin or compressed. The file is removed when closed.
func spool(r io.Reader) (*os.File, error) {
	f, err := os.CreateTemp("", "sharegpt-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool to a temporary file: %w", err)
	}
	// Unlinked at once: the data lives as long as the open file.
	os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool to a temporary file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Output is a destination file (or stdout): buffered, compressed as its
// name says, written atomically. Close-on-success is Commit; any failure
// path calls Abort.
type Output struct {
	Name     string
	file     *AtomicFile // nil for stdout
	dst      io.Writer   // what to Close before the file: the compressor
	closeDst func() error
	buf      *bufio.Writer
	counter  countWriter
	finished bool
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// CreateOutput opens path for writing ("-" is stdout). The compression is
// chosen by the extension (.gz, .zst).
func CreateOutput(path string, stdout io.Writer) (*Output, error) {
	o := &Output{Name: path}
	var w io.Writer
	if path == "-" {
		o.Name = "stdout"
		w = stdout
	} else {
		f, err := CreateAtomic(path)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		o.file, w = f, f
	}
	o.counter.w = w
	o.closeDst = func() error { return nil }
	o.dst = &o.counter
	comp, _ := CompressionOf(path)
	switch comp {
	case Gzip:
		zw, _ := gzip.NewWriterLevel(&o.counter, gzip.DefaultCompression)
		o.dst, o.closeDst = zw, zw.Close
	case Zstd:
		zw, err := zstd.NewWriter(&o.counter, zstd.WithEncoderConcurrency(1))
		if err != nil {
			o.Abort()
			return nil, err
		}
		o.dst, o.closeDst = zw, zw.Close
	}
	o.buf = bufio.NewWriterSize(o.dst, 256<<10)
	return o, nil
}

// Write writes p to the buffered, compressed stream.
func (o *Output) Write(p []byte) (int, error) { return o.buf.Write(p) }

// Bytes returns the bytes written to the destination so far.
func (o *Output) Bytes() int64 { return o.counter.n }

// Pending returns the bytes written to the output but not yet to its
// destination (still in its buffer).
func (o *Output) Pending() int64 { return int64(o.buf.Buffered()) }

// Commit flushes everything and moves the file into place.
func (o *Output) Commit() error {
	if err := o.Finish(); err != nil {
		return err
	}
	return o.CommitAs("")
}

// Finish flushes the buffer and the compressor; the file stays under its
// temporary name until CommitAs. On error the output is aborted.
func (o *Output) Finish() error {
	if o.finished {
		return nil
	}
	o.finished = true
	if err := o.buf.Flush(); err != nil {
		o.Abort()
		return fmt.Errorf("write %s: %w", o.Name, err)
	}
	if err := o.closeDst(); err != nil {
		o.Abort()
		return fmt.Errorf("write %s: %w", o.Name, err)
	}
	return nil
}

// CommitAs finishes the output and moves the file to target ("" is the
// name it was created for). It is a no-op for stdout.
func (o *Output) CommitAs(target string) error {
	if err := o.Finish(); err != nil {
		return err
	}
	if o.file == nil {
		return nil
	}
	name := o.Name
	if target == "" {
		target = o.file.target
	} else {
		name = target
	}
	if err := o.file.CommitAs(target); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Abort discards a file output; output already sent to stdout stays sent.
func (o *Output) Abort() {
	if o.file != nil {
		o.file.Abort()
	}
}

// WriteFileAtomic writes path ("-" is stdout) through write: a file
// appears, compressed by its extension, only when write succeeds.
func WriteFileAtomic(path string, stdout io.Writer, write func(io.Writer) error) error {
	o, err := CreateOutput(path, stdout)
	if err != nil {
		return err
	}
	if err := write(o); err != nil {
		o.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return o.Commit()
}
