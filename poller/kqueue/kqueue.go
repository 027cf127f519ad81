//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package kqueue

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/timeout"
)

func init() {
	poller.Register(poller.Info{
		Name: "kqueue",
		Doc:  "kqueue(2), level-triggered by default, edge-triggered (EV_CLEAR) on request",
		Caps: poller.Capabilities{EdgeTriggered: true},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
	})
}

// fdState is what Wait needs of a descriptor: events come back with
// their descriptor (Ident), which the wrapper maps to the caller's token.
type fdState struct {
	interest poller.Flags
	live     bool
	// gen and slot merge a descriptor's read and write events: slot is
	// its index in the events of the Wait numbered gen.
	gen  uint32
	slot int32
}

type backend struct {
	kq   int
	mode int // EV_CLEAR when edge-triggered
	fds  []fdState
	buf  []unix.Kevent_t
	gen  uint32
	w    waker
}

// New opens a kqueue with its wake-up event registered.
func New(o poller.Options) (poller.Backend, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	// fork does not pass a kqueue on, but a shared descriptor table
	// (rfork without RFFDG) would: close-on-exec, as the Go runtime sets.
	unix.CloseOnExec(kq)
	b := &backend{kq: kq}
	if o.EdgeTriggered {
		b.mode = unix.EV_CLEAR
	}
	if err := b.w.init(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return b, nil
}

// apply submits changes and no event list, so that no pending event is
// consumed (and lost, for EV_CLEAR) by a registration. The first change
// that fails stops the batch and is returned.
func (b *backend) apply(changes []unix.Kevent_t) error {
	if len(changes) == 0 {
		return nil
	}
	err := submit(b.kq, changes)
	if err == unix.EINTR {
		// kevent applies the change list before it could sleep, so an
		// EINTR here comes after the changes took effect; submitting them
		// again would turn an EV_DELETE into ENOENT.
		return nil
	}
	return err
}

// submit is kevent with changes only; a variable so that tests can make
// it fail as the kernel would.
var submit = func(kq int, changes []unix.Kevent_t) error {
	_, err := unix.Kevent(kq, changes, nil, nil)
	return err
}

var filters = [...]struct {
	flag   poller.Flags
	filter int
}{{poller.Readable, unix.EVFILT_READ}, {poller.Writable, unix.EVFILT_WRITE}}

// changes fills ch with the kevent changes from interest old to interest,
// deletions first. kqueue could take them with the next wait's kevent
// call and save a system call per change; applying them at once keeps
// errors with the call that caused them.
func (b *backend) changes(ch *[2]unix.Kevent_t, fd int, old, interest poller.Flags) []unix.Kevent_t {
	n := 0
	for _, f := range filters {
		if old&f.flag != 0 && interest&f.flag == 0 {
			unix.SetKevent(&ch[n], fd, f.filter, unix.EV_DELETE)
			n++
		}
	}
	for _, f := range filters {
		if old&f.flag == 0 && interest&f.flag != 0 {
			unix.SetKevent(&ch[n], fd, f.filter, unix.EV_ADD|b.mode)
			n++
		}
	}
	return ch[:n]
}

// restore makes the kernel hold interest again after a change failed
// half-way, ignoring errors: the filters may or may not be there.
func (b *backend) restore(fd int, interest poller.Flags) {
	var ch [1]unix.Kevent_t
	for _, f := range filters {
		flags := unix.EV_DELETE
		if interest&f.flag != 0 {
			flags = unix.EV_ADD | b.mode
		}
		unix.SetKevent(&ch[0], fd, f.filter, flags)
		b.apply(ch[:])
	}
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	if interest == 0 {
		// No filter to add, so no kevent call to refuse a descriptor that
		// is not open: ask for it, as epoll_ctl would refuse it.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return err
		}
	}
	var ch [2]unix.Kevent_t
	if err := b.apply(b.changes(&ch, fd, 0, interest)); err != nil {
		b.restore(fd, 0)
		return err
	}
	for fd >= len(b.fds) {
		b.fds = append(b.fds, fdState{})
	}
	b.fds[fd] = fdState{interest: interest, live: true}
	return nil
}

func (b *backend) Modify(fd int, old, interest poller.Flags) error {
	var ch [2]unix.Kevent_t
	if err := b.apply(b.changes(&ch, fd, old, interest)); err != nil {
		b.restore(fd, old)
		return err
	}
	b.fds[fd].interest = interest
	return nil
}

func (b *backend) Remove(fd int, old poller.Flags) error {
	b.fds[fd] = fdState{}
	var ch [2]unix.Kevent_t
	return b.apply(b.changes(&ch, fd, old, 0))
}

func (b *backend) Wait(events []poller.Event, d time.Duration) (int, error) {
	if cap(b.buf) < len(events) {
		b.buf = make([]unix.Kevent_t, len(events))
	}
	buf := b.buf[:len(events)]
	n, err := unix.Kevent(b.kq, nil, buf, timeout.Timespec(d))
	if err == unix.ETIMEDOUT {
		// darwin has been seen to return ETIMEDOUT for a plain timeout
		// (go.dev/issue/59679); the Go runtime ignores it too.
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if b.gen++; b.gen == 0 {
		// Wrapped after 2^32 waits: forget old stamps so none matches.
		for i := range b.fds {
			b.fds[i].gen = 0
		}
		b.gen = 1
	}
	out := 0
	for i := range buf[:n] {
		ev := &buf[i]
		if b.w.isWake(ev) {
			b.w.drain()
			continue
		}
		fd := int(ev.Ident)
		if fd >= len(b.fds) || !b.fds[fd].live {
			continue // not ours: a filter left behind by a failed change
		}
		s := &b.fds[fd]
		f := flags(ev, s.interest)
		if s.gen == b.gen {
			events[s.slot].Flags |= f
			continue
		}
		s.gen, s.slot = b.gen, int32(out)
		events[out] = poller.Event{Token: uint64(fd), Flags: f}
		out++
	}
	return out, nil
}

// flags translates one kernel event. EV_EOF on the read filter means the
// peer shut down (HangUp; reading is still possible and returns the rest,
// then end of stream); Fflags then holds the socket error, if any.
func flags(ev *unix.Kevent_t, interest poller.Flags) poller.Flags {
	var f poller.Flags
	eof := ev.Flags&unix.EV_EOF != 0
	switch ev.Filter {
	case unix.EVFILT_READ:
		f = poller.Readable
		// Some systems tell a pipe's writer that the reader closed with
		// an EOF on the read filter, not on the write filter (as the Go
		// runtime notes): let a writer try and meet EPIPE.
		if eof && interest&poller.Writable != 0 {
			f |= poller.Writable
		}
	case unix.EVFILT_WRITE:
		f = poller.Writable
	}
	if eof {
		f |= poller.HangUp
		if ev.Fflags != 0 {
			f |= poller.Error
		}
	}
	if ev.Flags&unix.EV_ERROR != 0 {
		f |= poller.Error
	}
	return f
}

func (b *backend) Wake() error { return b.w.wake(b.kq) }

func (b *backend) Close() error {
	b.w.close()
	return unix.Close(b.kq)
}
