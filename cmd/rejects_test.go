package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestRejectsCounted: every line of --rejects is counted in the report, by
// stage and reason (records and parts of records), for every command that
// rejects, on the real ShareGPT sample.
func TestRejectsCounted(t *testing.T) {
	sample := "../testdata/sharegpt/sharegpt_v3_sample_1000.json"
	tests := [][]string{
		{"split", "--mode", "fastchat"},
		{"split", "--max-length", "512"},
		{"clean", "--keep-lang", "en"},
		{"dedup"},
		{"sample", "--end", "100"},
		{"tokenize", "--max-length", "64"},
	}
	for _, args := range tests {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			dir := t.TempDir()
			rejects, report := filepath.Join(dir, "rejects.jsonl"), filepath.Join(dir, "report.json")
			all := append(append([]string(nil), args...), "-q", "-i", sample, "-o", filepath.Join(dir, "out.jsonl"),
				"--rejects", rejects, "--report", report)
			var stderr bytes.Buffer
			ios := &IOStreams{In: bytes.NewReader(nil), Out: &bytes.Buffer{}, ErrOut: &stderr}
			if code := Execute(context.Background(), ios, all); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			lines := map[string]int64{}
			f, err := os.Open(rejects)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 64<<20)
			n := int64(0)
			for sc.Scan() {
				var l struct{ Stage, Reason string }
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatal(err)
				}
				lines[l.Stage+"/"+l.Reason]++
				n++
			}
			var rep struct {
				Stages []struct {
					Stage         string
					Rejected      map[string]int64
					PartsRejected map[string]int64 `json:"parts_rejected"`
				}
			}
			b, _ := os.ReadFile(report)
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			counted := map[string]int64{}
			for _, s := range rep.Stages {
				for r, c := range s.Rejected {
					counted[s.Stage+"/"+r] += c
				}
				for r, c := range s.PartsRejected {
					counted[s.Stage+"/"+r] += c
				}
			}
			if n == 0 {
				t.Fatal("no rejects: the case tests nothing")
			}
			for k, v := range lines {
				if counted[k] != v {
					t.Errorf("%s: %d lines in --rejects, %d in the report", k, v, counted[k])
				}
			}
			for k, v := range counted {
				if lines[k] != v {
					t.Errorf("%s: %d in the report, %d lines in --rejects", k, v, lines[k])
				}
			}
		})
	}
}
