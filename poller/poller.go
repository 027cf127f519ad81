// Package poller defines the readiness multiplexer contract that every
// muxbench backend implements, and the registry that picks one by name.
//
// The contract, written once:
//
//   - Level-triggered unless Options.EdgeTriggered is set and the backend
//     advertises it: a descriptor is reported on every Wait while it stays
//     readable (unread data, a pending connection, a closed peer) or
//     writable (room in the send buffer) for an interest it is registered
//     with.
//   - Events carry the caller's token, never the descriptor, so that the
//     caller can tag tokens with a generation and drop events for a
//     descriptor that was closed and reused before dispatch.
//   - Error, and a hang-up of both directions, are reported whatever the
//     interest, as epoll does; the peer's half-close (HangUp without
//     Readable) only with read interest, so that a level-triggered writer
//     that stopped reading is not woken by it on every wait. Readable and
//     Writable only for the interest registered. select cannot see
//     hang-ups at all: a closed peer shows as Readable.
//   - Writable means a write will not block: there is room, or the write
//     fails at once (the peer or the pipe's reader is gone, or we shut
//     our own writing down). The peer's half-close makes a descriptor
//     Readable, not Writable: a full send buffer stays full. HangUp is
//     the peer's doing: our own SHUT_WR is none.
//   - A pipe's writer whose reader has gone is Writable (with Error or
//     HangUp where the kernel says so) and the write returns EPIPE,
//     whether the reader went before Add or after: Add succeeds.
//   - Add, Modify, Remove and Wait belong to one goroutine (the loop); Wake
//     may be called from any goroutine, and several Wakes before the next
//     Wait cost one system call.
//   - Wait never reports EINTR: an interrupted wait is resumed with what is
//     left of its timeout.
package poller

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Flags is both an interest set (Readable, Writable) and the readiness
// reported by Wait (any of the four).
type Flags uint8

const (
	Readable Flags = 1 << iota
	Writable
	// HangUp means the peer closed its side: a read will return end of
	// stream once the buffered data is drained.
	HangUp
	// Error means the socket has a pending error (for example a reset);
	// reading or writing will return it.
	Error
)

// Interest keeps only the bits a caller may register.
const Interest = Readable | Writable

func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var parts []string
	for _, b := range []struct {
		f Flags
		s string
	}{{Readable, "R"}, {Writable, "W"}, {HangUp, "HUP"}, {Error, "ERR"}} {
		if f&b.f != 0 {
			parts = append(parts, b.s)
		}
	}
	return strings.Join(parts, "|")
}

// Event is one ready descriptor, named by the token it was registered with.
type Event struct {
	Token uint64
	Flags Flags
}

// Options select a backend's mode. Zero is the comparable default:
// level-triggered, no sleeping.
type Options struct {
	// EdgeTriggered asks for edge-triggered notification; Open fails with
	// ErrUnsupported on a backend without Capabilities.EdgeTriggered.
	EdgeTriggered bool
	// SpinSleep is slept by the busy-waiting backend after every round in
	// which nothing was ready: the GUI-toolkit trade of latency for CPU.
	SpinSleep time.Duration
	// RawWait asks for blocking waits the Go runtime does not see, for a
	// loop on a locked thread that keeps its P while it waits (the
	// reactor's): no system call entry and exit, and no sysmon taking
	// the P from a wait that lasts over 20 us, with the thread hand-offs
	// that follow; they cost a loop about a tenth of its CPU. A runtime
	// signal (preemption, the garbage collector) ends such a wait with
	// EINTR, which Wait resumes as an ordinary wait, so that an idle loop
	// is not woken again and again (rawio.Waiter); other goroutines need
	// a P of their own.
	// Backends with Capabilities.RawWait (epoll, iouring, and poll and
	// select on Linux) honour it; busywait's polls and naps on Linux are
	// raw already; the others wait as usual.
	RawWait bool
}

// Capabilities tell callers how a backend differs instead of hiding it.
type Capabilities struct {
	EdgeTriggered bool
	// MaxFD is the highest descriptor number the backend accepts plus one;
	// zero means no limit of its own.
	MaxFD int
	// Spins is true for a backend that never sleeps in the kernel: it burns
	// a CPU while waiting.
	Spins bool
	// Exclusive is true for a backend with AddExclusive.
	Exclusive bool
	// RawWait is true for a backend that honours Options.RawWait here.
	RawWait bool
}

// Backend is the small private API each mechanism implements. The Poller
// wrapper validates arguments, keeps registration state (the caller's
// tokens among it), retries EINTR and coalesces wake-ups, so backends stay
// thin and alike: they deal in descriptors only.
type Backend interface {
	// Add registers fd, which the wrapper has checked is not registered.
	Add(fd int, interest Flags) error
	// Modify changes a registered fd's interest from old, which differs.
	Modify(fd int, old, interest Flags) error
	// Remove unregisters fd, which had interest old.
	Remove(fd int, old Flags) error
	// Wait fills events and returns how many, each event's Token being
	// the ready descriptor: the wrapper puts the caller's token in its
	// place. timeout < 0 blocks. It may return early with n == 0
	// (wake-up, spurious) and may return EINTR. It consumes any pending
	// wake-up.
	Wait(events []Event, timeout time.Duration) (int, error)
	// Wake makes a current or the next Wait return.
	Wake() error
	Close() error
}

// Errors every backend returns for the same misuse, testable with errors.Is.
var (
	ErrClosed        = errors.New("poller: closed")
	ErrRegistered    = errors.New("poller: descriptor already registered")
	ErrNotRegistered = errors.New("poller: descriptor not registered")
	ErrFDRange       = errors.New("poller: descriptor number beyond what this backend can watch")
	ErrUnsupported   = errors.New("poller: option not supported by this backend")
	ErrUnknown       = errors.New("poller: unknown backend")
)

// syscaller is implemented by backends that count their own system
// calls; for the others the wrapper counts one per Wait, Add, Modify and
// Remove it passes on, which is what epoll and kqueue make.
type syscaller interface{ Syscalls() uint64 }

// exclusiver is implemented by backends that can watch a descriptor
// shared with other pollers so that its readiness wakes one waiting
// poller, not all of them (epoll's EPOLLEXCLUSIVE).
type exclusiver interface {
	AddExclusive(fd int, interest Flags) error
}

type registration struct {
	token    uint64
	interest Flags
	live     bool
}

// Poller is a backend behind the shared contract.
type Poller struct {
	name    string
	caps    Capabilities
	opts    Options
	b       Backend
	regs    []registration // indexed by fd: descriptors are small integers
	count   int
	closed  atomic.Bool
	wakeSig atomic.Bool
	calls   uint64 // backend calls, for backends that do not count
}

// Name is the registry name the poller was opened with.
func (p *Poller) Name() string { return p.name }

// Capabilities of the backend.
func (p *Poller) Capabilities() Capabilities { return p.caps }

// Options the poller was opened with.
func (p *Poller) Options() Options { return p.opts }

// Len is the number of registered descriptors.
func (p *Poller) Len() int { return p.count }

func (p *Poller) check(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if fd < 0 {
		return fmt.Errorf("poller: negative descriptor %d: %w", fd, unix.EBADF)
	}
	if p.caps.MaxFD > 0 && fd >= p.caps.MaxFD {
		return fmt.Errorf("%w: fd %d, %s allows below %d", ErrFDRange, fd, p.name, p.caps.MaxFD)
	}
	return nil
}

// Add registers fd for interest (Readable, Writable, both or neither),
// reported under token.
func (p *Poller) Add(fd int, token uint64, interest Flags) error {
	return p.add(fd, token, interest, p.b.Add)
}

// AddExclusive is Add for a descriptor that several pollers watch, such
// as a listening socket shared by event loops: its readiness wakes one
// poller waiting on it, not every one. ErrUnsupported without
// Capabilities.Exclusive.
func (p *Poller) AddExclusive(fd int, token uint64, interest Flags) error {
	x, ok := p.b.(exclusiver)
	if !ok {
		return fmt.Errorf("%w: %s cannot wake one poller of several", ErrUnsupported, p.name)
	}
	return p.add(fd, token, interest, x.AddExclusive)
}

func (p *Poller) add(fd int, token uint64, interest Flags, add func(int, Flags) error) error {
	if err := p.check(fd); err != nil {
		return err
	}
	interest &= Interest
	if fd < len(p.regs) && p.regs[fd].live {
		return fmt.Errorf("%w: fd %d", ErrRegistered, fd)
	}
	p.calls++
	if err := add(fd, interest); err != nil {
		return err
	}
	for fd >= len(p.regs) {
		p.regs = append(p.regs, registration{})
	}
	p.regs[fd] = registration{token: token, interest: interest, live: true}
	p.count++
	return nil
}

// Modify replaces fd's token and interest. A call that keeps the interest
// makes no system call.
func (p *Poller) Modify(fd int, token uint64, interest Flags) error {
	if err := p.check(fd); err != nil {
		return err
	}
	interest &= Interest
	if fd >= len(p.regs) || !p.regs[fd].live {
		return fmt.Errorf("%w: fd %d", ErrNotRegistered, fd)
	}
	r := &p.regs[fd]
	if r.interest != interest {
		p.calls++
		if err := p.b.Modify(fd, r.interest, interest); err != nil {
			return err
		}
		r.interest = interest
	}
	r.token = token
	return nil
}

// Remove unregisters fd. Call it before closing the descriptor.
func (p *Poller) Remove(fd int) error {
	if err := p.check(fd); err != nil {
		return err
	}
	if fd >= len(p.regs) || !p.regs[fd].live {
		return fmt.Errorf("%w: fd %d", ErrNotRegistered, fd)
	}
	p.calls++
	err := p.b.Remove(fd, p.regs[fd].interest)
	p.regs[fd] = registration{}
	p.count--
	return err
}

// Interest reports fd's registered interest and whether it is registered.
func (p *Poller) Interest(fd int) (Flags, bool) {
	if fd < 0 || fd >= len(p.regs) || !p.regs[fd].live {
		return 0, false
	}
	return p.regs[fd].interest, true
}

// Wait blocks until a registered descriptor is ready, timeout passes
// (timeout < 0: never) or Wake is called, and fills events. It returns 0
// on timeout or wake-up.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if len(events) == 0 {
		return 0, errors.New("poller: Wait needs room for at least one event")
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		p.calls++
		n, err := p.b.Wait(events, timeout)
		p.wakeSig.Store(false)
		if err == nil {
			return p.tokens(events[:n]), nil
		}
		if !errors.Is(err, unix.EINTR) {
			return 0, err
		}
		// SIGPROF and friends: resume with what is left.
		if timeout > 0 {
			if timeout = time.Until(deadline); timeout <= 0 {
				return 0, nil
			}
		}
	}
}

// tokens puts the caller's token in place of each event's descriptor,
// dropping any for a descriptor not registered: a kernel may report one
// closed without Remove whose file lives on in a duplicate, or keep a
// filter that a failed change left behind.
func (p *Poller) tokens(events []Event) int {
	out := 0
	for _, e := range events {
		fd := e.Token
		if fd >= uint64(len(p.regs)) || !p.regs[fd].live {
			continue
		}
		events[out] = Event{Token: p.regs[fd].token, Flags: e.Flags}
		out++
	}
	return out
}

// Syscalls is the number of system calls the backend made for the loop
// (Add, Modify, Remove, Wait; not Wake, which other goroutines call).
// Loop goroutine only.
func (p *Poller) Syscalls() uint64 {
	if s, ok := p.b.(syscaller); ok {
		return s.Syscalls()
	}
	return p.calls
}

// Wake makes a blocked Wait return, from any goroutine. Wakes that arrive
// before the loop has waited again are coalesced into one system call.
func (p *Poller) Wake() error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !p.wakeSig.CompareAndSwap(false, true) {
		return nil
	}
	return p.b.Wake()
}

// Close releases the backend. Registered descriptors are not closed.
func (p *Poller) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	return p.b.Close()
}

// Info describes a registered backend.
type Info struct {
	Name string
	// Doc is one line for `muxbench backends`.
	Doc  string
	Caps Capabilities
	New  func(Options) (Backend, error)
	// Available, if set, tells why the backend cannot run on this
	// machine (a kernel without the facility); nil means it can. It is
	// called once.
	Available func() error
	// Emulation names the user-space library the backend runs on where
	// the kernel lacks the mechanism (libkqueue: kqueue over epoll);
	// empty for the kernel's own. Such a backend's figures are the
	// library's and the kernel's other mechanism's, not the one it is
	// named for: it runs when named, never as part of "all".
	Emulation string
}

var registry = map[string]Info{}

// Register makes a backend available by name; backends call it from init,
// so a blank import selects them.
func Register(info Info) {
	if _, dup := registry[info.Name]; dup {
		panic("poller: backend registered twice: " + info.Name)
	}
	if _, dup := engines[info.Name]; dup {
		panic("poller: backend named like an engine: " + info.Name)
	}
	if _, dup := peers[info.Name]; dup {
		panic("poller: backend named like a peer: " + info.Name)
	}
	if info.Available != nil {
		// A probe may set up a kernel object: once is enough.
		info.Available = sync.OnceValue(info.Available)
	}
	registry[info.Name] = info
}

// Backends lists the registered backends, sorted by name.
func Backends() []Info {
	out := make([]Info, 0, len(registry))
	for _, i := range registry {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Names lists the registered backend names, sorted.
func Names() []string {
	var out []string
	for _, i := range Backends() {
		out = append(out, i.Name)
	}
	return out
}

// Lookup returns the backend called name, available or not.
func Lookup(name string) (Info, bool) {
	i, ok := registry[name]
	return i, ok
}

// Open creates a poller of the named backend.
func Open(name string, opts Options) (*Poller, error) {
	info, ok := registry[name]
	if !ok {
		return nil, unknown(name, Names())
	}
	if err := Check(name, opts); err != nil {
		return nil, err
	}
	b, err := info.New(opts)
	if err != nil {
		return nil, fmt.Errorf("poller: open %s: %w", name, err)
	}
	return &Poller{name: name, caps: info.Caps, opts: opts, b: b}, nil
}
