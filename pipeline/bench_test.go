package pipeline

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
)

// benchInput returns the 1,000 real ShareGPT records repeated to about
// 28 MB, as a JSON array and as JSONL.
func benchInput(b *testing.B) (array, lines []byte) {
	b.Helper()
	data, err := os.ReadFile("../testdata/sharegpt/sharegpt_v3_sample_1000.json")
	if err != nil {
		b.Fatal(err)
	}
	src := &streamSource{next: newValueScanner(bytes.NewReader(data), 0).Next}
	var recs []*Record
	for {
		el, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		rec, err := DecodeRecord(el.Raw, StyleAuto)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec)
	}
	var ab, lb bytes.Buffer
	aw := &jsonArrayWriter{w: &ab}
	lw := &jsonlWriter{w: &lb}
	for range 4 {
		for _, r := range recs {
			aw.Write(r)
			lw.Write(r)
		}
	}
	aw.Close()
	return ab.Bytes(), lb.Bytes()
}

// benchRead runs the runner (scan + parallel decode, no stages) over data.
func benchRead(b *testing.B, data []byte, format string, workers int) {
	reg := NewRegistry(JSONFormats()...)
	f, _ := reg.Lookup(format)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := &Runner{Workers: workers, Out: discard{}}
		if _, err := r.Run(context.Background(), []Source{f.NewSource(bytes.NewReader(data), "bench", ReadOptions{})}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadJSONArray1Worker(b *testing.B) {
	a, _ := benchInput(b)
	benchRead(b, a, "json", 1)
}

func BenchmarkReadJSONArray2Workers(b *testing.B) {
	a, _ := benchInput(b)
	benchRead(b, a, "json", 2)
}

func BenchmarkReadJSONL1Worker(b *testing.B) {
	_, l := benchInput(b)
	benchRead(b, l, "jsonl", 1)
}

func BenchmarkReadJSONL2Workers(b *testing.B) {
	_, l := benchInput(b)
	benchRead(b, l, "jsonl", 2)
}

// BenchmarkScanOnly measures the sequential element scanner alone.
func BenchmarkScanOnly(b *testing.B) {
	a, _ := benchInput(b)
	b.SetBytes(int64(len(a)))
	for b.Loop() {
		s := newValueScanner(bytes.NewReader(a), 0)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
	}
}

func benchWrite(b *testing.B, data []byte, newWriter func(io.Writer) FormatWriter) {
	s := newValueScanner(bytes.NewReader(data), 0)
	var recs []*Record
	for {
		el, err := s.Next()
		if err != nil {
			break
		}
		rec, _ := DecodeRecord(el.Raw, StyleAuto)
		recs = append(recs, rec)
	}
	var out countWriter
	out.w = io.Discard
	b.ReportAllocs()
	for b.Loop() {
		out.n = 0
		w := newWriter(&out)
		for _, r := range recs {
			w.Write(r)
		}
		w.Close()
	}
	b.SetBytes(out.n)
}

func BenchmarkWriteJSONArray(b *testing.B) {
	a, _ := benchInput(b)
	benchWrite(b, a, func(w io.Writer) FormatWriter { return &jsonArrayWriter{w: w} })
}

func BenchmarkWriteJSONL(b *testing.B) {
	a, _ := benchInput(b)
	benchWrite(b, a, func(w io.Writer) FormatWriter { return &jsonlWriter{w: w} })
}
