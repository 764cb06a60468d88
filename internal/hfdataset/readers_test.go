package hfdataset

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/readertest"
)

// TestIndependentReaders: apache-arrow (JS) reads the save_to_disk .arrow
// files (IPC streams with the "huggingface" metadata) and DuckDB the Hub
// Parquet shards, with the same records as the source.
func TestIndependentReaders(t *testing.T) {
	readertest.Need(t)
	inputs := []string{sample, "../../testdata/sharegpt/dialogstudio_example.json"}
	var want []string
	for _, r := range readRecords(t, inputs...) {
		want = append(want, canonicalJSON(t, r))
	}
	slices.Sort(want)
	run := func(mode string, args ...string) []string {
		var flags, files []string
		for _, a := range args {
			if strings.HasPrefix(a, "--") {
				flags = append(flags, a)
			} else {
				files = append(files, a)
			}
		}
		return readertest.Read(t, mode, flags, files...)
	}
	check := func(what string, got []string) {
		t.Helper()
		var c []string
		for _, g := range got {
			c = append(c, canonicalJSON(t, g))
		}
		slices.Sort(c) // a split permutes the records
		if !slices.Equal(c, want) {
			t.Errorf("%s: %d records differ from the source's %d", what, len(c), len(want))
		}
	}
	disk := filepath.Join(t.TempDir(), "disk")
	export(t, ExportOptions{Kind: Disk, Dir: disk, SplitRatio: 0.99, Options: Options{ShardBytes: 2_000_000}}, inputs...)
	arrows, _ := filepath.Glob(filepath.Join(disk, "*", "data-*.arrow"))
	if len(arrows) < 3 {
		t.Fatalf("arrow files %v", arrows)
	}
	check("save_to_disk .arrow via apache-arrow", run("arrow", arrows...))
	schema := strings.Join(run("arrow", "--schema", arrows[0]), "")
	if !strings.Contains(schema, `"metadata":["sharegpt","huggingface"]`) && !strings.Contains(schema, `"huggingface"`) {
		t.Errorf("schema lacks the huggingface metadata: %s", schema)
	}
	hub := t.TempDir()
	export(t, ExportOptions{Kind: Hub, Dir: hub, SplitRatio: 0.99}, inputs...)
	parquets, _ := filepath.Glob(filepath.Join(hub, "data", "*.parquet"))
	check("Hub Parquet via DuckDB", run("parquet", parquets...))
}
