//go:build !linux

package rawio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket opens a TCP socket, non-blocking and close-on-exec. Darwin has
// neither SOCK_NONBLOCK nor accept4: the flags are set after the call,
// holding ForkLock so that no fork inherits the descriptor in between.
func Socket(domain int) (int, error) {
	return withFlags(func() (int, error) { return unix.Socket(domain, unix.SOCK_STREAM, 0) })
}

// Accept accepts a connection on listening socket fd, non-blocking and
// close-on-exec like Socket.
func Accept(fd int) (int, error) {
	return withFlags(func() (int, error) {
		nfd, _, err := unix.Accept(fd)
		return nfd, err
	})
}

// withFlags makes the descriptor open returns close-on-exec and
// non-blocking.
func withFlags(open func() (int, error)) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := open()
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
