package columnar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/sharegpt/sharegpt/pipeline"
)

func TestShardNames(t *testing.T) {
	for _, tc := range []struct {
		path string
		i, n int
		want string
	}{
		{"out/train.parquet", 0, 8, "out/train-00000-of-00008.parquet"},
		{"train.parquet", 7, 8, "train-00007-of-00008.parquet"},
		{"a.b.arrow", 1, 2, "a.b-00001-of-00002.arrow"},
		{"x/out.jsonl.gz", 0, 1, "x/out-00000-of-00001.jsonl.gz"},
		{"data.arrow", 12, 100000, "data-00012-of-100000.arrow"},
	} {
		if got := pipeline.ShardName(tc.path, tc.i, tc.n); got != tc.want {
			t.Errorf("ShardName(%q, %d, %d) = %q, want %q", tc.path, tc.i, tc.n, got, tc.want)
		}
	}
}

// TestShardedOutput: records split by count and by size, in order, under
// final names only, deterministically; stale shards of another total go.
func TestShardedOutput(t *testing.T) {
	src := "../../testdata/sharegpt/fastchat_dummy_conversation.json" // 500 records
	for _, tc := range []struct {
		name      string
		out       string
		write     pipeline.WriteOptions
		wantFiles int
		wantRows  []int64 // per shard, when known
	}{
		{"rows parquet", "train.parquet", pipeline.WriteOptions{ShardRows: 150}, 4, []int64{150, 150, 150, 50}},
		{"rows arrow", "train.arrow", pipeline.WriteOptions{ShardRows: 250}, 2, []int64{250, 250}},
		{"rows exact", "train.arrows", pipeline.WriteOptions{ShardRows: 500}, 1, []int64{500}},
		{"rows jsonl gz", "train.jsonl.gz", pipeline.WriteOptions{ShardRows: 200}, 3, []int64{200, 200, 100}},
		{"bytes parquet", "train.parquet", pipeline.WriteOptions{ShardBytes: 20_000}, 0, nil},
		{"bytes arrow", "train.arrow", pipeline.WriteOptions{ShardBytes: 100_000}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// a stale shard of an earlier run with another total, and an
			// unrelated file that stays
			stale := filepath.Join(dir, pipeline.ShardName(tc.out, 0, 99))
			keep := filepath.Join(dir, "train-notes.txt")
			for _, p := range []string{stale, keep} {
				if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, tc.out)
			convert(t, out, tc.write, src)
			names := listDir(t, dir)
			if slices.Contains(names, filepath.Base(stale)) || !slices.Contains(names, "train-notes.txt") {
				t.Errorf("files: %v: stale shard kept or other file removed", names)
			}
			var shards []string
			for _, n := range names {
				if n != "train-notes.txt" {
					shards = append(shards, n)
				}
			}
			if tc.wantFiles > 0 && len(shards) != tc.wantFiles {
				t.Fatalf("%d files %v, want %d", len(shards), shards, tc.wantFiles)
			}
			if len(shards) < 2 && tc.wantFiles == 0 {
				t.Fatalf("size limit made %d shards: %v", len(shards), shards)
			}
			for i, n := range shards {
				if want := filepath.Base(pipeline.ShardName(tc.out, i, len(shards))); n != want {
					t.Errorf("file %d is %s, want %s", i, n, want)
				}
			}
			// Read back in order: the records of the input, in order.
			var inputs []string
			for _, n := range shards {
				inputs = append(inputs, filepath.Join(dir, n))
			}
			back := filepath.Join(t.TempDir(), "back.jsonl")
			convert(t, back, pipeline.WriteOptions{}, inputs...)
			whole := filepath.Join(t.TempDir(), "whole.jsonl")
			convert(t, whole, pipeline.WriteOptions{}, src)
			if !bytes.Equal(readFile(t, back), readFile(t, whole)) {
				t.Error("shards read back differ from the input")
			}
			for i, n := range shards {
				rep := convert(t, filepath.Join(t.TempDir(), "one.jsonl"), pipeline.WriteOptions{}, filepath.Join(dir, n))
				if tc.wantRows != nil && rep.RecordsIn != tc.wantRows[i] {
					t.Errorf("shard %d: %d records, want %d", i, rep.RecordsIn, tc.wantRows[i])
				}
				if tc.write.ShardBytes > 0 && i < len(shards)-1 {
					st, _ := os.Stat(filepath.Join(dir, n))
					if st.Size() < tc.write.ShardBytes/2 || st.Size() > tc.write.ShardBytes*2 {
						t.Errorf("shard %d: %d bytes, asked about %d", i, st.Size(), tc.write.ShardBytes)
					}
				}
			}
			// Deterministic: a second run writes the same bytes.
			dir2 := t.TempDir()
			convert(t, filepath.Join(dir2, tc.out), tc.write, src)
			for _, n := range shards {
				if !bytes.Equal(readFile(t, filepath.Join(dir, n)), readFile(t, filepath.Join(dir2, n))) {
					t.Errorf("%s differs between two runs", n)
				}
			}
		})
	}
}

func TestShardedEmptyInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".parquet", ".arrow", ".arrows"} {
		convert(t, filepath.Join(dir, "out"+ext), pipeline.WriteOptions{ShardRows: 10}, in)
		p := filepath.Join(dir, "out-00000-of-00001"+ext)
		rep := convert(t, filepath.Join(dir, "back.jsonl"), pipeline.WriteOptions{}, p)
		if rep.RecordsIn != 0 {
			t.Errorf("%s: %d records from an empty input", ext, rep.RecordsIn)
		}
	}
}

// failAfter fails the run at its nth record.
type failAfter struct{ n int64 }

func (f *failAfter) Name() string { return "fail" }
func (f *failAfter) Ordered()     {}
func (f *failAfter) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	if out.Seq() >= f.n {
		return errors.New("stop here")
	}
	out.Keep(rec)
	return nil
}

// TestAbortLeavesNothing: a run that fails after several shards were
// written leaves no shard under a final name and no temporary file.
func TestAbortLeavesNothing(t *testing.T) {
	for _, ext := range []string{".parquet", ".arrow", ".jsonl"} {
		dir := t.TempDir()
		job := &pipeline.Job{
			Command:  "convert",
			Registry: registry(),
			Inputs:   []string{"../../testdata/sharegpt/fastchat_dummy_conversation.json"},
			Output:   filepath.Join(dir, "out"+ext),
			Write:    pipeline.WriteOptions{ShardRows: 50},
			Workers:  2,
			Stages:   []pipeline.Stage{&failAfter{n: 420}},
			Stdin:    strings.NewReader(""),
			Stdout:   &bytes.Buffer{},
		}
		if _, err := job.Run(context.Background()); err == nil {
			t.Fatalf("%s: the run did not fail", ext)
		}
		if names := listDir(t, dir); len(names) != 0 {
			t.Errorf("%s: files left after a failed run: %v", ext, names)
		}
	}
}

// tokenSchema is the shape of pre-tokenized training data.
func tokenSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "input_ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "labels", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "attention_mask", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true},
		{Name: "n_tokens", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
}

// appendTokenRow appends row i of a made-up tokenized dataset.
func appendTokenRow(b *array.RecordBuilder, i int) {
	n := 5 + i%50
	b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("row-%d", i))
	for f := 1; f <= 3; f++ {
		lb := b.Field(f).(*array.ListBuilder)
		lb.Append(true)
		for k := 0; k < n; k++ {
			switch vb := lb.ValueBuilder().(type) {
			case *array.Int32Builder:
				v := int32(i*7 + k)
				if f == 2 && k < n/2 {
					v = -100
				}
				vb.Append(v)
			case *array.Int8Builder:
				vb.Append(1)
			}
		}
	}
	b.Field(4).(*array.Int32Builder).Append(int32(n))
}

// TestTableWriter: rows of any schema, by row and by batch, sharded, in
// every format, read back by arrow's own readers.
func TestTableWriter(t *testing.T) {
	const rows = 2500
	for _, format := range []Format{Parquet, ArrowFile, ArrowStream} {
		t.Run(format.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tok"+format.Ext())
			w, err := Create(path, tokenSchema(), Options{Format: format, ShardRows: 1000, BatchRows: 300, RowGroupSize: 300})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < rows-500; i++ {
				appendTokenRow(w.Builder(), i)
				if err := w.EndRow(); err != nil {
					t.Fatal(err)
				}
			}
			// the last 500 as one batch
			b := array.NewRecordBuilder(memory.DefaultAllocator, tokenSchema())
			for i := rows - 500; i < rows; i++ {
				appendTokenRow(b, i)
			}
			batch := b.NewRecord()
			if err := w.WriteRecord(batch); err != nil {
				t.Fatal(err)
			}
			batch.Release()
			b.Release()
			for _, n := range listDir(t, dir) {
				if !strings.HasPrefix(n, ".tok") || !strings.Contains(n, ".tmp-") {
					t.Errorf("before Commit: %s, want only temporary files", n)
				}
			}
			shards, err := w.Commit()
			if err != nil {
				t.Fatal(err)
			}
			wantRows := []int64{1000, 1000, 500}
			if len(shards) != 3 {
				t.Fatalf("%d shards, want 3: %+v", len(shards), shards)
			}
			next := 0
			for i, s := range shards {
				if want := pipeline.ShardName(path, i, 3); s.Path != want || s.Rows != wantRows[i] {
					t.Errorf("shard %d: %s with %d rows, want %s with %d", i, s.Path, s.Rows, want, wantRows[i])
				}
				for _, rec := range readTable(t, s.Path, format) {
					for r := 0; r < int(rec.NumRows()); r++ {
						want := array.NewRecordBuilder(memory.DefaultAllocator, tokenSchema())
						appendTokenRow(want, next)
						wr := want.NewRecord()
						for c := 0; c < int(rec.NumCols()); c++ {
							if !array.SliceEqual(rec.Column(c), int64(r), int64(r+1), wr.Column(c), 0, 1) {
								t.Fatalf("shard %d row %d column %d differs", i, r, c)
							}
						}
						wr.Release()
						want.Release()
						next++
					}
					rec.Release()
				}
			}
			if next != rows {
				t.Errorf("read %d rows, want %d", next, rows)
			}
		})
	}
}

func TestTableWriterAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, "t.parquet"), tokenSchema(), Options{ShardRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 35; i++ {
		appendTokenRow(w.Builder(), i)
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("after Abort: %v", names)
	}
	if _, err := Create(filepath.Join(dir, "t.parquet"), tokenSchema(), Options{Compression: "lzma"}); err == nil {
		t.Error("unknown compression accepted")
	}
}

// readTable reads every batch of a file with arrow's own readers.
func readTable(t testing.TB, path string, format Format) []arrow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []arrow.Record
	switch format {
	case Parquet:
		rd, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 128}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for rr.Next() {
			rec := rr.Record()
			rec.Retain()
			recs = append(recs, rec)
		}
		rr.Release()
	case ArrowFile:
		fr, err := ipc.NewFileReader(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < fr.NumRecords(); i++ {
			rec, err := fr.RecordAt(i)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
		fr.Close()
	case ArrowStream:
		r, err := ipc.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			rec := r.Record()
			rec.Retain()
			recs = append(recs, rec)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Release()
	}
	return recs
}
