//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package selectpoll is the select(2) backend, named for the directory
// poller/select (select is a Go keyword). select hands the kernel a bitmap
// of every watched descriptor on every call and gets the ready ones back
// in the same bitmaps, so a wait costs in proportion to the highest
// descriptor number, idle ones included: the cost the suite measures.
//
// select has no hang-up or error bits: a closed peer or a pending error
// shows as Readable (and Writable, if watched), which the contract allows.
// HangUp and Error are never reported, and a descriptor registered with no
// interest is never reported at all. A descriptor closed without Remove
// makes every later Wait fail with EBADF (epoll forgets it silently).
//
// Fairness: select returns every ready descriptor at once, but Wait may
// report only len(events). Rather than queue the rest (and report it stale
// after the caller has changed its registrations), the scan of the result
// starts where the previous full Wait stopped and wraps around, so a
// descriptor that stays ready is reported by a later Wait.
package selectpoll

import (
	"fmt"
	"runtime"
	"time"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/wakepipe"
)

func init() {
	poller.Register(poller.Info{
		Name: "select",
		Doc:  "select(2), level-triggered; readiness bitmaps copied in and out on every wait",
		Caps: poller.Capabilities{MaxFD: maxFD, RawWait: runtime.GOOS == "linux"},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
	})
}

type backend struct {
	wake         *wakepipe.Pipe
	rd, wr       fdset        // what the caller watches
	rdOut, wrOut fdset        // scratch copies that select overwrites
	maxfd        int          // highest descriptor in rd or wr; the wake-up's at least
	next         int          // descriptor the next scan starts at
	calls        uint64       // system calls: selects and wake-up drains
	wait         rawio.Waiter // raw as poller.Options.RawWait asks, where select_*.go can
}

// New opens the wake-up pipe and watches it.
func New(o poller.Options) (poller.Backend, error) {
	w, err := wakepipe.New()
	if err != nil {
		return nil, err
	}
	if maxFD > 0 && w.Fd() >= maxFD {
		w.Close()
		return nil, fmt.Errorf("%w: wake-up descriptor %d", poller.ErrFDRange, w.Fd())
	}
	b := &backend{wake: w, maxfd: -1, wait: rawio.Waiter{Raw: o.RawWait}}
	b.update(w.Fd(), poller.Readable)
	return b, nil
}

// update makes the sets say interest for fd and keeps maxfd exact, so that
// select is passed no more bitmap than it needs.
func (b *backend) update(fd int, interest poller.Flags) {
	b.grow(fd)
	if interest&poller.Readable != 0 {
		b.rd.set(fd)
	} else {
		b.rd.clear(fd)
	}
	if interest&poller.Writable != 0 {
		b.wr.set(fd)
	} else {
		b.wr.clear(fd)
	}
	switch {
	case interest != 0 && fd > b.maxfd:
		b.maxfd = fd
	case interest == 0 && fd == b.maxfd:
		// The wake-up descriptor is always in rd, so this stops.
		for b.maxfd >= 0 && !b.rd.has(b.maxfd) && !b.wr.has(b.maxfd) {
			b.maxfd--
		}
	}
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	b.update(fd, interest)
	return nil
}

func (b *backend) Modify(fd int, _, interest poller.Flags) error {
	b.update(fd, interest)
	return nil
}

func (b *backend) Remove(fd int, _ poller.Flags) error {
	b.update(fd, 0)
	return nil
}

func (b *backend) Wait(events []poller.Event, timeout time.Duration) (int, error) {
	b.calls++
	n, err := b.selectWait(timeout)
	if err != nil || n == 0 {
		return 0, err
	}
	if wfd := b.wake.Fd(); b.rdOut.has(wfd) {
		b.calls++
		b.wake.Drain()
		b.rdOut.clear(wfd)
		n--
	}
	// n counts set bits: one per interest a descriptor is ready for.
	limit := b.maxfd + 1
	start := b.next
	if start >= limit {
		start = 0
	}
	out := 0
	for i := 0; i < limit && n > 0; i++ {
		fd := start + i
		if fd >= limit {
			fd -= limit
		}
		var f poller.Flags
		if b.rdOut.has(fd) {
			f |= poller.Readable
		}
		if b.wrOut.has(fd) {
			f |= poller.Writable
		}
		if f == 0 {
			continue
		}
		if out == len(events) {
			b.next = fd // first one left out goes first next time
			break
		}
		if f == poller.Readable|poller.Writable {
			n -= 2
		} else {
			n--
		}
		events[out] = poller.Event{Token: uint64(fd), Flags: f}
		out++
	}
	return out, nil
}

func (b *backend) Wake() error { return b.wake.Wake() }

// Syscalls counts the loop's system calls: one select per Wait, one
// drain per wake-up.
func (b *backend) Syscalls() uint64 { return b.calls }

func (b *backend) Close() error { return b.wake.Close() }
