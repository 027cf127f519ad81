//go:build linux

package bench

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/epoll"
)

// rawEpoll is the generator's own epoll set on Linux. Its wait is a raw
// system call, unknown to the Go runtime: the loop's locked thread keeps
// its P while it sleeps, so neither sysmon's retake of a P "stuck" in a
// syscall (with the hand-off to another thread it starts) nor the
// exitsyscall that gets a P back lies on the path from an echo's arrival
// to the next send. Measured with perf on a 1-connection ping-pong, those
// were the generator's main cost beyond the kernel's. The thread still
// stops for the garbage collector: a preemption signal interrupts the
// wait (EINTR), which returns no events, and the wait after that is an
// ordinary one (rawio.Waiter).
//
// Tokens are connection indices (below 2^31) or the generator's own
// timerToken; they travel in epoll_data's first 32 bits.
type rawEpoll struct {
	epfd, wakefd int
	buf          []unix.EpollEvent
	wait         rawio.Waiter
	wakeSig      atomic.Bool
}

const (
	rawTimerData = -1
	rawWakeData  = -2
)

func newRawEpoll() (genPoller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	e := &rawEpoll{epfd: epfd, wakefd: wakefd, wait: rawio.Waiter{Raw: true}}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: rawWakeData}); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func rawData(token uint64) int32 {
	if token == timerToken {
		return rawTimerData
	}
	return int32(token)
}

func (e *rawEpoll) Add(fd int, token uint64, interest poller.Flags) error {
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: epoll.Events(interest), Fd: rawData(token)})
}

func (e *rawEpoll) Modify(fd int, token uint64, interest poller.Flags) error {
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: epoll.Events(interest), Fd: rawData(token)})
}

func (e *rawEpoll) Remove(fd int) error {
	var ev unix.EpollEvent
	return unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, fd, &ev)
}

func (e *rawEpoll) Wait(events []poller.Event, timeout time.Duration) (int, error) {
	if cap(e.buf) < len(events) {
		e.buf = make([]unix.EpollEvent, len(events))
	}
	buf := e.buf[:len(events)]
	ms := -1
	if timeout >= 0 {
		ms = int(min((timeout+time.Millisecond-1)/time.Millisecond, 1<<31-1))
	}
	n, err := epoll.Wait(&e.wait, e.epfd, buf, ms)
	e.wakeSig.Store(false)
	switch {
	case err == unix.EINTR:
		return 0, nil
	case err != nil:
		return 0, err
	}
	out := 0
	for i := range buf[:n] {
		ev := &buf[i]
		var tok uint64
		switch ev.Fd {
		case rawWakeData:
			var b [8]byte
			_, _ = unix.Read(e.wakefd, b[:])
			continue
		case rawTimerData:
			tok = timerToken
		default:
			tok = uint64(ev.Fd)
		}
		events[out] = poller.Event{Token: tok, Flags: epoll.Flags(ev.Events)}
		out++
	}
	return out, nil
}

// Wake may be called from any goroutine; wakes before the next wait cost
// one write.
func (e *rawEpoll) Wake() error {
	if !e.wakeSig.CompareAndSwap(false, true) {
		return nil
	}
	one := [8]byte{1}
	_, err := unix.Write(e.wakefd, one[:])
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

func (e *rawEpoll) Close() error {
	unix.Close(e.wakefd)
	return unix.Close(e.epfd)
}
