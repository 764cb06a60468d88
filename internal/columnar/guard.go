package columnar

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/sharegpt/sharegpt/pipeline"
)

// A damaged Parquet or Arrow file makes the arrow library panic (a CRC
// failure, a slice out of range) or allocate what a length field claims.
// The readers here therefore:
//
//   - run every call into the library under recoverPanic, on the goroutine
//     that makes it, and turn a panic into a readError;
//   - keep the library off goroutines of its own: Parquet is read without
//     Parallel, and the one path that still starts goroutines (the columns
//     inside a struct, which pqarrow loads on an errgroup) is decoded first on
//     the caller's goroutine, row group by row group (see checkRowGroup), so
//     that whatever would panic there panics here;
//   - allocate through a cappedAllocator, so that a declared size past what
//     the file can hold is an error, not gigabytes;
//   - check the structure of every batch (checkRecord) before its rows are
//     read, since Arrow IPC data is used as it lies in the file.

// minAllocLimit is the smallest limit on one allocation by a reader.
const minAllocLimit = 256 << 20

// allocLimit is the largest buffer a reader may allocate at once: the
// file's size (no buffer of an uncompressed file is larger), and room for
// a batch of rows up to the record limit, whichever is more.
func allocLimit(opts pipeline.ReadOptions, fileSize int64) int64 {
	return max(minAllocLimit, 4*maxRecordBytes(opts), fileSize)
}

func maxRecordBytes(opts pipeline.ReadOptions) int64 {
	if opts.MaxRecordBytes <= 0 {
		return pipeline.DefaultMaxRecordBytes
	}
	return opts.MaxRecordBytes
}

// cappedAllocator refuses, by panicking with an *allocError, any single
// allocation over its limit (or negative); readers recover the panic.
type cappedAllocator struct {
	mem   memory.Allocator
	limit int64
}

func newCappedAllocator(limit int64) *cappedAllocator {
	return &cappedAllocator{mem: memory.DefaultAllocator, limit: limit}
}

func (a *cappedAllocator) check(size int) {
	if size < 0 || int64(size) > a.limit {
		panic(&allocError{size: int64(size), limit: a.limit})
	}
}

func (a *cappedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.mem.Allocate(size)
}

func (a *cappedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.mem.Reallocate(size, b)
}

func (a *cappedAllocator) Free(b []byte) { a.mem.Free(b) }

// allocError is an allocation a reader refused.
type allocError struct {
	size, limit int64
}

func (e *allocError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("a buffer of %d bytes is declared", e.size)
	}
	return fmt.Sprintf("a buffer of %d bytes is declared, over the reader's limit of %d (the larger of 256 MiB, 4 x --max-record-bytes and the file size): a damaged length, or a value far over --max-record-bytes", e.size, e.limit)
}

// readError is a failure to read a columnar input, with where it happened
// ("row group 2, column conversations.list.element.value", "batch 3").
type readError struct {
	format string // "parquet", "arrow file", "arrow stream"
	where  string
	err    error
}

func (e *readError) Error() string {
	if e.where == "" {
		return e.format + ": " + e.err.Error()
	}
	return e.format + ": " + e.where + ": " + e.err.Error()
}

func (e *readError) Unwrap() error { return e.err }

// errDamaged marks a panic of the arrow library, made an error: the file
// is damaged, or uses something the library cannot read.
var errDamaged = errors.New("damaged or unsupported data")

// panicError turns a recovered panic value into an error of one line.
func panicError(p any) error {
	switch v := p.(type) {
	case *allocError:
		return v
	case *readError:
		return v
	}
	msg := strings.Join(strings.Fields(fmt.Sprint(p)), " ")
	const maxMsg = 200
	if len(msg) > maxMsg {
		msg = msg[:maxMsg] + "..."
	}
	return fmt.Errorf("%w (%s)", errDamaged, msg)
}

// recoverPanic, deferred, turns a panic into *err. Use as
//
//	defer recoverPanic(&err)
func recoverPanic(err *error) {
	if p := recover(); p != nil {
		*err = panicError(p)
	}
}

// safely runs f, turning a panic into an error.
func safely(f func() error) (err error) {
	defer recoverPanic(&err)
	return f()
}
