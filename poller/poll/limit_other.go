//go:build linux || dragonfly || freebsd || netbsd || openbsd

package poll

// maxEntries is zero: these kernels bound a poll array only by the
// descriptor limit, which the caller meets first.
const maxEntries = 0
