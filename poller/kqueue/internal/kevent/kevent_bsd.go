//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package kevent

import "golang.org/x/sys/unix"

// Event is the kernel's struct kevent.
type Event = unix.Kevent_t

const (
	EVFILT_READ  = unix.EVFILT_READ
	EVFILT_WRITE = unix.EVFILT_WRITE
	EV_ADD       = unix.EV_ADD
	EV_DELETE    = unix.EV_DELETE
	EV_CLEAR     = unix.EV_CLEAR
	EV_EOF       = unix.EV_EOF
	EV_ERROR     = unix.EV_ERROR
)

// Emulation is empty: the kernel's own kqueue.
const Emulation = ""

// Check is nil: x/sys has the kernel's layout.
func Check() error { return nil }

// Kqueue creates a kqueue.
func Kqueue() (int, error) { return unix.Kqueue() }

// Kevent applies changes and then waits for events, as kevent(2).
func Kevent(kq int, changes, events []Event, timeout *unix.Timespec) (int, error) {
	return unix.Kevent(kq, changes, events, timeout)
}

// Set fills ev for a change.
func Set(ev *Event, fd, filter, flags int) { unix.SetKevent(ev, fd, filter, flags) }
