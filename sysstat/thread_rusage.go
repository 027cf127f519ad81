//go:build linux || freebsd || openbsd

package sysstat

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Thread is the calling OS thread's usage (getrusage RUSAGE_THREAD). Call
// it from a goroutine locked to that thread (runtime.LockOSThread): for a
// reactor, from inside the loop. MaxRSS is left zero: memory belongs to
// the process.
func Thread() (Usage, error) {
	if err := hide(FigThread, "per-thread CPU"); err != nil {
		return Usage{}, err
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return Usage{}, fmt.Errorf("sysstat: getrusage(RUSAGE_THREAD): %w", err)
	}
	return fromRusage(&ru), nil
}
