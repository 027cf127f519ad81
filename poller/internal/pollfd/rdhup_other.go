//go:build darwin || dragonfly || netbsd || openbsd

package pollfd

// RDHUP is zero where poll(2) has no POLLRDHUP: a peer's shutdown shows as
// readable (a zero-length read) and, once both sides are shut, POLLHUP.
const RDHUP = 0
