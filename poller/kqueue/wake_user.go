//go:build darwin || dragonfly || freebsd || (linux && libkqueue)

package kqueue

import (
	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller/kqueue/internal/kevent"
)

// waker is an EVFILT_USER event: no descriptor, one kevent call to fire.
// User events have an ident space of their own, apart from descriptors.
type waker struct{}

const wakeIdent = 0

func (waker) init(kq int) error {
	// EV_CLEAR resets the event as it is delivered, so nothing needs
	// draining.
	var ev [1]kevent.Event
	kevent.Set(&ev[0], wakeIdent, kevent.EVFILT_USER, kevent.EV_ADD|kevent.EV_CLEAR)
	_, err := kevent.Kevent(kq, ev[:], nil, nil)
	return err
}

func (waker) wake(kq int) error {
	var ev [1]kevent.Event
	kevent.Set(&ev[0], wakeIdent, kevent.EVFILT_USER, kevent.EV_ADD)
	ev[0].Fflags = kevent.NOTE_TRIGGER
	for {
		_, err := kevent.Kevent(kq, ev[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

func (waker) isWake(ev *kevent.Event) bool { return ev.Filter == kevent.EVFILT_USER }

func (waker) drain() {}

func (waker) close() {}
