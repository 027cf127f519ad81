//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package bench

import "golang.org/x/sys/unix"

// listenBacklog is the accept queue a server on this host gets: SOMAXCONN
// is 128 on darwin and the BSDs, and their default kern.ipc.somaxconn
// (soacceptqueue on FreeBSD) the same; more SYNs at once are dropped or
// reset rather than queued.
func listenBacklog() int { return unix.SOMAXCONN }
