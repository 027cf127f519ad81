//go:build darwin || dragonfly || freebsd

package kqueue

import "golang.org/x/sys/unix"

// waker is an EVFILT_USER event: no descriptor, one kevent call to fire.
// User events have an ident space of their own, apart from descriptors.
type waker struct{}

const wakeIdent = 0

func (waker) init(kq int) error {
	// EV_CLEAR resets the event as it is delivered, so nothing needs
	// draining.
	var ev [1]unix.Kevent_t
	unix.SetKevent(&ev[0], wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	_, err := unix.Kevent(kq, ev[:], nil, nil)
	return err
}

func (waker) wake(kq int) error {
	var ev [1]unix.Kevent_t
	unix.SetKevent(&ev[0], wakeIdent, unix.EVFILT_USER, unix.EV_ADD)
	ev[0].Fflags = unix.NOTE_TRIGGER
	for {
		_, err := unix.Kevent(kq, ev[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

func (waker) isWake(ev *unix.Kevent_t) bool { return ev.Filter == unix.EVFILT_USER }

func (waker) drain() {}

func (waker) close() {}
