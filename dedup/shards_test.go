package dedup

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// shardedRun dedups inputs on n shards: sign, merge, filter. It returns
// each shard's output and rejects lines, and the merged clusters.
func shardedRun(t *testing.T, opt Options, inputs []string, n int) (out, rejects []string, clusters []byte) {
	t.Helper()
	dir := t.TempDir()
	reg := pipeline.NewRegistry(pipeline.JSONFormats()...)
	job := func(i int) *pipeline.Job {
		return &pipeline.Job{Command: "dedup", Registry: reg, Inputs: inputs, Workers: 2,
			Shard: pipeline.Shard{Index: i, Count: n}, Stdin: strings.NewReader("")}
	}
	merged, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	for i := range n {
		d, err := New(opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Sign(context.Background(), job(i)); err != nil {
			t.Fatal(err)
		}
		var state bytes.Buffer
		if err := d.WriteState(&state); err != nil {
			t.Fatal(err)
		}
		d.Close()
		if err := merged.LoadState(&state, "shard"); err != nil {
			t.Fatal(err)
		}
	}
	if err := merged.Resolve(); err != nil {
		t.Fatal(err)
	}
	var decisions, cl bytes.Buffer
	if err := merged.WriteDecisions(&decisions); err != nil {
		t.Fatal(err)
	}
	if err := merged.WriteClusters(&cl); err != nil {
		t.Fatal(err)
	}
	dec, err := LoadDecisions(&decisions, "decisions")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		j := job(i)
		j.Output, j.RejectsPath = filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "rejects.jsonl")
		j.Stages, j.Finish = []pipeline.Stage{dec}, dec.Check
		if _, err := j.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		out = append(out, lines(t, j.Output)...)
		rejects = append(rejects, lines(t, j.RejectsPath)...)
	}
	return out, rejects, cl.Bytes()
}

func lines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestShardedEqualsUnsharded: sign on N shards, merge, filter each shard:
// the union of the shards' outputs is the unsharded output, record for
// record, and so are the rejects and the clusters.
func TestShardedEqualsUnsharded(t *testing.T) {
	dir := t.TempDir()
	in := writeRecords(t, dir, "in.jsonl", benchRecords(t, 800, 11))
	for _, opt := range []Options{
		{Normalize: true},
		{Mode: ModeExact, Key: KeyFirstTurn, Normalize: true, Keep: KeepLongest},
	} {
		want := run(t, opt, []string{in}, nil, 2)
		if want.stats.Duplicates == 0 {
			t.Fatal("no duplicates: the test tests nothing")
		}
		wantOut := strings.Split(strings.TrimSuffix(string(want.out), "\n"), "\n")
		wantRej := rejectKeys(t, strings.Split(strings.TrimSuffix(string(want.rejects), "\n"), "\n"))
		for _, n := range []int{1, 3, 4} {
			out, rej, clusters := shardedRun(t, opt, []string{in}, n)
			slices.Sort(out)
			slices.Sort(wantOut)
			if !slices.Equal(out, wantOut) {
				t.Errorf("%v, %d shards: %d records kept, unsharded %d", opt.Mode, n, len(out), len(wantOut))
			}
			if got := rejectKeys(t, rej); !slices.Equal(got, wantRej) {
				t.Errorf("%v, %d shards: rejects differ (%d, unsharded %d)", opt.Mode, n, len(got), len(wantRej))
			}
			if !bytes.Equal(clusters, want.clusters) {
				t.Errorf("%v, %d shards: clusters differ", opt.Mode, n)
			}
		}
	}
}

// rejectKeys are the rejects without their file position (index within
// the file is the same; the line order differs between shards).
func rejectKeys(t *testing.T, ls []string) []string {
	var out []string
	for _, l := range ls {
		var r struct {
			ID, Reason, Detail, Related string
			Index                       int64
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

func TestStateMismatch(t *testing.T) {
	a, _ := New(Options{Normalize: true})
	defer a.Close()
	var buf bytes.Buffer
	if err := a.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	b, _ := New(Options{Normalize: true, Threshold: 0.9})
	defer b.Close()
	if err := b.LoadState(&buf, "a.bin"); err == nil || !strings.Contains(err.Error(), "made with") {
		t.Errorf("loading a state made with other options: %v", err)
	}
	if err := b.LoadState(strings.NewReader("garbage"), "g.bin"); err == nil || !strings.Contains(err.Error(), "not a dedup state") {
		t.Errorf("loading garbage: %v", err)
	}
}

// TestDecisionsOtherInput: decisions applied to an input other than the
// one the shards signed fail before anything is written.
func TestDecisionsOtherInput(t *testing.T) {
	dir := t.TempDir()
	recs := benchRecords(t, 200, 5)
	in := writeRecords(t, dir, "in.jsonl", recs)
	other := writeRecords(t, dir, "other.jsonl", recs[:150])
	d, err := New(Options{Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	reg := pipeline.NewRegistry(pipeline.JSONFormats()...)
	if err := d.Sign(context.Background(), &pipeline.Job{Command: "dedup", Registry: reg, Inputs: []string{in}, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	if err := d.Resolve(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WriteDecisions(&buf); err != nil {
		t.Fatal(err)
	}
	dec, err := LoadDecisions(&buf, "decisions")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	j := &pipeline.Job{Command: "dedup", Registry: reg, Inputs: []string{other}, Output: out, Workers: 2,
		Stages: []pipeline.Stage{dec}, Finish: dec.Check}
	if _, err := j.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "not the input the shards signed") {
		t.Errorf("other input: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite the error")
	}
	if _, err := LoadDecisions(strings.NewReader(""), "empty"); err == nil {
		t.Error("an empty decisions file loads")
	}
}
