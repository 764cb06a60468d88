package hfdataset

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestInputFiles(t *testing.T) {
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state := `{"_data_files": [{"filename": "data-00000-of-00002.arrow"}, {"filename": "data-00001-of-00002.arrow"}]}`
	write("disk/state.json", state)
	write("dict/dataset_dict.json", `{"splits": ["train", "test"]}`)
	write("dict/train/state.json", state)
	write("dict/test/state.json", `{"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}`)
	write("hub/data/train-00001-of-00002.parquet", "")
	write("hub/data/train-00000-of-00002.parquet", "")
	write("hub/data/test-00000-of-00001.parquet", "")
	write("hub1/data/train-00000-of-00001.parquet", "")
	write("nested/data/train/0000.parquet", "")
	write("evil/state.json", `{"_data_files": [{"filename": "../../etc/passwd"}]}`)
	write("plain/notes.txt", "")
	tests := []struct {
		dir, split string
		want       []string
		err        string
	}{
		{"disk", "", []string{"disk/data-00000-of-00002.arrow", "disk/data-00001-of-00002.arrow"}, ""},
		{"disk", "train", nil, "a dataset without splits"},
		{"dict", "test", []string{"dict/test/data-00000-of-00001.arrow"}, ""},
		{"dict", "", nil, "holds the splits train, test: choose one with split"},
		{"dict", "dev", nil, `has no split "dev" (it has train, test)`},
		{"hub", "train", []string{"hub/data/train-00000-of-00002.parquet", "hub/data/train-00001-of-00002.parquet"}, ""},
		{"hub", "", nil, "holds the splits test, train"},
		{"hub1", "", []string{"hub1/data/train-00000-of-00001.parquet"}, ""},
		{"nested", "train", []string{"nested/data/train/0000.parquet"}, ""},
		{"evil", "", nil, "bad data file name"},
		{"plain", "", nil, "not a dataset folder"},
	}
	for _, tt := range tests {
		got, err := InputFiles(filepath.Join(root, tt.dir), tt.split)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %q: error %v, want %q", tt.dir, tt.split, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.dir, tt.split, err)
			continue
		}
		for i := range got {
			got[i], _ = filepath.Rel(root, got[i])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q: %v, want %v", tt.dir, tt.split, got, tt.want)
		}
	}
}
