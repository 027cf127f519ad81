//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package busywait is the loop that has no kernel multiplexer at all: it
// asks every registered descriptor in turn whether it is ready and spins
// until one is. It is here to be measured, so that the CPU a real
// multiplexer saves, and the latency spinning buys, show up as numbers.
package busywait

import (
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/pollfd"
)

// DefaultSleep is what busywait-sleep sleeps after an idle round: of the
// order of a cross-core wake-up here (50-170 us), the delay a blocking
// multiplexer pays to be woken, so that the trade shows without swamping
// every other cost. nanosleep adds the kernel's 50 us timer slack: 100 us
// sleeps about 175 us here.
const DefaultSleep = 100 * time.Microsecond

func init() {
	poller.Register(poller.Info{
		Name: "busywait",
		Doc:  "no multiplexer: a zero-timeout poll(2) per descriptor, round after round; burns a CPU",
		Caps: poller.Capabilities{Spins: true},
		New:  func(o poller.Options) (poller.Backend, error) { return New(o) },
	})
	poller.Register(poller.Info{
		Name: "busywait-sleep",
		Doc:  "busywait that sleeps " + strconv.FormatInt(DefaultSleep.Microseconds(), 10) + "us (or Options.SpinSleep) after an idle round; still burns CPU asking every descriptor each round",
		Caps: poller.Capabilities{Spins: true},
		New: func(o poller.Options) (poller.Backend, error) {
			if o.SpinSleep == 0 {
				o.SpinSleep = DefaultSleep
			}
			return New(o)
		},
	})
}

// yieldBudget is how much the loop does (one unit per descriptor asked,
// one per round, a whole budget per nap) between runtime.Gosched calls.
// The loop holds its P, so without yielding a Wake from a goroutine on
// GOMAXPROCS=1 would wait for asynchronous preemption (10 ms). 256 units
// are about 120 us of polls here, close to a cross-core wake-up, so such a
// Wake waits about as long as a blocking multiplexer's would; yielding
// more often slowed the scan by up to 20% with an idle second P.
const yieldBudget = 256

type entry struct {
	fd       int32
	interest poller.Flags
}

type backend struct {
	list  []entry // registered descriptors, scanned in a ring
	pos   []int32 // fd -> index in list + 1; 0 when not registered
	next  int     // where the next scan starts
	sleep time.Duration
	woken atomic.Bool
	pfd   unix.PollFd

	// Counters read by tests.
	rounds, sleeps int
	calls          uint64 // system calls: one poll per descriptor per round, naps
}

// New returns a busy-waiting backend; o.SpinSleep > 0 sleeps that long
// after every idle round.
func New(o poller.Options) (poller.Backend, error) {
	if o.SpinSleep < 0 {
		return nil, errors.New("busywait: negative SpinSleep")
	}
	return &backend{sleep: o.SpinSleep}, nil
}

func (b *backend) Add(fd int, interest poller.Flags) error {
	// Refuse a descriptor that is not open, as the kernel multiplexers do;
	// poll would only flag it POLLNVAL round after round.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return err
	}
	for fd >= len(b.pos) {
		b.pos = append(b.pos, 0)
	}
	b.list = append(b.list, entry{fd: int32(fd), interest: interest})
	b.pos[fd] = int32(len(b.list))
	return nil
}

func (b *backend) Modify(fd int, _, interest poller.Flags) error {
	b.list[b.pos[fd]-1].interest = interest
	return nil
}

func (b *backend) Remove(fd int, _ poller.Flags) error {
	i := b.pos[fd] - 1
	last := len(b.list) - 1
	if int(i) != last {
		b.list[i] = b.list[last]
		b.pos[b.list[i].fd] = i + 1
	}
	b.list = b.list[:last]
	b.pos[fd] = 0
	return nil
}

func (b *backend) Wait(events []poller.Event, timeout time.Duration) (int, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	budget := yieldBudget
	for {
		b.rounds++
		n, err := b.scan(events)
		// Swap consumes a pending wake-up whether or not it ends the wait.
		if b.woken.Swap(false) || n > 0 || err != nil {
			return n, err
		}
		if timeout == 0 || timeout > 0 && !time.Now().Before(deadline) {
			return 0, nil
		}
		if b.sleep > 0 {
			d := b.sleep
			if timeout > 0 {
				d = min(d, time.Until(deadline))
			}
			b.nap(d)
			budget = 0
		} else {
			budget -= 1 + len(b.list)
		}
		if budget <= 0 {
			runtime.Gosched()
			budget = yieldBudget
		}
	}
}

// nap sleeps the thread itself. time.Sleep would not do: the runtime's
// timer wait has millisecond resolution, and time.Sleep(100us) lasts
// about 1.1 ms here.
func (b *backend) nap(d time.Duration) {
	b.calls++
	b.sleeps++
	sleepThread(d)
}

// scan asks each descriptor once, starting where the last full batch
// stopped, so that descriptors late in the list are not starved when more
// are ready than events holds.
//
// Each question is a zero-timeout poll(2) on that one descriptor: one
// system call per descriptor per round, the cost this backend exists to
// show. recv(MSG_PEEK) would answer only readability, and only for
// connected sockets (not listeners or pipes); poll answers writability,
// hang-up and errors with the same rules as the real multiplexers.
func (b *backend) scan(events []poller.Event) (int, error) {
	size := len(b.list)
	if size == 0 {
		return 0, nil
	}
	start := b.next
	if start >= size {
		start = 0 // the list shrank
	}
	n := 0
	for i := 0; i < size; i++ {
		j := start + i
		if j >= size {
			j -= size
		}
		e := &b.list[j]
		f, err := b.ask(e)
		if err != nil {
			return n, err
		}
		if f == 0 {
			continue
		}
		events[n] = poller.Event{Token: uint64(e.fd), Flags: f}
		n++
		b.next = j + 1
		if n == len(events) {
			break
		}
	}
	return n, nil
}

func (b *backend) ask(e *entry) (poller.Flags, error) {
	pfd := &b.pfd
	pfd.Fd = e.fd
	pfd.Events = pollfd.Events(e.interest)
	pfd.Revents = 0
	for {
		// A signal arriving during the call would lose this answer for
		// the round; ask again instead.
		b.calls++
		err := poll1(pfd)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
	// Readiness only for what was asked; hang-up and errors always.
	f := pollfd.Flags(pfd.Revents)
	return f &^ ((poller.Readable | poller.Writable) &^ e.interest), nil
}

// Wake sets a flag that every round checks: no system call.
func (b *backend) Wake() error {
	b.woken.Store(true)
	return nil
}

func (b *backend) Close() error { return nil }

// Syscalls counts the loop's system calls: a zero-timeout poll per
// descriptor per round, and the naps of busywait-sleep.
func (b *backend) Syscalls() uint64 { return b.calls }
