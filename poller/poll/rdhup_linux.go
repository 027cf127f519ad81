package poll

import "golang.org/x/sys/unix"

// rdHup asks Linux to report a peer's shutdown(SHUT_WR) or close.
const rdHup = unix.POLLRDHUP
