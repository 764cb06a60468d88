package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams, and whether a person is
// watching stderr (then progress bars appear; in pipes and CI they don't).
type IOStreams struct {
	In        io.Reader
	Out       io.Writer
	ErrOut    io.Writer
	StderrTTY bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}
