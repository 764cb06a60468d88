package tokenize

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/sharegpt/sharegpt/internal/oracle"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/readertest"
	"github.com/sharegpt/sharegpt/pipeline"
)

// extraRecords are records beside the real data that exercise rows without
// an id and every reject reason.
const extraRecords = `{"conversations":[{"from":"human","value":"no id here"},{"from":"gpt","value":"fine </s>"}]}
{"id":"roles","conversations":[{"from":"human","value":"a"},{"from":"human","value":"b"}]}
{"id":"empty","conversations":[{"from":"human","value":"a"},{"from":"gpt","value":""}]}
{"id":"noreply","conversations":[{"from":"human","value":"only a question"}]}
{"id":"opening-gpt","conversations":[{"from":"gpt","value":"hello"},{"from":"human","value":"hi"},{"from":"gpt","value":"bye"}]}
`

// runJob tokenizes inputs with a Job, writing JSON to out or, with a sink,
// to the table.
func runJob(t *testing.T, inputs []string, out string, sink *TableSink, workers int) *pipeline.Report {
	t.Helper()
	st, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &pipeline.Job{
		Command:  "tokenize",
		Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:   inputs,
		Output:   out,
		Workers:  workers,
		Stages:   []pipeline.Stage{st},
	}
	if sink != nil {
		job.Sink = sink
		job.Finish = func(*pipeline.Report) error { return sink.Commit() }
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		if sink != nil {
			sink.Abort()
		}
		t.Fatal(err)
	}
	return rep
}

func testInputs(t *testing.T) []string {
	t.Helper()
	extra := filepath.Join(t.TempDir(), "extra.jsonl")
	if err := os.WriteFile(extra, []byte(extraRecords), 0o644); err != nil {
		t.Fatal(err)
	}
	dummy := filepath.Join("..", "testdata", "sharegpt", "fastchat_dummy_conversation.json")
	if _, err := os.Stat(dummy); err != nil {
		oracle.Missing(t, "real data: %v", err)
	}
	return []string{dummy, extra}
}

// TestJobRejects checks the report of a run: every reason, and the kept
// rows.
func TestJobRejects(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	rep := runJob(t, testInputs(t), out, nil, 2)
	st := rep.Stage("tokenize")
	want := map[pipeline.Reason]int64{ReasonInvalidRoles: 1, ReasonEmptyTurn: 1, ReasonNoReply: 1}
	if len(st.Rejected) != len(want) {
		t.Errorf("rejected %v, want %v", st.Rejected, want)
	}
	for k, v := range want {
		if st.Rejected[k] != v {
			t.Errorf("rejected %s: %d, want %d", k, st.Rejected[k], v)
		}
	}
	if rep.RecordsIn != 505 || rep.Kept != 502 || rep.RecordsOut != 502 {
		t.Errorf("%d in, %d kept, %d out; want 505, 502, 502", rep.RecordsIn, rep.Kept, rep.RecordsOut)
	}
	rows := readJSONL(t, out)
	last := rows[len(rows)-1]
	if last["id"] != "opening-gpt" {
		t.Errorf("last row %v, want opening-gpt", last["id"])
	}
	if _, ok := rows[500]["id"]; ok {
		t.Errorf("row of a record without id has one: %v", rows[500]["id"])
	}
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	return rows
}

// TestDeterministicAcrossWorkers: the same bytes with 1 and 4 workers, for
// JSONL and Parquet.
func TestDeterministicAcrossWorkers(t *testing.T) {
	inputs := testInputs(t)
	var outs [][]byte
	for _, workers := range []int{1, 4} {
		dir := t.TempDir()
		runJob(t, inputs, filepath.Join(dir, "out.jsonl"), nil, workers)
		sink, err := OpenTable(TableOptions{Path: filepath.Join(dir, "out.parquet")})
		if err != nil {
			t.Fatal(err)
		}
		runJob(t, inputs, "", sink, workers)
		for _, name := range []string{"out.jsonl", "out.parquet"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b)
		}
	}
	if !bytes.Equal(outs[0], outs[2]) || !bytes.Equal(outs[1], outs[3]) {
		t.Errorf("output differs between 1 and 4 workers (jsonl equal %v, parquet equal %v)",
			bytes.Equal(outs[0], outs[2]), bytes.Equal(outs[1], outs[3]))
	}
}

// TestTablesReadBack writes Parquet (sharded), Arrow IPC file and stream,
// and the save_to_disk and Hub layouts, and reads every file back with
// independent readers (DuckDB for Parquet, apache-arrow JS for IPC): the
// rows must equal the JSONL output's, in order.
func TestTablesReadBack(t *testing.T) {
	needReaders(t)
	inputs := testInputs(t)
	dir := t.TempDir()
	runJob(t, inputs, filepath.Join(dir, "out.jsonl"), nil, 2)
	var want []string
	for _, row := range readJSONL(t, filepath.Join(dir, "out.jsonl")) {
		if _, ok := row["id"]; !ok {
			row["id"] = nil
		}
		b, _ := json.Marshal(row)
		want = append(want, string(b))
	}
	tests := []struct {
		name   string
		opts   TableOptions
		reader string
		glob   string
	}{
		{"parquet shards", TableOptions{Path: filepath.Join(dir, "p", "t.parquet"), Write: pipeline.WriteOptions{ShardRows: 150}}, "parquet", "p/t-*-of-00004.parquet"},
		{"arrow file", TableOptions{Path: filepath.Join(dir, "a", "t.arrow")}, "arrow", "a/t.arrow"},
		{"arrow stream", TableOptions{Path: filepath.Join(dir, "s", "t.bin"), Format: "arrow-stream"}, "arrow", "s/t.bin"},
		{"save_to_disk", TableOptions{HFDisk: filepath.Join(dir, "disk")}, "arrow", "disk/data-*.arrow"},
		{"hub", TableOptions{HFHub: filepath.Join(dir, "hub")}, "parquet", "hub/data/train-*.parquet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Path != "" {
				if err := os.MkdirAll(filepath.Dir(tc.opts.Path), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			sink, err := OpenTable(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			runJob(t, inputs, "", sink, 2)
			files, _ := filepath.Glob(filepath.Join(dir, tc.glob))
			if len(files) == 0 {
				t.Fatalf("no files %s", tc.glob)
			}
			if len(sink.Shards()) != len(files) {
				t.Errorf("%d shards reported, %d files", len(sink.Shards()), len(files))
			}
			slices.Sort(files)
			got := readWith(t, tc.reader, files...)
			if len(got) != len(want) {
				t.Fatalf("%d rows read back, want %d", len(got), len(want))
			}
			for i := range got {
				if g, w := canonical(t, got[i]), canonical(t, want[i]); g != w {
					t.Fatalf("row %d:\n got %.300s\nwant %.300s", i, g, w)
				}
			}
		})
	}
}

func needReaders(t *testing.T) { readertest.Need(t) }

func readWith(t *testing.T, mode string, files ...string) []string {
	return readertest.Read(t, mode, []string{"--raw"}, files...)
}

func canonical(t *testing.T, s string) string { return readertest.Canonical(t, s) }

// TestTableAbort: an aborted table leaves no file.
func TestTableAbort(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []TableOptions{
		{Path: filepath.Join(dir, "t.parquet")},
		{Path: filepath.Join(dir, "s.parquet"), Write: pipeline.WriteOptions{ShardRows: 1}},
		{HFDisk: filepath.Join(dir, "disk")},
	} {
		sink, err := OpenTable(o)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := New(Options{})
		rec := pipeline.NewRecord("x", []pipeline.Turn{{From: "human", Value: "a"}, {From: "gpt", Value: "b"}})
		ex, rerr := st.Encode(rec.Conversations)
		if rerr != nil {
			t.Fatal(rerr)
		}
		row, err := ex.Record(rec)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := sink.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		sink.Abort()
		sink.Abort()
		if err := sink.Commit(); err == nil {
			t.Error("Commit after Abort succeeded")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left after Abort: %v", names)
	}
}

func TestOpenTableErrors(t *testing.T) {
	tests := []struct {
		name string
		opts TableOptions
		want string
	}{
		{"nothing", TableOptions{}, "give one table output"},
		{"two", TableOptions{Path: "a.parquet", HFDisk: "d"}, "give one table output"},
		{"json path", TableOptions{Path: "a.jsonl"}, "not a table format"},
		{"bad format", TableOptions{Path: "a.bin", Format: "csv"}, "csv"},
		{"bad compression", TableOptions{Path: filepath.Join(t.TempDir(), "a.parquet"), Write: pipeline.WriteOptions{Compression: "lz5"}}, "lz5"},
	}
	for _, tc := range tests {
		_, err := OpenTable(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestIsTable(t *testing.T) {
	tests := []struct {
		path, format string
		want         bool
	}{
		{"a.parquet", "", true}, {"a.arrow", "", true}, {"a.arrows", "", true},
		{"a.jsonl", "", false}, {"a.json.gz", "", false}, {"-", "", false}, {"", "", false},
		{"a.bin", "parquet", true}, {"a.parquet", "jsonl", false},
	}
	for _, tc := range tests {
		if got := IsTable(tc.path, tc.format); got != tc.want {
			t.Errorf("IsTable(%q, %q) = %v, want %v", tc.path, tc.format, got, tc.want)
		}
	}
}

func TestParseInts(t *testing.T) {
	tests := []struct {
		in   string
		want []int32
		err  bool
	}{
		{"[]", nil, false},
		{"[1]", []int32{1}, false},
		{"[1,-100,32000]", []int32{1, -100, 32000}, false},
		{"[2147483647,-2147483648]", []int32{2147483647, -2147483648}, false},
		{"[2147483648]", nil, true},
		{"[1,,2]", nil, true},
		{"[1 ,2]", nil, true},
		{"[--1]", nil, true},
		{"[1.5]", nil, true},
		{"1", nil, true},
		{`["1"]`, nil, true},
	}
	for _, tc := range tests {
		got, err := parseInts([]byte(tc.in), nil)
		if (err != nil) != tc.err || (!tc.err && !slices.Equal(got, tc.want)) {
			t.Errorf("parseInts(%s) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}
