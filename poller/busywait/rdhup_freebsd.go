package busywait

import "golang.org/x/sys/unix"

// rdhup makes a peer's shutdown visible as HangUp, not only as a
// zero-length read.
const rdhup = unix.POLLRDHUP
