package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type refCase struct {
	name string
	text string
	ids  []int // without BOS
}

// loadVectors reads llama.cpp's .inp/.out pair: texts separated by
// "\n__ggml_vocab_test__\n" lines, and one line of ids per text.
func loadVectors(t testing.TB) []refCase {
	inp, err := os.ReadFile(filepath.Join("testdata", "vectors.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join("testdata", "vectors.out"))
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	texts := strings.Split(string(inp), sep)
	if texts[len(texts)-1] != "" {
		t.Fatalf("vectors.inp does not end with the separator")
	}
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("vectors: %d texts but %d id lines", len(texts), len(lines))
	}
	var cases []refCase
	for i, text := range texts {
		var ids []int
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("vectors.out line %d: %v", i+1, err)
			}
			ids = append(ids, id)
		}
		cases = append(cases, refCase{name: "vectors/" + strconv.Itoa(i), text: text, ids: ids})
	}
	return cases
}

func loadRefs(t testing.TB) []refCase {
	f, err := os.Open(filepath.Join("testdata", "refs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []refCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r struct {
			Text    string `json:"text"`
			IDs     []int  `json:"ids"`
			NTokens int    `json:"n_tokens"`
			BOS     bool   `json:"bos"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("refs.jsonl line %d: %v", n, err)
		}
		if len(r.IDs) != r.NTokens {
			t.Fatalf("refs.jsonl line %d: n_tokens %d but %d ids", n, r.NTokens, len(r.IDs))
		}
		ids := r.IDs
		if r.BOS {
			if len(ids) == 0 || ids[0] != 1 {
				t.Fatalf("refs.jsonl line %d: bos but ids do not start with 1", n)
			}
			ids = ids[1:]
		}
		cases = append(cases, refCase{name: "refs/" + strconv.Itoa(n), text: r.Text, ids: ids})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestReferenceVectors(t *testing.T) {
	tok := Default()
	cases := append(loadVectors(t), loadRefs(t)...)
	if len(cases) != 46+64 {
		t.Errorf("got %d cases, want 110", len(cases))
	}
	for _, c := range cases {
		got := tok.Encode(c.text)
		if !slices.Equal(got, c.ids) {
			t.Errorf("%s: Encode(%q)\n got %v\nwant %v", c.name, c.text, got, c.ids)
			continue
		}
		if n := tok.Count(c.text); n != len(c.ids) {
			t.Errorf("%s: Count(%q) = %d, want %d", c.name, c.text, n, len(c.ids))
		}
	}
}
