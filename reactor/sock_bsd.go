//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Darwin has neither SOCK_NONBLOCK nor accept4: set the flags after the
// call, holding ForkLock so that no fork inherits the descriptor between.
func socketNB(domain int) (int, error) {
	return withFlags(func() (int, error) { return unix.Socket(domain, unix.SOCK_STREAM, 0) })
}

func acceptNB(fd int) (int, error) {
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
