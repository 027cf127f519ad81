//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

// rdHup is Linux-only; the BSDs report a peer's close as POLLHUP (or only
// as readable end of stream).
const rdHup = 0
