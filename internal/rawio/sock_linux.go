package rawio

import "golang.org/x/sys/unix"

// Socket opens a TCP socket, non-blocking and close-on-exec. Linux sets
// both flags in the same call, so no fork can inherit the descriptor in
// between. A write to a reset peer fails with EPIPE rather than killing
// us: the Go runtime ignores SIGPIPE on descriptors other than stdout and
// stderr.
func Socket(domain int) (int, error) {
	return unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// Accept accepts a connection on listening socket fd, non-blocking and
// close-on-exec like Socket.
func Accept(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return nfd, err
}
