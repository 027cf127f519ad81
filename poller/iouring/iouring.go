//go:build linux

// Package iouring is io_uring used as a readiness multiplexer: one
// IORING_OP_POLL_ADD per descriptor. Level-triggered (the default), each
// poll is one-shot and re-armed on the next Wait, so a descriptor that is
// still ready completes again at once; edge-triggered, each is a
// multishot poll that completes on every wake-up of the socket. The
// re-arms, cancellations and the wait itself go to the kernel in one
// io_uring_enter.
//
// Every poll carries its descriptor and a per-descriptor generation in
// user_data, and only a completion of the descriptor's current poll is
// reported: a poll cancelled by Modify or Remove (IORING_OP_POLL_REMOVE)
// that completes anyway never reaches the descriptor's next owner.
//
// io_uring always adds EPOLLRDHUP to a poll's mask, so a writer whose
// peer half-closed would see its write poll complete at once, again and
// again, while the send buffer is full. Such a descriptor is parked in a
// private epoll instance until it is writable (the ring polls that
// instance), which keeps the contract's quiet half-close for writers.
package iouring

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/pollfd"
	"github.com/muxbench/muxbench/poller/internal/timeout"
)

func init() {
	poller.Register(poller.Info{
		Name: "iouring",
		Doc:  "io_uring poll requests, level-triggered by re-arming, edge-triggered through multishot polls",
		Caps: poller.Capabilities{EdgeTriggered: true, RawWait: true},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
		// The catalogue leaves it out of "all" where the kernel refuses.
		Available: Available,
	})
}

// Ops the backend cannot work without.
var needOps = []uint8{uring.OpPollAdd, uring.OpPollRemove, uring.OpRead}

const needFeatures = uring.FeatSingleMmap | uring.FeatNoDrop | uring.FeatExtArg | uring.FeatFastPoll

// Available reports why the backend cannot run here, or nil.
func Available() error {
	if err := uring.Check(); err != nil {
		return err
	}
	return uring.Supported().Require("the iouring backend", needOps, needFeatures)
}

// user_data: the descriptor in the low 32 bits, a generation in the next
// 30, the kind of request in the top 2.
const (
	kindPoll   = 0
	kindWake   = 1
	kindRemove = 2
	kindPark   = 3
	genMask    = 1<<30 - 1
)

func userData(kind uint64, gen uint32, fd int) uint64 {
	return kind<<62 | uint64(gen&genMask)<<32 | uint64(uint32(fd))
}

type fdState struct {
	interest poller.Flags
	live     bool
	cur      uint64 // user_data of the poll in flight, 0 if none
	gen      uint32 // last generation used: never reset, so never reused soon
	queued   bool   // in pending
	parked   bool   // in the private epoll, waiting for room to write
	out      int32  // 1 + its index in this Wait's events, 0 if none
}

type backend struct {
	ring *uring.Ring
	et   bool
	skip bool // IOSQE_CQE_SKIP_SUCCESS for removals

	fds     []fdState
	pending []int32 // descriptors to arm on the next Wait
	outFDs  []int32 // descriptors of this Wait's events, to reset out

	wakefd    int
	wakeBuf   []byte // 8 bytes the wake-up read lands in (mapped memory)
	wakeArmed bool

	epfd      int // parked writers; -1 until needed
	parkArmed bool
	parked    int
	epBuf     []unix.EpollEvent

	syscalls uint64 // beyond the ring's enters
}

// New sets up a ring and arms the wake-up read.
func New(o poller.Options) (poller.Backend, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	r, err := newRing(o.RawWait)
	if err != nil {
		return nil, err
	}
	// Blocking on purpose: io_uring answers a read of an O_NONBLOCK file
	// with EAGAIN instead of waiting for it.
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		r.Close()
		return nil, err
	}
	buf, err := unix.Mmap(-1, 0, 8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		r.Close()
		unix.Close(wakefd)
		return nil, err
	}
	b := &backend{ring: r, et: o.EdgeTriggered, skip: r.Features()&uring.FeatCQESkip != 0,
		wakefd: wakefd, wakeBuf: buf, epfd: -1}
	if err := b.armWake(); err == nil {
		_, err = r.Submit()
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// newRing prefers cooperative task work (5.19): a poll that completes
// while the loop runs queues its task work for the loop's next system
// call, where by default the kernel interrupts the running loop (an IPI,
// costly on a virtual machine) for every completion. Single-issuer rings
// with deferred task work would be cheaper still, but they bind the ring
// to one thread, and the Poller contract does not.
func newRing(raw bool) (*uring.Ring, error) {
	var err error
	for _, f := range []uint32{uring.SetupCoopTaskrun | uring.SetupTaskrunFlag, 0} {
		var r *uring.Ring
		if r, err = uring.New(uring.Params{Entries: 1024, CQEntries: 8192, Flags: f, RawWait: raw}); err == nil {
			return r, nil
		}
	}
	return nil, err
}

func (b *backend) state(fd int) *fdState {
	for fd >= len(b.fds) {
		b.fds = append(b.fds, fdState{})
	}
	return &b.fds[fd]
}

func (b *backend) queue(fd int, st *fdState) {
	if !st.queued {
		st.queued = true
		b.pending = append(b.pending, int32(fd))
	}
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	st := b.state(fd)
	st.interest, st.live = interest, true
	b.queue(fd, st)
	return nil
}

func (b *backend) Modify(fd int, _, interest poller.Flags) error {
	st := &b.fds[fd]
	st.interest = interest
	if err := b.disarm(fd, st); err != nil {
		return err
	}
	b.queue(fd, st)
	return nil
}

func (b *backend) Remove(fd int, _ poller.Flags) error {
	st := &b.fds[fd]
	err := b.disarm(fd, st)
	*st = fdState{gen: st.gen, queued: st.queued}
	return err
}

// disarm cancels the poll in flight and takes fd out of the park.
func (b *backend) disarm(fd int, st *fdState) error {
	if st.parked {
		st.parked = false
		b.parked--
		b.syscalls++
		unix.EpollCtl(b.epfd, unix.EPOLL_CTL_DEL, fd, &unix.EpollEvent{})
	}
	if st.cur == 0 {
		return nil
	}
	sqe, err := b.ring.NextSQE()
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.Addr = uring.OpPollRemove, -1, st.cur
	sqe.UserData = userData(kindRemove, 0, fd)
	if b.skip {
		sqe.Flags = uring.SQECQESkipSuccess
	}
	st.cur = 0
	return nil
}

// arm queues a poll for every pending descriptor that needs one.
func (b *backend) arm() error {
	for i, fd := range b.pending {
		st := &b.fds[fd]
		st.queued = false
		if !st.live || st.interest == 0 || st.cur != 0 || st.parked {
			continue
		}
		sqe, err := b.ring.NextSQE()
		if err != nil {
			// Keep the rest for the next Wait.
			for _, rest := range b.pending[i:] {
				b.fds[rest].queued = true
			}
			b.pending = append(b.pending[:0], b.pending[i:]...)
			return err
		}
		st.gen++
		if st.gen&genMask == 0 {
			st.gen++
		}
		ud := userData(kindPoll, st.gen, int(fd))
		// poll32_events: poll(2)'s 16 bits, without sign extension.
		mask := uint32(uint16(pollfd.Events(st.interest)))
		sqe.Opcode, sqe.Fd, sqe.OpFlags, sqe.UserData = uring.OpPollAdd, fd, mask, ud
		if b.et {
			sqe.Len = uring.PollAddMulti
		}
		st.cur = ud
	}
	b.pending = b.pending[:0]
	return nil
}

func (b *backend) armWake() error {
	sqe, err := b.ring.NextSQE()
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.Len = uring.OpRead, int32(b.wakefd), uint64(uintptrOf(b.wakeBuf)), 8
	sqe.UserData = userData(kindWake, 0, 0)
	b.wakeArmed = true
	return nil
}

func (b *backend) armPark() error {
	sqe, err := b.ring.NextSQE()
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.OpFlags = uring.OpPollAdd, int32(b.epfd), unix.POLLIN
	sqe.UserData = userData(kindPark, 0, 0)
	b.parkArmed = true
	return nil
}

func (b *backend) Wait(events []poller.Event, d time.Duration) (int, error) {
	if err := b.arm(); err != nil {
		return 0, err
	}
	if !b.wakeArmed {
		if err := b.armWake(); err != nil {
			return 0, err
		}
	}
	if b.parked > 0 && !b.parkArmed {
		if err := b.armPark(); err != nil {
			return 0, err
		}
	}
	// Completions left from the last Wait are events already: collect
	// them without entering unless there is something to submit.
	if b.ring.Pending() > 0 || b.ring.Ready() == 0 {
		d = min(d, timeout.Max)
		var deadline time.Time
		if d > 0 {
			deadline = time.Now().Add(d)
		}
		err := b.ring.SubmitAndWait(1, d)
		switch {
		case err == nil:
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EAGAIN):
			// The completion queue is full: reap what is there.
		default:
			return 0, err
		}
		// An enter that submitted returns the count even when a signal
		// cut its wait short: an empty queue before the deadline is an
		// interruption, which the wrapper resumes.
		if b.ring.Ready() == 0 && d != 0 && (d < 0 || time.Now().Before(deadline)) {
			return 0, unix.EINTR
		}
	}
	n := b.reap(events)
	for _, fd := range b.outFDs {
		b.fds[fd].out = 0
	}
	b.outFDs = b.outFDs[:0]
	return n, nil
}

// reap turns completions into events until either runs out.
func (b *backend) reap(events []poller.Event) int {
	n := 0
	for {
		c := b.ring.Peek()
		if c == nil {
			return n
		}
		ud, res, flags := c.UserData, c.Res, c.Flags
		switch ud >> 62 {
		case kindWake:
			b.wakeArmed = false
		case kindPark:
			if n == len(events) {
				return n
			}
			b.parkArmed = false
			n = b.unpark(events, n)
		case kindPoll:
			fd := int(uint32(ud))
			if fd >= len(b.fds) {
				break
			}
			st := &b.fds[fd]
			if !st.live || st.cur != ud {
				break // cancelled, or an earlier owner's
			}
			f, park := b.flags(st, res)
			if st.out == 0 && f != 0 && n == len(events) {
				return n // no room: leave it for the next Wait
			}
			if flags&uring.CQEFMore == 0 {
				st.cur = 0
				if park {
					b.park(fd, st)
				} else {
					b.queue(fd, st)
				}
			}
			if f != 0 {
				n = b.emit(events, n, fd, st, f)
			}
		}
		b.ring.Advance(1)
	}
}

// flags translates a poll result into the contract's flags. park is true
// for a level-triggered writer woken only by its peer's half-close.
func (b *backend) flags(st *fdState, res int32) (f poller.Flags, park bool) {
	if res < 0 {
		if res == -int32(unix.ECANCELED) {
			return 0, false // the submitting thread exited; re-armed
		}
		return poller.Error, false
	}
	revents := int16(uint16(res)) // poll(2)'s 16 bits
	f = pollfd.Flags(revents)
	// Only what was asked: the ring reports the peer's half-close to
	// every poll, and it reaches readers only.
	if st.interest&poller.Readable == 0 {
		f &^= poller.Readable
		if revents&unix.POLLHUP == 0 {
			f &^= poller.HangUp
		}
	}
	if st.interest&poller.Writable == 0 {
		f &^= poller.Writable
	}
	return f, f == 0 && !b.et && st.interest == poller.Writable
}

func (b *backend) emit(events []poller.Event, n, fd int, st *fdState, f poller.Flags) int {
	if st.out > 0 {
		events[st.out-1].Flags |= f
		return n
	}
	events[n] = poller.Event{Token: uint64(fd), Flags: f}
	st.out = int32(n + 1)
	b.outFDs = append(b.outFDs, int32(fd))
	return n + 1
}

// park moves a writer into the private epoll until it can write.
func (b *backend) park(fd int, st *fdState) {
	if b.epfd < 0 {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		b.syscalls++
		if err != nil {
			b.queue(fd, st) // spin rather than lose it
			return
		}
		b.epfd = epfd
	}
	b.syscalls++
	if err := unix.EpollCtl(b.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}); err != nil {
		b.queue(fd, st)
		return
	}
	st.parked = true
	b.parked++
}

// unpark reports the parked writers that have room now and returns them
// to the ring.
func (b *backend) unpark(events []poller.Event, n int) int {
	room := len(events) - n
	if cap(b.epBuf) < room {
		b.epBuf = make([]unix.EpollEvent, room)
	}
	b.syscalls++
	m, err := unix.EpollWait(b.epfd, b.epBuf[:room], 0)
	if err != nil {
		return n
	}
	for _, ev := range b.epBuf[:m] {
		fd := int(ev.Fd)
		st := &b.fds[fd]
		b.syscalls++
		unix.EpollCtl(b.epfd, unix.EPOLL_CTL_DEL, fd, &unix.EpollEvent{})
		st.parked = false
		b.parked--
		f := poller.Writable
		if ev.Events&unix.EPOLLHUP != 0 {
			f |= poller.HangUp
		}
		if ev.Events&unix.EPOLLERR != 0 {
			f |= poller.Error
		}
		n = b.emit(events, n, fd, st, f)
		b.queue(fd, st)
	}
	return n
}

func (b *backend) Wake() error {
	one := [8]byte{1}
	_, err := unix.Write(b.wakefd, one[:])
	return err
}

// cancelAll ends every request before the ring goes. A request holds its
// file, and the ring's own teardown is asynchronous: without this a
// descriptor removed and closed just before Close (a listener) would live
// on, still accepting, for a while after Close returned.
func (b *backend) cancelAll() {
	sqe, err := b.ring.NextSQE()
	if err != nil {
		return
	}
	const marker = kindRemove<<62 | 1
	sqe.Opcode, sqe.Fd, sqe.OpFlags, sqe.UserData = uring.OpAsyncCancel, -1, uring.AsyncCancelAll|uring.AsyncCancelAny, marker
	deadline := time.Now().Add(time.Second)
	for done := false; !done && time.Now().Before(deadline); {
		if err := b.ring.SubmitAndWait(1, 50*time.Millisecond); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		for c := b.ring.Peek(); c != nil; c = b.ring.Peek() {
			done = done || c.UserData == marker
			b.ring.Advance(1)
		}
	}
	// The cancelled requests complete in task work, which an enter runs.
	b.ring.SubmitAndWait(0, 0)
}

// Syscalls counts the system calls the backend made: ring enters and the
// rare epoll calls for parked writers.
func (b *backend) Syscalls() uint64 { return b.ring.Enters + b.syscalls }

func (b *backend) Close() error {
	b.cancelAll()
	err := b.ring.Close()
	unix.Close(b.wakefd)
	if b.epfd >= 0 {
		unix.Close(b.epfd)
	}
	unix.Munmap(b.wakeBuf)
	return err
}
