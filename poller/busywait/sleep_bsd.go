//go:build dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// sleepThread blocks the calling thread in nanosleep(2) for all of d: a
// signal only interrupts it, and it sleeps again for what remains.
func sleepThread(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for errors.Is(unix.Nanosleep(&ts, &ts), unix.EINTR) {
	}
}
