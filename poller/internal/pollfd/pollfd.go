// Package pollfd translates between the Poller's flags and poll(2)'s
// events, once for the backends built on poll(2) (poll and busywait) and
// on io_uring's poll requests (iouring), so that they ask and answer
// alike on every platform.
package pollfd

import (
	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// Events is what to ask poll(2) for an interest. The peer's half-close
// (RDHUP, where the platform has it) is asked only with read interest, as
// epoll reports it; POLLHUP, POLLERR and POLLNVAL come whatever is asked.
func Events(interest poller.Flags) int16 {
	var ev int16
	if interest&poller.Readable != 0 {
		ev |= unix.POLLIN | RDHUP
	}
	if interest&poller.Writable != 0 {
		ev |= unix.POLLOUT
	}
	return ev
}

// Flags is what revents say. POLLNVAL (a descriptor closed while
// registered) is an error.
func Flags(revents int16) poller.Flags {
	var f poller.Flags
	if revents&(unix.POLLIN|unix.POLLPRI) != 0 {
		f |= poller.Readable
	}
	if revents&unix.POLLOUT != 0 {
		f |= poller.Writable
	}
	if revents&(unix.POLLHUP|RDHUP) != 0 {
		f |= poller.HangUp
	}
	if revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
		f |= poller.Error
	}
	return f
}
