package cmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// terminal reads like a terminal: Ctrl-D gives one end of file, and the
// reads after it go on with whatever is typed next.
type terminal struct {
	eofs  int
	after io.Reader
}

func (t *terminal) Read(p []byte) (int, error) {
	if t.eofs > 0 {
		t.eofs--
		return 0, io.EOF
	}
	return t.after.Read(p)
}

// TestStdinTerminal: reading a terminal prints a hint and ends at the first
// Ctrl-D; reading a pipe or a file prints nothing.
func TestStdinTerminal(t *testing.T) {
	rec := `{"id":"1","conversations":[{"from":"human","value":"hi"}]}` + "\n"
	tests := []struct {
		name     string
		args     []string
		tty      bool
		wantHint bool
	}{
		{"stats on a terminal", []string{"stats"}, true, true},
		{"convert - on a terminal", []string{"convert", "-q", "-i", "-"}, true, true},
		{"stats on a pipe", []string{"stats"}, false, false},
		{"a file named", []string{"stats", "../testdata/columnar/sample.jsonl"}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			in := &terminal{eofs: 1, after: strings.NewReader(rec)}
			ios := &IOStreams{In: in, Out: &out, ErrOut: &errOut, StdinTTY: tc.tty}
			if code := Execute(context.Background(), ios, tc.args); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if got := strings.Contains(errOut.String(), stdinHint); got != tc.wantHint {
				t.Errorf("hint printed: %v, want %v\n%s", got, tc.wantHint, errOut.String())
			}
			if strings.Contains(out.String(), `"id":"1"`) {
				t.Error("read past the first end of file")
			}
		})
	}
}
