package hfdataset

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIndependentReaders: apache-arrow (JS) reads the save_to_disk .arrow
// files (IPC streams with the "huggingface" metadata) and DuckDB the Hub
// Parquet shards, with the same records as the source.
func TestIndependentReaders(t *testing.T) {
	readers := "../scripts/readers"
	if _, err := os.Stat(filepath.Join(readers, "node_modules", "apache-arrow")); err != nil {
		t.Skip("independent readers not installed: run scripts/install-readers.sh (needs node and npm)")
	}
	inputs := []string{sample, "../testdata/sharegpt/dialogstudio_example.json"}
	var want []string
	for _, r := range readRecords(t, inputs...) {
		want = append(want, canonicalJSON(t, r))
	}
	slices.Sort(want)
	run := func(args ...string) []string {
		cmd := exec.Command("node", append([]string{filepath.Join(readers, "read.mjs")}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node %v: %v\n%s", args, err, stderr.String())
		}
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
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
	check("save_to_disk .arrow via apache-arrow", run(append([]string{"arrow"}, arrows...)...))
	schema := strings.Join(run("arrow", "--schema", arrows[0]), "")
	if !strings.Contains(schema, `"metadata":["sharegpt","huggingface"]`) && !strings.Contains(schema, `"huggingface"`) {
		t.Errorf("schema lacks the huggingface metadata: %s", schema)
	}
	hub := t.TempDir()
	export(t, ExportOptions{Kind: Hub, Dir: hub, SplitRatio: 0.99}, inputs...)
	parquets, _ := filepath.Glob(filepath.Join(hub, "data", "*.parquet"))
	check("Hub Parquet via DuckDB", run(append([]string{"parquet"}, parquets...)...))
}
