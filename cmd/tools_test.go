package cmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

// TestMergeAgainstFastChat splits the real ShareGPT sample into three JSON
// arrays, merges them with FastChat's merge.py logic in Python and with
// sharegpt convert, and compares the files byte for byte.
func TestMergeAgainstFastChat(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		if python, err = exec.LookPath("python3"); err != nil {
			oracle.Missing(t, "oracle unavailable: python3 not found, FastChat's merge is not compared")
		}
	}
	dir := t.TempDir()
	prog := `import json, sys
src, dir = sys.argv[1], sys.argv[2]
content = json.load(open(src, "r"))
parts = [content[:300], content[300:301], content[301:]]
for i, p in enumerate(parts):
    json.dump(p, open(f"{dir}/part{i}.json", "w"), indent=2, ensure_ascii=False)
# fastchat/data/merge.py
new_content = []
for in_file in [f"{dir}/part{i}.json" for i in range(3)]:
    content = json.load(open(in_file, "r"))
    new_content.extend(content)
json.dump(new_content, open(f"{dir}/fastchat.json", "w"), indent=2, ensure_ascii=False)
`
	if out, err := exec.Command(python, "-c", prog, "../testdata/sharegpt/sharegpt_v3_sample_1000.json", dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr}
	args := []string{"convert", "-q", filepath.Join(dir, "part0.json"), filepath.Join(dir, "part1.json"),
		filepath.Join(dir, "part2.json"), "-o", filepath.Join(dir, "ours.json")}
	if code := Execute(context.Background(), ios, args); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(dir, "ours.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "fastchat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("merged file differs from FastChat's merge.py output (%d bytes, FastChat %d)", len(got), len(want))
	}
}

// TestRatioAgainstFastChat runs FastChat's split_train_test.py logic (numpy
// permutation with seed 0, int(n*ratio) train records, json.dump indent=2)
// and sharegpt export --ratio on the real sample, and compares the
// X_train.json and X_test.json files byte for byte.
func TestRatioAgainstFastChat(t *testing.T) {
	oracle.NeedModule(t, "numpy")
	dir := t.TempDir()
	data, err := os.ReadFile("../testdata/sharegpt/sharegpt_v3_sample_1000.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fc.json", "ours.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prog := `import json, sys
import numpy as np
in_file, ratio = sys.argv[1], float(sys.argv[2])
# fastchat/data/split_train_test.py
content = json.load(open(in_file, "r"))
np.random.seed(0)
perm = np.random.permutation(len(content))
content = [content[i] for i in perm]
split = int(ratio * len(content))
train_set = content[:split]
test_set = content[split:]
train_name = in_file.replace(".json", "_train.json")
test_name = in_file.replace(".json", "_test.json")
json.dump(train_set, open(train_name, "w"), indent=2, ensure_ascii=False)
json.dump(test_set, open(test_name, "w"), indent=2, ensure_ascii=False)
`
	if out, err := exec.Command(oracle.Python, "-c", prog, filepath.Join(dir, "fc.json"), "0.87").CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr}
	if code := Execute(context.Background(), ios, []string{"export", "-q", "--ratio", "0.87", filepath.Join(dir, "ours.json")}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, part := range []string{"_train.json", "_test.json"} {
		got, err := os.ReadFile(filepath.Join(dir, "ours"+part))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, "fc"+part))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from FastChat's split_train_test.py output (%d bytes, FastChat %d)", part, len(got), len(want))
		}
	}
}
