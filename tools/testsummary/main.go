// Command testsummary runs go test with -json and prints what a person
// needs: each package's result line, the output of every failing test, and
// at the end the tests that were skipped, oracle tests first, with the
// reason each gave (what to install). It exits with go test's status.
//
//	go run ./tools/testsummary -short ./...
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type skip struct{ pkg, test, why string }

func main() {
	args := append([]string{"test", "-json"}, os.Args[1:]...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	skips := summarize(out, os.Stdout)
	err = cmd.Wait()
	report(os.Stdout, skips)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
}

// summarize reads the events, printing package lines and failing tests'
// output, and returns the skipped tests.
func summarize(r io.Reader, w io.Writer) []skip {
	var skips []skip
	outputs := map[string][]string{} // package/test → its output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(w, sc.Text()) // not an event: pass it on
			continue
		}
		key := e.Package + "/" + e.Test
		switch {
		case e.Action == "output" && e.Test == "":
			if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "FAIL\n") {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "fail" && e.Test != "":
			fmt.Fprint(w, strings.Join(outputs[key], ""))
			delete(outputs, key)
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, skip{e.Package, e.Test, reason(outputs[key])})
			delete(outputs, key)
		case e.Action == "pass":
			delete(outputs, key)
		}
	}
	return skips
}

// reason is the message a skipped test gave: its last output line that
// is not go test's own.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l, "_test.go:") {
			return msg
		}
		return l
	}
	return "(no reason given)"
}

// report prints the skipped tests: oracle tests (the ones CI must run)
// first, then the others counted by reason.
func report(w io.Writer, skips []skip) {
	var oracles []skip
	others := map[string]int{}
	for _, s := range skips {
		if strings.Contains(s.why, "oracle") || strings.Contains(s.why, "not installed") {
			oracles = append(oracles, s)
		} else if !strings.Contains(s.Test(), "/") {
			others[s.why]++
		}
	}
	if len(oracles) > 0 {
		fmt.Fprintf(w, "\n%d tests skipped for a missing oracle or tool (.ci/run installs them, and in CI these tests fail instead):\n", len(oracles))
		for _, s := range oracles {
			fmt.Fprintf(w, "  %s %s: %s\n", strings.TrimPrefix(s.pkg, "github.com/sharegpt/sharegpt/"), s.test, s.why)
		}
	}
	if len(others) > 0 {
		reasons := make([]string, 0, len(others))
		for r := range others {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprintln(w, "\nother skipped tests:")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %3d  %s\n", others[r], r)
		}
	}
}

// Test returns the test's name.
func (s skip) Test() string { return s.test }
