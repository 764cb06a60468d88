package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempTag marks the temporary files and folders outputs are written under:
// ".NAME.tmp-" and 12 hex digits, beside the target.
const tempTag = ".tmp-"

// tempName returns a fresh temporary name for target, in its folder.
func tempName(target string) (string, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+base+tempTag+hex.EncodeToString(suffix[:])), nil
}

// isTempOf reports whether name (a base name) is a temporary name of the
// target's base name.
func isTempOf(base, name string) bool {
	rest, ok := strings.CutPrefix(name, "."+base+tempTag)
	if !ok || len(rest) != 12 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// removeStaleTemps removes what killed runs left under target's temporary
// names. Every live temporary file or folder is locked by its writer, so
// only those whose lock can be taken are stale; on systems without locks
// nothing is removed.
func removeStaleTemps(target string) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !isTempOf(base, e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if tryLock(f) {
			os.RemoveAll(path)
		}
		f.Close()
	}
}

// AtomicFile is a file written under a temporary name beside its target
// and renamed into place by Commit, so that an interrupted run never leaves
// a file that looks finished. The file replaced keeps its permissions (and,
// for root, its owner). A target that is a symbolic link is written
// through: the file it names is replaced and the link stays. A target that
// is not a regular file (/dev/null, a named pipe) is written in place.
type AtomicFile struct {
	*os.File
	target string
	direct bool // written in place: a device or a pipe
	done   bool
}

// CreateAtomic creates the temporary file for target, after removing the
// temporary files that killed runs left for it.
func CreateAtomic(target string) (*AtomicFile, error) {
	target, special, err := resolveTarget(target)
	if err != nil {
		return nil, err
	}
	if special {
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &AtomicFile{File: f, target: target, direct: true}, nil
	}
	removeStaleTemps(target)
	tmp, err := tempName(target)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	lock(f)
	return &AtomicFile{File: f, target: target}, nil
}

// resolveTarget follows a symbolic link at target to the file it names and
// reports whether that is something other than a regular file.
func resolveTarget(target string) (string, bool, error) {
	li, err := os.Lstat(target)
	if err != nil {
		return target, false, nil // absent (or unreadable: creating will say)
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(target)
		if err != nil {
			return "", false, &OutputError{target, "is a symbolic link to a file that does not exist"}
		}
		target = real
		if li, err = os.Stat(real); err != nil {
			return "", false, err
		}
	}
	switch {
	case li.IsDir():
		return "", false, &OutputError{target, "is a folder; name a file"}
	case !li.Mode().IsRegular():
		return target, true, nil
	}
	return target, false, nil
}

// Commit closes the file and renames it to its target.
func (f *AtomicFile) Commit() error {
	return f.CommitAs(f.target)
}

// CommitAs closes the file and renames it to target instead of the name it
// was created for (a shard whose final name is known only at the end).
// target should be in the same directory.
func (f *AtomicFile) CommitAs(target string) error {
	if f.done {
		return errors.New("atomic file: already closed")
	}
	f.done = true
	if f.direct {
		return f.File.Close()
	}
	tmp := f.Name()
	keepMode(f.File, target)
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Abort closes and removes the temporary file; it is a no-op after Commit.
func (f *AtomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if !f.direct {
		os.Remove(f.Name())
	}
}

// keepMode gives the temporary file the permissions (and, where allowed,
// the owner) of the regular file it is about to replace.
func keepMode(f *os.File, target string) {
	fi, err := os.Stat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	f.Chmod(fi.Mode().Perm())
	keepOwner(f, fi)
}

// AtomicDir is a folder built under a temporary name beside its target and
// swapped into place by Commit: the target, if there is one, is renamed
// aside, the new folder renamed in and the old one removed, so the target
// is at all times either the old folder or the new one. Whether an existing
// target may be replaced is the caller's decision, made before creating.
type AtomicDir struct {
	Root   string // the temporary folder to write into
	target string
	lockf  *os.File
	done   bool
}

// CreateAtomicDir creates the temporary folder for target (and target's
// parent folders), after removing what killed runs left for it.
func CreateAtomicDir(target string) (*AtomicDir, error) {
	target = filepath.Clean(target)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	removeStaleTemps(target)
	tmp, err := tempName(target)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, err
	}
	d := &AtomicDir{Root: tmp, target: target}
	if d.lockf, err = os.Open(tmp); err == nil {
		lock(d.lockf)
	}
	return d, nil
}

// Commit puts the folder in place of its target.
func (d *AtomicDir) Commit() error {
	if d.done {
		return errors.New("atomic folder: already closed")
	}
	d.done = true
	defer d.unlock()
	old := ""
	if fi, err := os.Lstat(d.target); err == nil {
		if !fi.IsDir() {
			os.RemoveAll(d.Root)
			return &OutputError{d.target, "is not a folder; a folder output never replaces a file"}
		}
		tmp, err := tempName(d.target)
		if err != nil {
			os.RemoveAll(d.Root)
			return err
		}
		old = tmp
		if err := os.Rename(d.target, old); err != nil {
			os.RemoveAll(d.Root)
			return fmt.Errorf("replace %s: %w", d.target, err)
		}
	}
	if err := os.Rename(d.Root, d.target); err != nil {
		if old != "" {
			os.Rename(old, d.target)
		}
		os.RemoveAll(d.Root)
		return fmt.Errorf("replace %s: %w", d.target, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Abort removes the temporary folder; it is a no-op after Commit.
func (d *AtomicDir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Root)
	d.unlock()
}

func (d *AtomicDir) unlock() {
	if d.lockf != nil {
		d.lockf.Close()
		d.lockf = nil
	}
}
