package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Stdout is the file name that means standard output (--json -).
const Stdout = "-"

// CheckFile refuses, before any work, an output file that could not be
// written after it: its directory must exist and take a new file, and
// path must not be a directory. Stdout passes. The error names flag.
func CheckFile(flag, path string) error {
	if path == Stdout {
		return nil
	}
	if path == "" {
		return Usagef("%s: empty file name", dashes(flag))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Usagef("%s %s: is a directory", dashes(flag), path)
	}
	return probe(flag, path, filepath.Dir(path))
}

// CheckDir is CheckFile for an output directory: it is made if missing,
// then must take a new file.
func CheckDir(flag, dir string) error {
	if dir == "" {
		return Usagef("%s: empty directory name", dashes(flag))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Usagef("%s %s: %v", dashes(flag), dir, unwrapPath(err))
	}
	return probe(flag, dir, dir)
}

// probe creates and removes a file in dir: only trying tells whether a
// read-only mount, a full quota or permissions will refuse it.
func probe(flag, path, dir string) error {
	f, err := os.CreateTemp(dir, ".muxbench-probe-*")
	if err != nil {
		return Usagef("%s %s: cannot write there: %v", dashes(flag), path, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// unwrapPath drops the path and operation the caller already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w", pe.Err)
	}
	return err
}
