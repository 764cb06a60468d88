package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The rules that keep a run from harming the user's files, checked before
// any work:
//
//   - an output is never one of the run's inputs (compared by file
//     identity, so a symbolic or hard link to an input counts too), and no
//     shard an output may replace or remove is an input;
//   - a file output never replaces a folder;
//   - a folder output never replaces a file, and never a folder that holds
//     an input; whether it may replace a folder that exists is the layout's
//     decision (hfdataset replaces only folders it recognises as its own,
//     unless forced);
//   - two outputs of one run never share a path.
//
// Everything a run writes appears atomically (AtomicFile, AtomicDir), with
// the permissions of the file it replaces.

// OutputError says an output path may not be written; commands exit with
// status 2 for it, before reading any input.
type OutputError struct {
	Path string
	Msg  string
}

func (e *OutputError) Error() string { return "output " + e.Path + ": " + e.Msg }

// Guard knows a run's input files, to keep its outputs off them.
type Guard struct {
	inputs []guarded
}

type guarded struct {
	name string
	fi   os.FileInfo
	real string // absolute path with symbolic links resolved
}

// NewGuard returns a guard for the named inputs ("-", stdin, is not a file
// and needs no guarding; an input that does not exist is reported when it
// is opened).
func NewGuard(inputs []string) *Guard {
	g := &Guard{}
	for _, in := range inputs {
		if in == "-" {
			// stdin redirected from a file (< data.jsonl) is an input too.
			if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
				g.inputs = append(g.inputs, guarded{name: "stdin", fi: fi})
			}
			continue
		}
		if in == "" {
			continue
		}
		fi, err := os.Stat(in)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(in)
		if err == nil {
			real, err = filepath.Abs(real)
		}
		if err != nil {
			real = ""
		}
		g.inputs = append(g.inputs, guarded{name: in, fi: fi, real: real})
	}
	return g
}

// input returns the name of the input fi is, if it is one.
func (g *Guard) input(fi os.FileInfo) (string, bool) {
	for _, in := range g.inputs {
		if os.SameFile(in.fi, fi) {
			return in.name, true
		}
	}
	return "", false
}

// CheckFile checks a file output ("-" and "" are not files): it may not be
// an input of the run, nor an existing folder, nor a dangling symbolic
// link.
func (g *Guard) CheckFile(path string) error {
	if path == "-" || path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			return &OutputError{path, "is a symbolic link to a file that does not exist"}
		}
		return nil
	}
	if err != nil {
		return &OutputError{path, unwrapPathError(err).Error()}
	}
	if fi.IsDir() {
		return &OutputError{path, "is a folder; name a file"}
	}
	if in, ok := g.input(fi); ok {
		return &OutputError{path, inputMsg(path, in)}
	}
	return nil
}

func inputMsg(path, in string) string {
	if in == path {
		return "is an input of this run; write to another file (inputs are never replaced)"
	}
	return "is the input " + in + " of this run; write to another file (inputs are never replaced)"
}

// CheckShards checks a sharded file output: besides the rules of
// CheckFile for the prefix, no existing shard of the prefix (any total,
// since a run replaces the shards of its own total and removes the others)
// may be an input of the run.
func (g *Guard) CheckShards(path string) error {
	if err := g.CheckFile(path); err != nil {
		return err
	}
	dir, _ := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // no folder yet: no shards
	}
	for _, e := range entries {
		name := e.Name()
		if !isShardOf(path, name) {
			continue
		}
		shard := filepath.Join(dir, name)
		fi, err := os.Stat(shard)
		if err != nil {
			continue
		}
		if in, ok := g.input(fi); ok {
			return &OutputError{path, fmt.Sprintf("its shards would replace or remove %s, an input of this run; write to another prefix", in)}
		}
	}
	return nil
}

// CheckDir checks a folder output: it may not be a file, nor hold an input
// of the run anywhere inside it.
func (g *Guard) CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &OutputError{dir, unwrapPathError(err).Error()}
	}
	if !fi.IsDir() {
		return &OutputError{dir, "is a file, not a folder; a folder output never replaces a file"}
	}
	if in, ok := g.input(fi); ok {
		return &OutputError{dir, inputMsg(dir, in)}
	}
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return &OutputError{dir, err.Error()}
	}
	for _, in := range g.inputs {
		if in.real != "" && within(in.real, real) {
			return &OutputError{dir, fmt.Sprintf("holds %s, an input of this run; write the folder elsewhere (inputs are never replaced)", in.name)}
		}
	}
	return nil
}

// within reports whether path is dir or lies under it (both absolute and
// clean).
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// CheckDistinct checks that no two outputs of a run share a path ("-",
// stdout, may be shared: records and rejects can both go there).
func CheckDistinct(paths ...string) error {
	seen := map[string]string{}
	stdout := 0
	for _, p := range paths {
		if p == "-" {
			if stdout++; stdout > 1 {
				return &OutputError{"-", "stdout is named for two outputs (records, rejects, report...): name a file for all but one"}
			}
			continue
		}
		if p == "" {
			continue
		}
		key, err := filepath.Abs(p)
		if err != nil {
			key = filepath.Clean(p)
		}
		if first, ok := seen[key]; ok {
			return &OutputError{p, "is named for two outputs (also as " + first + ")"}
		}
		seen[key] = p
	}
	return nil
}

// isShardOf reports whether name (a base name) is a shard of the output
// path: PREFIX-00000-of-00008.EXT with any numbers.
func isShardOf(path, name string) bool {
	_, base := filepath.Split(path)
	_, plain := CompressionOf(base)
	compExt := base[len(plain):]
	ext := filepath.Ext(plain)
	stem := plain[:len(plain)-len(ext)]
	rest, ok := strings.CutPrefix(name, stem+"-")
	if !ok || !strings.HasSuffix(name, ext+compExt) {
		return false
	}
	// rest is "00000-of-00003.EXT...": check the shape exactly.
	return len(rest) == len("00000-of-00000")+len(ext)+len(compExt) && rest[5:9] == "-of-" &&
		allDigits(rest[:5]) && allDigits(rest[9:14])
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
