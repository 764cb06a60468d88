package columnar

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// benchRecords decodes testdata/sharegpt/sharegpt_v3_sample_1000.json
// (real ShareGPT conversations) repeated 10 times: 10,000 records, about
// 67 MB of JSONL. It returns them and their JSONL size.
func benchRecords(b *testing.B) ([]*pipeline.Record, int64) {
	b.Helper()
	dir := b.TempDir()
	src := filepath.Join(dir, "src.jsonl")
	convert(b, src, pipeline.WriteOptions{}, "../../testdata/sharegpt/sharegpt_v3_sample_1000.json")
	data := readFile(b, src)
	var recs []*pipeline.Record
	var size int64
	for range 10 {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			rec, err := pipeline.DecodeRecord(sc.Bytes(), pipeline.StyleShareGPT)
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, rec)
			size += int64(len(sc.Bytes()) + 1)
		}
	}
	return recs, size
}

func benchWrite(b *testing.B, opts Options) {
	recs, size := benchRecords(b)
	path := filepath.Join(b.TempDir(), "out")
	b.SetBytes(size)
	b.ResetTimer()
	var fileSize int64
	for range b.N {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		w := NewRecordWriter(bw, opts)
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		bw.Flush()
		st, _ := f.Stat()
		fileSize = st.Size()
		f.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(fileSize)/1e6, "file-MB")
}

func BenchmarkWriteParquetZstd(b *testing.B) { benchWrite(b, Options{Format: Parquet}) }
func BenchmarkWriteParquetSnappy(b *testing.B) {
	benchWrite(b, Options{Format: Parquet, Compression: "snappy"})
}
func BenchmarkWriteParquetNone(b *testing.B) {
	benchWrite(b, Options{Format: Parquet, Compression: "none"})
}
func BenchmarkWriteArrowFile(b *testing.B)   { benchWrite(b, Options{Format: ArrowFile}) }
func BenchmarkWriteArrowStream(b *testing.B) { benchWrite(b, Options{Format: ArrowStream}) }

func benchRead(b *testing.B, opts Options, open func(*os.File) (pipeline.Source, error)) {
	recs, size := benchRecords(b)
	path := filepath.Join(b.TempDir(), "in")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := NewRecordWriter(f, opts)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		src, err := open(f)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			el, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if el.Rec == nil {
				b.Fatal("a row did not become a record")
			}
			n++
		}
		if n != len(recs) {
			b.Fatalf("%d records, want %d", n, len(recs))
		}
		src.Close()
		f.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadParquetZstd(b *testing.B) {
	benchRead(b, Options{Format: Parquet}, func(f *os.File) (pipeline.Source, error) {
		return OpenParquet(f, "bench", pipeline.ReadOptions{})
	})
}

func BenchmarkReadParquetNone(b *testing.B) {
	benchRead(b, Options{Format: Parquet, Compression: "none"}, func(f *os.File) (pipeline.Source, error) {
		return OpenParquet(f, "bench", pipeline.ReadOptions{})
	})
}

func BenchmarkReadArrowFile(b *testing.B) {
	benchRead(b, Options{Format: ArrowFile}, func(f *os.File) (pipeline.Source, error) {
		return OpenArrow(f, "bench", pipeline.ReadOptions{})
	})
}

func BenchmarkReadArrowStream(b *testing.B) {
	benchRead(b, Options{Format: ArrowStream}, func(f *os.File) (pipeline.Source, error) {
		return NewArrowStreamSource(bufio.NewReaderSize(f, 1<<20), "bench", pipeline.ReadOptions{})
	})
}
