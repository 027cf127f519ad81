// Package msec converts a Wait timeout into the milliseconds that
// poll(2) and epoll_wait(2) take.
package msec

import "time"

// Timeout is d in milliseconds: -1 (block) when d is negative, and a
// positive d rounded up, because rounding a sub-millisecond wait down to
// 0 would turn the caller's loop into a spin. It stops at the largest
// int32 (about 24 days), the most the system calls accept.
func Timeout(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++ // not d+999999 first: that overflows near the longest d
	}
	if ms > 1<<31-1 {
		ms = 1<<31 - 1
	}
	return int(ms)
}
