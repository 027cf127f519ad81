//go:build linux || freebsd

package pollfd

import "golang.org/x/sys/unix"

// RDHUP makes a peer's shutdown(SHUT_WR) or close visible as HangUp, not
// only as a zero-length read, as EPOLLRDHUP does for epoll.
const RDHUP = unix.POLLRDHUP
