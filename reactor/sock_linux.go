package reactor

import "golang.org/x/sys/unix"

// Linux creates and accepts sockets non-blocking and close-on-exec in one
// call, so no fork can inherit them in between. A write to a reset peer
// fails with EPIPE rather than killing us: the Go runtime ignores SIGPIPE
// on descriptors other than stdout and stderr.
func socketNB(domain int) (int, error) {
	return unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func acceptNB(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return nfd, err
}
