//go:build linux

package bench

import (
	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
)

// wakeTimer is a timerfd in the generator's poller: it wakes the loop at a
// nanosecond deadline, where the poller's own timeout is whole
// milliseconds. Timerfd's hrtimer has no slack, unlike epoll's timeout.
type wakeTimer struct {
	fd    int
	armed int64 // deadline set, 0 if none
}

func newWakeTimer() (*wakeTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &wakeTimer{fd: fd}, nil
}

// arm sets the deadline at, on nanotime's clock (CLOCK_MONOTONIC).
// Setting the timer also clears an expiry not yet read.
func (t *wakeTimer) arm(at int64) error {
	if at == t.armed {
		return nil
	}
	its := unix.ItimerSpec{Value: unix.NsecToTimespec(at)}
	if err := unix.TimerfdSettime(t.fd, unix.TFD_TIMER_ABSTIME, &its, nil); err != nil {
		return err
	}
	t.armed = at
	return nil
}

// expired consumes an expiry, so that the level-triggered poller stops
// reporting it.
func (t *wakeTimer) expired() {
	var buf [8]byte
	_, _ = rawio.Read(t.fd, buf[:])
	t.armed = 0
}

func (t *wakeTimer) close() { unix.Close(t.fd) }
