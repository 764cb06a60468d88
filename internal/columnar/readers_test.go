package columnar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/sharegpt/sharegpt/internal/readertest"
	"github.com/sharegpt/sharegpt/pipeline"
)

func needReaders(t *testing.T) { readertest.Need(t) }

func readWith(t *testing.T, mode string, extra []string, files ...string) []string {
	return readertest.Read(t, mode, extra, files...)
}

func canonical(t *testing.T, s string) string { return readertest.Canonical(t, s) }

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func canonicalAll(t *testing.T, ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = canonical(t, l)
	}
	return out
}

func compareRecords(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: record %d differs:\n got %.300s\nwant %.300s", what, i, got[i], want[i])
			return
		}
	}
}

// TestIndependentReaders: DuckDB reads every Parquet file and apache-arrow
// every Arrow IPC file (file and stream format, whole and sharded) the way
// Go writes them, with the same records as the JSONL source.
func TestIndependentReaders(t *testing.T) {
	needReaders(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.jsonl")
	convert(t, src, pipeline.WriteOptions{}, sampleInputs(t)...)
	want := canonicalAll(t, lines(readFile(t, src)))
	type output struct {
		name  string
		write pipeline.WriteOptions
		mode  string
	}
	for _, o := range []output{
		{"all.parquet", pipeline.WriteOptions{}, "parquet"},
		{"snappy.parquet", pipeline.WriteOptions{Compression: "snappy", RowGroupSize: 97}, "parquet"},
		{"plain.parquet", pipeline.WriteOptions{Compression: "none"}, "parquet"},
		{"shards.parquet", pipeline.WriteOptions{ShardRows: 1500}, "parquet"},
		{"sized.parquet", pipeline.WriteOptions{ShardBytes: 1 << 20}, "parquet"},
		{"all.arrow", pipeline.WriteOptions{}, "arrow"},
		{"shards.arrow", pipeline.WriteOptions{ShardRows: 2000}, "arrow"},
		{"all.arrows", pipeline.WriteOptions{}, "arrow"},
		{"shards.arrows", pipeline.WriteOptions{ShardBytes: 2 << 20}, "arrow"},
	} {
		t.Run(o.name, func(t *testing.T) {
			out := filepath.Join(dir, o.name)
			convert(t, out, o.write, src)
			files := []string{out}
			if o.write.Sharded() {
				files, _ = filepath.Glob(strings.TrimSuffix(out, filepath.Ext(out)) + "-*-of-*" + filepath.Ext(out))
				slices.Sort(files)
				if len(files) < 2 {
					t.Fatalf("sharded output made %d files", len(files))
				}
			}
			compareRecords(t, o.name, canonicalAll(t, readWith(t, o.mode, nil, files...)), want)
		})
	}
	// The committed fixtures too (what the CLI cases read).
	fixture := canonicalAll(t, lines(readFile(t, "../../testdata/columnar/sample.jsonl")))
	compareRecords(t, "sample.parquet", canonicalAll(t, readWith(t, "parquet", nil, "../../testdata/columnar/sample.parquet")), fixture)
	for _, f := range []string{"sample.arrow", "sample.arrows", "hf_stream.arrow"} {
		compareRecords(t, f, canonicalAll(t, readWith(t, "arrow", nil, "../../testdata/columnar/"+f)), fixture)
	}
}

// TestIndependentReadersTables: rows of another schema (pre-tokenized
// data) read the same by DuckDB and apache-arrow as Go wrote them.
func TestIndependentReadersTables(t *testing.T) {
	needReaders(t)
	const rows = 1200
	var want []string
	b := array.NewRecordBuilder(memory.DefaultAllocator, tokenSchema())
	defer b.Release()
	for i := 0; i < rows; i++ {
		appendTokenRow(b, i)
		rec := b.NewRecord()
		row := map[string]any{}
		for c, f := range rec.Schema().Fields() {
			var v any
			if err := json.Unmarshal(appendValue(nil, rec.Column(c), 0), &v); err != nil {
				t.Fatal(err)
			}
			row[f.Name] = v
		}
		rec.Release()
		j, _ := json.Marshal(row)
		want = append(want, string(j))
	}
	for _, format := range []Format{Parquet, ArrowFile, ArrowStream} {
		dir := t.TempDir()
		path := filepath.Join(dir, "tok"+format.Ext())
		w, err := Create(path, tokenSchema(), Options{Format: format, ShardRows: 500})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows; i++ {
			appendTokenRow(w.Builder(), i)
			if err := w.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		shards, err := w.Commit()
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, s := range shards {
			files = append(files, s.Path)
		}
		mode := "arrow"
		if format == Parquet {
			mode = "parquet"
		}
		compareRecords(t, format.String(), canonicalAll(t, readWith(t, mode, []string{"--raw"}, files...)), want)
	}
}
