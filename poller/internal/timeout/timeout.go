// Package timeout converts a Wait timeout into what each system call
// takes, with every cap and rounding rule in one place: milliseconds for
// poll(2) and epoll_wait(2), a timespec for kevent(2) and pselect6, a
// timeval for select(2), the duration itself, up to Max, for
// io_uring_enter(2). A negative timeout blocks; a positive one is
// rounded up, because rounding a short wait down to 0 would turn the
// caller's loop into a spin; a very long one is capped, and the Wait
// returns early with no events, as the poller contract allows.
package timeout

import (
	"time"

	"golang.org/x/sys/unix"
)

// Max is the longest wait passed to the kernel: darwin's kevent fails with
// EINVAL beyond about 1e8 s, so the Go runtime clamps its own waits to
// 1e6 s (11.6 days), and every backend does the same here.
const Max = 1e6 * time.Second

// Millis is d in milliseconds, -1 for a negative d.
func Millis(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	d = min(d, Max)
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int(ms)
}

// Timespec is d as a timespec, nil (block) for a negative d.
func Timespec(d time.Duration) *unix.Timespec {
	if d < 0 {
		return nil
	}
	ts := unix.NsecToTimespec(int64(min(d, Max)))
	return &ts
}

// Timeval is d as a timeval, rounded up to the microsecond; nil (block)
// for a negative d.
func Timeval(d time.Duration) *unix.Timeval {
	if d < 0 {
		return nil
	}
	d = min(d, Max)
	d = (d + time.Microsecond - 1) / time.Microsecond * time.Microsecond
	tv := unix.NsecToTimeval(int64(d))
	return &tv
}
