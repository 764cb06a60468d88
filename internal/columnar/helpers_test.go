package columnar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/ipc"

	"github.com/sharegpt/sharegpt/pipeline"
)

// registry is what cmd's registry holds: JSON formats and these.
func registry() *pipeline.Registry {
	return pipeline.NewRegistry(append(pipeline.JSONFormats(), Formats()...)...)
}

// convert runs a convert job (no stages) from inputs to output.
func convert(t testing.TB, output string, write pipeline.WriteOptions, inputs ...string) *pipeline.Report {
	t.Helper()
	rep, err := convertErr(output, write, "", inputs...)
	if err != nil {
		t.Fatalf("convert %v -> %s: %v", inputs, output, err)
	}
	return rep
}

func convertErr(output string, write pipeline.WriteOptions, stdin string, inputs ...string) (*pipeline.Report, error) {
	job := &pipeline.Job{
		Command:              "convert",
		Registry:             registry(),
		Inputs:               inputs,
		Output:               output,
		Write:                write,
		Workers:              2,
		AllowNoConversations: true,
		Stdin:                strings.NewReader(stdin),
		Stdout:               &bytes.Buffer{},
	}
	return job.Run(context.Background())
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleInputs are the real data files of testdata/ with conversations.
func sampleInputs(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"../../testdata/sharegpt/*.json", "../../testdata/multilingual/*.json*", "../../testdata/columnar/sample.jsonl"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("sample data missing: %v", files)
	}
	return files
}

// listDir returns the names in dir, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// rawRows reads an Arrow IPC file's rows as JSON objects of its columns.
func rawRows(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	var rows []map[string]any
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.RecordAt(i)
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			row := map[string]any{}
			for c, fld := range rec.Schema().Fields() {
				var v any
				if err := json.Unmarshal(appendValue(nil, rec.Column(c), r), &v); err != nil {
					t.Fatal(err)
				}
				row[fld.Name] = v
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return rows
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
