package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// TestRunWorkersKeepOrder checks that checking records in parallel lists
// the same violations, in the same order, with the same rejects and
// counts as one worker.
func TestRunWorkersKeepOrder(t *testing.T) {
	var in strings.Builder
	for i := range 3000 {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&in, `{"id":"dup","conversations":[{"from":"human","value":"x"}]}`+"\n")
		case 1:
			fmt.Fprintf(&in, `{"id":"r%d","conversations":[{"from":"bot","value":%d}]}`+"\n", i, i)
		case 2:
			fmt.Fprintf(&in, `{"id":"r%d","conversations":"nope"}`+"\n", i)
		case 3:
			in.WriteString("{not json\n")
		default:
			fmt.Fprintf(&in, `{"id":"r%d","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}`+"\n", i)
		}
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(workers int) ([]Violation, Summary, string) {
		v, err := New(Options{StrictRoles: true})
		if err != nil {
			t.Fatal(err)
		}
		var viols []Violation
		var rejects bytes.Buffer
		sum, err := v.Run(context.Background(), Files{
			Inputs: []string{path}, Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
			Workers: workers, Rejects: &rejects, Each: func(viol Violation) { viols = append(viols, viol) },
		})
		if err != nil {
			t.Fatal(err)
		}
		sum.Seconds = 0
		return viols, sum, rejects.String()
	}
	v1, s1, r1 := run(1)
	v4, s4, r4 := run(4)
	if len(v1) < 1000 || s1.Records != 3000 || s1.Invalid == 0 || s1.ByKind["duplicate-id"] != 428 {
		t.Fatalf("one worker: %d violations, summary %+v", len(v1), s1)
	}
	if !reflect.DeepEqual(v1, v4) {
		t.Errorf("4 workers list other violations or another order than 1")
	}
	if !reflect.DeepEqual(s1, s4) {
		t.Errorf("summaries differ: %+v and %+v", s1, s4)
	}
	if r1 != r4 || strings.Count(r1, "\n") != int(s1.Invalid) {
		t.Errorf("rejects differ or do not count the invalid records (%d lines, %d invalid)", strings.Count(r1, "\n"), s1.Invalid)
	}
}

// TestRunReadError checks that a file that cannot be read stops the run
// with an input error, after reporting what was found before it.
func TestRunReadError(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.jsonl")
	if err := os.WriteFile(good, []byte(`{"id":"x","conversations":7}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	sum, err := v.Run(context.Background(), Files{
		Inputs: []string{good, filepath.Join(dir, "missing.jsonl")}, Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Workers: 2, Each: func(Violation) { n++ },
	})
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("error %v, want an input error naming missing.jsonl", err)
	}
	if n != 1 || sum.Violations != 1 || sum.Records != 1 {
		t.Errorf("before the error: %d violations reported, summary %+v", n, sum)
	}
}
