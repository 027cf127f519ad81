package busywait

import (
	"errors"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rdhup makes a peer's shutdown visible as HangUp, not only as a
// zero-length read, as EPOLLRDHUP does for epoll.
const rdhup = unix.POLLRDHUP

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

// sleepThread blocks the thread in nanosleep(2) for all of d. A signal
// (the runtime preempts a goroutine that has run for 10 ms with one) only
// interrupts it: it goes back to sleep for the time that remains. Naps
// from a millisecond up enter the scheduler, so that a garbage collection
// need not wait for them.
func sleepThread(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	if d >= time.Millisecond {
		for errors.Is(unix.Nanosleep(&ts, &ts), unix.EINTR) {
		}
		return
	}
	for {
		_, _, e := unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != unix.EINTR {
			return
		}
	}
}
