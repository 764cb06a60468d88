package hfdataset

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/pipeline"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

func registry() *pipeline.Registry {
	return pipeline.NewRegistry(append(pipeline.JSONFormats(), columnar.Formats()...)...)
}

// export runs what `sharegpt export` runs.
func export(t *testing.T, opts ExportOptions, inputs ...string) []Split {
	t.Helper()
	ex, err := NewExporter(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	var splits []Split
	job := &pipeline.Job{
		Command: "export", Registry: registry(), Inputs: inputs, Workers: 2, Sink: ex,
		Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{},
		Finish: func(*pipeline.Report) error {
			var err error
			splits, err = ex.Finish(context.Background())
			return err
		},
	}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return splits
}

// readRecords reads files back through the pipeline as JSONL lines.
func readRecords(t *testing.T, files ...string) []string {
	t.Helper()
	var out bytes.Buffer
	job := &pipeline.Job{Command: "convert", Registry: registry(), Inputs: files, Output: "-", Workers: 2,
		AllowNoConversations: true, Stdin: strings.NewReader(""), Stdout: &out}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

func ids(t *testing.T, recs []string) []string {
	var out []string
	for _, r := range recs {
		var v struct{ ID string }
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID)
	}
	return out
}

// TestDiskMetadataFormat: dataset_info.json and state.json byte for byte
// as datasets' save_to_disk writes them, here for a two-column table as in
// a public repository's fixture written by datasets itself.
func TestDiskMetadataFormat(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "text", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	}, nil)
	fs, err := columnar.HFFeatures(schema)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := "{\n  \"citation\": \"\",\n  \"description\": \"\",\n  \"features\": {\n    \"text\": {\n      \"dtype\": \"large_string\",\n      \"_type\": \"Value\"\n    },\n    \"label\": {\n      \"dtype\": \"large_string\",\n      \"_type\": \"Value\"\n    }\n  },\n  \"homepage\": \"\",\n  \"license\": \"\"\n}"
	if got := string(datasetInfoJSON(fs)); got != wantInfo {
		t.Errorf("dataset_info.json:\n%s\nwant\n%s", got, wantInfo)
	}
	wantState := "{\n  \"_data_files\": [\n    {\n      \"filename\": \"data-00000-of-00001.arrow\"\n    }\n  ],\n  \"_fingerprint\": \"dfb75333adb6d0e7\",\n  \"_format_columns\": null,\n  \"_format_kwargs\": {},\n  \"_format_type\": null,\n  \"_output_all_columns\": false,\n  \"_split\": null\n}"
	s := Split{Shards: []columnar.Shard{{Path: "/x/data-00000-of-00001.arrow"}}}
	if got := string(stateJSON(s, "dfb75333adb6d0e7")); got != wantState {
		t.Errorf("state.json:\n%s\nwant\n%s", got, wantState)
	}
	// the Arrow schema metadata datasets writes: json.dumps({"info": {"features": ...}})
	md, err := columnar.HFSchemaMetadata(schema)
	if err != nil {
		t.Fatal(err)
	}
	wantMD := `{"info": {"features": {"text": {"dtype": "large_string", "_type": "Value"}, "label": {"dtype": "large_string", "_type": "Value"}}}}`
	if string(md) != wantMD {
		t.Errorf("huggingface metadata %s, want %s", md, wantMD)
	}
}

func TestFeatures(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "input_ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
		{Name: "attention_mask", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8)},
		{Name: "conversations", Type: arrow.ListOf(columnar.TurnType)},
		{Name: "n_tokens", Type: arrow.PrimitiveTypes.Int64},
		{Name: "meta", Type: arrow.StructOf(arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean})},
	}, nil)
	md, err := columnar.HFSchemaMetadata(schema)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"info": {"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "_type": "Sequence"}, ` +
		`"attention_mask": {"feature": {"dtype": "int8", "_type": "Value"}, "_type": "Sequence"}, ` +
		`"conversations": [{"from": {"dtype": "string", "_type": "Value"}, "value": {"dtype": "string", "_type": "Value"}}], ` +
		`"n_tokens": {"dtype": "int64", "_type": "Value"}, "meta": {"ok": {"dtype": "bool", "_type": "Value"}}}}}`
	if string(md) != want {
		t.Errorf("features\n%s\nwant\n%s", md, want)
	}
	fs, _ := columnar.HFFeatures(schema)
	yaml := string(columnar.FeaturesYAML(nil, fs, 2))
	wantYAML := "  - name: input_ids\n    sequence: int32\n  - name: attention_mask\n    sequence: int8\n" +
		"  - name: conversations\n    list:\n    - name: from\n      dtype: string\n    - name: value\n      dtype: string\n" +
		"  - name: n_tokens\n    dtype: int64\n  - name: meta\n    struct:\n    - name: ok\n      dtype: bool\n"
	if yaml != wantYAML {
		t.Errorf("YAML\n%s\nwant\n%s", yaml, wantYAML)
	}
	if _, err := columnar.HFFeatures(arrow.NewSchema([]arrow.Field{{Name: "t", Type: arrow.FixedWidthTypes.Date32}}, nil)); err == nil {
		t.Error("a type without a feature was accepted")
	}
}

const sample = "../../testdata/sharegpt/sharegpt_v3_sample_1000.json"

// fastchatSplit runs FastChat's split_train_test logic with numpy on a
// JSON array and returns the train and test ids.
func fastchatSplit(t *testing.T, path string, ratio string) (train, test []string) {
	t.Helper()
	oracle.NeedModule(t, "numpy")
	prog := `import json, sys, numpy as np
content = json.load(open(sys.argv[1]))
np.random.seed(0)
perm = np.random.permutation(len(content))
content = [content[i] for i in perm]
split = int(float(sys.argv[2]) * len(content))
print(json.dumps([[c["id"] for c in content[:split]], [c["id"] for c in content[split:]]]))
`
	out, err := exec.Command(oracle.Python, "-c", prog, path, ratio).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var v [2][]string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v[0], v[1]
}

// TestExportDiskSplit: --hf-disk --split-ratio 0.99 --seed 0 gives
// FastChat's train and test sets, in its order, as a DatasetDict folder.
func TestExportDiskSplit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	splits := export(t, ExportOptions{Kind: Disk, Dir: dir, SplitRatio: 0.99, Seed: 0}, sample)
	if len(splits) != 2 || splits[0].Rows != 990 || splits[1].Rows != 10 {
		t.Fatalf("splits %+v", splits)
	}
	var names []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	want := []string{"dataset_dict.json", "test/data-00000-of-00001.arrow", "test/dataset_info.json", "test/state.json",
		"train/data-00000-of-00001.arrow", "train/dataset_info.json", "train/state.json"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	if got := string(readFile(t, filepath.Join(dir, "dataset_dict.json"))); got != `{"splits": ["train", "test"]}` {
		t.Errorf("dataset_dict.json %s", got)
	}
	for _, sp := range []string{"train", "test"} {
		var state struct {
			DataFiles []struct{ Filename string } `json:"_data_files"`
			FP        string                      `json:"_fingerprint"`
			Split     string                      `json:"_split"`
		}
		if err := json.Unmarshal(readFile(t, filepath.Join(dir, sp, "state.json")), &state); err != nil {
			t.Fatal(err)
		}
		if len(state.DataFiles) != 1 || state.DataFiles[0].Filename != "data-00000-of-00001.arrow" || state.Split != sp ||
			!regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(state.FP) {
			t.Errorf("%s/state.json: %+v", sp, state)
		}
		info := string(readFile(t, filepath.Join(dir, sp, "dataset_info.json")))
		if !strings.Contains(info, `"conversations": [`) || strings.Contains(info, "_layout") || strings.Contains(info, "extra") {
			t.Errorf("%s/dataset_info.json features: %s", sp, info)
		}
	}
	got := [2][]string{ids(t, readRecords(t, filepath.Join(dir, "train", "data-00000-of-00001.arrow"))),
		ids(t, readRecords(t, filepath.Join(dir, "test", "data-00000-of-00001.arrow")))}
	wantTrain, wantTest := fastchatSplit(t, sample, "0.99")
	if !slices.Equal(got[0], wantTrain) || !slices.Equal(got[1], wantTest) {
		t.Errorf("split differs from FastChat's: test %v, want %v", got[1], wantTest)
	}
}

// TestExportDiskWhole: without a ratio, one Dataset in input order, with
// the records exactly as read (the export can be read back).
func TestExportDiskWhole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	if err := os.MkdirAll(filepath.Join(dir, "old"), 0o755); err != nil { // replaced as a whole (forced)
		t.Fatal(err)
	}
	inputs := []string{sample, "../../testdata/columnar/sample.jsonl"}
	export(t, ExportOptions{Kind: Disk, Dir: dir, Options: Options{ShardRows: 400, Force: true}}, inputs...)
	files, _ := filepath.Glob(filepath.Join(dir, "data-*.arrow"))
	sort.Strings(files)
	if len(files) != 3 || filepath.Base(files[2]) != "data-00002-of-00003.arrow" {
		t.Fatalf("files %v", files)
	}
	if _, err := os.Stat(filepath.Join(dir, "old")); err == nil {
		t.Error("the old folder's content survived")
	}
	state := string(readFile(t, filepath.Join(dir, "state.json")))
	for _, f := range files {
		if !strings.Contains(state, `"filename": "`+filepath.Base(f)+`"`) {
			t.Errorf("state.json lacks %s", filepath.Base(f))
		}
	}
	got := readRecords(t, files...)
	want := readRecords(t, inputs...)
	// the record that has no conversations is rejected (a dataset row needs them)
	var wantKept []string
	for _, r := range want {
		if strings.Contains(r, `"conversations"`) {
			wantKept = append(wantKept, r)
		}
	}
	if len(got) != len(wantKept) {
		t.Fatalf("%d records, want %d", len(got), len(wantKept))
	}
	for i := range got {
		if canonicalJSON(t, got[i]) != canonicalJSON(t, wantKept[i]) {
			t.Errorf("record %d:\n got %.200s\nwant %.200s", i, got[i], wantKept[i])
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
}

// TestExportHub: Parquet shards under data/ and a dataset card whose
// header declares configs and dataset_info.
func TestExportHub(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("*.parquet filter=lfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	splits := export(t, ExportOptions{Kind: Hub, Dir: dir, SplitRatio: 0.9, Seed: 0,
		Options: Options{ShardBytes: 1_000_000}}, sample)
	if len(splits) != 2 || splits[0].Rows != 900 || splits[1].Rows != 100 || len(splits[0].Shards) < 2 {
		t.Fatalf("splits %+v", splits)
	}
	card := string(readFile(t, filepath.Join(dir, "README.md")))
	for _, want := range []string{
		"---\ndataset_info:\n  features:\n  - name: id\n    dtype: string\n  - name: conversations\n    list:\n    - name: from\n      dtype: string\n    - name: value\n      dtype: string\n  splits:\n  - name: train\n",
		"    num_examples: 900\n", "  - name: test\n", "    num_examples: 100\n", "  download_size: ", "  dataset_size: ",
		"configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n  - split: test\n    path: data/test-*\n---\n",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("README.md lacks %q:\n%s", want, card)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitattributes")); err != nil {
		t.Error("the folder's other files were removed")
	}
	var train []string
	for _, s := range splits[0].Shards {
		if !strings.HasPrefix(s.Path, filepath.Join(dir, "data", "train-")) {
			t.Errorf("shard %s", s.Path)
		}
		train = append(train, s.Path)
	}
	wantTrain, _ := fastchatSplit(t, sample, "0.9")
	if got := ids(t, readRecords(t, train...)); !slices.Equal(got, wantTrain) {
		t.Error("train split differs from FastChat's")
	}
}

// TestLayoutTables: any schema (pre-tokenized rows) into both layouts.
func TestLayoutTables(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "input_ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
	}, nil)
	for _, kind := range []Kind{Disk, Hub} {
		dir := filepath.Join(t.TempDir(), "out")
		create := CreateDisk
		if kind == Hub {
			create = CreateHub
		}
		l, err := create(dir, schema, nil, Options{ShardRows: 3})
		if err != nil {
			t.Fatal(err)
		}
		w := l.Split("")
		for i := 0; i < 7; i++ {
			b := w.Builder()
			b.Field(0).(*array.StringBuilder).Append("r")
			lb := b.Field(1).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{1, int32(i)}, nil)
			if err := w.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		splits, err := l.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if len(splits) != 1 || splits[0].Rows != 7 || len(splits[0].Shards) != 3 {
			t.Fatalf("%v: %+v", kind, splits)
		}
		if kind == Disk {
			info := string(readFile(t, filepath.Join(dir, "dataset_info.json")))
			if !strings.Contains(info, "\"input_ids\": {\n      \"feature\": {\n        \"dtype\": \"int32\",\n        \"_type\": \"Value\"\n      },\n      \"_type\": \"Sequence\"\n    }") {
				t.Errorf("dataset_info.json:\n%s", info)
			}
		} else if !strings.Contains(string(readFile(t, filepath.Join(dir, "README.md"))), "  - name: input_ids\n    sequence: int32\n") {
			t.Error("README.md lacks the input_ids feature")
		}
	}
	if _, err := CreateDisk(t.TempDir(), schema, []string{"train", "bad name"}, Options{}); err == nil {
		t.Error("a bad split name was accepted")
	}
}

// TestLayoutAbort: an aborted save_to_disk folder leaves nothing, and the
// folder that was there stays.
func TestLayoutAbort(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := CreateDisk(dir, columnar.RecordSchema(), nil, Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Abort()
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "ds" {
		t.Errorf("after Abort: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep")); err != nil {
		t.Error("the existing folder was touched")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func canonicalJSON(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
