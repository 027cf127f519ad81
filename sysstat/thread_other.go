//go:build darwin || dragonfly || netbsd

package sysstat

import "fmt"

// Thread is the calling OS thread's usage; this platform has no
// RUSAGE_THREAD.
func Thread() (Usage, error) {
	return Usage{}, fmt.Errorf("%w: per-thread CPU (no RUSAGE_THREAD)", ErrUnavailable)
}
