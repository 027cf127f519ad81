//go:build dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepThread blocks the calling thread in nanosleep(2). An EINTR only
// shortens the nap.
func sleepThread(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Nanosleep(&ts, nil)
}
