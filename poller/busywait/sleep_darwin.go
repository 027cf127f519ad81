package busywait

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// sleepThread blocks the calling thread in an empty select(2): x/sys has
// no nanosleep for darwin, and select sleeps with microsecond resolution.
// darwin's select leaves the timeout as it was, so an EINTR sleeps again
// until the deadline.
func sleepThread(d time.Duration) {
	deadline := time.Now().Add(d)
	for d > 0 {
		tv := unix.NsecToTimeval(int64(d))
		if _, err := unix.Select(0, nil, nil, nil, &tv); !errors.Is(err, unix.EINTR) {
			return
		}
		d = time.Until(deadline)
	}
}
