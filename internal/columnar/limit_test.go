package columnar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/pipeline"
)

// TestMaxRecordBytes: --max-record-bytes applies to the rows of Parquet
// and Arrow input as to JSONL lines: a row whose values are over the limit
// is rejected as too-large, with its file, index and id, without being
// built; the other rows pass.
func TestMaxRecordBytes(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("a", 3<<20) // compresses to almost nothing
	turn := func(v string) string {
		return `[{"from":"human","value":"q"},{"from":"gpt","value":"` + v + `"}]`
	}
	jsonl := strings.Join([]string{
		`{"id":"small-0","conversations":` + turn("a") + `}`,
		`{"id":"big-1","conversations":` + turn(big) + `}`,
		`{"id":"small-2","conversations":` + turn("b") + `,"model":"m"}`,
		// over the limit in a member that goes through the JSON path
		`{"id":"big-3","conversations":` + turn("c") + `,"meta":{"note":"` + big + `"}}`,
		`{"conversations":` + turn("d") + `,"id":"small-4"}`,
	}, "\n") + "\n"
	src := filepath.Join(dir, "src.jsonl")
	if err := os.WriteFile(src, []byte(jsonl), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".parquet", ".arrow", ".arrows"} {
		in := filepath.Join(dir, "in"+ext)
		convert(t, in, pipeline.WriteOptions{}, src)
		if ext == ".parquet" {
			if st, _ := os.Stat(in); st.Size() > 64<<10 {
				t.Fatalf("%s: %d bytes; the test wants a small file of a large row", in, st.Size())
			}
		}
		// Under the default limit every row passes.
		all := filepath.Join(dir, "all"+ext+".jsonl")
		if rep := convert(t, all, pipeline.WriteOptions{}, in); rep.Kept != 5 {
			t.Errorf("%s, default limit: %d kept, want 5", ext, rep.Kept)
		}
		// Under 1 MiB the two large rows are rejected.
		out := filepath.Join(dir, "out"+ext+".jsonl")
		rejects := filepath.Join(dir, "rejects"+ext+".jsonl")
		job := &pipeline.Job{
			Command: "convert", Registry: registry(), Inputs: []string{in}, Output: out, RejectsPath: rejects,
			Read: pipeline.ReadOptions{MaxRecordBytes: 1 << 20}, Workers: 2, AllowNoConversations: true,
			Stdin: strings.NewReader(""), Stdout: io.Discard,
		}
		rep, err := job.Run(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if rep.Kept != 3 || rep.Stage(pipeline.StageRead).Rejected[pipeline.ReasonTooLarge] != 2 {
			t.Errorf("%s: kept %d, too-large %d; want 3 and 2", ext, rep.Kept, rep.Stage(pipeline.StageRead).Rejected[pipeline.ReasonTooLarge])
		}
		var got []string
		for _, line := range lines(readFile(t, rejects)) {
			var r struct {
				File, ID, Reason string
				Index            int
				Record, Raw      any
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Record != nil || r.Raw != nil {
				t.Errorf("%s: a too-large reject holds the row", ext)
			}
			got = append(got, fmt.Sprintf("%s %d %s %s", filepath.Base(r.File), r.Index, r.ID, r.Reason))
		}
		want := []string{"in" + ext + " 1 big-1 too-large", "in" + ext + " 3 big-3 too-large"}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("%s: rejects %q, want %q", ext, got, want)
		}
		if n := len(lines(readFile(t, out))); n != 3 {
			t.Errorf("%s: %d records out, want 3", ext, n)
		}
	}
}

// TestMaxRecordBytesNotBuilt: the source rejects a large row before
// building it (no record, no JSON text), in the record schema and in any
// other schema.
func TestMaxRecordBytesNotBuilt(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 2<<20)
	// A table of another schema: a text column.
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	for _, format := range []Format{Parquet, ArrowFile, ArrowStream} {
		path := filepath.Join(dir, "foreign"+format.Ext())
		w, err := Create(path, schema, Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		b := w.Builder()
		for i, text := range []string{"short", big, "short again"} {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("r%d", i))
			b.Field(1).(*array.StringBuilder).Append(text)
			tags := b.Field(2).(*array.ListBuilder)
			tags.Append(true)
			tags.ValueBuilder().(*array.StringBuilder).Append("t")
			if err := w.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		src, err := registry().Open(path, nil, pipeline.ReadOptions{MaxRecordBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		var verdicts []string
		for {
			el, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case el.Err != nil:
				if el.Rec != nil || el.Raw != nil {
					t.Errorf("%v: row %d rejected but built", format, el.Index)
				}
				verdicts = append(verdicts, fmt.Sprintf("%d %s %s", el.Index, el.Err.Reason, el.Err.ID))
			default:
				verdicts = append(verdicts, fmt.Sprintf("%d ok", el.Index))
			}
		}
		src.Close()
		if got, want := strings.Join(verdicts, "; "), "0 ok; 1 too-large r1; 2 ok"; got != want {
			t.Errorf("%v: %s, want %s", format, got, want)
		}
	}
}

// TestRowSizeBound: the size a row is judged by is never more than the
// JSON record it becomes, so a row under the limit as JSONL is under it
// as Parquet too.
func TestRowSizeBound(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "all.parquet")
	convert(t, in, pipeline.WriteOptions{}, sampleInputs(t)...)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := OpenParquet(f, in, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := s.(*tableSource)
	n := 0
	for ; ; n++ {
		el, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		bound := src.rowSize(src.row - 1)
		var size int
		switch {
		case el.Rec != nil:
			size = len(pipeline.AppendRecord(nil, el.Rec, pipeline.OutShareGPT))
		case el.Raw != nil:
			size = len(el.Raw)
		default:
			t.Fatalf("row %d: %v", el.Index, el.Err)
		}
		if bound > int64(size) {
			t.Fatalf("row %d: bound %d over its JSON size %d", el.Index, bound, size)
		}
	}
	if n < 1000 {
		t.Fatalf("%d rows checked", n)
	}
}
