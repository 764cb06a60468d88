// Package examples holds the Makefile and job scripts that show how the
// commands chain; its test runs examples/sharegpt.mk for real.
package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var stageRE = regexp.MustCompile(`(?m)^\S*sharegpt (import|clean|dedup|split|export|stats|tokenize)\b.*$`)

// makeRun runs the example Makefile into out and returns the stages it ran.
func makeRun(t *testing.T, bin, out string, vars ...string) []string {
	t.Helper()
	args := append([]string{"-C", "..", "-f", "examples/sharegpt.mk", "-j2", "SHAREGPT=" + bin, "OUT=" + out}, vars...)
	cmd := exec.Command("make", args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(vars, " "), err, b)
	}
	var stages []string
	for _, m := range stageRE.FindAllStringSubmatch(string(b), -1) {
		name := m[1]
		if strings.Contains(m[0], "/import/") {
			name = "import:" + name // the chain of the ChatGPT export
		}
		stages = append(stages, name)
	}
	slices.Sort(stages) // -j2 runs the two chains in any order
	return stages
}

func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".report.json") {
			return err // reports hold timings
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSharegptMk(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs the whole chain")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "sharegpt")
	if b, err := exec.Command("go", "build", "-o", bin, "../cmd/sharegpt").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")

	if got, want := strings.Join(makeRun(t, bin, a), " "), "clean dedup export export import:clean import:import import:split import:tokenize split stats"; got != want {
		t.Fatalf("first run: %s, want %s", got, want)
	}
	if got := makeRun(t, bin, a); len(got) != 0 {
		t.Errorf("a finished build ran %v again", got)
	}
	if got, want := strings.Join(makeRun(t, bin, a, "SPLIT_FLAGS=--max-length 1024"), " "), "export export import:split import:tokenize split stats"; got != want {
		t.Errorf("new split flags ran %q; want split and the stages after it only (%s)", got, want)
	}
	makeRun(t, bin, a) // back to the default flags

	// Interrupted: kill the run while clean writes; no target is left
	// that make would take as done, and the next run finishes the job.
	cmd := exec.Command("make", "-C", "..", "-f", "examples/sharegpt.mk", "SHAREGPT="+bin, "OUT="+b)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		tmps, _ := filepath.Glob(filepath.Join(b, ".clean.jsonl.tmp-*"))
		if len(tmps) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	for _, target := range []string{"clean.jsonl", "dedup.jsonl", "split.jsonl"} {
		if _, err := os.Stat(filepath.Join(b, target)); err == nil {
			t.Errorf("killed during clean, yet %s exists", target)
		}
	}
	makeRun(t, bin, b)

	fa, fb := files(t, a), files(t, b)
	if len(fa) < 15 {
		t.Fatalf("only %d output files", len(fa))
	}
	for name, want := range fa {
		if strings.Contains(name, ".tmp-") {
			continue
		}
		// Rejects name their input file, which is in a or b.
		if !bytes.Equal(bytes.ReplaceAll(fb[name], []byte(b), []byte(a)), want) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}
