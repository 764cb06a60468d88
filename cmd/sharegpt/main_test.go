package main

import (
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
