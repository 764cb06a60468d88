package hfdataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	card := "---\ndataset_info:\n  features: []\n---\n\n# Dataset\n\n| split | examples | Parquet files |\n|---|---|---|\n"
	tests := []struct {
		name  string
		kind  Kind
		files map[string]string // "name/" makes a folder
		force bool
		want  string // "" accepts
	}{
		{"absent", Disk, nil, false, ""},
		{"empty folder", Disk, map[string]string{"/": ""}, false, ""},
		{"a Dataset", Disk, map[string]string{"state.json": "{}", "dataset_info.json": "{}", "data-00000-of-00002.arrow": "", "data-00001-of-00002.arrow": "", "cache-abc123.arrow": ""}, false, ""},
		{"a DatasetDict", Disk, map[string]string{"dataset_dict.json": "{}", "train/state.json": "{}", "train/data-00000-of-00001.arrow": "", "test/state.json": "{}"}, false, ""},
		{"a Dataset with the user's file", Disk, map[string]string{"state.json": "{}", "notes.txt": ""}, false, "notes.txt"},
		{"a DatasetDict split with the user's file", Disk, map[string]string{"dataset_dict.json": "{}", "train/state.json": "{}", "train/x.jsonl": ""}, false, "x.jsonl"},
		{"a DatasetDict with an empty split folder", Disk, map[string]string{"dataset_dict.json": "{}", "train/": ""}, false, "empty folder"},
		{"Arrow files without state.json", Disk, map[string]string{"data-00000-of-00001.arrow": ""}, false, "no state.json"},
		{"the user's folder", Disk, map[string]string{"train.jsonl": "{}"}, false, "train.jsonl"},
		{"the user's folder, forced", Disk, map[string]string{"train.jsonl": "{}"}, true, ""},
		{"a file", Disk, map[string]string{"": "data"}, true, "is a file"},
		{"Hub: a repository clone", Hub, map[string]string{".git/HEAD": "x", ".gitattributes": "x", "README.md": card, "data/train-00000-of-00001.parquet": ""}, false, ""},
		{"Hub: the user's card", Hub, map[string]string{"README.md": "# mine\n"}, false, "README.md"},
		{"Hub: the user's card, forced", Hub, map[string]string{"README.md": "# mine\n"}, true, ""},
		{"Hub: the user's data", Hub, map[string]string{"data/raw.jsonl": ""}, false, "raw.jsonl"},
		{"Hub: a folder in data", Hub, map[string]string{"data/sub/x.parquet": ""}, false, "sub"},
		{"Hub: a file", Hub, map[string]string{"": "data"}, true, "is a file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			for name, text := range tc.files {
				path := filepath.Join(dir, name)
				switch {
				case name == "":
					os.WriteFile(dir, []byte(text), 0o644)
					continue
				case strings.HasSuffix(name, "/"):
					os.MkdirAll(path, 0o755)
					continue
				}
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(text), 0o644)
			}
			err := CheckTarget(tc.kind, dir, tc.force)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
