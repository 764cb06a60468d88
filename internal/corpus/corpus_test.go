package corpus

import (
	"context"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

func sample(t *testing.T) []*pipeline.Record {
	t.Helper()
	recs, err := Load(context.Background(), "../../testdata/sharegpt/sharegpt_v3_sample_1000.json")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func generate(t *testing.T, opts Options, n int, recs []*pipeline.Record) ([]byte, [3]int) {
	t.Helper()
	g, err := New(opts, Source{Name: "sample", Weight: 1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var kinds [3]int
	for range n {
		rec, kind, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
		out = pipeline.AppendRecord(out, rec, pipeline.OutShareGPT)
		out = append(out, '\n')
	}
	return out, kinds
}

func TestDeterministic(t *testing.T) {
	recs := sample(t)
	opts := Options{Seed: 7, HTML: true, Noise: 0.1, Dup: 0.05, Near: 0.05}
	a, kinds := generate(t, opts, 1000, recs)
	b, _ := generate(t, opts, 1000, recs)
	if string(a) != string(b) {
		t.Fatal("same seed, different output")
	}
	c, _ := generate(t, Options{Seed: 8, HTML: true, Noise: 0.1, Dup: 0.05, Near: 0.05}, 200, recs)
	if string(a[:len(c)]) == string(c) {
		t.Fatal("different seeds, same output")
	}
	for k, want := range map[Kind]int{ExactDup: 50, NearDup: 50} {
		if got := kinds[k]; got < want*6/10 || got > want*14/10 {
			t.Errorf("kind %d: %d of 1000, want about %d", k, got, want)
		}
	}
	for _, s := range []string{`<div class=\"markdown prose`, `Copy code</button>`, ` chars / `, `<span class=\"hljs-`} {
		if !strings.Contains(string(a), s) {
			t.Errorf("no %q in the generated dump", s)
		}
	}
}

func TestIDsDistinct(t *testing.T) {
	seen := map[string]int{}
	for n := range 200000 {
		id := ID(n)
		if len(id) != 7 {
			t.Fatalf("ID(%d) = %q", n, id)
		}
		if m, ok := seen[id]; ok {
			t.Fatalf("ID(%d) = ID(%d) = %s", n, m, id)
		}
		seen[id] = n
	}
}

func TestMarkdownUnchanged(t *testing.T) {
	recs := sample(t)
	g, err := New(Options{Seed: 1}, Source{Name: "sample", Weight: 1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	byValue := map[string]bool{}
	for _, r := range recs {
		byValue[string(pipeline.AppendRecord(nil, r, pipeline.OutShareGPT)[len(`{"id":"`)+len(r.ID):])] = true
	}
	for range 100 {
		rec, _, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		body := pipeline.AppendRecord(nil, rec, pipeline.OutShareGPT)[len(`{"id":"`)+len(rec.ID):]
		if !byValue[string(body)] {
			t.Fatalf("record %s is not a sample record under a new id", rec.ID)
		}
	}
}

func TestMosaicDistinct(t *testing.T) {
	recs := sample(t)
	g, err := New(Options{Seed: 3, Mosaic: true}, Source{Name: "sample", Weight: 1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	firsts := map[string]string{} // first human + first gpt value -> id, FastChat's value-duplication key
	code, repeats, originals := 0, 0, 0
	for range 5000 {
		rec, kind, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if kind != Original || len(rec.Conversations) < 2 {
			continue
		}
		originals++
		key := rec.Conversations[0].Value + "\x00" + rec.Conversations[1].Value
		if _, ok := firsts[key]; ok {
			repeats++
		}
		firsts[key] = rec.ID
	}
	// Cuts fall between blocks, never inside a code block: every block of
	// a turn whose fences are balanced has balanced fences.
	for _, r := range recs {
		for _, tu := range r.Conversations {
			if strings.Count(tu.Value, "```")%2 != 0 {
				continue // the real turn ends inside a code block
			}
			for _, b := range blocks(tu.Value) {
				if strings.Count(b, "```")%2 != 0 {
					code++
				}
			}
		}
	}
	if code > 0 {
		t.Errorf("%d blocks with an unbalanced code fence: a cut inside a code block", code)
	}
	// 5,000 draws from 1,000 records would repeat most first exchanges;
	// mosaics repeat one only when base, partner and both cuts coincide.
	if repeats*200 > originals {
		t.Errorf("%d of %d originals repeat an earlier first exchange, want under 0.5%%", repeats, originals)
	}
	t.Logf("%d of %d originals repeat an earlier first exchange", repeats, originals)
}

func TestBlocks(t *testing.T) {
	md := "Intro.\n\n```python\nx = 1\n\ny = 2\n```\n\n- a\n- b\n\nEnd."
	got := blocks(md)
	want := []string{"Intro.", "```python\nx = 1\n\ny = 2\n```", "- a\n- b", "End."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("blocks = %q, want %q", got, want)
	}
}
