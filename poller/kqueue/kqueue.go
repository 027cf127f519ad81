//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/timeout"
	"github.com/muxbench/muxbench/poller/kqueue/internal/kevent"
)

func init() {
	doc := "kqueue(2), level-triggered by default, edge-triggered (EV_CLEAR) on request"
	if kevent.Emulation != "" {
		doc += "; through " + kevent.Emulation + " (epoll underneath)"
	}
	poller.Register(poller.Info{
		Name:      "kqueue",
		Doc:       doc,
		Caps:      poller.Capabilities{EdgeTriggered: true},
		New:       func(o poller.Options) (poller.Backend, error) { return New(o) },
		Available: kevent.Check,
		Emulation: kevent.Emulation,
	})
}

// fdState is what Wait needs of a descriptor: events come back with
// their descriptor (Ident), which the wrapper maps to the caller's token.
type fdState struct {
	interest poller.Flags
	live     bool
	// widowed is set for a pipe whose reader had gone when its write
	// filter was added: the kernel refused the filter, and Wait reports
	// the descriptor writable in its place.
	widowed bool
	// gen and slot merge a descriptor's read and write events: slot is
	// its index in the events of the Wait numbered gen.
	gen  uint32
	slot int32
}

type backend struct {
	kq   int
	mode int // EV_CLEAR when edge-triggered
	fds  []fdState
	buf  []kevent.Event
	gen  uint32
	w    waker
	// widowed lists the widowed descriptors the next Wait reports: every
	// one level-triggered, those not reported yet edge-triggered.
	widowed []int
}

// New opens a kqueue with its wake-up event registered.
func New(o poller.Options) (poller.Backend, error) {
	kq, err := kevent.Kqueue()
	if err != nil {
		return nil, err
	}
	// fork does not pass a kqueue on, but a shared descriptor table
	// (rfork without RFFDG) would: close-on-exec, as the Go runtime sets.
	unix.CloseOnExec(kq)
	b := &backend{kq: kq}
	if o.EdgeTriggered {
		b.mode = kevent.EV_CLEAR
	}
	if err := b.w.init(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return b, nil
}

// apply submits changes and no event list, so that no pending event is
// consumed (and lost, for EV_CLEAR) by a registration. The first change
// that fails stops the batch and is returned; those before it stand.
func (b *backend) apply(changes []kevent.Event) error {
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
var submit = func(kq int, changes []kevent.Event) error {
	_, err := kevent.Kevent(kq, changes, nil, nil)
	return err
}

var filters = [...]struct {
	flag   poller.Flags
	filter int
}{{poller.Readable, kevent.EVFILT_READ}, {poller.Writable, kevent.EVFILT_WRITE}}

// changes fills ch with the kevent changes from interest old to interest:
// deletions first, then additions, the write filter's last. A widowed
// descriptor has no write filter to delete. kqueue could take the
// changes with the next wait's kevent call and save a system call per
// change; applying them at once keeps errors with the call that caused
// them.
func (b *backend) changes(ch *[2]kevent.Event, fd int, old, interest poller.Flags, widowed bool) []kevent.Event {
	n := 0
	for _, f := range filters {
		if old&f.flag != 0 && interest&f.flag == 0 && !(f.flag == poller.Writable && widowed) {
			kevent.Set(&ch[n], fd, f.filter, kevent.EV_DELETE)
			n++
		}
	}
	for _, f := range filters {
		if old&f.flag == 0 && interest&f.flag != 0 {
			kevent.Set(&ch[n], fd, f.filter, kevent.EV_ADD|b.mode)
			n++
		}
	}
	return ch[:n]
}

// change moves fd's filters from interest old to interest and reports
// whether the write filter it added was refused for a widowed pipe.
// FreeBSD and DragonFly refuse it with EPIPE, NetBSD with EBADF, older
// darwin with EPIPE (their pipe_kqfilter), after the changes before it
// took effect. mio and polling take that as readiness, and so does this
// backend: epoll and poll report such a pipe writable with an error, and
// a write returns EPIPE.
func (b *backend) change(fd int, old, interest poller.Flags) (widowed bool, err error) {
	was := fd < len(b.fds) && b.fds[fd].widowed
	var ch [2]kevent.Event
	changes := b.changes(&ch, fd, old, interest, was)
	err = b.apply(changes)
	if err == nil {
		return was && interest&poller.Writable != 0, nil
	}
	last := changes[len(changes)-1]
	if last.Filter == kevent.EVFILT_WRITE && last.Flags&kevent.EV_ADD != 0 && (err == unix.EPIPE || err == unix.EBADF && isOpen(fd)) {
		return true, nil
	}
	b.restore(fd, old)
	return false, err
}

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// restore makes the kernel hold interest again after a change failed
// half-way, ignoring errors: the filters may or may not be there.
func (b *backend) restore(fd int, interest poller.Flags) {
	var ch [1]kevent.Event
	for _, f := range filters {
		flags := kevent.EV_DELETE
		if interest&f.flag != 0 {
			flags = kevent.EV_ADD | b.mode
		}
		kevent.Set(&ch[0], fd, f.filter, flags)
		b.apply(ch[:])
	}
}

// setWidowed records whether fd is widowed; newly, a change has just
// found it so, which an edge-triggered Wait reports once.
func (b *backend) setWidowed(fd int, widowed, newly bool) {
	s := &b.fds[fd]
	listed := slices.Contains(b.widowed, fd)
	s.widowed = widowed
	switch {
	case !widowed && listed:
		b.widowed = slices.DeleteFunc(b.widowed, func(x int) bool { return x == fd })
	case widowed && !listed && (newly || b.mode == 0):
		b.widowed = append(b.widowed, fd)
	}
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	if interest == 0 && !isOpen(fd) {
		// No filter to add, so no kevent call to refuse a descriptor that
		// is not open: refuse it here, as epoll_ctl would.
		return unix.EBADF
	}
	widowed, err := b.change(fd, 0, interest)
	if err != nil {
		return err
	}
	for fd >= len(b.fds) {
		b.fds = append(b.fds, fdState{})
	}
	b.fds[fd] = fdState{interest: interest, live: true}
	b.setWidowed(fd, widowed, widowed)
	return nil
}

func (b *backend) Modify(fd int, old, interest poller.Flags) error {
	was := b.fds[fd].widowed
	widowed, err := b.change(fd, old, interest)
	if err != nil {
		return err
	}
	b.fds[fd].interest = interest
	b.setWidowed(fd, widowed, widowed && !was)
	return nil
}

func (b *backend) Remove(fd int, old poller.Flags) error {
	var ch [2]kevent.Event
	changes := b.changes(&ch, fd, old, 0, b.fds[fd].widowed)
	b.setWidowed(fd, false, false)
	b.fds[fd] = fdState{}
	return b.apply(changes)
}

func (b *backend) Wait(events []poller.Event, d time.Duration) (int, error) {
	if cap(b.buf) < len(events) {
		b.buf = make([]kevent.Event, len(events))
	}
	// Widowed descriptors are ready now: room is kept for them, and the
	// kernel is only polled.
	widowed := min(len(b.widowed), len(events))
	if widowed > 0 {
		d = 0
	}
	buf := b.buf[:len(events)-widowed]
	var n int
	var err error
	if len(buf) > 0 {
		n, err = kevent.Kevent(b.kq, nil, buf, timeout.Timespec(d))
	}
	if err == unix.ETIMEDOUT {
		// darwin has been seen to return ETIMEDOUT for a plain timeout
		// (go.dev/issue/59679); the Go runtime ignores it too.
		n, err = 0, nil
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
		out = b.merge(events, out, fd, flags(ev))
	}
	for _, fd := range b.widowed[:widowed] {
		out = b.merge(events, out, fd, poller.Writable|poller.Error)
	}
	if b.mode != 0 {
		b.widowed = b.widowed[widowed:]
	} else if widowed < len(b.widowed) {
		// More than fit: the next Wait starts with the others.
		b.widowed = slices.Concat(b.widowed[widowed:], b.widowed[:widowed])
	}
	return out, nil
}

// merge adds f to fd's event of this Wait, or makes one at events[out],
// and returns the new count.
func (b *backend) merge(events []poller.Event, out, fd int, f poller.Flags) int {
	s := &b.fds[fd]
	if s.gen == b.gen {
		events[s.slot].Flags |= f
		return out
	}
	s.gen, s.slot = b.gen, int32(out)
	events[out] = poller.Event{Token: uint64(fd), Flags: f}
	return out + 1
}

// flags translates one kernel event as epoll would report it.
//
// EV_EOF on the read filter means the peer shut down: HangUp, reading
// still returns the rest, then end of stream. Fflags then holds the
// socket error, if any.
//
// The read filter's EOF does not make the descriptor Writable: the Go
// runtime and polling say it does, for systems that told a pipe's writer
// of its reader's close only through the read filter, but they wake a
// goroutine once; a level-triggered loop with both interests, a full send
// buffer and a half-closed peer would be told Writable on every wait,
// where epoll and poll report Readable|HangUp. A pipe's writer learns of
// its reader's close from the write filter's EOF.
//
// EV_EOF on the write filter means no more can be written: the peer
// went, or this side shut its writing down (FreeBSD and darwin set it
// after our own SHUT_WR, where epoll reports no hang-up). So it is
// Writable, for the write that fails and tells which, and HangUp only
// with a socket error in Fflags, as for a reset.
func flags(ev *kevent.Event) poller.Flags {
	var f poller.Flags
	eof := ev.Flags&kevent.EV_EOF != 0
	switch ev.Filter {
	case kevent.EVFILT_READ:
		f = poller.Readable
		if eof {
			f |= poller.HangUp
		}
	case kevent.EVFILT_WRITE:
		f = poller.Writable
		if eof && ev.Fflags != 0 {
			f |= poller.HangUp
		}
	}
	if eof && ev.Fflags != 0 || ev.Flags&kevent.EV_ERROR != 0 {
		f |= poller.Error
	}
	return f
}

func (b *backend) Wake() error { return b.w.wake(b.kq) }

func (b *backend) Close() error {
	b.w.close()
	return unix.Close(b.kq)
}
