//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// poll1 asks the kernel about one descriptor without waiting. darwin and
// openbsd only allow system calls through libc, so there is no raw path
// here as on Linux.
func poll1(pfd *unix.PollFd) error {
	_, err := unix.Poll(unsafe.Slice(pfd, 1), 0)
	return err
}
