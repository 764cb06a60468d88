package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Idempotence: clean(clean(x)) == clean(x), byte for byte. The converter's
// output is Markdown by Classify's rule, and PlainText is a fixed point, so
// a second pass changes nothing.

// testdataTurn is one turn found in a file under testdata/.
type testdataTurn struct {
	file, role, value string
}

// testdataTurns walks every file of the project's testdata/ and this
// package's testdata/ and returns every turn ({"from", "value"} or {"role",
// "content"}) found in them, also inside JSON datasets embedded as strings
// (the command-line cases of testdata/cli) and in JSONL. Files that are not
// JSON (Arrow, Parquet, licences, HTML fixtures) are skipped; testdata/
// columnar's Arrow and Parquet files hold the records of sample.jsonl.
func testdataTurns(t *testing.T) []testdataTurn {
	t.Helper()
	var out []testdataTurn
	for _, root := range []string{"../testdata", "testdata"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			walkJSONText(string(data), func(role, value string) {
				out = append(out, testdataTurn{path, role, value})
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// walkJSONText calls f for every turn in s, read as JSON or JSONL.
func walkJSONText(s string, f func(role, value string)) {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '[' && s[0] != '{') {
		return
	}
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		walkJSON(v, f)
	}
}

func walkJSON(v any, f func(role, value string)) {
	switch v := v.(type) {
	case map[string]any:
		role, _ := v["from"].(string)
		value, ok := v["value"].(string)
		if r, isRole := v["role"].(string); isRole {
			role, ok = r, ok || v["content"] != nil
			value, _ = v["content"].(string)
		}
		if ok && role != "" {
			f(role, value)
		}
		for _, x := range v {
			walkJSON(x, f)
		}
	case []any:
		for _, x := range v {
			walkJSON(x, f)
		}
	case string:
		walkJSONText(v, f) // a dataset embedded in a CLI case
	}
}

// TestIdempotentTurns converts every turn found under testdata/ twice, as
// its role and as an assistant turn: the second conversion changes nothing.
func TestIdempotentTurns(t *testing.T) {
	c := NewConverter()
	n, html := 0, 0
	for _, tn := range testdataTurns(t) {
		for _, role := range []string{tn.role, "gpt"} {
			once, kind, err := c.ConvertTurn(role, tn.value)
			if err != nil {
				t.Fatal(err)
			}
			twice, kind2, _ := c.ConvertTurn(role, once)
			n++
			if kind != KindMarkdown {
				html++
			}
			if twice != once || kind2 != KindMarkdown {
				t.Errorf("%s: %s turn not idempotent (%v then %v):\n%.300q\n%.300q", tn.file, role, kind, kind2, once, twice)
			}
		}
	}
	if n < 30000 || html == 0 {
		t.Errorf("%d conversions, %d of HTML: testdata not found?", n, html)
	}
	t.Logf("%d conversions, %d of them HTML", n, html)
}

// TestIdempotentHTML converts the golden fixtures and every assistant turn
// of the sample rendered as a share page, then converts the Markdown
// again: it is Markdown and comes out unchanged.
func TestIdempotentHTML(t *testing.T) {
	pages := sampleGPTTurns(t)
	for i := range pages {
		pages[i] = sharePage(t, pages[i])
	}
	files, _ := filepath.Glob("testdata/markdown/*.html")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, string(b))
	}
	c := NewConverter()
	for i, p := range pages {
		once, _ := c.Convert(p)
		if twice, _ := c.Convert(once); twice != once || Classify(once) != KindMarkdown {
			t.Errorf("page %d: not idempotent (%v):\n%.300q\n%.300q", i, Classify(once), once, twice)
		}
	}
}

// TestIdempotentFiles runs the clean stages over every JSON dataset under
// testdata/, then over their output: the second output is the first, byte
// for byte, and keeps every record.
func TestIdempotentFiles(t *testing.T) {
	var files []string
	for _, pat := range []string{"../testdata/*/*.json", "../testdata/*/*.jsonl", "testdata/*.json"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	dir := t.TempDir()
	for _, f := range files {
		if strings.Contains(f, "/cli/") {
			continue // command-line cases, not datasets: TestIdempotentTurns reads them
		}
		once := filepath.Join(dir, filepath.Base(f)+".1.jsonl")
		twice := filepath.Join(dir, filepath.Base(f)+".2.jsonl")
		if _, err := runClean(f, once); err != nil {
			t.Logf("%s: not a dataset clean reads: %v", f, err)
			continue
		}
		kept, err := runClean(once, twice)
		if err != nil {
			t.Fatalf("%s: cleaning the output: %v", f, err)
		}
		a, _ := os.ReadFile(once)
		b, _ := os.ReadFile(twice)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: second clean differs", f)
		}
		if n := int64(bytes.Count(a, []byte("\n"))); n != kept {
			t.Errorf("%s: second clean kept %d of %d records", f, kept, n)
		}
		t.Logf("%s: %d records kept, kept again unchanged", f, kept)
	}
}

// runClean runs clean's two stages from in to out and returns the number
// of records kept.
func runClean(in, out string) (int64, error) {
	opts := Options{}
	job := &pipeline.Job{
		Command: "clean", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{in}, Output: out, Workers: 2,
		Stages: []pipeline.Stage{NewStage(opts), NewDuplicateStage(opts)},
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		return 0, err
	}
	return rep.Kept, nil
}

// FuzzIdempotent: converting the Markdown of any input again changes
// nothing.
func FuzzIdempotent(f *testing.F) {
	files, _ := filepath.Glob("testdata/markdown/*.html")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{markdownWithFence, markdownSub, "<p>&lt;p&gt;x</p>", "1 / 2\n2 / 2<p>x</p>",
		"<p>CopCopy1 chars / 1 wordsy1 chars / 1 words</p>", "<p>\u00a0<br>1. x</p>", "<pre><code>\n\n</code></pre><p>a</p>",
		"<p>1 / 2&lt;p and <code>&lt;/p&gt;</code></p>", "<p>1 / 2&lt;p and &lt;/p&gt;</p>"} {
		f.Add(s)
	}
	c := NewConverter()
	f.Fuzz(func(t *testing.T, s string) {
		once, err := c.Convert(s)
		if err != nil {
			return
		}
		if twice, _ := c.Convert(once); twice != once {
			t.Errorf("not idempotent: %q\nonce  %q\ntwice %q", s, once, twice)
		}
	})
}
