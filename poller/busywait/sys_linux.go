package busywait

import (
	"errors"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The two system calls of the loop go round the Go scheduler: they never
// block for long, and entering the scheduler for each one let it hand the
// P to another thread and back. Measured here: a zero-timeout poll loop
// used 115% of a core instead of 97% with GOMAXPROCS=2, and a 100 us
// nanosleep cost 52 us of CPU instead of 17 us. The loop yields on its own
// (see Wait), so holding the P is harmless.

var zeroTimeout unix.Timespec

// poll1 asks the kernel about one descriptor without waiting (ppoll, as
// not every architecture has poll).
func poll1(pfd *unix.PollFd) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(pfd)), 1,
		uintptr(unsafe.Pointer(&zeroTimeout)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// sleepThread blocks the thread in clock_nanosleep(2) until d from now.
// A signal only interrupts it: the runtime preempts a goroutine that has
// run for 10 ms with one, and repeats it every 100 us while it stops the
// world. The sleep resumes towards the same absolute deadline; resuming
// with the time that remained would slide the deadline by every signal's
// handling, and under a stream of signals never end. Naps from a
// millisecond up enter the scheduler, so that a garbage collection need
// not wait for them.
func sleepThread(d time.Duration) {
	var now unix.Timespec
	if _, _, e := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&now)), 0); e != 0 {
		return
	}
	until := unix.NsecToTimespec(unix.TimespecToNsec(now) + int64(d))
	if d >= time.Millisecond {
		for errors.Is(unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &until, nil), unix.EINTR) {
		}
		return
	}
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME,
			uintptr(unsafe.Pointer(&until)), 0, 0, 0)
		if e != unix.EINTR {
			return
		}
	}
}
