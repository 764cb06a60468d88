package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

// commit is set by make build (-ldflags -X) from git describe, for builds
// without Go's VCS stamp (-buildvcs=false, or a build outside git).
var commit = ""

// buildVersion describes the binary: its module version, the commit it was
// built from (with "+dirty" for uncommitted changes), the Go release and
// the embedded tokenizer's checksum.
func buildVersion() string {
	version, rev := "(devel)", commit
	if rev == "" {
		rev = "unknown"
	}
	dirty := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	return fmt.Sprintf("sharegpt %s\ncommit %s%s\n%s %s/%s\ntokenizer llama/tokenizer.model sha256 %s\n",
		version, rev, dirty, runtime.Version(), runtime.GOOS, runtime.GOARCH, tokenizer.DefaultChecksum())
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go release and embedded tokenizer checksum",
		Long: `Version prints the module version, the commit the binary was built from
("+dirty" when the tree had uncommitted changes), the Go release and platform,
and the SHA-256 of the embedded LLaMA tokenizer.model. sharegpt --version
prints the same.`,
		Example: `  sharegpt version
  sharegpt --version`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(ios.Out, buildVersion())
			return err
		},
	}
}
