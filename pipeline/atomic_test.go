package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeAndCommit(t *testing.T, target, text string) {
	t.Helper()
	f, err := CreateAtomic(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestAtomicFileKeepsPermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o640, 0o755} {
		target := filepath.Join(t.TempDir(), "out.jsonl")
		if err := os.WriteFile(target, []byte("old"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(target, mode) // past the umask
		writeAndCommit(t, target, "new")
		fi, err := os.Stat(target)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("mode %v after overwrite, want %v", fi.Mode().Perm(), mode)
		}
	}
}

func TestAtomicFileWritesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.jsonl")
	link := filepath.Join(dir, "link.jsonl")
	os.WriteFile(real, []byte("old"), 0o644)
	if err := os.Symlink("real.jsonl", link); err != nil {
		t.Fatal(err)
	}
	writeAndCommit(t, link, "new")
	if li, err := os.Lstat(link); err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
}

func TestAtomicFileSpecialTarget(t *testing.T) {
	before, err := os.Stat(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	writeAndCommit(t, os.DevNull, "discarded")
	after, err := os.Stat(os.DevNull)
	if err != nil || after.Mode() != before.Mode() {
		t.Fatalf("%s changed: %v -> %v (%v)", os.DevNull, before.Mode(), after.Mode(), err)
	}
}

func TestAtomicFileRefusesFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := CreateAtomic(dir)
	var oe *OutputError
	if !errors.As(err, &oe) {
		t.Fatalf("CreateAtomic(folder) = %v, want an OutputError", err)
	}
}

// TestStaleTemps: what a killed run left is removed when the same output
// is written again; a live run's temporary file, and temporary files of
// other outputs, stay.
func TestStaleTemps(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.jsonl")
	stale := filepath.Join(dir, ".out.jsonl.tmp-00112233aabb")
	other := filepath.Join(dir, ".other.jsonl.tmp-00112233aabb")
	notOurs := filepath.Join(dir, ".out.jsonl.tmp-notahexname!")
	for _, p := range []string{stale, other, notOurs} {
		os.WriteFile(p, []byte("x"), 0o644)
	}
	live, err := CreateAtomic(target) // removes stale
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	second, err := CreateAtomic(target) // must not remove live's file
	if err != nil {
		t.Fatal(err)
	}
	defer second.Abort()
	for _, tc := range []struct {
		path string
		want bool
	}{{stale, false}, {other, true}, {notOurs, true}, {live.Name(), true}, {second.Name(), true}} {
		_, err := os.Stat(tc.path)
		if (err == nil) != tc.want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(tc.path), err == nil, tc.want)
		}
	}
}

func TestAtomicDir(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "ds")
	os.MkdirAll(filepath.Join(target, "old"), 0o755)
	stale := filepath.Join(parent, ".ds.tmp-a1b2c3d4e5f6")
	os.MkdirAll(filepath.Join(stale, "half"), 0o755)

	d, err := CreateAtomicDir(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a killed run's temporary folder was left")
	}
	os.WriteFile(filepath.Join(d.Root, "new.txt"), []byte("x"), 0o644)
	if _, err := os.Stat(filepath.Join(target, "old")); err != nil {
		t.Error("target changed before Commit")
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "new.txt")); err != nil {
		t.Error("new folder not in place")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("left beside the target: %v", entries)
	}

	d, err = CreateAtomicDir(target)
	if err != nil {
		t.Fatal(err)
	}
	d.Abort()
	if _, err := os.Stat(filepath.Join(target, "new.txt")); err != nil {
		t.Error("Abort touched the target")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("Abort left: %v", entries)
	}
}

func TestAtomicDirNeverReplacesFile(t *testing.T) {
	target := filepath.Join(t.TempDir(), "mine.jsonl")
	os.WriteFile(target, []byte("data"), 0o644)
	d, err := CreateAtomicDir(target)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); err == nil {
		t.Fatal("a folder replaced a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "data" {
		t.Errorf("file changed: %q", b)
	}
}

func TestGuard(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte("{}\n"), 0o644)
	hard := filepath.Join(dir, "hard.jsonl")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft.jsonl")
	os.Symlink("in.jsonl", soft)
	dangling := filepath.Join(dir, "dangling.jsonl")
	os.Symlink("nowhere.jsonl", dangling)
	os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755)
	nested := filepath.Join(dir, "sub", "deeper", "n.jsonl")
	os.WriteFile(nested, []byte("{}\n"), 0o644)
	shard := filepath.Join(dir, "sh-00001-of-00003.jsonl")
	os.WriteFile(shard, []byte("{}\n"), 0o644)
	g := NewGuard([]string{in, nested, shard, "-"})

	tests := []struct {
		name  string
		check func(string) error
		path  string
		want  string // "" for no error
	}{
		{"input itself", g.CheckFile, in, "is an input"},
		{"hard link to an input", g.CheckFile, hard, "is the input"},
		{"symbolic link to an input", g.CheckFile, soft, "is the input"},
		{"dangling link", g.CheckFile, dangling, "does not exist"},
		{"folder", g.CheckFile, filepath.Join(dir, "sub"), "is a folder"},
		{"new file", g.CheckFile, filepath.Join(dir, "new.jsonl"), ""},
		{"stdout", g.CheckFile, "-", ""},
		{"shards over an input shard", g.CheckShards, filepath.Join(dir, "sh.jsonl"), "an input of this run"},
		{"shards of another prefix", g.CheckShards, filepath.Join(dir, "s.jsonl"), ""},
		{"folder holding an input", g.CheckDir, filepath.Join(dir, "sub"), "holds"},
		{"folder that is an input's parent's parent", g.CheckDir, dir, "holds"},
		{"folder output on a file", g.CheckDir, in, "is a file"},
		{"new folder", g.CheckDir, filepath.Join(dir, "new"), ""},
		{"sibling folder with a common prefix", g.CheckDir, filepath.Join(dir, "su"), ""},
	}
	for _, tc := range tests {
		err := tc.check(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if err := CheckDistinct("a.jsonl", "./a.jsonl"); err == nil {
		t.Error("CheckDistinct: two spellings of one path passed")
	}
	if err := CheckDistinct("-", "", "", "a.jsonl"); err != nil {
		t.Errorf("CheckDistinct(stdout once): %v", err)
	}
	if err := CheckDistinct("-", "-", ""); err == nil || !strings.Contains(err.Error(), "stdout is named for two outputs") {
		t.Errorf("CheckDistinct(stdout twice) = %v, want refused", err)
	}
}

func TestRemoveStaleShards(t *testing.T) {
	dir := t.TempDir()
	names := []string{"d-00000-of-00002.jsonl", "d-00001-of-00002.jsonl", "d-00000-of-00001.jsonl",
		"d-00000-of-00002.jsonl.gz", "dx-00000-of-00002.jsonl", "d-0000-of-00002.jsonl", "d.jsonl"}
	for _, n := range names {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	RemoveStaleShards(filepath.Join(dir, "d.jsonl"), 1)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := "d-0000-of-00002.jsonl d-00000-of-00001.jsonl d-00000-of-00002.jsonl.gz d.jsonl dx-00000-of-00002.jsonl"
	if got := strings.Join(left, " "); got != want {
		t.Errorf("left %s\nwant %s", got, want)
	}
}

// TestGuardStdin checks that a file redirected to stdin is an input like
// any other, whether the job names "-" or no input at all.
func TestGuardStdin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(path, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	for _, inputs := range [][]string{nil, {"-"}} {
		j := &Job{Inputs: inputs, Output: path}
		err := j.CheckOutputs()
		var oe *OutputError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "is the input stdin") {
			t.Errorf("inputs %q: %v, want the stdin file refused as an output", inputs, err)
		}
	}
}
