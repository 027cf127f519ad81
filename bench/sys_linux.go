//go:build linux

package bench

import "golang.org/x/sys/unix"

// streamSocket opens a non-blocking, close-on-exec TCP socket.
func streamSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}
