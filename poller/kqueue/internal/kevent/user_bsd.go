//go:build darwin || dragonfly || freebsd

package kevent

import "golang.org/x/sys/unix"

// User events, for wake-ups without a descriptor.
const (
	EVFILT_USER  = unix.EVFILT_USER
	NOTE_TRIGGER = unix.NOTE_TRIGGER
)
