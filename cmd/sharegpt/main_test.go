package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestInterruptLeavesNoOutput builds the binary, interrupts a run in the
// middle (stdin still open), and checks that it exits 130 and leaves
// neither the output nor a temporary file behind.
func TestInterruptLeavesNoOutput(t *testing.T) {
	dir, bin := buildBinary(t)
	out := filepath.Join(dir, "out.json")
	cmd := exec.Command(bin, "convert", "-i", "-", "-o", out, "--rejects", filepath.Join(dir, "rej.jsonl"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		fmt.Fprintf(stdin, `{"id":"%d","conversations":[{"from":"human","value":"hello"}]}`+"\n", i)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stdin.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "sharegpt" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// buildBinary builds the command into a temporary directory and returns
// both; it skips the test with -short.
func buildBinary(t *testing.T) (dir, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "sharegpt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir, bin
}

// TestKilledHubExport kills (SIGKILL) a tokenize --hf-hub run while it
// writes: the Hub folder must not exist at all (no data/ of temporary
// files), and the next run of the same output removes what the killed one
// left and puts a complete folder in place.
func TestKilledHubExport(t *testing.T) {
	dir, bin := buildBinary(t)
	hub := filepath.Join(dir, "hub")
	cmd := exec.Command(bin, "tokenize", "-q", "--hf-hub", hub, "--shard-rows", "50")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var recs []byte
	for i := range 300 {
		recs = fmt.Appendf(recs, `{"id":"%d","conversations":[{"from":"human","value":"hello %d"},{"from":"gpt","value":"hi there"}]}`+"\n", i, i)
	}
	stdin.Write(recs)
	// Kill once the layout's shards are under way (stdin still open).
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dir, ".hub.tmp-*", "data", "*")); len(m) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	stdin.Close()
	if _, err := os.Stat(hub); err == nil {
		t.Fatal("a killed run left the Hub folder in place")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".hub.tmp-*"))
	if len(left) != 1 {
		t.Fatalf("killed run's temporary folder: %v, want one", left)
	}

	rerun := exec.Command(bin, "tokenize", "-q", "--hf-hub", hub)
	rerun.Stdin = bytes.NewReader(recs)
	if out, err := rerun.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".hub.tmp-*")); len(left) != 0 {
		t.Errorf("the rerun left %v", left)
	}
	for _, name := range []string{"README.md", "data/train-00000-of-00001.parquet"} {
		if _, err := os.Stat(filepath.Join(hub, name)); err != nil {
			t.Errorf("rerun: %v", err)
		}
	}
}
