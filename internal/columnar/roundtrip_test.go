package columnar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"

	"github.com/sharegpt/sharegpt/pipeline"
)

// TestRoundTripSampleData: JSONL -> each columnar format -> JSONL is byte
// for byte the JSONL, for every real data file in testdata.
func TestRoundTripSampleData(t *testing.T) {
	dir := t.TempDir()
	for _, in := range sampleInputs(t) {
		base := strings.ReplaceAll(filepath.Base(in), ".", "_")
		src := filepath.Join(dir, base+".jsonl")
		convert(t, src, pipeline.WriteOptions{}, in)
		want := readFile(t, src)
		for _, ext := range []string{".parquet", ".arrow", ".arrows"} {
			mid := filepath.Join(dir, base+ext)
			back := filepath.Join(dir, base+ext+".jsonl")
			convert(t, mid, pipeline.WriteOptions{}, src)
			rep := convert(t, back, pipeline.WriteOptions{}, mid)
			if got := readFile(t, back); !bytes.Equal(got, want) {
				t.Errorf("%s via %s: JSONL differs (%d bytes, want %d)", in, ext, len(got), len(want))
			}
			if rep.Rejected != 0 {
				t.Errorf("%s via %s: %d records rejected", in, ext, rep.Rejected)
			}
		}
	}
}

// TestRoundTripShapes covers what the typed columns cannot hold and what
// the _layout column keeps.
func TestRoundTripShapes(t *testing.T) {
	cases := []struct {
		name, line string
		layout     bool // the record needs _layout
		extra      bool // ... and extra
	}{
		{"plain", `{"id":"a","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}`, false, false},
		{"typed fields in order", `{"id":"a","conversations":[],"model":"gpt4","lang":"en","n_tokens":7,"augmented_from":"b","augmentation":{"m":1}}`, false, false},
		{"typed fields out of order", `{"id":"a","conversations":[],"lang":"en","model":"gpt4"}`, true, false},
		{"model before conversations", `{"id":"a","model":"","conversations":[]}`, true, false},
		{"conversations first", `{"conversations":[],"id":"a"}`, true, false},
		{"no id", `{"conversations":[{"from":"human","value":"x"}]}`, false, false},
		{"no conversations", `{"id":"a","text":"t"}`, false, true},
		{"nothing known", `{"text":"t","n":[1,{"b":null}]}`, false, true},
		{"empty record", `{}`, false, false},
		{"model not a string", `{"id":"a","conversations":[],"model":5}`, false, true},
		{"n_tokens not an integer", `{"id":"a","conversations":[],"n_tokens":1.0}`, false, true},
		{"n_tokens huge", `{"id":"a","conversations":[],"n_tokens":123456789012345678901234567890}`, false, true},
		{"extra then typed", `{"id":"a","conversations":[],"x":1,"model":"m"}`, true, true},
		{"value before from", `{"id":"a","conversations":[{"value":"v","from":"human"}]}`, true, false},
		{"turn members", `{"id":"a","conversations":[{"from":"human","value":"v","weight":0,"name":"n"}]}`, true, false},
		{"unicode and escapes", `{"id":"é\u0001","conversations":[{"from":"hu\"man","value":"😀\n\t\\"}],"extra":"not ours"}`, false, true},
		{"field named like a column", `{"id":"a","conversations":[],"_layout":{"x":1},"extra":[1]}`, false, true},
		{"content parts with an image", `{"id":"a","conversations":[{"from":"human","value":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"http://x/y.png"}}]},{"from":"gpt","value":"A cat."}]}`, true, false},
		{"content parts, value before from", `{"id":"a","conversations":[{"value":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"from":"human","w":1}]}`, true, false},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, "in.jsonl")
			if err := os.WriteFile(in, []byte(tc.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(dir, "src.jsonl")
			convert(t, src, pipeline.WriteOptions{}, in)
			want := readFile(t, src)
			for _, ext := range []string{".parquet", ".arrow", ".arrows"} {
				mid := filepath.Join(dir, "mid"+ext)
				back := filepath.Join(dir, "back.jsonl")
				convert(t, mid, pipeline.WriteOptions{}, src)
				convert(t, back, pipeline.WriteOptions{}, mid)
				if got := readFile(t, back); !bytes.Equal(got, want) {
					t.Errorf("%s: got  %s\nwant %s", ext, got, want)
				}
			}
			// What the columns hold.
			rows := rawRows(t, filepath.Join(dir, "mid.arrow"))
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			if got := rows[0][ColLayout] != nil; got != tc.layout {
				t.Errorf("_layout = %v, want set %v", rows[0][ColLayout], tc.layout)
			}
			if got := rows[0][ColExtra] != nil; got != tc.extra {
				t.Errorf("extra = %v, want set %v", rows[0][ColExtra], tc.extra)
			}
		})
	}
}

// TestParquetRootRequired: the files carry a REQUIRED root (arrow/go v15
// writes REPEATED unless told, which strict readers refuse) and the
// asked-for codec and row groups.
func TestParquetRootRequired(t *testing.T) {
	dir := t.TempDir()
	src := "../../testdata/sharegpt/fastchat_dummy_conversation.json"
	for _, tc := range []struct {
		compression string
		rowGroup    int
		wantCodec   string
		wantGroups  int
	}{
		{"", 0, "ZSTD", 1},
		{"snappy", 100, "SNAPPY", 5},
		{"none", 300, "UNCOMPRESSED", 2},
		{"gzip", 500, "GZIP", 1},
	} {
		out := filepath.Join(dir, "x.parquet")
		convert(t, out, pipeline.WriteOptions{Compression: tc.compression, RowGroupSize: tc.rowGroup}, src)
		rd, err := file.OpenParquetFile(out, false)
		if err != nil {
			t.Fatal(err)
		}
		md := rd.MetaData()
		if rep := md.Schema.Root().RepetitionType(); rep != parquet.Repetitions.Required {
			t.Errorf("root repetition %v, want REQUIRED", rep)
		}
		if got := rd.NumRowGroups(); got != tc.wantGroups {
			t.Errorf("compression %q, row group %d: %d row groups, want %d", tc.compression, tc.rowGroup, got, tc.wantGroups)
		}
		col, err := md.RowGroup(0).ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		if got := col.Compression().String(); got != tc.wantCodec {
			t.Errorf("codec %s, want %s", got, tc.wantCodec)
		}
		if md.NumRows != 500 {
			t.Errorf("%d rows, want 500", md.NumRows)
		}
		rd.Close()
	}
}

// TestReadAnyWay: the formats are recognised by magic bytes whatever the
// name, from stdin (spooled) and compressed.
func TestReadAnyWay(t *testing.T) {
	dir := t.TempDir()
	want := readFile(t, "../../testdata/columnar/sample.jsonl")
	copyTo := func(src, dst string) string {
		p := filepath.Join(dir, dst)
		if err := os.WriteFile(p, readFile(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := filepath.Join(dir, "sample.parquet.gz")
	if _, err := convertErr(gz, pipeline.WriteOptions{Format: NameParquet}, "", "../../testdata/columnar/sample.jsonl"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		input string
		stdin string
	}{
		{"parquet", "../../testdata/columnar/sample.parquet", ""},
		{"arrow file", "../../testdata/columnar/sample.arrow", ""},
		{"arrow stream", "../../testdata/columnar/sample.arrows", ""},
		{"stream named .arrow (Hugging Face)", "../../testdata/columnar/hf_stream.arrow", ""},
		{"parquet named .json", copyTo("../../testdata/columnar/sample.parquet", "misnamed.json"), ""},
		{"arrow file named .jsonl", copyTo("../../testdata/columnar/sample.arrow", "misnamed.jsonl"), ""},
		{"parquet gzip-compressed", gz, ""},
		{"parquet on stdin", "-", string(readFile(t, "../../testdata/columnar/sample.parquet"))},
		{"arrow file on stdin", "-", string(readFile(t, "../../testdata/columnar/sample.arrow"))},
		{"arrow stream on stdin", "-", string(readFile(t, "../../testdata/columnar/sample.arrows"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.jsonl")
			if _, err := convertErr(out, pipeline.WriteOptions{}, tc.stdin, tc.input); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, out); !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestCorruptInput: a damaged file is unusable input, named, not a panic.
func TestCorruptInput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"sample.parquet", "sample.arrow", "sample.arrows"} {
		data := readFile(t, "../../testdata/columnar/"+name)
		cuts := []int{len(data) / 2, 12}
		if name != "sample.arrows" {
			cuts = append(cuts, len(data)-3) // a stream cut in its end marker is whole
		}
		for _, cut := range cuts {
			p := filepath.Join(dir, "bad-"+name)
			if err := os.WriteFile(p, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.jsonl")
			_, err := convertErr(out, pipeline.WriteOptions{}, "", p)
			if err == nil {
				t.Errorf("%s cut at %d: no error", name, cut)
				continue
			}
			var ie *pipeline.InputError
			if !errorsAs(err, &ie) || !strings.Contains(err.Error(), "bad-"+name) {
				t.Errorf("%s cut at %d: %v (%T), want an input error naming the file", name, cut, err, err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s cut at %d: output written", name, cut)
			}
		}
	}
}
