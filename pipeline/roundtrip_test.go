package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

// realFiles are the real data files the tests read (copied from
// shared/data with their licences; see testdata/SOURCES.md).
func realFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"../testdata/sharegpt/*.json", "../testdata/multilingual/*.json*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 9 {
		t.Fatalf("found only %d data files: %v", len(files), files)
	}
	return files
}

// convertFile runs the convert job (no stages) from in to out.
func convertFile(t testing.TB, in, out string, workers int) *Report {
	t.Helper()
	job := &Job{
		Command:              "convert",
		Registry:             NewRegistry(JSONFormats()...),
		Inputs:               []string{in},
		Output:               out,
		Workers:              workers,
		AllowNoConversations: true,
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("convert %s -> %s: %v", in, out, err)
	}
	return rep
}

// loadGeneric reads a JSON array, a single object, or JSONL as generic
// values, with encoding/json (an independent reader).
func loadGeneric(t testing.TB, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []any
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if arr, ok := v.([]any); ok {
			out = append(out, arr...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// TestRoundTripRealData converts every real data file JSON -> JSONL ->
// JSON and checks that the records (fields, turn order) are unchanged.
func TestRoundTripRealData(t *testing.T) {
	dir := t.TempDir()
	for _, in := range realFiles(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			mid := filepath.Join(dir, filepath.Base(in)+".jsonl")
			out := filepath.Join(dir, filepath.Base(in)+".out.json")
			rep := convertFile(t, in, mid, 2)
			convertFile(t, mid, out, 3)
			want := loadGeneric(t, in)
			if rep.RecordsIn != int64(len(want)) || rep.RecordsOut != rep.RecordsIn {
				t.Fatalf("report: %d in, %d out; file has %d records", rep.RecordsIn, rep.RecordsOut, len(want))
			}
			for _, path := range []string{mid, out} {
				got := loadGeneric(t, path)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: records differ from the input", filepath.Base(path))
				}
			}
		})
	}
}

// TestJSONWriterMatchesPython checks the JSON array writer byte for byte
// against Python's json.dump(indent=2, ensure_ascii=False).
func TestJSONWriterMatchesPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		oracle.Missing(t, "oracle unavailable: python3 not found")
	}
	dir := t.TempDir()
	for _, in := range realFiles(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			out := filepath.Join(dir, "go.json")
			convertFile(t, in, out, 2)
			ref := filepath.Join(dir, "py.json")
			script := `import json, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    text = f.read()
try:
    data = json.loads(text)
    if not isinstance(data, list):
        data = [data]
except json.JSONDecodeError:
    data = [json.loads(l) for l in text.splitlines() if l.strip()]
with open(dst, "w", encoding="utf-8") as f:
    json.dump(data, f, indent=2, ensure_ascii=False)
`
			cmd := exec.Command(python, "-c", script, in, ref)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("python: %v\n%s", err, msg)
			}
			got, _ := os.ReadFile(out)
			want, _ := os.ReadFile(ref)
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("differs from Python at byte %d: go %q, python %q", i, snippet(got, i), snippet(want, i))
			}
		})
	}
}

func snippet(b []byte, i int) string {
	lo, hi := max(0, i-40), min(len(b), i+40)
	return string(b[lo:hi])
}
