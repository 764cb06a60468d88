package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stagePackages are the packages of the card's stages and the other
// commands: none may import another (they share pipeline and internal/).
var stagePackages = []string{"augment", "clean", "dedup", "identity", "importer", "sample", "split", "stats", "tokenize", "validate"}

// TestStagesDoNotImportEachOther checks the layout rule with go list.
func TestStagesDoNotImportEachOther(t *testing.T) {
	const mod = "github.com/sharegpt/sharegpt/"
	var pkgs []string
	for _, p := range stagePackages {
		if _, err := os.Stat(filepath.Join("..", p)); err == nil {
			pkgs = append(pkgs, "./"+p)
		}
	}
	cmd := exec.Command("go", append([]string{"list", "-deps=false", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}"}, pkgs...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if rest, ok := strings.CutPrefix(imp, mod); ok && slices.Contains(stagePackages, rest) {
				t.Errorf("%s imports the stage %s", pkg, imp)
			}
		}
	}
}

// TestREADMELayout checks that every top-level folder and every package
// under internal/ is named in the README's layout table.
func TestREADMELayout(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), "Layout, stages first:")
	if i < 0 {
		t.Fatal("README has no layout section")
	}
	layout := string(readme[i:])
	if j := strings.Index(layout, "\n\n| path"); j >= 0 {
		if k := strings.Index(layout[j+2:], "\n\n"); k >= 0 {
			layout = layout[:j+2+k]
		}
	}
	var dirs []string
	for _, pattern := range []string{"../*", "../internal/*"} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil || !st.IsDir() || strings.HasPrefix(filepath.Base(m), ".") {
				continue
			}
			rel := strings.TrimPrefix(m, "../")
			switch rel {
			case "bin", "out", "internal", "node_modules":
				continue
			}
			dirs = append(dirs, rel)
		}
	}
	for _, d := range dirs {
		if !strings.Contains(layout, "`"+d+"/`") && !strings.Contains(layout, "`"+d+"`") {
			t.Errorf("README's layout table does not name %s/", d)
		}
	}
}
