package columnar

import (
	"io"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Formats returns the columnar formats for the pipeline's registry:
// "parquet" (.parquet), "arrow" (the Arrow IPC file format, .arrow) and
// "arrow-stream" (the IPC stream format, .arrows). Any of them is read
// whatever its extension, by its magic bytes, so a Hugging Face .arrow
// stream file is read too.
func Formats() []pipeline.Format {
	sniff := func(want Format) func([]byte) bool {
		return func(head []byte) bool {
			f, ok := Sniff(head)
			return ok && f == want
		}
	}
	writer := func(f Format) func(io.Writer, pipeline.WriteOptions) pipeline.FormatWriter {
		return func(w io.Writer, o pipeline.WriteOptions) pipeline.FormatWriter {
			return NewRecordWriter(w, Options{Format: f, Compression: o.Compression, RowGroupSize: o.RowGroupSize, ShardBytes: o.ShardBytes})
		}
	}
	return []pipeline.Format{
		{
			Name:      NameParquet,
			Exts:      []string{".parquet", ".pq"},
			Sniff:     sniff(Parquet),
			OpenFile:  OpenParquet,
			NewWriter: writer(Parquet),
		},
		{
			Name:      NameArrowFile,
			Exts:      []string{".arrow", ".feather", ".ipc"},
			Sniff:     sniff(ArrowFile),
			OpenFile:  OpenArrow,
			NewWriter: writer(ArrowFile),
		},
		{
			Name:  NameArrowStream,
			Exts:  []string{".arrows"},
			Sniff: sniff(ArrowStream),
			NewSource: func(r io.Reader, name string, opts pipeline.ReadOptions) pipeline.Source {
				src, err := NewArrowStreamSource(r, name, opts)
				if err != nil {
					return errSource{name: name, err: err}
				}
				return src
			},
			NewWriter: writer(ArrowStream),
		},
	}
}

// errSource is a source whose first read fails.
type errSource struct {
	name string
	err  error
}

func (s errSource) Name() string { return s.name }
func (s errSource) Next() (pipeline.Element, error) {
	return pipeline.Element{}, &pipeline.InputError{Err: s.err}
}
func (s errSource) Close() error { return nil }
