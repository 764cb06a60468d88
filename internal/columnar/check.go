package columnar

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// checkRecord checks that the buffers of every column of a batch hold what
// the column's length, offsets and children say, so that reading any value
// of any row stays inside them and no row claims more values than the
// batch holds. Arrow IPC data is used as it lies in the file, and a damaged
// offset would otherwise read out of range or make a row of 2^31 turns.
func checkRecord(rec arrow.Record) error {
	// Columns that need no buffers (null type, empty structs) would let a
	// few bytes claim 2^62 rows: rows need bytes behind them, beyond a
	// million.
	var held int64
	for _, col := range rec.Columns() {
		held += bufferBytes(col.Data())
	}
	if rows := rec.NumRows(); rows > 1<<20 && rows/8 > held {
		return fmt.Errorf("a batch of %d rows in %d bytes of buffers", rows, held)
	}
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		if int64(col.Len()) != rec.NumRows() {
			return fmt.Errorf("column %s: %d values in a batch of %d rows", f.Name, col.Len(), rec.NumRows())
		}
		if err := checkArray(col); err != nil {
			return fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	return nil
}

func bufferBytes(d arrow.ArrayData) int64 {
	if d, ok := d.(*array.Data); !ok || d == nil {
		return 0 // a nil *Data in the interface
	}
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += bufferBytes(c)
	}
	return n + bufferBytes(d.Dictionary())
}

// maxArrayLen bounds offsets and lengths so that the checks' products do
// not overflow.
const maxArrayLen = 1 << 48

func checkArray(arr arrow.Array) error {
	d := arr.Data()
	off, n := d.Offset(), d.Len()
	if off < 0 || n < 0 || off > maxArrayLen || n > maxArrayLen {
		return fmt.Errorf("offset %d, length %d", off, n)
	}
	end := off + n
	bufs := d.Buffers()
	bufLen := func(i int) int {
		if i < len(bufs) && bufs[i] != nil {
			return bufs[i].Len()
		}
		return 0
	}
	if len(bufs) > 0 && bufs[0] != nil && bufLen(0) < (end+7)/8 {
		return fmt.Errorf("validity bitmap of %d bytes for %d values", bufLen(0), end)
	}
	children := d.Children()
	child := func(k int) (int, error) {
		if k >= len(children) || children[k] == nil {
			return 0, fmt.Errorf("child %d missing", k)
		}
		return children[k].Len(), nil
	}
	fixed := func(width int) error {
		if n > 0 && width > 0 && bufLen(1)/width < end {
			return fmt.Errorf("%d bytes of values for %d values of %d bytes", bufLen(1), end, width)
		}
		return nil
	}
	switch a := arr.(type) {
	case *array.String, *array.Binary:
		return checkOffsets(bufs, off, n, 4, bufLen(2))
	case *array.LargeString, *array.LargeBinary:
		return checkOffsets(bufs, off, n, 8, bufLen(2))
	case *array.List, *array.Map:
		m, err := child(0)
		if err != nil {
			return err
		}
		if err := checkOffsets(bufs, off, n, 4, m); err != nil {
			return err
		}
		return checkArray(a.(array.ListLike).ListValues())
	case *array.LargeList:
		m, err := child(0)
		if err != nil {
			return err
		}
		if err := checkOffsets(bufs, off, n, 8, m); err != nil {
			return err
		}
		return checkArray(a.ListValues())
	case *array.FixedSizeList:
		size := int(a.DataType().(*arrow.FixedSizeListType).Len())
		m, err := child(0)
		if err != nil {
			return err
		}
		if size < 0 || (size > 0 && m/size < end) {
			return fmt.Errorf("%d child values for %d lists of %d", m, end, size)
		}
		return checkArray(a.ListValues())
	case *array.Struct:
		for k := 0; k < a.NumField(); k++ {
			if a.Field(k).Len() < n {
				return fmt.Errorf("field %d: %d values for %d", k, a.Field(k).Len(), n)
			}
			if err := checkArray(a.Field(k)); err != nil {
				return fmt.Errorf("field %d: %w", k, err)
			}
		}
		return nil
	case *array.Dictionary:
		dict := a.Dictionary()
		if err := checkArray(a.Indices()); err != nil {
			return fmt.Errorf("indices: %w", err)
		}
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				if k := a.GetValueIndex(i); k < 0 || k >= dict.Len() {
					return fmt.Errorf("dictionary index %d of %d", k, dict.Len())
				}
			}
		}
		return checkArray(dict)
	case *array.Boolean:
		if n > 0 && bufLen(1) < (end+7)/8 {
			return fmt.Errorf("%d bytes of values for %d booleans", bufLen(1), end)
		}
		return nil
	case *array.Null:
		return nil
	}
	if fw, ok := arr.DataType().(arrow.FixedWidthDataType); ok {
		bits := fw.BitWidth()
		if bits%8 == 0 {
			return fixed(bits / 8)
		}
	}
	// Other types are read by arrow's own marshalling; a panic there is
	// caught as damage.
	return nil
}

// checkOffsets checks the offsets of values off to off+n: within their
// buffer, from at least 0, never decreasing, ending at most at limit.
func checkOffsets(bufs []*memory.Buffer, off, n, width, limit int) error {
	if n == 0 {
		return nil
	}
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len()/width < off+n+1 {
		return fmt.Errorf("offsets missing for %d values", off+n)
	}
	b := bufs[1].Bytes()
	at := func(i int) int64 {
		if width == 4 {
			return int64(int32(binary.NativeEndian.Uint32(b[i*4:])))
		}
		return int64(binary.NativeEndian.Uint64(b[i*8:]))
	}
	prev := at(off)
	if prev < 0 {
		return fmt.Errorf("offset %d of value %d", prev, 0)
	}
	for i := off + 1; i <= off+n; i++ {
		v := at(i)
		if v < prev {
			return fmt.Errorf("offsets decrease at value %d (%d after %d)", i-off-1, v, prev)
		}
		prev = v
	}
	if prev > int64(limit) {
		return fmt.Errorf("offsets end at %d, past the %d values they index", prev, limit)
	}
	return nil
}
