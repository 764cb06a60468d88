package columnar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// readBatchRows is the most rows read from Parquet at a time.
const readBatchRows = 1024

// readBatchBytes is the data a Parquet batch aims at: a row group of large
// rows is read in fewer rows at a time (down to one).
const readBatchBytes = 32 << 20

// parquetBatches reads a Parquet file one row group at a time, each
// checked by checkRowGroup before pqarrow reads it.
type parquetBatches struct {
	f      *os.File
	rd     *file.Reader
	fr     *pqarrow.FileReader
	mem    *cappedAllocator
	size   int64 // of the file
	sch    *arrow.Schema
	leaves []leafColumn

	rg   int                  // the row group rr reads
	rr   pqarrow.RecordReader // nil between row groups
	rows int64                // rows before row group rg
	read int64                // rows read from row group rg
}

// leafColumn is a Parquet leaf column as pqarrow reads it.
type leafColumn struct {
	field    *pqarrow.SchemaField
	path     string // "conversations.list.element.value"
	inStruct bool   // pqarrow loads it on a goroutine of its own
}

func newParquetBatches(f *os.File, mem *cappedAllocator) (_ *parquetBatches, err error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	p := &parquetBatches{f: f, mem: mem, size: size}
	defer func() {
		if err != nil && p.rd != nil {
			_ = safely(p.rd.Close)
		}
	}()
	err = safely(func() error {
		if err := checkFooter(f, size); err != nil {
			return err
		}
		var err error
		p.rd, err = file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem)))
		if err != nil {
			return err
		}
		if err := checkStoredSchema(p.rd); err != nil {
			return err
		}
		// Parallel stays off: recover works only on the goroutine that panics.
		p.fr, err = pqarrow.NewFileReader(p.rd, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, mem)
		if err != nil {
			return err
		}
		if p.sch, err = p.fr.Schema(); err != nil {
			return err
		}
		schema := p.rd.MetaData().Schema
		p.leaves = leavesOf(p.fr.Manifest.Fields, false, nil)
		for i := range p.leaves {
			p.leaves[i].path = schema.Column(p.leaves[i].field.ColIndex).Path()
		}
		return nil
	})
	if err != nil {
		return nil, &readError{format: "parquet", err: err}
	}
	return p, nil
}

func leavesOf(fields []pqarrow.SchemaField, inStruct bool, out []leafColumn) []leafColumn {
	for i := range fields {
		f := &fields[i]
		if len(f.Children) == 0 {
			if f.IsLeaf() {
				out = append(out, leafColumn{field: f, inStruct: inStruct})
			}
			continue
		}
		out = leavesOf(f.Children, inStruct || f.Field.Type.ID() == arrow.STRUCT, out)
	}
	return out
}

func (p *parquetBatches) schema() *arrow.Schema { return p.sch }

func (p *parquetBatches) where() string {
	if p.rg >= p.rd.NumRowGroups() {
		return ""
	}
	return fmt.Sprintf("row group %d (rows from %d)", p.rg, p.rows)
}

func (p *parquetBatches) format() string { return "parquet" }

func (p *parquetBatches) next() (arrow.Record, error) {
	for {
		if p.rr == nil {
			if p.rg >= p.rd.NumRowGroups() {
				return nil, io.EOF
			}
			if err := p.checkRowGroup(p.rg); err != nil {
				return nil, err
			}
			p.fr.Props.BatchSize = int64(p.batchRows(p.rg))
			rr, err := p.fr.GetRecordReader(context.Background(), nil, []int{p.rg})
			if err != nil {
				return nil, &readError{format: "parquet", where: p.where(), err: err}
			}
			p.rr, p.read = rr, 0
		}
		if p.rr.Next() {
			rec := p.rr.Record()
			rec.Retain()
			p.read += rec.NumRows()
			return rec, nil
		}
		if err := p.rr.Err(); err != nil && err != io.EOF {
			return nil, &readError{format: "parquet", where: p.where(), err: err}
		}
		p.rr.Release()
		p.rr = nil
		// A page cut short ends a column early without an error.
		if want := p.rd.MetaData().RowGroup(p.rg).NumRows(); p.read != want {
			return nil, &readError{format: "parquet", where: p.where(), err: fmt.Errorf("%d rows read, the metadata says %d", p.read, want)}
		}
		p.rows += p.read
		p.rg++
	}
}

// batchRows is the batch size for a row group: readBatchRows, or fewer
// when its rows are large (as its metadata says).
func (p *parquetBatches) batchRows(rg int) int {
	meta := p.rd.MetaData().RowGroup(rg)
	rows, bytes := meta.NumRows(), meta.TotalByteSize()
	if rows <= 0 || bytes <= 0 {
		return readBatchRows
	}
	n := int64(readBatchBytes) * rows / bytes
	return int(min(max(n, 1), readBatchRows))
}

// checkRowGroup checks, on the calling goroutine, what pqarrow would do
// with row group rg on goroutines of its own: its column chunks must lie
// inside the file (pqarrow reads a chunk into a buffer of the size the
// metadata gives) and the columns under a struct, which pqarrow loads on an
// errgroup, are decoded once here, the same way, so that damage in them is
// an error here instead of a panic there.
func (p *parquetBatches) checkRowGroup(rg int) error {
	var rgr *file.RowGroupReader
	if err := safely(func() error { rgr = p.rd.RowGroup(rg); return nil }); err != nil {
		return &readError{format: "parquet", where: fmt.Sprintf("row group %d", rg), err: err}
	}
	for _, leaf := range p.leaves {
		err := safely(func() error {
			col, err := rgr.MetaData().ColumnChunk(leaf.field.ColIndex)
			if err != nil {
				return err
			}
			start := col.DataPageOffset()
			if col.HasDictionaryPage() && col.DictionaryPageOffset() > 0 && start > col.DictionaryPageOffset() {
				start = col.DictionaryPageOffset()
			}
			size := col.TotalCompressedSize()
			if start < 0 || size < 0 || start > p.size || size > p.size-start {
				return fmt.Errorf("the column chunk (%d bytes at byte %d) is not within the file (%d bytes)", size, start, p.size)
			}
			if _, err := compress.GetCodec(col.Compression()); err != nil {
				return err
			}
			if col.CryptoMetadata() == nil {
				if p.rd.MetaData().WriterVersion().LessThan(metadata.Parquet816FixedVersion) {
					size += min(100, p.size-(start+size)) // as the page reader pads
				}
				snappy := col.Compression() == compress.Codecs.Snappy
				if err := checkPages(p.f, start, size, col.NumValues(), p.mem.limit, snappy); err != nil {
					return err
				}
			}
			if !leaf.inStruct {
				return nil
			}
			return p.decodeLeaf(rgr, leaf, int64(p.batchRows(rg)))
		})
		if err != nil {
			return &readError{format: "parquet", where: fmt.Sprintf("row group %d, column %s", rg, leaf.path), err: err}
		}
	}
	return nil
}

// decodeLeaf reads a column chunk as pqarrow's leaf reader does (its
// record reader, then its transfer of the values into arrays), discarding
// the values.
func (p *parquetBatches) decodeLeaf(rgr *file.RowGroupReader, leaf leafColumn, batch int64) error {
	pr, err := rgr.GetColumnPageReader(leaf.field.ColIndex)
	if err != nil {
		return err
	}
	descr := p.rd.MetaData().Schema.Column(leaf.field.ColIndex)
	dtype := leaf.field.Field.Type
	rr := file.NewRecordReader(descr, leaf.field.LevelInfo, dtype, p.mem, p.rd.BufferPool())
	defer rr.Release()
	rr.SetPageReader(pr)
	for rr.HasMore() {
		rr.Reset()
		if err := rr.Reserve(batch); err != nil {
			return err
		}
		n, err := rr.ReadRecords(batch)
		if err != nil {
			return err
		}
		transferAndRelease(rr, dtype)
		if n == 0 {
			break
		}
	}
	return nil
}

// transferAndRelease turns what a record reader read into arrays, as
// pqarrow does for the common types, and releases them.
func transferAndRelease(rr file.RecordReader, dtype arrow.DataType) {
	if br, ok := rr.(file.BinaryRecordReader); ok && !br.ReadDictionary() {
		for _, chunk := range br.GetBuilderChunks() {
			switch dtype.ID() {
			case arrow.STRING, arrow.LARGE_STRING:
				array.MakeFromData(chunk.Data()).Release()
			}
			chunk.Release()
		}
		return
	}
	valid, values := rr.ReleaseValidBits(), rr.ReleaseValues()
	switch dtype.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64:
		data := array.NewData(dtype, rr.ValuesWritten(), []*memory.Buffer{valid, values}, nil, int(rr.NullCount()), 0)
		array.MakeFromData(data).Release()
		data.Release()
	}
	if valid != nil {
		valid.Release()
	}
	if values != nil {
		values.Release()
	}
}

func (p *parquetBatches) close() error {
	if p.rr != nil {
		p.rr.Release()
		p.rr = nil
	}
	return p.rd.Close()
}

// checkStoredSchema checks the Arrow schema stored in a Parquet file's
// metadata (an IPC message, base64), which pqarrow reads with the IPC
// reader, as every IPC message is checked.
func checkStoredSchema(rd *file.Reader) error {
	kv := rd.MetaData().KeyValueMetadata()
	if kv == nil {
		return nil
	}
	value := kv.FindValue("ARROW:schema")
	if value == nil {
		return nil
	}
	serialized := *value
	// Decoded as pqarrow decodes it.
	var decoded []byte
	var err error
	if len(serialized)%4 == 0 {
		decoded, err = base64.StdEncoding.DecodeString(serialized)
	}
	if len(decoded) == 0 || err != nil {
		if decoded, err = base64.RawStdEncoding.DecodeString(serialized); err != nil {
			return nil // pqarrow reports it
		}
	}
	g := &streamGuard{r: bufio.NewReader(bytes.NewReader(decoded)), size: int64(len(decoded))}
	if err := g.nextMessage(); err != nil {
		return fmt.Errorf("the stored Arrow schema: %w", err)
	}
	return nil
}
