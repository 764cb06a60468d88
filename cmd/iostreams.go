package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams, and whether a person is
// watching stderr (then progress bars appear; in pipes and CI they don't)
// or typing on stdin (then a command reading it says so).
type IOStreams struct {
	In        io.Reader
	Out       io.Writer
	ErrOut    io.Writer
	StderrTTY bool
	StdinTTY  bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}
