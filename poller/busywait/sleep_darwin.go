package busywait

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepThread blocks the calling thread in an empty select(2): x/sys has
// no nanosleep for darwin, and select sleeps with microsecond resolution.
// An EINTR only shortens the nap.
func sleepThread(d time.Duration) {
	tv := unix.NsecToTimeval(int64(d))
	unix.Select(0, nil, nil, nil, &tv)
}
