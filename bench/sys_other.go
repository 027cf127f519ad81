//go:build !linux

package bench

import (
	"golang.org/x/sys/unix"
)

// streamSocket opens a non-blocking, close-on-exec TCP socket; darwin has
// no SOCK_NONBLOCK, so it takes two more calls.
func streamSocket(family int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
