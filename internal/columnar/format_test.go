package columnar

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/pipeline"
)

func TestSniffAndNames(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Format
	}{
		{"sample.parquet", Parquet}, {"sample.arrow", ArrowFile}, {"sample.arrows", ArrowStream}, {"hf_stream.arrow", ArrowStream},
	} {
		got, ok := Sniff(readFile(t, "../../testdata/columnar/"+tc.file)[:16])
		if !ok || got != tc.want {
			t.Errorf("Sniff(%s) = %v, %v; want %v", tc.file, got, ok, tc.want)
		}
	}
	for _, head := range []string{`{"id":1}`, `[{"a":`, "", "PAR", "\x1f\x8b\x08"} {
		if f, ok := Sniff([]byte(head)); ok {
			t.Errorf("Sniff(%q) = %v", head, f)
		}
	}
	for name, want := range map[string]Format{"parquet": Parquet, "arrow": ArrowFile, "arrow-stream": ArrowStream, "feather": ArrowFile} {
		if got, err := ParseFormat(name); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseFormat("orc"); err == nil {
		t.Error("ParseFormat(orc) accepted")
	}
	for path, want := range map[string]Format{"a.parquet": Parquet, "b.ARROW": ArrowFile, "c.arrows": ArrowStream} {
		if got, ok := FormatOf(path); !ok || got != want {
			t.Errorf("FormatOf(%q) = %v, %v", path, got, ok)
		}
	}
}

// TestReadForeignTables: a table written by another tool (no sharegpt
// metadata, other columns, turn structs with more members, OpenAI style)
// is read as the JSON records it stands for.
func TestReadForeignTables(t *testing.T) {
	turn := arrow.StructOf(
		arrow.Field{Name: "from", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		arrow.Field{Name: "weight", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	)
	msg := arrow.StructOf(
		arrow.Field{Name: "role", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "content", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "conversations", Type: arrow.ListOf(turn), Nullable: true},
		{Name: "messages", Type: arrow.ListOf(msg), Nullable: true},
		{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	for _, format := range []Format{Parquet, ArrowFile, ArrowStream} {
		dir := t.TempDir()
		path := filepath.Join(dir, "foreign"+format.Ext())
		w, err := Create(path, schema, Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		b := w.Builder()
		// row 0: ShareGPT turns with a weight, a source, no score
		b.Field(0).(*array.StringBuilder).Append("f0")
		conv := b.Field(1).(*array.ListBuilder)
		conv.Append(true)
		st := conv.ValueBuilder().(*array.StructBuilder)
		st.Append(true)
		st.FieldBuilder(0).(*array.StringBuilder).Append("human")
		st.FieldBuilder(1).(*array.LargeStringBuilder).Append("hi")
		st.FieldBuilder(2).(*array.Float64Builder).AppendNull()
		st.Append(true)
		st.FieldBuilder(0).(*array.StringBuilder).Append("gpt")
		st.FieldBuilder(1).(*array.LargeStringBuilder).Append("yo")
		st.FieldBuilder(2).(*array.Float64Builder).Append(0.5)
		b.Field(2).(*array.ListBuilder).AppendNull()
		b.Field(3).(*array.StringBuilder).Append("web")
		b.Field(4).(*array.Int32Builder).AppendNull()
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
		// row 1: OpenAI messages, a score
		b.Field(0).(*array.StringBuilder).Append("f1")
		b.Field(1).(*array.ListBuilder).AppendNull()
		ml := b.Field(2).(*array.ListBuilder)
		ml.Append(true)
		ms := ml.ValueBuilder().(*array.StructBuilder)
		ms.Append(true)
		ms.FieldBuilder(0).(*array.StringBuilder).Append("user")
		ms.FieldBuilder(1).(*array.StringBuilder).Append("q")
		b.Field(3).(*array.StringBuilder).AppendNull()
		b.Field(4).(*array.Int32Builder).Append(3)
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.jsonl")
		convert(t, out, pipeline.WriteOptions{}, path)
		want := `{"id":"f0","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo","weight":0.5}],"source":"web"}` + "\n" +
			`{"id":"f1","conversations":[{"from":"human","value":"q"}],"score":3}` + "\n"
		if got := readFile(t, out); !bytes.Equal(got, []byte(want)) {
			t.Errorf("%v:\n got %s\nwant %s", format, got, want)
		}
	}
}
