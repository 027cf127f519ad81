//go:build linux

// Package uring is a small io_uring: setup, the shared submission and
// completion rings, feature probing and provided-buffer rings, on raw
// system calls. It does what liburing's setup.c and queue.c do for the
// few operations muxbench needs, and nothing else.
//
// A Ring belongs to one goroutine at a time (the event loop); only the
// kernel runs concurrently with it, and the ring indexes it shares with
// the kernel are read and written with sync/atomic: the tails the kernel
// publishes are loaded (acquire) before the entries they cover are read,
// and the entries we fill are written before our tail is stored (release).
package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
)

// SQE is a submission queue entry, 64 bytes as the kernel lays it out.
type SQE struct {
	Opcode   uint8
	Flags    uint8
	IOPrio   uint16
	Fd       int32
	Off      uint64 // also addr2
	Addr     uint64
	Len      uint32
	OpFlags  uint32 // poll32_events, msg_flags, accept_flags, cancel_flags...
	UserData uint64
	BufIndex uint16 // also buf_group
	_        uint16 // personality
	FileIdx  uint32 // also splice_fd_in
	Addr3    uint64
	_        uint64
}

// CQE is a completion queue entry.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Params tune New. Zero values take the defaults.
type Params struct {
	// Entries is the submission queue size (rounded up to a power of two
	// by the kernel). Default 256.
	Entries uint32
	// CQEntries, when set, sizes the completion queue (default twice
	// Entries).
	CQEntries uint32
	// Flags are Setup* flags. SetupDeferTaskrun needs SetupSingleIssuer,
	// and then every call must come from the thread that created the ring.
	Flags uint32
	// RawWait hides blocking waits from the Go runtime, for a loop on a
	// locked thread that keeps its P while it waits: no syscall entry
	// and exit, and no sysmon taking the P away from a wait that lasts
	// over 20 us (with the thread hand-offs that follow), which cost an
	// event loop about a tenth of its CPU. A runtime signal (preemption,
	// the garbage collector) interrupts such a wait with EINTR, and the
	// wait after that is an ordinary one (rawio.Waiter), so that an idle
	// loop sleeps; other goroutines need a P of their own.
	RawWait bool
}

// Ring is one io_uring instance with its rings mapped.
type Ring struct {
	fd       int
	flags    uint32
	features uint32
	wait     rawio.Waiter

	sqMem, cqMem, sqeMem []byte

	sqHead, sqTail, sqFlags *uint32
	sqMask, sqEntries       uint32
	sqes                    []SQE
	// sqeTail is where the next SQE goes; entries between the kernel's
	// view of our tail and sqeTail are prepared but not yet published.
	sqeTail uint32

	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []CQE

	// ts and arg are handed to the kernel by address: fields of the
	// heap-allocated Ring, which the garbage collector never moves.
	ts  unix.Timespec
	arg getEventsArg

	// Enters counts io_uring_enter calls, the ring's system calls.
	Enters uint64
}

// ErrFull is returned by Submit-side helpers when the submission queue has
// no free entry even after submitting what was queued.
var ErrFull = errors.New("uring: submission queue full")

func setup(entries uint32, p *params) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// New sets up a ring and maps its queues.
func New(p Params) (*Ring, error) {
	if err := refused(); err != nil {
		return nil, err
	}
	if p.Entries == 0 {
		p.Entries = 256
	}
	var kp params
	kp.flags = p.Flags
	if p.CQEntries > 0 {
		kp.flags |= SetupCQSize
		kp.cqEntries = p.CQEntries
	}
	fd, err := setup(p.Entries, &kp)
	if err != nil {
		return nil, fmt.Errorf("io_uring_setup: %w", err)
	}
	r := &Ring{fd: fd, flags: kp.flags, features: kp.features, wait: rawio.Waiter{Raw: p.RawWait}}
	if err := r.mmap(&kp); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	if p.features&FeatSingleMmap == 0 {
		return errors.New("uring: kernel without IORING_FEAT_SINGLE_MMAP (before 5.4)")
	}
	sqSize := uintptr(p.sqOff.array) + uintptr(p.sqEntries)*4
	cqSize := uintptr(p.cqOff.cqes) + uintptr(p.cqEntries)*unsafe.Sizeof(CQE{})
	size := max(sqSize, cqSize)
	mem, err := unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("uring: mmap rings: %w", err)
	}
	r.sqMem, r.cqMem = mem, mem
	sqes, err := unix.Mmap(r.fd, offSQEs, int(uintptr(p.sqEntries)*unsafe.Sizeof(SQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("uring: mmap SQEs: %w", err)
	}
	r.sqeMem = sqes

	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	r.sqHead, r.sqTail, r.sqFlags = at(p.sqOff.head), at(p.sqOff.tail), at(p.sqOff.flags)
	r.sqMask, r.sqEntries = *at(p.sqOff.ringMask), *at(p.sqOff.ringEntries)
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&sqes[0])), r.sqEntries)
	// The indirection array maps ring slots to SQE indexes; like liburing,
	// keep it the identity so that slot i is always SQE i.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&mem[p.sqOff.array])), r.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.sqeTail = atomic.LoadUint32(r.sqTail)

	r.cqHead, r.cqTail = at(p.cqOff.head), at(p.cqOff.tail)
	r.cqMask = *at(p.cqOff.ringMask)
	cqEntries := *at(p.cqOff.ringEntries)
	r.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&mem[p.cqOff.cqes])), cqEntries)
	return nil
}

// Fd is the ring's descriptor.
func (r *Ring) Fd() int { return r.fd }

// Features are the IORING_FEAT_* bits the kernel reported.
func (r *Ring) Features() uint32 { return r.features }

// Flags are the setup flags in effect.
func (r *Ring) Flags() uint32 { return r.flags }

// SQEntries and CQEntries are the queue sizes the kernel chose.
func (r *Ring) SQEntries() int { return int(r.sqEntries) }
func (r *Ring) CQEntries() int { return len(r.cqes) }

// Close unmaps the rings and closes the descriptor, which cancels every
// request still in flight.
func (r *Ring) Close() error {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
		r.sqeMem = nil
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
		r.sqMem, r.cqMem = nil, nil
	}
	r.sqes, r.cqes = nil, nil
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// Pending is the number of SQEs prepared and not yet submitted.
func (r *Ring) Pending() int { return int(r.sqeTail - atomic.LoadUint32(r.sqTail)) }

// Unconsumed calls fn for every prepared SQE the kernel has not yet taken.
// Without SQPOLL (never set up here) the kernel takes entries only inside
// io_uring_enter, on the caller's thread, so fn may rewrite them.
func (r *Ring) Unconsumed(fn func(*SQE)) {
	for i := atomic.LoadUint32(r.sqHead); i != r.sqeTail; i++ {
		fn(&r.sqes[i&r.sqMask])
	}
}

// Neutralize turns an SQE the kernel has not taken into a no-op that
// completes with result 0 under the same user_data, so that whoever
// counts on its completion still gets one.
func (s *SQE) Neutralize() {
	*s = SQE{Opcode: OpNop, Fd: -1, UserData: s.UserData}
}

// GetSQE returns the next free submission entry, zeroed, or nil if the
// queue is full (submit first).
func (r *Ring) GetSQE() *SQE {
	head := atomic.LoadUint32(r.sqHead)
	if r.sqeTail-head >= r.sqEntries {
		return nil
	}
	sqe := &r.sqes[r.sqeTail&r.sqMask]
	*sqe = SQE{}
	r.sqeTail++
	return sqe
}

// NextSQE is GetSQE that submits what is queued when the queue is full.
func (r *Ring) NextSQE() (*SQE, error) {
	if sqe := r.GetSQE(); sqe != nil {
		return sqe, nil
	}
	if _, err := r.Submit(); err != nil {
		return nil, err
	}
	if sqe := r.GetSQE(); sqe != nil {
		return sqe, nil
	}
	return nil, ErrFull
}

// publish makes the prepared SQEs visible to the kernel and returns how
// many there are.
func (r *Ring) publish() uint32 {
	tail := atomic.LoadUint32(r.sqTail)
	if r.sqeTail != tail {
		atomic.StoreUint32(r.sqTail, r.sqeTail) // release: the SQEs first
	}
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// Submit hands the prepared SQEs to the kernel without waiting.
func (r *Ring) Submit() (int, error) {
	n := r.publish()
	if n == 0 && !r.needEnter() {
		return 0, nil
	}
	return r.enter(n, 0, 0, -1, false)
}

// needEnter is true when the kernel has work for us to collect without
// anything to submit: deferred task work or an overflowed CQ.
func (r *Ring) needEnter() bool {
	return atomic.LoadUint32(r.sqFlags)&(sqCQOverflow|sqTaskrun) != 0
}

// SubmitAndWait submits what is prepared and waits until at least want
// completions are ready, for at most timeout (< 0: no limit; 0: do not
// wait, but still collect completions the kernel has pending). It makes
// exactly one io_uring_enter. A timeout is not an error: the completion
// queue is then simply short.
func (r *Ring) SubmitAndWait(want uint32, timeout time.Duration) error {
	n := r.publish()
	if timeout == 0 {
		want = 0
	}
	_, err := r.enter(n, want, enterGetEvents, timeout, want > 0)
	if err == unix.ETIME {
		return nil
	}
	return err
}

func (r *Ring) enter(submit, wait, flags uint32, timeout time.Duration, blocking bool) (int, error) {
	var arg, argSz uintptr
	if timeout > 0 && flags&enterGetEvents != 0 {
		r.ts = unix.NsecToTimespec(int64(timeout))
		r.arg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
		flags |= enterExtArg
		arg, argSz = uintptr(unsafe.Pointer(&r.arg)), unsafe.Sizeof(r.arg)
	}
	r.Enters++
	var n uintptr
	var e unix.Errno
	if blocking {
		n, e = r.wait.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(wait), uintptr(flags), arg, argSz)
	} else {
		// Nothing blocks: skip the runtime's syscall bookkeeping, as
		// internal/rawio does for non-blocking reads and writes.
		n, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(wait), uintptr(flags), arg, argSz)
	}
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Ready is the number of completions waiting to be read.
func (r *Ring) Ready() int {
	return int(atomic.LoadUint32(r.cqTail) - *r.cqHead)
}

// Peek returns the oldest unread completion, or nil. The entry stays
// valid until Advance.
func (r *Ring) Peek() *CQE {
	head := *r.cqHead                        // only we write it
	if head == atomic.LoadUint32(r.cqTail) { // acquire: the entry is written
		return nil
	}
	return &r.cqes[head&r.cqMask]
}

// Advance marks n completions read, giving their slots back to the kernel.
func (r *Ring) Advance(n int) {
	if n > 0 {
		atomic.StoreUint32(r.cqHead, *r.cqHead+uint32(n)) // release: we are done with them
	}
}
