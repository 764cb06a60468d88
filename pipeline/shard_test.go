package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},
		{"3/8", Shard{3, 8}, true},
		{"8/8", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
	} {
		got, err := ParseShard(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestShardsPartition: the shards of a job take every record exactly
// once, bad input included, and count the others.
func TestShardsPartition(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 300 {
		switch {
		case i%50 == 7:
			in.WriteString("{broken\n")
		case i%10 == 3:
			fmt.Fprintf(&in, `{"conversations":[{"from":"human","value":"no id %d"}]}`+"\n", i)
		default:
			fmt.Fprintf(&in, `{"id":"r%d","conversations":[{"from":"human","value":"v"}]}`+"\n", i)
		}
	}
	path := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(path, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var rejected int64
	for i := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("out%d.jsonl", i))
		job := &Job{Command: "t", Registry: NewRegistry(JSONFormats()...), Inputs: []string{path}, Output: out,
			Workers: 2, Shard: Shard{i, 4}}
		rep, err := job.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Check(); err != nil {
			t.Fatal(err)
		}
		if rep.RecordsIn+rep.OtherShards != 300 || rep.RecordsIn == 0 || rep.RecordsIn > 150 {
			t.Errorf("shard %d: %d in, %d in other shards", i, rep.RecordsIn, rep.OtherShards)
		}
		rejected += rep.Rejected
		b, _ := os.ReadFile(out)
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			seen[l]++
		}
	}
	if rejected != 6 {
		t.Errorf("%d broken records rejected over all shards, want 6", rejected)
	}
	if len(seen) != 294 {
		t.Errorf("%d distinct records written over all shards, want 294", len(seen))
	}
	for l, n := range seen {
		if n != 1 {
			t.Errorf("written %d times: %s", n, l)
		}
	}
}

func TestOwnsIsFNV1a(t *testing.T) {
	// FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
	for n := 1; n <= 7; n++ {
		want := 0xaf63dc4c8601ec8c % uint64(n)
		for i := range n {
			if got := owns(Shard{i, n}, "a"); got != (uint64(i) == want) {
				t.Errorf("shard %d/%d owns \"a\": %v", i, n, got)
			}
		}
	}
}
