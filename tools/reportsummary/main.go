// Command reportsummary prints what a pipeline run did, from the
// --report files its stages wrote in one folder: for each stage, in the
// order given, the records in and kept and the rejects by reason; then
// where the results are. make sample ends with it.
//
//	go run ./tools/reportsummary -dir out/sample clean dedup split hub disk
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// report is the part of a --report file this command reads.
type report struct {
	Command   string `json:"command"`
	RecordsIn int64  `json:"records_in"`
	Kept      int64  `json:"kept"`
	Out       int64  `json:"records_out"`
	Rejected  int64  `json:"rejected"`
	BytesOut  int64  `json:"bytes_out"`
	Stages    []struct {
		Name     string           `json:"stage"`
		Rejected map[string]int64 `json:"rejected"`
	} `json:"stages"`
}

func main() {
	dir := flag.String("dir", "out/sample", "the folder holding STAGE.report.json files")
	title := flag.String("title", "What each stage kept", "the heading")
	results := flag.Bool("results", true, "end with where make sample's results are")
	flag.Parse()
	if err := summarize(*dir, *title, *results, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "reportsummary:", err)
		os.Exit(1)
	}
}

func summarize(dir, title string, results bool, stages []string) error {
	fmt.Printf("\n%s (reports: %s/STAGE.report.json, rejected records: %s/STAGE.rejects.jsonl):\n", title, dir, dir)
	for _, name := range stages {
		b, err := os.ReadFile(filepath.Join(dir, name+".report.json"))
		if err != nil {
			return err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s.report.json: %w", name, err)
		}
		var reasons []string
		for _, st := range r.Stages {
			for _, reason := range slices.Sorted(maps.Keys(st.Rejected)) {
				reasons = append(reasons, fmt.Sprintf("%d %s", st.Rejected[reason], reason))
			}
		}
		out := r.Out
		if out == 0 {
			out = r.Kept // written by the stage's own writer (dataset folders)
		}
		line := fmt.Sprintf("  %-9s %6d in  %6d out", name, r.RecordsIn, out)
		if len(reasons) > 0 {
			line += "  (rejected: " + strings.Join(reasons, ", ") + ")"
		}
		if r.BytesOut > 0 {
			line += fmt.Sprintf("  %.1f MB written", float64(r.BytesOut)/1e6)
		}
		fmt.Println(line)
	}
	if !results {
		return nil
	}
	fmt.Printf(`
Results:
  %[1]s/hub/         Parquet shards under data/ and a dataset card: upload as it is, or datasets.load_dataset("%[1]s/hub")
  %[1]s/disk/        the save_to_disk folder: datasets.load_from_disk("%[1]s/disk")
  %[1]s/split.jsonl  the training records (JSONL); %[1]s/stats.txt its statistics
  %[1]s/import/      your own ChatGPT export through import | clean | split | tokenize (tokens.parquet)
Every command reads these back: sharegpt stats %[1]s/disk --split train
`, dir)
	return nil
}
