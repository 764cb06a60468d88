package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpOrder checks that every command's --help says what it does,
// then shows examples, then the flags, in that order, and that no flag
// lacks a description.
func TestHelpOrder(t *testing.T) {
	root := NewRootCmd(&IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			if c.Short == "" || c.Long == "" || c.Example == "" {
				t.Fatalf("%s lacks Short, Long or Example", c.Name())
			}
			var out bytes.Buffer
			ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}}
			if code := Execute(context.Background(), ios, []string{c.Name(), "--help"}); code != 0 {
				t.Fatalf("exit %d", code)
			}
			help := out.String()
			first := strings.SplitN(c.Long, "\n", 2)[0]
			last := -1
			for _, part := range []string{first, "Usage:", "Examples:", "Flags:"} {
				i := strings.Index(help, part)
				if i <= last {
					t.Fatalf("%q is missing or out of order in:\n%s", part, help)
				}
				last = i
			}
			for _, line := range strings.Split(help[strings.Index(help, "Flags:"):], "\n")[1:] {
				if f := strings.Fields(line); len(f) == 1 && strings.HasPrefix(f[0], "--") {
					t.Errorf("flag without a description: %q", line)
				}
			}
		})
	}
}
