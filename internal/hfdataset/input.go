package hfdataset

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// InputFiles lists the data files of a dataset folder, so that every
// command reads what export and tokenize write:
//
//   - a save_to_disk Dataset: state.json's _data_files (Arrow IPC streams);
//   - a save_to_disk DatasetDict: dataset_dict.json's splits, each a
//     Dataset folder;
//   - a Hub folder: data/SPLIT-*.parquet (or data/SPLIT/*.parquet).
//
// split chooses among several splits; "" takes the only one, and is an
// error naming the splits when there are several. A folder of none of
// these layouts is an error saying what was expected.
func InputFiles(dir, split string) ([]string, error) {
	switch {
	case exists(filepath.Join(dir, "dataset_dict.json")):
		return dictFiles(dir, split)
	case exists(filepath.Join(dir, "state.json")):
		if split != "" {
			return nil, pipeline.OptionErrorf("%s is a dataset without splits: drop {split} %q", dir, split)
		}
		return diskFiles(dir)
	case exists(filepath.Join(dir, "data")):
		return hubFiles(dir, split)
	}
	return nil, fmt.Errorf("%s is a folder, but not a dataset folder (save_to_disk's state.json or dataset_dict.json, or a Hub folder's data/*.parquet)", dir)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// diskFiles reads a save_to_disk Dataset's state.json.
func diskFiles(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var st struct {
		DataFiles []struct {
			Filename string `json:"filename"`
		} `json:"_data_files"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	var files []string
	for _, f := range st.DataFiles {
		if f.Filename == "" || filepath.IsAbs(f.Filename) || strings.Contains(f.Filename, "..") {
			return nil, fmt.Errorf("%s: bad data file name %q", filepath.Join(dir, "state.json"), f.Filename)
		}
		files = append(files, filepath.Join(dir, f.Filename))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no data files", filepath.Join(dir, "state.json"))
	}
	return files, nil
}

// dictFiles reads a DatasetDict's dataset_dict.json and the chosen split.
func dictFiles(dir, split string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dataset_dict.json"))
	if err != nil {
		return nil, err
	}
	var dd struct {
		Splits []string `json:"splits"`
	}
	if err := json.Unmarshal(b, &dd); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "dataset_dict.json"), err)
	}
	name, err := chooseSplit(dir, dd.Splits, split)
	if err != nil {
		return nil, err
	}
	return diskFiles(filepath.Join(dir, name))
}

// hubFiles lists data/SPLIT-*.parquet or data/SPLIT/*.parquet.
func hubFiles(dir, split string) ([]string, error) {
	data := filepath.Join(dir, "data")
	byName := map[string][]string{}
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			inner, _ := filepath.Glob(filepath.Join(data, name, "*.parquet"))
			byName[name] = append(byName[name], inner...)
		case strings.HasSuffix(name, ".parquet"):
			s, _, ok := strings.Cut(strings.TrimSuffix(name, ".parquet"), "-")
			if !ok {
				s = strings.TrimSuffix(name, ".parquet")
			}
			byName[s] = append(byName[s], filepath.Join(data, name))
		}
	}
	var splits []string
	for s, files := range byName {
		if len(files) > 0 {
			splits = append(splits, s)
		}
	}
	slices.Sort(splits)
	if len(splits) == 0 {
		return nil, fmt.Errorf("%s holds no Parquet files", data)
	}
	name, err := chooseSplit(dir, splits, split)
	if err != nil {
		return nil, err
	}
	files := byName[name]
	slices.Sort(files)
	return files, nil
}

// chooseSplit picks split among splits, or the only one when split is "".
func chooseSplit(dir string, splits []string, split string) (string, error) {
	switch {
	case split != "" && slices.Contains(splits, split):
		return split, nil
	case split != "":
		return "", pipeline.OptionErrorf("%s has no {split} %q (it has %s)", dir, split, strings.Join(splits, ", "))
	case len(splits) == 1:
		return splits[0], nil
	}
	return "", pipeline.OptionErrorf("%s holds the splits %s: choose one with {split}", dir, strings.Join(splits, ", "))
}
