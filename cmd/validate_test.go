package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestValidateAgreesWithConvert runs the same file through `validate` and
// `convert --rejects` with the same --max-record-bytes and --input-style:
// the records validate finds fault with are exactly those convert rejects,
// and for the same reason (a wrong shape may be named in the schema's
// words instead).
func TestValidateAgreesWithConvert(t *testing.T) {
	records := []string{
		`{"id":"ok","conversations":[{"from":"human","value":"hi"}]}`,
		`{"id":"a","id":"b","conversations":[]}`,
		`{"id":"t","conversations":[{"from":"human","value":"x","w":1,"w":2}]}`,
		"{\"id\":\"u\",\"conversations\":[{\"from\":\"human\",\"value\":\"\xff\"}]}",
		`{"id":"s","conversations":[{"from":"human","value":7}]}`,
		`{"id":"m","conversations":[],"messages":[]}`,
		`{"id":"big","conversations":[{"from":"human","value":"` + strings.Repeat("x", 300) + `"}]}`,
		`{"id":"j","conversations":[]`,
		`{"id":"ok2","conversations":[{"from":"gpt","value":"yo"}]}`,
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(records, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}, args)
		return code, stdout.String()
	}
	for _, style := range []string{"auto", "sharegpt"} {
		rejects := filepath.Join(dir, "rejects-"+style+".jsonl")
		if code, _ := run("convert", "-q", in, "-o", filepath.Join(dir, "out.jsonl"), "--rejects", rejects,
			"--max-record-bytes", "200", "--input-style", style); code != 0 {
			t.Fatalf("convert: exit %d", code)
		}
		convert := map[int64]string{}
		f, err := os.Open(rejects)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rj struct {
				Index  int64  `json:"index"`
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
				t.Fatal(err)
			}
			convert[rj.Index] = rj.Reason
		}
		f.Close()

		code, out := run("validate", "-q", "--format", "json", "--max-record-bytes", "200", "--input-style", style, in)
		if code != 1 {
			t.Fatalf("validate: exit %d, want 1", code)
		}
		var report struct {
			Violations []struct {
				Index int64  `json:"index"`
				Kind  string `json:"kind"`
			} `json:"violations"`
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatal(err)
		}
		validate := map[int64][]string{}
		for _, v := range report.Violations {
			validate[v.Index] = append(validate[v.Index], v.Kind)
		}
		if got, want := slices.Sorted(maps.Keys(validate)), slices.Sorted(maps.Keys(convert)); !slices.Equal(got, want) {
			t.Errorf("%s: validate finds fault with records %v, convert rejects %v", style, got, want)
		}
		for i, reason := range convert {
			if !slices.Contains(validate[i], reason) && !(reason == "bad-shape" && slices.Contains(validate[i], "schema")) {
				t.Errorf("%s: record %d: convert rejects it as %s, validate says %v", style, i, reason, validate[i])
			}
		}
		// Both styles reject the same records but for record 5: two
		// conversation lists in the auto style, a "messages" member in the
		// sharegpt style.
		if _, ok := convert[5]; ok != (style == "auto") {
			t.Errorf("%s: record 5 rejected: %v", style, ok)
		}
	}
}
