package dedup

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/sharegpt/sharegpt/pipeline"
)

const (
	sample1000 = "../testdata/sharegpt/sharegpt_v3_sample_1000.json"
	firstTurns = "../testdata/sharegpt/first_turns_2978.json"
)

type result struct {
	out, rejects, clusters, report []byte
	stats                          Stats
}

// run runs dedup over inputs as the command does and returns its files.
func run(t testing.TB, opt Options, inputs, against []string, workers int) result {
	t.Helper()
	dir := t.TempDir()
	d, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	job := &pipeline.Job{
		Command:     "dedup",
		Registry:    pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:      inputs,
		Output:      filepath.Join(dir, "out.jsonl"),
		RejectsPath: filepath.Join(dir, "rejects.jsonl"),
		ReportPath:  filepath.Join(dir, "report.json"),
		Workers:     workers,
		Stdin:       strings.NewReader(""),
	}
	if _, err := d.Run(context.Background(), job, RunOptions{Against: against, ClustersPath: filepath.Join(dir, "clusters.jsonl")}); err != nil {
		t.Fatal(err)
	}
	var r result
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"out.jsonl", &r.out}, {"rejects.jsonl", &r.rejects}, {"clusters.jsonl", &r.clusters}, {"report.json", &r.report}} {
		if *f.dst, err = os.ReadFile(filepath.Join(dir, f.name)); err != nil {
			t.Fatal(err)
		}
	}
	r.stats = d.Stats()
	return r
}

type clusterLine struct {
	Cluster int     `json:"cluster"`
	Kept    *string `json:"kept"`
	Against *string `json:"against"`
	Size    int     `json:"size"`
	Members []struct {
		ID         string  `json:"id"`
		Index      int     `json:"index"`
		Similarity float64 `json:"similarity"`
	} `json:"members"`
}

func parseClusters(t testing.TB, b []byte) []clusterLine {
	t.Helper()
	var cs []clusterLine
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var c clusterLine
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		cs = append(cs, c)
	}
	return cs
}

// writeRecords writes records as JSONL in dir.
func writeRecords(t testing.TB, dir, name string, recs []*pipeline.Record) string {
	t.Helper()
	var b []byte
	for _, r := range recs {
		b = pipeline.AppendRecord(b, r, pipeline.OutShareGPT)
		b = append(b, '\n')
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func conv(id string, turns ...string) *pipeline.Record {
	var ts []pipeline.Turn
	for i, v := range turns {
		role := pipeline.RoleHuman
		if i%2 == 1 {
			role = pipeline.RoleGPT
		}
		ts = append(ts, pipeline.Turn{From: role, Value: v})
	}
	return pipeline.NewRecord(id, ts)
}

func readJSONArray(t testing.TB, path string) []struct {
	ID            string `json:"id"`
	Conversations []struct {
		From, Value string
	} `json:"conversations"`
} {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		ID            string `json:"id"`
		Conversations []struct {
			From, Value string
		} `json:"conversations"`
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestFirstTurnsExact checks --key first-turn --mode exact on the real
// first-turn file against an independent count with encoding/json and maps:
// raw text gives the 110 duplicate copies in 60 groups the data's source
// states; the default normalisation (case folding) also joins three pairs
// that differ only in case ("hello"/"Hello", "test"/"Test", "Hi"/"hi").
func TestFirstTurnsExact(t *testing.T) {
	recs := readJSONArray(t, firstTurns)
	fold := cases.Fold()
	space := regexp.MustCompile(`\s+`)
	for _, tc := range []struct {
		normalize     bool
		groups, dups  int
		keyOf         func(string) string
		wantGroupsRaw int
	}{
		{normalize: false, groups: 60, dups: 110, keyOf: func(s string) string { return s }},
		{normalize: true, groups: 58, dups: 113, keyOf: func(s string) string {
			return strings.TrimSpace(space.ReplaceAllString(fold.String(norm.NFC.String(s)), " "))
		}},
	} {
		// Independent count: every record has one turn; the key is its text.
		count := map[string]int{}
		for _, r := range recs {
			count[tc.keyOf(r.Conversations[0].Value)]++
		}
		groups, dups := 0, 0
		for _, c := range count {
			if c > 1 {
				groups++
				dups += c - 1
			}
		}
		if groups != tc.groups || dups != tc.dups {
			t.Fatalf("normalize=%v: independent count %d groups %d copies, want %d %d", tc.normalize, groups, dups, tc.groups, tc.dups)
		}
		r := run(t, Options{Key: KeyFirstTurn, Mode: ModeExact, Normalize: tc.normalize}, []string{firstTurns}, nil, 2)
		cs := parseClusters(t, r.clusters)
		got := 0
		for _, c := range cs {
			got += c.Size - 1
		}
		if len(cs) != groups || got != dups || r.stats.Duplicates != int64(dups) {
			t.Errorf("normalize=%v: dedup found %d groups, %d copies (stats %d), want %d, %d", tc.normalize, len(cs), got, r.stats.Duplicates, groups, dups)
		}
		// Every cluster holds equal keys, and keeps its first record.
		for _, c := range cs {
			var key string
			for i, m := range c.Members {
				k := tc.keyOf(recs[m.Index].Conversations[0].Value)
				if i == 0 {
					key = k
					if *c.Kept != m.ID {
						t.Errorf("cluster %d keeps %s, not its first member %s", c.Cluster, *c.Kept, m.ID)
					}
				} else if k != key {
					t.Errorf("cluster %d joins different keys", c.Cluster)
				}
			}
		}
	}
}

// TestDeterminism: the same bytes whatever the number of workers.
func TestDeterminism(t *testing.T) {
	dir := t.TempDir()
	recs := benchRecords(t, 600, 7)
	in := writeRecords(t, dir, "in.jsonl", recs)
	for _, keep := range []Keep{KeepFirst, KeepLongest, KeepMostTurns} {
		opt := Options{Keep: keep, Normalize: true}
		a := run(t, opt, []string{in}, nil, 1)
		b := run(t, opt, []string{in}, nil, 2)
		if a.stats.Duplicates == 0 {
			t.Fatal("no duplicates found")
		}
		if !bytes.Equal(a.out, b.out) || !bytes.Equal(a.rejects, b.rejects) || !bytes.Equal(a.clusters, b.clusters) {
			t.Errorf("keep %s: output differs between 1 and 2 workers", keep)
		}
	}
}

func TestKeepPolicies(t *testing.T) {
	dir := t.TempDir()
	base := "the quick brown fox jumps over the lazy dog and then runs far away into the deep dark forest where nobody can find it again"
	in := writeRecords(t, dir, "in.jsonl", []*pipeline.Record{
		conv("short", base, "ok"),
		conv("other", "something entirely different about cooking pasta with tomatoes and basil in a small kitchen", "fine"),
		conv("long", base, "ok, and a much longer answer here"),
		conv("turns", base, "ok", "more", "yes"),
		conv("long2", base, "ok, and a much longer answer here"),
	})
	for keep, want := range map[Keep]string{KeepFirst: "short", KeepLongest: "long", KeepMostTurns: "turns"} {
		r := run(t, Options{Key: KeyFirstTurn, Mode: ModeExact, Normalize: true, Keep: keep}, []string{in}, nil, 2)
		cs := parseClusters(t, r.clusters)
		if len(cs) != 1 || *cs[0].Kept != want || cs[0].Size != 4 {
			t.Errorf("keep %s: clusters %s", keep, r.clusters)
		}
		if !bytes.Contains(r.rejects, []byte(`"related":"`+want+`"`)) {
			t.Errorf("keep %s: rejects do not name the kept record:\n%s", keep, r.rejects)
		}
	}
}

func TestNearAndAgainst(t *testing.T) {
	dir := t.TempDir()
	words := strings.Fields(strings.Repeat("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon ", 3))
	for i := range words {
		words[i] += string(rune('a' + i%26))
	}
	text := strings.Join(words, " ")
	edited := strings.Replace(text, words[30], "CHANGED", 1) // one substitution: J = 50/60
	in := writeRecords(t, dir, "in.jsonl", []*pipeline.Record{
		conv("x", text), conv("y", strings.ToUpper(edited)), conv("z", "unrelated words only here and nowhere else at all today"),
		conv("w", "a test set question that must not leak into training data at all ever"),
	})
	test := writeRecords(t, dir, "test.jsonl", []*pipeline.Record{
		conv("t1", "A test set question that must NOT leak into training data at all, ever"),
	})
	r := run(t, Options{Normalize: true, StripPunct: true, Threshold: 0.7}, []string{in}, []string{test}, 2)
	if r.stats.Duplicates != 1 || r.stats.AgainstMatches != 1 {
		t.Fatalf("stats %+v\nrejects %s", r.stats, r.rejects)
	}
	for _, want := range []string{`"id":"y","stage":"dedup","reason":"duplicate"`, `"related":"x"`, `"id":"w","stage":"dedup","reason":"duplicate-against"`, `"related":"t1"`} {
		if !bytes.Contains(r.rejects, []byte(want)) {
			t.Errorf("rejects lack %s:\n%s", want, r.rejects)
		}
	}
	if bytes.Contains(r.out, []byte(`"t1"`)) || !bytes.Contains(r.out, []byte(`"z"`)) {
		t.Errorf("output:\n%s", r.out)
	}
	if !bytes.Contains(r.clusters, []byte(`"against":"t1"`)) {
		t.Errorf("clusters:\n%s", r.clusters)
	}
	// At 0.9 the substitution is not a duplicate.
	r = run(t, Options{Normalize: true, Threshold: 0.9}, []string{in}, nil, 2)
	if r.stats.Duplicates != 0 {
		t.Errorf("threshold 0.9: %d duplicates", r.stats.Duplicates)
	}
}

// TestSpill: with a tiny memory limit the state goes to disk and the
// result is the same.
func TestSpill(t *testing.T) {
	dir := t.TempDir()
	in := writeRecords(t, dir, "in.jsonl", benchRecords(t, 300, 3))
	a := run(t, Options{Normalize: true}, []string{in}, nil, 2)
	b := run(t, Options{Normalize: true, MemoryLimit: 1, TempDir: dir}, []string{in}, nil, 2)
	if b.stats.SpilledBytes == 0 {
		t.Fatal("nothing spilled")
	}
	if !bytes.Equal(a.out, b.out) || !bytes.Equal(a.rejects, b.rejects) || !bytes.Equal(a.clusters, b.clusters) {
		t.Error("spilled run differs")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "sharegpt-dedup-") {
			t.Errorf("spill file left: %s", e.Name())
		}
	}
}

func TestChooseParams(t *testing.T) {
	for _, tc := range []struct {
		t    float64
		b, r int
	}{{0.7, 34, 6}, {0.8, 25, 10}, {0.9, 15, 17}} {
		p := ChooseParams(tc.t, 256)
		if p.Bands != tc.b || p.Rows != tc.r {
			t.Errorf("threshold %.1f: %d bands x %d rows, want %d x %d", tc.t, p.Bands, p.Rows, tc.b, tc.r)
		}
		// Balanced: neither error area is more than twice the other.
		if p.FalsePositive > 2*p.FalseNegative || p.FalseNegative > 2*p.FalsePositive {
			t.Errorf("threshold %.1f: unbalanced %+v", tc.t, p)
		}
	}
}

func TestNormalize(t *testing.T) {
	tx := newTextor(&Options{Normalize: true, StripPunct: true})
	for in, want := range map[string]string{
		"  Hello,\n\tWORLD!  ": "hello world",
		"Straße  Ǆ":            "strasse ǆ",
		"e\u0301 café":         "é café",
		"中文，测试。":               "中文 测试",
	} {
		got := string(tx.appendNorm(nil, in))
		if got != want || !utf8.ValidString(got) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
