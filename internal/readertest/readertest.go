// Package readertest runs the independent readers of the files sharegpt
// writes, for tests: DuckDB (npm @duckdb/node-api) for Parquet and
// apache-arrow (JS) for Arrow IPC, which scripts/install-readers.sh
// installs into scripts/readers. Tests skip when they are missing, and
// fail instead when the CI environment variable is set, so that CI cannot
// pass by skipping.
package readertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

// dir is the readers' folder: scripts/readers at the root of the module
// holding the test's package (found by walking up to go.mod, so that a
// package at any depth finds it).
func dir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "scripts", "readers")
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatal("readertest: no go.mod above the test's directory")
		}
		d = parent
	}
}

// Need skips (or, in CI, fails) t when the readers are not installed.
func Need(t testing.TB) {
	t.Helper()
	missing := func(msg string) { t.Helper(); oracle.Missing(t, "%s", msg) }
	if _, err := os.Stat(filepath.Join(dir(t), "node_modules", "@duckdb", "node-api")); err != nil {
		missing("independent readers not installed: run scripts/install-readers.sh (needs node and npm)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node not found; the independent readers need it")
	}
}

// Read runs read.mjs in mode "parquet" (DuckDB) or "arrow" (apache-arrow)
// with extra arguments over files, and returns one JSON text per row.
func Read(t testing.TB, mode string, extra []string, files ...string) []string {
	t.Helper()
	args := append([]string{filepath.Join(dir(t), "read.mjs"), mode}, extra...)
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, abs)
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.mjs %s %v: %v\n%s", mode, files, err, stderr.String())
	}
	var rows []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		rows = append(rows, sc.Text())
	}
	return rows
}

// Canonical re-encodes a JSON text with sorted keys, so that member order
// does not count.
func Canonical(t testing.TB, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %.200s", err, s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
