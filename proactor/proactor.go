//go:build linux

// Package proactor is an io_uring completion loop, the proactor beside
// the reactor: instead of asking which sockets are ready and then reading
// and writing them, it hands the kernel the work itself (a multishot
// accept per listener, a multishot recv per connection into a ring of
// provided buffers, a send whenever there is something to send) and runs
// the protocols on the completions. Protocols are the reactor's
// (reactor.Protocol over a reactor.Conn), so the same echo and ping-pong
// run on both.
//
// The loop is one goroutine locked to one thread, which creates the ring:
// the ring is single-issuer with deferred task work where the kernel has
// them (6.1), so completions are produced only when the loop asks for
// them, in one io_uring_enter that also submits everything queued since
// the last one.
//
// Every request carries its connection's slot and generation in
// user_data; a connection's slot is reused only after all its requests
// have completed, and completions of a closed connection are dropped.
//
// Backpressure works as the reactor's, on receiving: a connection whose
// unsent bytes pass HighWater, or any connection with output waiting
// while all of them together pass OutputBudget, has its recv cancelled,
// so that what its peer sends stays in the kernel and TCP flow control
// holds the peer back.
package proactor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/loopcall"
	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/reactor"
)

// DefaultBuffers is how many provided buffers a loop has; the sizes and
// bounds the loop shares with the reactor take reactor.Buffering's
// defaults.
const DefaultBuffers = 512

// ErrClosed is the reason given to protocols still open when the loop is
// closed, and the error of calls on a closed loop.
var ErrClosed = errors.New("proactor: closed")

// Config tunes the loop. Zero values take the defaults.
type Config struct {
	// ReadBufSize is the size of each provided buffer: the most one recv
	// completion carries. Default 64 KiB, as the reactor reads.
	ReadBufSize int
	// Buffers is how many provided buffers the kernel may fill before the
	// loop recycles them (a power of two). Default 512.
	Buffers int
	// HighWater bounds what a connection keeps unsent: above it the loop
	// stops receiving from it, and resumes below LowWater.
	HighWater, LowWater int
	// OutputBudget bounds the memory all connections together keep
	// unsent or received while paused, as the reactor's OutputBudget
	// does: above it, connections with output waiting stop receiving
	// (their recv is cancelled, so the bytes stay in the kernel and TCP
	// pushes back on the peer) until the total is under three quarters
	// of it. Below it by what the receive buffers hold (Buffers times
	// ReadBufSize, which one wait may fill), but within a quarter to
	// three quarters of it, the server is crowded: recvs read an eighth
	// of ReadBufSize, one at a time. Drained write buffers are kept for
	// reuse up to a quarter of it more. Default 64 MiB.
	OutputBudget   int
	DisableNoDelay bool
	SndBuf, RcvBuf int
	// ReusePort sets SO_REUSEPORT on listening sockets, so that one loop
	// per core can bind the same port.
	ReusePort bool
	// SingleShotRecv receives with one recv request at a time instead of
	// a multishot one: the path taken on kernels before 6.0, selectable
	// so that it is tested everywhere.
	SingleShotRecv bool
	// ShortSendFrac of sends offer the kernel only a random non-empty
	// prefix of what is pending, like the reactor's injected short
	// writes; Seed makes it repeatable.
	ShortSendFrac float64
	Seed          int64
}

// needOps are the operations the loop cannot do without.
var needOps = []uint8{uring.OpAccept, uring.OpRecv, uring.OpSend, uring.OpAsyncCancel, uring.OpRead}

// Available reports why the loop cannot run here, or nil. Besides the
// operations it needs provided-buffer rings (5.19).
func Available() error {
	if err := uring.Check(); err != nil {
		return err
	}
	if err := uring.Supported().Require("the uring engine", needOps, uring.FeatSingleMmap|uring.FeatNoDrop|uring.FeatFastPoll); err != nil {
		return err
	}
	bufRingOnce.Do(func() { bufRingErr = probeBufRing() })
	return bufRingErr
}

var (
	bufRingOnce sync.Once
	bufRingErr  error
)

func probeBufRing() error {
	r, err := uring.New(uring.Params{Entries: 4})
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := r.NewBufRing(0, 2, 64)
	if err != nil {
		return fmt.Errorf("io_uring: no provided-buffer rings in this kernel (before 5.19): %w", uring.ErrUnavailable)
	}
	b.Close()
	return nil
}

// Counters are the loop's tallies, written by the loop thread only.
type Counters struct {
	BytesIn, BytesOut uint64
	// Reads and Writes count recv and send completions that moved data.
	Reads, Writes uint64
	// ShortWrites counts sends that took some but not all they offered.
	ShortWrites uint64
	// ENOBUFS counts recvs that found the buffer ring empty.
	ENOBUFS uint64
	// Retries counts completions that had to be submitted again: EAGAIN,
	// EINTR, a multishot request the kernel ended.
	Retries uint64
	// Enters counts io_uring_enter calls; Waits those that waited.
	Enters, Waits uint64
	// Completions counts CQEs; Stale those of closed connections.
	Completions, Stale uint64
	// Syscalls counts every system call the loop made: enters, closes,
	// socket options, wake-ups it sent itself.
	Syscalls uint64

	Accepts, AcceptErrors, AcceptEMFILE uint64
	Opened, Closed                      uint64

	// BudgetPauses counts times the connections together went above
	// OutputBudget and those with output waiting stopped receiving.
	BudgetPauses uint64

	InjectedShortWrites uint64
}

// user_data: slot index in the low 32 bits, generation in the next 24,
// the operation in the top 8.
const (
	opRecv = iota + 1
	opSend
	opAccept
	opWake
	opCancel
)

func userData(op uint8, idx, gen uint32) uint64 {
	return uint64(op)<<56 | uint64(gen&0xffffff)<<32 | uint64(idx)
}

type handler interface {
	complete(op uint8, c *uring.CQE)
}

type slot struct {
	gen uint32
	h   handler
}

// Loop is the proactor. Create it with New on the goroutine that will run
// it; Stop and Call may be called from any goroutine.
type Loop struct {
	cfg   Config
	ring  *uring.Ring
	bufs  *uring.BufRing
	multi bool // multishot recv
	dirty bool // buffers recycled but not published
	// dropped: the buffer's pages went back to the kernel while the
	// server was crowded (a crowded read fills a few of them again).
	dropped []bool
	slots   []slot
	free    []uint32
	c       Counters
	conns   int
	transp  map[*Transport]struct{}
	lns     map[*Listener]struct{}
	rng     *rand.Rand

	// outHeld is the memory of every connection's buffers (unsent and
	// held bytes) together, what OutputBudget bounds; outPeak the most it
	// has been.
	outHeld, outPeak int
	squeezed         bool // outHeld went above the budget, not yet under 3/4 of it
	crowded          bool // outHeld went above crowdAt, not yet under 2/3 of it
	unsqueezed       bool // the squeeze ended: reading resumes once the handler returned
	crowdAt          int
	// spare are buffers connections gave back, for the next one that
	// writes or holds.
	spare spares

	wakefd   int
	wakeBuf  []byte
	wakeIdle bool // no wake-up read in flight

	calls    loopcall.Queue
	stop     atomic.Bool
	closed   bool
	deferred loopcall.Later[*Transport] // closes postponed until the current handler returned
}

// New creates the ring and its buffers. Call it on the thread that will
// run the loop (runtime.LockOSThread first): the ring is single-issuer.
func New(cfg Config) (*Loop, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.Buffers <= 0 {
		cfg.Buffers = DefaultBuffers
	}
	if err := reactor.Buffering(&cfg.ReadBufSize, &cfg.HighWater, &cfg.LowWater, &cfg.OutputBudget); err != nil {
		return nil, fmt.Errorf("proactor: %w", err)
	}
	if err := reactor.CheckFaultFraction(cfg.ShortSendFrac); err != nil {
		return nil, fmt.Errorf("proactor: short-send fraction %v %w", cfg.ShortSendFrac, err)
	}
	ring, err := newRing()
	if err != nil {
		return nil, err
	}
	l := &Loop{cfg: cfg, ring: ring, multi: !cfg.SingleShotRecv, transp: map[*Transport]struct{}{},
		lns: map[*Listener]struct{}{}, wakefd: -1, wakeIdle: true}
	fail := func(err error) (*Loop, error) {
		l.release()
		return nil, err
	}
	if l.bufs, err = ring.NewBufRing(0, cfg.Buffers, cfg.ReadBufSize); err != nil {
		return fail(err)
	}
	l.dropped = make([]bool, cfg.Buffers)
	// One wait may bring in as much as the kernel finds buffers for: the
	// server is crowded that far below its budget, within [1/4, 3/4] of it.
	b := cfg.OutputBudget
	l.crowdAt = min(max(b-cfg.Buffers*cfg.ReadBufSize, b/4), b/4*3)
	if l.wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		return fail(err)
	}
	if l.wakeBuf, err = unix.Mmap(-1, 0, 8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE); err != nil {
		return fail(err)
	}
	if cfg.ShortSendFrac > 0 {
		l.rng = reactor.FaultRand(cfg.Seed)
	}
	l.slots = append(l.slots, slot{gen: 1}) // slot 0: the loop itself (wake-ups)
	return l, nil
}

// newRing prefers a single-issuer ring with deferred task work (6.1),
// then cooperative task work (5.19), then a plain ring.
func newRing() (*uring.Ring, error) {
	var err error
	for _, f := range []uint32{
		uring.SetupSingleIssuer | uring.SetupDeferTaskrun,
		uring.SetupCoopTaskrun | uring.SetupTaskrunFlag,
		0,
	} {
		var r *uring.Ring
		if r, err = uring.New(uring.Params{Entries: 4096, CQEntries: 16384, Flags: f | uring.SetupSubmitAll, RawWait: true}); err == nil {
			return r, nil
		}
		if r, err = uring.New(uring.Params{Entries: 4096, CQEntries: 16384, Flags: f, RawWait: true}); err == nil {
			return r, nil
		}
	}
	return nil, err
}

// Counters returns a copy of the tallies. Loop thread only.
func (l *Loop) Counters() Counters {
	c := l.c
	c.Enters = l.ring.Enters
	c.Syscalls += l.ring.Enters
	return c
}

// Conns is the number of open connections. Loop thread only.
func (l *Loop) Conns() int { return l.conns }

// OutputHeld is what every connection keeps unsent or received while
// paused, together: what OutputBudget bounds. Loop thread only.
func (l *Loop) OutputHeld() int { return l.outHeld }

// heldChanged follows a change of outHeld. Above crowdAt the server is
// crowded: recvs are single-shot and short, because what a connection
// receives may stay beyond the budget (one multishot recv may complete
// many buffers at once, all that the kernel has received for it), and
// the receive buffers give their pages back as they are recycled; under
// two thirds of crowdAt recvs are multishot again and read whole
// buffers. Above the budget the server is squeezed:
// connections with output waiting stop receiving; under three quarters
// of it they resume once the current handler has returned (resuming
// delivers what they hold, which must not happen inside another
// connection's handler).
func (l *Loop) heldChanged() {
	l.outPeak = max(l.outPeak, l.outHeld)
	b := l.cfg.OutputBudget
	cancel := false
	switch {
	case !l.squeezed && l.outHeld > b:
		l.squeezed, l.crowded, l.unsqueezed = true, true, false
		l.c.BudgetPauses++
		cancel = true
	case l.squeezed && l.outHeld <= b/4*3:
		l.squeezed = false
		l.unsqueezed = true
	}
	switch {
	case !l.crowded && l.outHeld > l.crowdAt:
		l.crowded = true
		cancel = true
	case l.crowded && l.outHeld <= l.crowdAt/3*2:
		l.crowded = false
	}
	if cancel {
		for t := range l.transp {
			if t.mustCancel() {
				t.stopReading()
			}
		}
	}
}

// MultishotRecv reports whether connections receive with multishot recv.
func (l *Loop) MultishotRecv() bool { return l.multi }

func (l *Loop) alloc(h handler) (uint32, uint32) {
	var idx uint32
	if n := len(l.free); n > 0 {
		idx = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		idx = uint32(len(l.slots))
		l.slots = append(l.slots, slot{gen: 1})
	}
	l.slots[idx].h = h
	return idx, l.slots[idx].gen
}

func (l *Loop) releaseSlot(idx uint32) {
	s := &l.slots[idx]
	s.h = nil
	s.gen = (s.gen + 1) & 0xffffff
	if s.gen == 0 {
		s.gen = 1
	}
	l.free = append(l.free, idx)
}

// sqe returns a free submission entry, submitting what is queued when the
// queue is full.
func (l *Loop) sqe() *uring.SQE {
	for {
		if s := l.ring.GetSQE(); s != nil {
			return s
		}
		if _, err := l.ring.Submit(); err != nil && !errors.Is(err, unix.EINTR) {
			// EBUSY: completions must be reaped first.
			l.reap()
		}
	}
}

// Run runs the loop until Stop, on the calling goroutine's thread, which
// must be the one that called New.
func (l *Loop) Run() error {
	if l.closed {
		return ErrClosed
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		l.runCalls()
		if l.stop.Swap(false) {
			return nil
		}
		if l.wakeIdle {
			l.armWake()
		}
		if l.dirty {
			l.bufs.Publish()
			l.dirty = false
		}
		var want uint32 = 1
		if l.calls.Pending() || l.deferred.Len() > 0 {
			want = 0
		}
		timeout := time.Duration(-1)
		retryAccept := l.conns == 0 && l.pausedListeners()
		switch {
		case want == 0:
			timeout = 0
		case retryAccept:
			// Out of descriptors with no connection of ours to close:
			// try accepting again shortly.
			timeout = 10 * time.Millisecond
		}
		err := l.ring.SubmitAndWait(want, timeout)
		if want > 0 {
			l.c.Waits++
		}
		if err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("proactor: io_uring_enter: %w", err)
		}
		l.reap()
		if retryAccept {
			l.resumeListeners()
		}
	}
}

func (l *Loop) reap() {
	for {
		c := l.ring.Peek()
		if c == nil {
			break
		}
		l.c.Completions++
		cqe := *c
		l.ring.Advance(1)
		op := uint8(cqe.UserData >> 56)
		idx, gen := uint32(cqe.UserData), uint32(cqe.UserData>>32)&0xffffff
		switch op {
		case opWake:
			l.wakeIdle = true
			continue
		case opCancel:
			if cqe.Res == -int32(unix.EALREADY) {
				l.recancel(idx, gen)
			}
			continue
		}
		if int(idx) >= len(l.slots) || l.slots[idx].gen != gen || l.slots[idx].h == nil {
			l.c.Stale++
			if cqe.Flags&uring.CQEFBuffer != 0 {
				l.recycle(uint16(cqe.Flags>>uring.CQEBufferShift), int(cqe.Res))
			}
			continue
		}
		l.slots[idx].h.complete(op, &cqe)
		l.settle()
	}
}

// recancel repeats a cancellation that found its request running: a
// paused or closed connection's multishot recv must end.
func (l *Loop) recancel(idx, gen uint32) {
	if int(idx) < len(l.slots) && l.slots[idx].gen == gen {
		if t, ok := l.slots[idx].h.(*Transport); ok {
			if t.mustCancel() {
				t.cancel(opRecv, true)
			} else {
				t.recvCancel = false // reading goes on: a later stop must cancel again
			}
		}
	}
}

// recycle gives buffer id, which a completion filled with n bytes, back
// to the kernel. While the server is crowded, its pages go back too,
// unless they went back already and only a crowded read has filled some
// since: the crowded reads that fill it next touch few of them, and at
// the height of a crowd the memory is the budget's, not the ring's.
func (l *Loop) recycle(id uint16, n int) {
	if n > l.cfg.ReadBufSize/crowdedReadDiv {
		l.dropped[id] = false
	}
	if l.crowded && !l.dropped[id] {
		l.c.Syscalls++
		l.bufs.Drop(id)
		l.dropped[id] = true
	}
	l.bufs.Recycle(id)
	l.dirty = true
}

func (l *Loop) armWake() {
	s := l.sqe()
	s.Opcode, s.Fd, s.Addr, s.Len = uring.OpRead, int32(l.wakefd), uint64(addr(l.wakeBuf)), 8
	s.UserData = userData(opWake, 0, 0)
	l.wakeIdle = false
}

func (l *Loop) wake() {
	one := [8]byte{1}
	unix.Write(l.wakefd, one[:])
}

// Stop makes Run return after the current round. Any goroutine.
func (l *Loop) Stop() {
	l.stop.Store(true)
	l.wake()
}

// Call runs fn on the loop thread soon. Any goroutine.
func (l *Loop) Call(fn func()) {
	l.calls.Add(fn)
	l.wake()
}

func (l *Loop) runCalls() {
	l.settle()
	if l.calls.Pending() {
		l.calls.Run(l.settle)
	}
}

// settle runs what waits for the current handler to return: closes, and
// the connections' reading at the end of a squeeze.
func (l *Loop) settle() {
	for {
		l.flushDeferred()
		if !l.unsqueezed {
			return
		}
		l.unsqueezed = false
		for t := range l.transp {
			if t.state == stOpen {
				t.busy = true
				t.resume()
				t.handled()
			}
		}
	}
}

func (l *Loop) flushDeferred() { l.deferred.Run((*Transport).closeNow) }

// Close closes every connection (ConnectionLost(ErrClosed)) and listener,
// then the ring, which cancels whatever is still in flight. Call it from
// the loop's goroutine when Run has returned.
func (l *Loop) Close() error {
	if l.closed {
		return ErrClosed
	}
	l.runCalls()
	for ln := range l.lns {
		ln.Close()
	}
	for t := range l.transp {
		t.closeWith(ErrClosed)
	}
	l.flushDeferred()
	l.closed = true
	// The ring's own teardown is asynchronous: wait here for the
	// cancellations, so that the sockets are gone (a listener no longer
	// accepts) when Close returns.
	deadline := time.Now().Add(2 * time.Second)
	for l.held() > 0 && time.Now().Before(deadline) {
		if err := l.ring.SubmitAndWait(1, 50*time.Millisecond); err != nil && !errors.Is(err, unix.EINTR) {
			break
		}
		l.reap()
		l.flushDeferred()
	}
	return l.release()
}

// held counts the slots whose requests the kernel still holds.
func (l *Loop) held() int {
	n := 0
	for i := range l.slots {
		if l.slots[i].h != nil {
			n++
		}
	}
	return n
}

func (l *Loop) release() error {
	var err error
	if l.bufs != nil {
		l.bufs.Close()
	}
	if l.ring != nil {
		err = l.ring.Close()
	}
	if l.wakefd >= 0 {
		unix.Close(l.wakefd)
	}
	if l.wakeBuf != nil {
		unix.Munmap(l.wakeBuf)
	}
	return err
}
