//go:build linux

// Package epoll is the epoll(7) backend: the kernel keeps the interest
// list, so a wait costs in proportion to the ready descriptors, not the
// registered ones.
package epoll

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/timeout"
	"github.com/muxbench/muxbench/poller/internal/wakepipe"
)

func init() {
	poller.Register(poller.Info{
		Name: "epoll",
		Doc:  "epoll(7), level-triggered by default, edge-triggered on request",
		Caps: poller.Capabilities{EdgeTriggered: true, Exclusive: true, RawWait: true},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
	})
}

// epoll_data holds the descriptor, which Wait reports for the wrapper to
// map to the caller's token. The token could not travel there instead:
// every uint64 is a valid token, so none could be kept back to mark the
// wake-up eventfd, while descriptor numbers are unique.
type backend struct {
	epfd   int
	wake   *wakepipe.Pipe
	wakefd int
	et     uint32
	buf    []unix.EpollEvent
	excl   map[int]bool // descriptors added with EPOLLEXCLUSIVE
	calls  uint64       // system calls: waits, ctls, wake-up drains
	wait   rawio.Waiter // raw as poller.Options.RawWait asks
}

// New opens an epoll instance with an eventfd (wakepipe) for wake-ups.
func New(o poller.Options) (poller.Backend, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := wakepipe.New()
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	b := &backend{epfd: epfd, wake: wake, wakefd: wake.Fd(), wait: rawio.Waiter{Raw: o.RawWait}}
	if o.EdgeTriggered {
		b.et = unix.EPOLLET
	}
	// The wake-up descriptor stays level-triggered: Wait drains it.
	if err := b.ctl(unix.EPOLL_CTL_ADD, b.wakefd, unix.EPOLLIN); err != nil {
		wake.Close()
		unix.Close(epfd)
		return nil, err
	}
	return b, nil
}

func (b *backend) mask(interest poller.Flags) uint32 { return b.et | Events(interest) }

// Events is the epoll mask for an interest, for every loop that keeps an
// epoll set (this backend and the load generator's own).
func Events(interest poller.Flags) uint32 {
	var m uint32
	if interest&poller.Readable != 0 {
		// EPOLLRDHUP makes a peer's shutdown visible as HangUp, not only as
		// a zero-length read. Only with read interest: a writer that has
		// stopped reading would otherwise be told of the FIN on every
		// level-triggered wait.
		m |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest&poller.Writable != 0 {
		m |= unix.EPOLLOUT
	}
	return m
}

// ctl stores fd in the first 32 bits of epoll_data, which x/sys exposes as
// ev.Fd on every Linux architecture.
func (b *backend) ctl(op, fd int, mask uint32) error {
	b.calls++
	ev := unix.EpollEvent{Events: mask, Fd: int32(fd)}
	return unix.EpollCtl(b.epfd, op, fd, &ev)
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	return b.ctl(unix.EPOLL_CTL_ADD, fd, b.mask(interest))
}

// AddExclusive adds fd with EPOLLEXCLUSIVE (Linux 4.5+): of the epoll
// sets that wait on it, one is woken, where a shared listener would
// otherwise wake every loop for one connection. The kernel allows no
// EPOLLRDHUP with it (a listener has no peer to hang up) and no
// EPOLL_CTL_MOD after it, so Modify deletes and adds such an entry.
func (b *backend) AddExclusive(fd int, interest poller.Flags) error {
	if err := b.ctl(unix.EPOLL_CTL_ADD, fd, b.exclusiveMask(interest)); err != nil {
		return err
	}
	if b.excl == nil {
		b.excl = make(map[int]bool)
	}
	b.excl[fd] = true
	return nil
}

func (b *backend) exclusiveMask(interest poller.Flags) uint32 {
	return b.mask(interest)&^unix.EPOLLRDHUP | unix.EPOLLEXCLUSIVE
}

func (b *backend) Modify(fd int, _, interest poller.Flags) error {
	if !b.excl[fd] {
		return b.ctl(unix.EPOLL_CTL_MOD, fd, b.mask(interest))
	}
	if err := b.ctl(unix.EPOLL_CTL_DEL, fd, 0); err != nil {
		return err
	}
	if err := b.ctl(unix.EPOLL_CTL_ADD, fd, b.exclusiveMask(interest)); err != nil {
		// Out of the set now: Remove will not find it either.
		delete(b.excl, fd)
		return err
	}
	return nil
}

func (b *backend) Remove(fd int, _ poller.Flags) error {
	delete(b.excl, fd)
	// A non-nil event keeps kernels before 2.6.9 happy; harmless after.
	var ev unix.EpollEvent
	b.calls++
	return unix.EpollCtl(b.epfd, unix.EPOLL_CTL_DEL, fd, &ev)
}

func (b *backend) Wait(events []poller.Event, d time.Duration) (int, error) {
	if cap(b.buf) < len(events) {
		b.buf = make([]unix.EpollEvent, len(events))
	}
	buf := b.buf[:len(events)]
	b.calls++
	n, err := Wait(&b.wait, b.epfd, buf, timeout.Millis(d))
	if err != nil {
		return 0, err
	}
	out := 0
	for i := range buf[:n] {
		ev := &buf[i]
		if int(ev.Fd) == b.wakefd {
			b.drainWake()
			continue
		}
		events[out] = poller.Event{Token: uint64(ev.Fd), Flags: Flags(ev.Events)}
		out++
	}
	return out, nil
}

// Wait is epoll_pwait with no signal mask, the call every Linux port
// has, raw while busy if w asks (rawio.Waiter), for this backend and the
// load generator's own epoll set. buf must not be empty.
func Wait(w *rawio.Waiter, epfd int, buf []unix.EpollEvent, ms int) (int, error) {
	r, e := w.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(ms), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Syscalls counts the loop's system calls: waits, ctls, drains.
func (b *backend) Syscalls() uint64 { return b.calls }

func (b *backend) drainWake() {
	b.calls++
	b.wake.Drain()
}

func (b *backend) Wake() error { return b.wake.Wake() }

func (b *backend) Close() error {
	b.wake.Close()
	return unix.Close(b.epfd)
}

// Flags is what an epoll event's mask says, for every loop that reads an
// epoll set (this backend and the load generator's own).
func Flags(events uint32) poller.Flags {
	var f poller.Flags
	if events&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		f |= poller.Readable
	}
	if events&unix.EPOLLOUT != 0 {
		f |= poller.Writable
	}
	if events&(unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
		f |= poller.HangUp
	}
	if events&unix.EPOLLERR != 0 {
		f |= poller.Error
	}
	return f
}
