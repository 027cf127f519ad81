package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/muxbench/muxbench/internal/outfile"
)

// Stdout is the file name that means standard output (--json -).
const Stdout = "-"

// CheckFile refuses, before any work, an output file that could not be
// written after it, as outfile.Check tells: its directory must take a new
// file, or the device or FIFO there must be writable; a directory, or a
// link to a regular file, is refused. Stdout passes. The error names
// flag.
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
	if err := outfile.Check(path); err != nil {
		return Usagef("%s %s: cannot write there: %v", dashes(flag), path, unwrapPath(err))
	}
	return nil
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
	if err := outfile.CheckDir(dir); err != nil {
		return Usagef("%s %s: cannot write there: %v", dashes(flag), dir, unwrapPath(err))
	}
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
