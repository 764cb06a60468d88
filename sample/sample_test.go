package sample

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

// records returns n JSONL records r0..r(n-1); long lists the records whose
// gpt value is 40 characters (the others have 10).
func records(n int, long ...int) string {
	var b strings.Builder
	for i := range n {
		v := strings.Repeat("a", 5)
		if slices.Contains(long, i) {
			v = strings.Repeat("b", 35)
		}
		fmt.Fprintf(&b, `{"id": "r%d", "conversations": [{"from": "human", "value": "hello"}, {"from": "gpt", "value": %q}]}`+"\n", i, v)
	}
	return b.String()
}

type result struct {
	ids     []string
	out     []byte
	rejects map[pipeline.Reason]int64
	rep     *pipeline.Report
	details Details
}

// run samples inputs ("-" reads stdin) into output ("-" is JSONL on
// stdout).
func run(t *testing.T, inputs []string, stdin string, output string, opts Options) (result, error) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	job := &pipeline.Job{
		Command:  "sample",
		Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:   inputs,
		Output:   output,
		Stdin:    strings.NewReader(stdin),
		Stdout:   &stdout,
		Workers:  3,
	}
	defer s.Close()
	if err := s.Prepare(context.Background(), job); err != nil {
		return result{}, err
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		return result{}, err
	}
	res := result{rep: rep, rejects: map[pipeline.Reason]int64{}, details: s.Details()}
	for _, st := range rep.Stages {
		for k, v := range st.Rejected {
			res.rejects[k] += v
		}
	}
	if rep.Kept+rep.Rejected != rep.RecordsIn {
		t.Errorf("counts do not add up: %d kept + %d rejected != %d in", rep.Kept, rep.Rejected, rep.RecordsIn)
	}
	res.out = stdout.Bytes()
	if output != "-" {
		if res.out, err = os.ReadFile(output); err != nil {
			t.Fatal(err)
		}
	}
	if output == "-" || strings.HasSuffix(output, ".jsonl") {
		for line := range strings.Lines(string(res.out)) {
			var r struct{ ID string }
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("output line %q: %v", line, err)
			}
			res.ids = append(res.ids, r.ID)
		}
	}
	return res, nil
}

func TestSample(t *testing.T) {
	// np.random.seed(42); np.random.permutation(10) is
	// [8 1 5 0 7 2 9 4 3 6]; with seed 0 it is [2 8 4 9 1 6 7 3 0 5].
	def := func(f func(*Options)) Options {
		o := DefaultOptions()
		f(&o)
		return o
	}
	tests := []struct {
		name    string
		input   string
		opts    Options
		want    []string
		rejects map[pipeline.Reason]int64
	}{
		{"window of three", records(10), def(func(o *Options) { o.End = 3 }),
			[]string{"r8", "r1", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"begin and end", records(10), def(func(o *Options) { o.Begin, o.End = 2, 5 }),
			[]string{"r5", "r0", "r7"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"length cap", records(10, 1), def(func(o *Options) { o.End, o.MaxChars = 3, 39 }),
			[]string{"r8", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7, ReasonTooLong: 1}},
		{"length cap is inclusive", records(10, 1), def(func(o *Options) { o.End, o.MaxChars = 3, 40 }),
			[]string{"r8", "r1", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"long records outside the window are not-sampled", records(10, 0, 2), def(func(o *Options) { o.End, o.MaxChars = 3, 10 }),
			[]string{"r8", "r1", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"no cap", records(10, 1), def(func(o *Options) { o.End, o.MaxChars = 3, 0 }),
			[]string{"r8", "r1", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"keep order", records(10), def(func(o *Options) { o.Begin, o.End, o.KeepOrder = 3, 6, true }),
			[]string{"r3", "r4", "r5"}, map[pipeline.Reason]int64{ReasonNotSampled: 7}},
		{"end past the input", records(10), DefaultOptions(),
			[]string{"r8", "r1", "r5", "r0", "r7", "r2", "r9", "r4", "r3", "r6"}, map[pipeline.Reason]int64{}},
		{"begin past the input", records(10), def(func(o *Options) { o.Begin, o.End = 10, 20 }),
			nil, map[pipeline.Reason]int64{ReasonNotSampled: 10}},
		{"empty window", records(10), def(func(o *Options) { o.Begin, o.End = 4, 4 }),
			nil, map[pipeline.Reason]int64{ReasonNotSampled: 10}},
		{"seed 0", records(10), def(func(o *Options) { o.End, o.Seed = 2, 0 }),
			[]string{"r2", "r8"}, map[pipeline.Reason]int64{ReasonNotSampled: 8}},
		{"empty input", "", DefaultOptions(), nil, map[pipeline.Reason]int64{}},
		{"an unreadable record keeps its place in the shuffle",
			strings.Replace(records(10), `{"id": "r8"`, `{"id": r8`, 1), def(func(o *Options) { o.End = 3 }),
			[]string{"r1", "r5"}, map[pipeline.Reason]int64{pipeline.ReasonInvalidJSON: 1, ReasonNotSampled: 7}},
		{"characters, not bytes",
			`{"id": "e", "conversations": [{"from": "human", "value": "` + strings.Repeat("é", 4) + `"}, {"from": "gpt", "value": "😀"}]}` + "\n",
			def(func(o *Options) { o.MaxChars = 5 }), []string{"e"}, map[pipeline.Reason]int64{}},
		{"characters over the cap",
			`{"id": "e", "conversations": [{"from": "human", "value": "` + strings.Repeat("é", 4) + `"}, {"from": "gpt", "value": "😀"}]}` + "\n",
			def(func(o *Options) { o.MaxChars = 4 }), nil, map[pipeline.Reason]int64{ReasonTooLong: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, []string{"-"}, tc.input, "-", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.ids, tc.want) {
				t.Errorf("sampled %v, want %v", res.ids, tc.want)
			}
			for k, v := range res.rejects {
				if v == 0 {
					delete(res.rejects, k)
				}
			}
			if fmt.Sprint(res.rejects) != fmt.Sprint(tc.rejects) {
				t.Errorf("rejects %v, want %v", res.rejects, tc.rejects)
			}
			if res.details.Sampled != int64(len(tc.want)) {
				t.Errorf("details say %d sampled, want %d", res.details.Sampled, len(tc.want))
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{{Begin: -1, End: 3}, {Begin: 5, End: 4}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestSeveralInputsAreOneList(t *testing.T) {
	dir := t.TempDir()
	all := records(10)
	lines := strings.SplitAfter(all, "\n")
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(strings.Join(lines[:4], "")), 0o644)
	// The second input is a JSON array: formats mix.
	os.WriteFile(b, []byte("["+strings.Join(strings.Split(strings.TrimSpace(strings.Join(lines[4:], "")), "\n"), ",")+"]"), 0o644)
	opts := DefaultOptions()
	opts.End = 4
	merged, err := run(t, []string{a, b}, "", "-", opts)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := run(t, []string{"-"}, all, "-", opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"r8", "r1", "r5", "r0"}; !slices.Equal(merged.ids, want) || !slices.Equal(whole.ids, want) {
		t.Errorf("merged %v, whole %v, want %v", merged.ids, whole.ids, want)
	}
	// stdin may be one of several inputs: it is read twice from a copy.
	mixed, err := run(t, []string{a, "-"}, strings.Join(lines[4:], ""), "-", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mixed.ids, merged.ids) {
		t.Errorf("file and stdin: %v, want %v", mixed.ids, merged.ids)
	}
	if merged.details.Records != 10 {
		t.Errorf("details count %d records, want 10", merged.details.Records)
	}
}

func TestBrokenInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.jsonl"), filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(records(3)), 0o644)
	os.WriteFile(bad, []byte(`[{"id": "x", "conversations": []}, {"id": `), 0o644)
	out := filepath.Join(dir, "out.json")
	_, err := run(t, []string{good, bad}, "", out, DefaultOptions())
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("error %v, want an input error naming bad.json", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite the broken input")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestCanceled(t *testing.T) {
	s, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	job := &pipeline.Job{Registry: pipeline.NewRegistry(pipeline.JSONFormats()...), Inputs: []string{"-"},
		Output: "-", Stdin: strings.NewReader(records(3)), Stdout: &bytes.Buffer{}}
	if err := s.Prepare(ctx, job); !errors.Is(err, context.Canceled) {
		t.Errorf("Prepare on a canceled context: %v", err)
	}
}

// TestAgainstFastChat runs FastChat's sample.py logic (numpy shuffle with
// seed 42, window, length cap, json.dump with indent=2) on the real ShareGPT
// sample and compares the output files byte for byte.
func TestAgainstFastChat(t *testing.T) {
	oracle.NeedModule(t, "numpy")
	const input = "../testdata/sharegpt/sharegpt_v3_sample_1000.json"
	cases := []struct {
		begin, end, maxChars int64
		keepOrder            bool
	}{
		{0, 100, 1024, false}, // FastChat's defaults
		{0, 1000, 4096, false},
		{250, 700, 100000, false},
		{10, 60, 2048, true},
	}
	dir := t.TempDir()
	prog := `import json, sys
import numpy as np
src, dir = sys.argv[1], sys.argv[2]
for k, spec in enumerate(sys.argv[3:]):
    begin, end, max_length, keep_order = (int(x) for x in spec.split(","))
    content = json.load(open(src, "r"))
    if not keep_order:
        np.random.seed(42)
        np.random.shuffle(content)
    new_content = []
    for i in range(begin, min(end, len(content))):
        sample = content[i]
        concat = ""
        for s in sample["conversations"]:
            concat += s["value"]
        if len(concat) > max_length:
            continue
        new_content.append(sample)
    json.dump(new_content, open(f"{dir}/fastchat_{k}.json", "w"), indent=2, ensure_ascii=False)
`
	args := []string{"-c", prog, input, dir}
	for _, c := range cases {
		keep := 0
		if c.keepOrder {
			keep = 1
		}
		args = append(args, fmt.Sprintf("%d,%d,%d,%d", c.begin, c.end, c.maxChars, keep))
	}
	if out, err := exec.Command(oracle.Python, args...).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for k, c := range cases {
		opts := Options{Begin: c.begin, End: c.end, MaxChars: c.maxChars, KeepOrder: c.keepOrder, Seed: 42}
		out := filepath.Join(dir, "ours_"+strconv.Itoa(k)+".json")
		res, err := run(t, []string{input}, "", out, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, "fastchat_"+strconv.Itoa(k)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.out, want) {
			t.Errorf("case %+v: output differs from FastChat's (%d bytes, FastChat %d)", c, len(res.out), len(want))
		}
		var fc []json.RawMessage
		if err := json.Unmarshal(want, &fc); err != nil {
			t.Fatal(err)
		}
		if res.rep.RecordsOut != int64(len(fc)) || res.details.Sampled != int64(len(fc)) {
			t.Errorf("case %+v: %d records out, FastChat %d", c, res.rep.RecordsOut, len(fc))
		}
		t.Logf("case %+v: %d of 1000 records, as FastChat", c, len(fc))
	}
}
