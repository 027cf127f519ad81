//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package poll is the poll(2) backend. The caller's registrations live in
// one pollfd array handed to the kernel as is on every wait: no bitmap
// limit and no rebuild, but the kernel still walks every entry, idle ones
// included.
//
// Fairness: when more descriptors are ready than Wait may report, the scan
// starts where the previous full Wait stopped and wraps around, so
// descriptors late in the array are not starved.
package poll

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/pollfd"
	"github.com/muxbench/muxbench/poller/internal/timeout"
	"github.com/muxbench/muxbench/poller/internal/wakepipe"
)

func init() {
	poller.Register(poller.Info{
		Name: "poll",
		Doc:  "poll(2), level-triggered; the whole descriptor array passed on every wait",
		Caps: poller.Capabilities{RawWait: runtime.GOOS == "linux"},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
	})
}

type backend struct {
	wake  *wakepipe.Pipe
	fds   []unix.PollFd // fds[0] is the wake-up pipe
	index []int32       // by descriptor: position in fds, 0 if absent
	next  int           // position the next scan starts at
	limit int           // most entries poll(2) takes, the wake-up's included; 0: no limit
	calls uint64        // system calls: polls and wake-up drains
	wait  rawio.Waiter  // raw as poller.Options.RawWait asks, where wait_*.go can
}

// New opens the wake-up pipe and makes it the array's first entry.
func New(o poller.Options) (poller.Backend, error) {
	w, err := wakepipe.New()
	if err != nil {
		return nil, err
	}
	return &backend{
		wake:  w,
		fds:   []unix.PollFd{{Fd: int32(w.Fd()), Events: unix.POLLIN}},
		limit: maxEntries,
		wait:  rawio.Waiter{Raw: o.RawWait},
	}, nil
}

func events(interest poller.Flags) int16 { return pollfd.Events(interest) }

// Add refuses a descriptor beyond the kernel's array limit at once, as
// select refuses one past FD_SETSIZE: otherwise every later Wait fails.
func (b *backend) Add(fd int, interest poller.Flags) error {
	if b.limit > 0 && len(b.fds) >= b.limit {
		return fmt.Errorf("%w: poll on %s takes at most %d descriptors (OPEN_MAX, the wake-up pipe included), fd %d would be one more",
			poller.ErrFDRange, runtime.GOOS, b.limit, fd)
	}
	for len(b.index) <= fd {
		b.index = append(b.index, 0)
	}
	b.index[fd] = int32(len(b.fds))
	b.fds = append(b.fds, unix.PollFd{Fd: int32(fd), Events: events(interest)})
	return nil
}

func (b *backend) Modify(fd int, _, interest poller.Flags) error {
	b.fds[b.index[fd]].Events = events(interest)
	return nil
}

// Remove moves the last entry into the hole, so the array stays dense and
// no Wait has to skip or rebuild.
func (b *backend) Remove(fd int, _ poller.Flags) error {
	i, last := b.index[fd], int32(len(b.fds)-1)
	if i != last {
		b.fds[i] = b.fds[last]
		b.index[b.fds[i].Fd] = i
	}
	b.fds = b.fds[:last]
	b.index[fd] = 0
	return nil
}

func (b *backend) Wait(evs []poller.Event, d time.Duration) (int, error) {
	b.calls++
	n, err := b.poll(timeout.Millis(d))
	if err != nil || n == 0 {
		return 0, err
	}
	if b.fds[0].Revents != 0 {
		b.calls++
		b.wake.Drain()
		n--
	}
	// n counts the entries with events; stop the scan once all are seen.
	m := len(b.fds) - 1 // caller entries are 1..m
	start := b.next
	if start < 1 || start > m {
		start = 1
	}
	out := 0
	for i := 0; i < m && n > 0; i++ {
		j := start + i
		if j > m {
			j -= m
		}
		re := b.fds[j].Revents
		if re == 0 {
			continue
		}
		if out == len(evs) {
			b.next = j // first one left out goes first next time
			break
		}
		n--
		evs[out] = poller.Event{Token: uint64(b.fds[j].Fd), Flags: pollfd.Flags(re)}
		out++
	}
	return out, nil
}

func (b *backend) Wake() error { return b.wake.Wake() }

// Syscalls counts the loop's system calls: Add, Modify and Remove make
// none, each Wait one poll(2), and a wake-up one drain.
func (b *backend) Syscalls() uint64 { return b.calls }

func (b *backend) Close() error { return b.wake.Close() }
