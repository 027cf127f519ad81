//go:build !linux

package rawio

import "golang.org/x/sys/unix"

// Read is read(2). darwin and openbsd allow system calls only through
// libc, so the ordinary path is used everywhere but Linux.
func Read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// Write is write(2).
func Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
