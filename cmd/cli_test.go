package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliCase is one command-line behaviour, read from testdata/cli/*.json.
// "$DIR" in any string stands for the case's temporary directory.
type cliCase struct {
	Name           string              `json:"name"`
	Args           []string            `json:"args"`
	Stdin          string              `json:"stdin"`
	Files          map[string]string   `json:"files"`
	Exit           int                 `json:"exit"`
	Stdout         *string             `json:"stdout"`
	Stderr         *string             `json:"stderr"`
	StdoutContains []string            `json:"stdout_contains"`
	StderrContains []string            `json:"stderr_contains"`
	FileContains   map[string][]string `json:"file_contains"`
	Absent         []string            `json:"absent"`
	// Unchanged names files of Files that must hold exactly what they held
	// before the run (inputs, the user's own files).
	Unchanged []string `json:"unchanged"`
	// Dirs are folders to make before the run.
	Dirs []string `json:"dirs"`
}

func TestCLI(t *testing.T) {
	files, err := filepath.Glob("../testdata/cli/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CLI cases: %v", err)
	}
	var cases []cliCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var more []cliCase
		if err := json.Unmarshal(data, &more); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i := range more {
			more[i].Name = strings.TrimSuffix(filepath.Base(f), ".json") + ": " + more[i].Name
		}
		cases = append(cases, more...)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			dir := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
			for _, d := range tc.Dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tc.Files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var args []string
			for _, a := range tc.Args {
				args = append(args, expand(a))
			}
			var stdout, stderr bytes.Buffer
			ios := &IOStreams{In: strings.NewReader(tc.Stdin), Out: &stdout, ErrOut: &stderr}
			code := Execute(context.Background(), ios, args)
			if code != tc.Exit {
				t.Errorf("exit status %d, want %d\nstderr: %s", code, tc.Exit, stderr.String())
			}
			if tc.Stdout != nil && stdout.String() != expand(*tc.Stdout) {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), expand(*tc.Stdout))
			}
			if tc.Stderr != nil && stderr.String() != expand(*tc.Stderr) {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), expand(*tc.Stderr))
			}
			for _, s := range tc.StdoutContains {
				if !strings.Contains(stdout.String(), expand(s)) {
					t.Errorf("stdout lacks %q:\n%s", expand(s), stdout.String())
				}
			}
			for _, s := range tc.StderrContains {
				if !strings.Contains(stderr.String(), expand(s)) {
					t.Errorf("stderr lacks %q:\n%s", expand(s), stderr.String())
				}
			}
			for name, wants := range tc.FileContains {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				for _, s := range wants {
					if !strings.Contains(string(got), expand(s)) {
						t.Errorf("%s lacks %q:\n%s", name, expand(s), got)
					}
				}
			}
			for _, name := range tc.Unchanged {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || string(got) != tc.Files[name] {
					t.Errorf("%s was changed or removed (%v)", name, err)
				}
			}
			for _, name := range tc.Absent {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					t.Errorf("%s exists after a failed run", name)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file left: %s", e.Name())
				}
			}
		})
	}
}
