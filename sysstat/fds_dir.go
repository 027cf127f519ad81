//go:build darwin || linux

package sysstat

import "os"

// countDir counts the entries of a per-process descriptor directory, less
// the one opened to look; -1 when it cannot be read.
func countDir(dir string) int {
	f, err := os.Open(dir)
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1
}
