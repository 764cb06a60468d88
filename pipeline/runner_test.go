package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jitter is a parallel stage that sleeps a random time, so that workers
// finish out of order, and rejects or splits some records.
type jitter struct{}

func (jitter) Name() string { return "jitter" }

func (jitter) Process(_ context.Context, rec *Record, out *Out) error {
	var n int
	fmt.Sscan(rec.ID, &n)
	if n%10 == 0 {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	}
	switch {
	case n%7 == 0:
		out.Reject(rec, "seven", "divisible by 7")
	case n%5 == 0: // split in two, reject a third part
		out.Keep(rec.WithTurns(rec.ID+"_a", nil))
		out.Keep(rec.WithTurns(rec.ID+"_b", nil))
		out.Reject(rec.WithTurns(rec.ID+"_c", nil), "part", "")
	default:
		out.Keep(rec)
	}
	return nil
}

// seenOnce is an ordered stage that rejects ids seen before.
type seenOnce struct{ seen map[string]bool }

func (s *seenOnce) Name() string { return "seen" }
func (s *seenOnce) Ordered()     {}
func (s *seenOnce) Process(_ context.Context, rec *Record, out *Out) error {
	base, _, _ := strings.Cut(rec.ID, "_")
	if s.seen[base] && !strings.Contains(rec.ID, "_") {
		out.Reject(rec, "dup", "")
		return nil
	}
	s.seen[base] = true
	out.Keep(rec)
	return nil
}

func writeRecords(t testing.TB, path string, n int, dupEvery int) {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		id := i
		if dupEvery > 0 && i%dupEvery == dupEvery-1 {
			id = i - 1
		}
		fmt.Fprintf(&b, `{"id":"%d","conversations":[{"from":"human","value":"v%d"}]}`+"\n", id, i)
	}
	b.WriteString("not json\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunnerOrderAndCounts runs the same input with 1 and 8 workers and
// checks identical outputs, rejects and counts that add up.
func TestRunnerOrderAndCounts(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeRecords(t, in, 3000, 11)
	var outputs, rejects []string
	for _, workers := range []int{1, 8} {
		out := filepath.Join(dir, fmt.Sprintf("out%d.jsonl", workers))
		rej := filepath.Join(dir, fmt.Sprintf("rej%d.jsonl", workers))
		job := &Job{
			Command: "test", Registry: NewRegistry(JSONFormats()...),
			Inputs: []string{in}, Output: out, RejectsPath: rej, Workers: workers,
			Stages: []Stage{jitter{}, &seenOnce{seen: map[string]bool{}}},
		}
		rep, err := job.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.RecordsIn != 3001 || rep.Kept+rep.Rejected != rep.RecordsIn {
			t.Errorf("workers %d: in %d kept %d rejected %d", workers, rep.RecordsIn, rep.Kept, rep.Rejected)
		}
		read := rep.Stage(StageRead)
		if read.Rejected[ReasonInvalidJSON] != 1 {
			t.Errorf("read rejects = %v", read.Rejected)
		}
		j := rep.Stage("jitter")
		if j.Rejected["seven"] != 429 || j.PartsRejected["part"] != 515 {
			t.Errorf("jitter: %+v", j)
		}
		o, _ := os.ReadFile(out)
		r, _ := os.ReadFile(rej)
		outputs, rejects = append(outputs, string(o)), append(rejects, string(r))
		lines := strings.Split(strings.TrimSpace(string(o)), "\n")
		if int64(len(lines)) != rep.RecordsOut {
			t.Errorf("%d lines written, report says %d", len(lines), rep.RecordsOut)
		}
		rl := strings.Split(strings.TrimSpace(string(r)), "\n")
		var total int64
		for _, s := range rep.Stages {
			total += s.RejectedTotal()
			for _, n := range s.PartsRejected {
				total += n
			}
		}
		if int64(len(rl)) != total {
			t.Errorf("%d reject lines, report counts %d", len(rl), total)
		}
	}
	if outputs[0] != outputs[1] || rejects[0] != rejects[1] {
		t.Error("output differs between 1 and 8 workers")
	}
	// Output order is input order.
	sc := bufio.NewScanner(strings.NewReader(outputs[1]))
	last := -1
	for sc.Scan() {
		var r struct{ ID string }
		json.Unmarshal(sc.Bytes(), &r)
		var n int
		fmt.Sscan(strings.Split(r.ID, "_")[0], &n)
		if n < last {
			t.Fatalf("record %s after %d", r.ID, last)
		}
		last = n
	}
	if !strings.Contains(rejects[1], `{"file":"`+in+`","index":3000,"line":3001,"stage":"read","reason":"invalid-json","detail":"record: byte `) {
		t.Errorf("invalid line reject not found in:\n%s", rejects[1][max(0, len(rejects[1])-300):])
	}
}

type failing struct{ after int }

func (f *failing) Name() string { return "failing" }
func (f *failing) Ordered()     {}
func (f *failing) Process(_ context.Context, rec *Record, out *Out) error {
	f.after--
	if f.after < 0 {
		return errors.New("boom")
	}
	out.Keep(rec)
	return nil
}

type silent struct{}

func (silent) Name() string                                 { return "silent" }
func (silent) Process(context.Context, *Record, *Out) error { return nil }

// TestRunnerFailureLeavesNoOutput checks that a failing stage, a stage
// that drops records silently, and a cancelled run leave no files behind.
func TestRunnerFailureLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	writeRecords(t, in, 2000, 0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		stage Stage
		want  string
	}{
		{"stage error", context.Background(), &failing{after: 1500}, "boom"},
		{"silent drop", context.Background(), silent{}, "without a reason"},
		{"cancelled", cancelled, jitter{}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.json")
			job := &Job{
				Command: "test", Registry: NewRegistry(JSONFormats()...),
				Inputs: []string{in}, Output: out, RejectsPath: filepath.Join(dir, "rej.jsonl"),
				ReportPath: filepath.Join(dir, "rep.json"), Workers: 4, Stages: []Stage{tt.stage},
			}
			_, err := job.Run(tt.ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files left: %v", names)
			}
		})
	}
}

func TestBrokenArrayIsInputError(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	os.WriteFile(in, []byte(`[{"id":"a","conversations":[]}, {"id":"b","conversations":[]} {"id":"c"}]`), 0o644)
	job := &Job{Command: "test", Registry: NewRegistry(JSONFormats()...), Inputs: []string{in}, Output: filepath.Join(dir, "out.jsonl")}
	_, err := job.Run(context.Background())
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "byte 62: record 2") {
		t.Fatalf("err = %v", err)
	}
}
