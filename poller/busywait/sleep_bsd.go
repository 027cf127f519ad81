//go:build dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// sleepThread blocks the calling thread in nanosleep(2) for all of d: a
// signal only interrupts it, and it sleeps again until the same deadline
// (sleeping for what the kernel says remained would slide the deadline by
// each signal's handling).
func sleepThread(d time.Duration) {
	deadline := time.Now().Add(d)
	for d > 0 {
		ts := unix.NsecToTimespec(int64(d))
		if !errors.Is(unix.Nanosleep(&ts, nil), unix.EINTR) {
			return
		}
		d = time.Until(deadline)
	}
}
