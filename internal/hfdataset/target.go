package hfdataset

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// What a layout may replace. A save_to_disk folder (--hf-disk) is replaced
// whole, so it must be absent, empty, or a folder this package would have
// written: a Dataset (state.json, dataset_info.json, data-00000-of-0000N.arrow
// and the cache-*.arrow files datasets adds beside them) or a DatasetDict
// (dataset_dict.json and one such Dataset folder per split). In a Hub folder
// (--hf-hub) only data/ and README.md are replaced: data/ must hold nothing
// but Parquet files, and README.md must be a card this package wrote. Any
// other folder is refused unless forced; a file is never replaced by a
// folder, forced or not.

var (
	arrowShard = regexp.MustCompile(`^data-\d{5}-of-\d{5}\.arrow$`)
	cacheFile  = regexp.MustCompile(`^cache-[\w.-]+\.arrow$`)
)

// CheckTarget reports whether a layout of kind may be written at dir,
// replacing what is there; force accepts folders it does not recognise.
func CheckTarget(kind Kind, dir string, force bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &pipeline.OutputError{Path: dir, Msg: err.Error()}
	}
	if !fi.IsDir() {
		return &pipeline.OutputError{Path: dir, Msg: "is a file, not a folder; a dataset folder never replaces a file"}
	}
	var foreign string
	if kind == Disk {
		foreign = foreignDisk(dir)
	} else {
		foreign = foreignHub(dir)
	}
	if foreign == "" || force {
		return nil
	}
	return &pipeline.OutputError{Path: dir, Msg: "holds " + foreign + ", which sharegpt did not write and would replace: choose another folder, or --force to replace it"}
}

// Replaces returns the paths a layout of kind at dir replaces: the folders
// and the files, for a check that none holds or is an input.
func Replaces(kind Kind, dir string) (folders, files []string) {
	if kind == Disk {
		return []string{dir}, nil
	}
	if _, err := os.Lstat(dir); err != nil {
		return []string{dir}, nil
	}
	return []string{filepath.Join(dir, "data")}, []string{filepath.Join(dir, "README.md")}
}

// foreignDisk returns the first entry of dir that a save_to_disk folder
// does not have, or "" when dir is empty or such a folder.
func foreignDisk(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return dir
	}
	if len(entries) == 0 {
		return ""
	}
	if has(entries, "dataset_dict.json") {
		for _, e := range entries {
			switch {
			case e.Name() == "dataset_dict.json" && e.Type().IsRegular():
			case e.IsDir():
				if f := foreignDataset(filepath.Join(dir, e.Name())); f != "" {
					return f
				}
			default:
				return filepath.Join(dir, e.Name())
			}
		}
		return ""
	}
	return foreignDataset(dir)
}

// foreignDataset returns the first entry of dir that one save_to_disk
// Dataset does not have ("" for none); state.json must be there.
func foreignDataset(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return dir
	}
	if !has(entries, "state.json") {
		if len(entries) == 0 {
			return dir + " (an empty folder)"
		}
		return filepath.Join(dir, entries[0].Name()) + " (no state.json: not a save_to_disk folder)"
	}
	for _, e := range entries {
		name := e.Name()
		ok := e.Type().IsRegular() && (name == "state.json" || name == "dataset_info.json" ||
			arrowShard.MatchString(name) || cacheFile.MatchString(name))
		if !ok {
			return filepath.Join(dir, name)
		}
	}
	return ""
}

// foreignHub returns the first entry of a Hub folder that a layout would
// replace without having written it: anything but Parquet files in data/,
// or a README.md that is not a sharegpt dataset card.
func foreignHub(dir string) string {
	data := filepath.Join(dir, "data")
	if entries, err := os.ReadDir(data); err == nil {
		for _, e := range entries {
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".parquet") {
				return filepath.Join(data, e.Name())
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return data
	}
	readme := filepath.Join(dir, "README.md")
	b, err := os.ReadFile(readme)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ""
	case err != nil || !isOwnCard(b):
		return readme
	}
	return ""
}

// isOwnCard reports whether a README.md is a dataset card commitHub wrote.
func isOwnCard(b []byte) bool {
	return bytes.HasPrefix(b, []byte("---\ndataset_info:\n")) &&
		bytes.Contains(b, []byte("\n| split | examples | Parquet files |\n"))
}

func has(entries []os.DirEntry, name string) bool {
	for _, e := range entries {
		if e.Name() == name {
			return true
		}
	}
	return false
}
