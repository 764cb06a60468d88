// Package oracle is for tests that compare the project's output with an
// independent implementation installed on the machine (SentencePiece C++
// and numpy for /usr/bin/python3, from Debian, which .ci/run installs).
// Without the oracle such a test skips locally with a message saying what
// to install, and fails when the CI environment variable is set, so that
// CI cannot pass by skipping.
package oracle

import (
	"os"
	"os/exec"
	"testing"
)

// Python is the interpreter the oracles run in: Debian's, for which
// python3-sentencepiece and python3-numpy install their modules.
const Python = "/usr/bin/python3"

// Missing skips t, or fails it in CI, with the message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// NeedModule calls Missing unless Python can import the module.
func NeedModule(t testing.TB, module string) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import "+module).CombinedOutput()
	if err != nil {
		Missing(t, "oracle unavailable: %s cannot import %s (apt-get install python3-%s): %v %s", Python, module, module, err, out)
	}
}

// NeedNodeModules calls Missing unless node can resolve each module (a
// package or a file inside one) from dir, a folder whose node_modules an
// install script fills (e.g. scripts/tokenizers).
func NeedNodeModules(t testing.TB, dir, install string, modules ...string) {
	t.Helper()
	for _, m := range modules {
		cmd := exec.Command("node", "-e", "require.resolve(process.argv[1])", m)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			Missing(t, "oracle unavailable: node cannot resolve %s in %s (run %s): %v %s", m, dir, install, err, out)
			return
		}
	}
}
