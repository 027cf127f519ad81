//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package reactor is a single-threaded, Twisted-style event loop over any
// registered poller backend: transports own non-blocking sockets and
// buffer what the socket does not take, protocols give the bytes meaning.
//
// The loop knows only the poller contract. Pick backends with a blank
// import of poller/all (or of single backends).
//
// Everything except Stop and Call belongs to the loop: call it before Run
// from the goroutine that will call Run, or from handlers, or through Call.
//
// What the loop guarantees, whatever the backend:
//
//   - Each event's token is a slot index with a generation, checked at
//     dispatch: a handler that closes another connection (whose fd may be
//     reused at once) never lets that connection's pending event reach
//     the new owner. Dropped events are counted as Stale.
//   - Per event, the read side runs before the write side.
//   - Edge-triggered, transports read and write until EAGAIN, and replay
//     the event next round when they stop early (an injected fault,
//     backpressure lifted), so no edge is lost.
//   - A transport stops reading once its write buffer passes HighWater
//     and resumes below LowWater: an echo's buffer stays under HighWater
//     plus one read, whatever the peer does.
//   - All write buffers together stay near OutputBudget: above it, every
//     transport with output waiting stops reading until the total is back
//     under three quarters of it, so many peers that never read cannot
//     take the memory that HighWater allows each of them.
//   - Nothing spins: accept under EMFILE pauses or drains through a spare
//     descriptor; a transport that neither reads nor writes leaves the
//     poller; the backends report a peer's half-close only to readers.
package reactor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/muxbench/muxbench/internal/loopcall"
	"github.com/muxbench/muxbench/poller"
)

// Defaults chosen so that every backend reads the same way.
const (
	DefaultReadBufSize  = 64 << 10
	DefaultHighWater    = 1 << 20
	DefaultOutputBudget = 64 << 20
	DefaultMaxEvents    = 256
)

// Errors passed to ConnectionLost or returned, testable with errors.Is.
var (
	// ErrAborted is the reason given to a protocol whose transport was
	// aborted by our side.
	ErrAborted = errors.New("reactor: connection aborted")
	// ErrClosed is the reason given to protocols still open when the
	// reactor is closed, and the error of calls on a closed reactor.
	ErrClosed = errors.New("reactor: closed")
	// ErrRunning is returned by Run when the loop already runs.
	ErrRunning = errors.New("reactor: already running")
)

// Config selects the backend and the transports' buffering. Zero values
// take the defaults.
type Config struct {
	// Backend is a poller registry name, e.g. "epoll".
	Backend string
	// Poller holds the backend's options (edge-triggered, spin sleep).
	Poller poller.Options
	// ReadBufSize is the size of the loop's single read buffer, shared by
	// every transport so that idle connections cost no buffer and every
	// backend reads the same amount per call. Default 64 KiB.
	ReadBufSize int
	// HighWater bounds a transport's write buffer: above it the transport
	// stops reading its socket, so a peer that never reads cannot grow our
	// memory. Default 1 MiB.
	HighWater int
	// LowWater is where reading resumes. Default HighWater/4.
	LowWater int
	// OutputBudget bounds the memory of all write buffers together:
	// above it, transports with output waiting stop reading, and resume
	// once the total is under three quarters of it. Transports with
	// nothing waiting read on, so peers that read their replies are
	// still served while others hold the budget. A transport can still
	// take one read beyond it, so the worst case is the budget plus a
	// read buffer per connection. Default 64 MiB.
	OutputBudget int
	// DisableNoDelay leaves Nagle's algorithm on; TCP_NODELAY is set on
	// every accepted and connected socket otherwise.
	DisableNoDelay bool
	// SndBuf and RcvBuf set SO_SNDBUF/SO_RCVBUF when > 0: on listening
	// sockets (accepted ones inherit them) and connected ones. A small
	// SndBuf provokes short writes.
	SndBuf, RcvBuf int
	// ReusePort sets SO_REUSEPORT (FreeBSD: SO_REUSEPORT_LB) on
	// listening sockets, so that several reactors, one per core, can
	// bind the same port and the kernel spreads the connections over
	// them; macOS and the other BSDs let them bind without spreading.
	ReusePort bool
	// ExclusiveAccept watches listening sockets with poller.AddExclusive,
	// for reactors that serve one socket together (see ListenFD): a
	// connection wakes one of them, not all. Open fails where the
	// backend cannot (Capabilities.Exclusive).
	ExclusiveAccept bool
	// MaxEvents is the size of the events slice passed to Wait. Default 256.
	MaxEvents int
	// Faults injects short writes and EAGAINs; zero is off.
	Faults Faults
}

// Conn is what a protocol does with its connection. The reactor's
// *Transport is one; an engine that does not run on a Poller (the
// io_uring proactor) has its own, so that the same protocols run on both.
type Conn interface {
	// Write sends p, keeping what the socket does not take at once; p may
	// be reused when Write returns.
	Write(p []byte)
	// LoseConnection closes once everything written is sent.
	LoseConnection()
	// LoseWriteConnection shuts down the writing side once everything
	// written is sent, and keeps reading.
	LoseWriteConnection()
	// Abort drops what is unsent and resets the connection.
	Abort()
}

// Protocol gives meaning to a transport's bytes. Its methods are called on
// the loop thread.
type Protocol interface {
	// ConnectionMade is called once the socket is connected.
	ConnectionMade(c Conn)
	// DataReceived gets bytes read from the socket; data is the loop's
	// shared read buffer and valid only during the call.
	DataReceived(data []byte)
	// ConnectionLost is called exactly once: nil for an orderly close by
	// either side, the error otherwise (a reset, ErrAborted, a failed
	// connect).
	ConnectionLost(err error)
}

// HalfCloseable protocols learn that the peer shut down its writing side
// and keep the transport open to write; others have the transport closed
// after its buffer is flushed.
type HalfCloseable interface {
	ReadConnectionLost()
}

// handler is what a slot holds: a transport or a listener.
type handler interface {
	handle(f poller.Flags)
}

type slot struct {
	gen uint32
	h   handler
}

// Reactor is the loop. Create it with New.
type Reactor struct {
	cfg   Config
	p     *poller.Poller
	et    bool
	buf   []byte
	evs   []poller.Event
	slots []slot
	free  []uint32
	c     Counters

	conns     int
	transp    map[*Transport]struct{}
	held      int  // capacity of every transport's write buffer
	squeezed  bool // held went above OutputBudget, not yet under 3/4 of it
	listeners map[*Listener]struct{}
	paused    []*Listener // listeners waiting for a descriptor to be freed
	spare     int         // /dev/null, given up to accept-and-close under EMFILE

	deferred   loopcall.Later[*Transport] // closes postponed until the current handler returned
	retry      []poller.Event             // synthetic events for the next round (edge-triggered)
	retrySpare []poller.Event

	rng    *rand.Rand
	faults bool

	calls   loopcall.Queue
	stop    atomic.Bool
	running bool
	closed  bool
}

// New opens the named backend and prepares a loop.
func New(cfg Config) (*Reactor, error) {
	if err := Buffering(&cfg.ReadBufSize, &cfg.HighWater, &cfg.LowWater, &cfg.OutputBudget); err != nil {
		return nil, fmt.Errorf("reactor: %w", err)
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, err
	}
	// Run waits on its own locked thread and keeps its P: raw waits spare
	// it the runtime's syscall bookkeeping and sysmon's hand-offs.
	popts := cfg.Poller
	popts.RawWait = true
	p, err := poller.Open(cfg.Backend, popts)
	if err != nil {
		return nil, err
	}
	if cfg.ExclusiveAccept && !p.Capabilities().Exclusive {
		p.Close()
		return nil, fmt.Errorf("%w: %s cannot wake one of several loops sharing a listener", poller.ErrUnsupported, cfg.Backend)
	}
	r := &Reactor{
		cfg:       cfg,
		p:         p,
		et:        cfg.Poller.EdgeTriggered,
		buf:       make([]byte, cfg.ReadBufSize),
		evs:       make([]poller.Event, cfg.MaxEvents),
		transp:    make(map[*Transport]struct{}),
		listeners: make(map[*Listener]struct{}),
		spare:     openSpare(),
	}
	if cfg.Faults.active() {
		r.faults = true
		r.rng = FaultRand(cfg.Faults.Seed)
	}
	return r, nil
}

// Buffering gives a zero (or negative) read buffer size, high and low
// water mark and output budget their defaults, and refuses a low water
// mark above the high one. The reactor and the proactor both take their
// buffering through it, so that the two engines read and hold alike.
func Buffering(readBufSize, highWater, lowWater, outputBudget *int) error {
	if *readBufSize <= 0 {
		*readBufSize = DefaultReadBufSize
	}
	if *highWater <= 0 {
		*highWater = DefaultHighWater
	}
	if *lowWater <= 0 {
		*lowWater = *highWater / 4
	}
	if *lowWater > *highWater {
		return fmt.Errorf("low water %d above high water %d", *lowWater, *highWater)
	}
	if *outputBudget <= 0 {
		*outputBudget = DefaultOutputBudget
	}
	return nil
}

// FaultRand is the random source of injected faults: seed makes a run's
// faults repeatable, on either engine.
func FaultRand(seed int64) *rand.Rand {
	s := uint64(seed)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// Backend is the poller's registry name.
func (r *Reactor) Backend() string { return r.p.Name() }

// EdgeTriggered reports whether the poller runs edge-triggered.
func (r *Reactor) EdgeTriggered() bool { return r.et }

// Counters returns a copy of the loop's counters. Loop thread only.
func (r *Reactor) Counters() Counters {
	c := r.c
	c.Syscalls += c.Reads + c.Writes + r.p.Syscalls()
	return c
}

// Conns is the number of open transports. Loop thread only.
func (r *Reactor) Conns() int { return r.conns }

// OutputHeld is the memory every transport's write buffer holds together,
// what OutputBudget bounds. Loop thread only.
func (r *Reactor) OutputHeld() int { return r.held }

// heldChanged follows a change of the transports' buffers: it starts or
// ends the squeeze on reading and tells the transports whose reading it
// changes.
func (r *Reactor) heldChanged() {
	switch {
	case !r.squeezed && r.held > r.cfg.OutputBudget:
		r.squeezed = true
		r.c.BudgetPauses++
	case r.squeezed && r.held <= r.cfg.OutputBudget/4*3:
		r.squeezed = false
	default:
		return
	}
	for t := range r.transp {
		if t.Buffered() > 0 {
			was := t.reading()
			t.update()
			if r.et && !was && t.reading() {
				// Data that arrived while squeezed raised no edge since.
				r.retryLater(t.tok, poller.Readable)
			}
		}
	}
}

// token packs a slot index with its generation, so an event for a slot
// freed (and perhaps reused) since the Wait is recognised and dropped.
func token(idx, gen uint32) uint64 { return uint64(gen)<<32 | uint64(idx) }

func (r *Reactor) alloc(h handler) uint64 {
	var idx uint32
	if n := len(r.free); n > 0 {
		idx = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		idx = uint32(len(r.slots))
		r.slots = append(r.slots, slot{gen: 1})
	}
	r.slots[idx].h = h
	return token(idx, r.slots[idx].gen)
}

func (r *Reactor) release(tok uint64) {
	s := &r.slots[uint32(tok)]
	s.h = nil
	s.gen++
	if s.gen == 0 { // 0 is never a live generation
		s.gen = 1
	}
	r.free = append(r.free, uint32(tok))
}

func (r *Reactor) lookup(tok uint64) handler {
	idx := uint32(tok)
	if int(idx) >= len(r.slots) {
		return nil
	}
	s := &r.slots[idx]
	if s.gen != uint32(tok>>32) {
		return nil
	}
	return s.h
}

// Run locks the calling goroutine to its OS thread and runs the loop until
// Stop (a Stop that came before Run makes it return at once). Transports
// stay open: Run may be called again, or Close releases everything.
func (r *Reactor) Run() error {
	if r.closed {
		return ErrClosed
	}
	if r.running {
		return ErrRunning
	}
	r.running = true
	defer func() { r.running = false }()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	for {
		r.runCalls()
		if r.stop.Swap(false) {
			return nil
		}
		timeout := r.timeout()
		n, err := r.p.Wait(r.evs, timeout)
		r.c.Waits++
		if err != nil {
			return fmt.Errorf("reactor: wait: %w", err)
		}
		r.c.Events += uint64(n)
		for _, ev := range r.evs[:n] {
			r.dispatch(ev)
		}
		if len(r.retry) > 0 {
			r.runRetries()
		}
	}
}

func (r *Reactor) timeout() time.Duration {
	if len(r.retry) > 0 || r.deferred.Len() > 0 || r.calls.Pending() {
		return 0
	}
	return -1
}

func (r *Reactor) dispatch(ev poller.Event) {
	h := r.lookup(ev.Token)
	if h == nil {
		r.c.Stale++
		return
	}
	r.c.Dispatches++
	h.handle(ev.Flags)
	r.flushDeferred()
}

// runRetries replays the events handlers asked to be repeated: in
// edge-triggered mode a transport that stopped before EAGAIN (an injected
// fault, backpressure lifted, an accept batch cut short) gets no new edge.
func (r *Reactor) runRetries() {
	evs := r.retry
	r.retry = r.retrySpare[:0]
	defer func() { r.retrySpare = evs[:0] }()
	for _, ev := range evs {
		if h := r.lookup(ev.Token); h != nil {
			h.handle(ev.Flags)
			r.flushDeferred()
		}
	}
}

func (r *Reactor) retryLater(tok uint64, f poller.Flags) {
	r.retry = append(r.retry, poller.Event{Token: tok, Flags: f})
}

func (r *Reactor) flushDeferred() { r.deferred.Run((*Transport).closeNow) }

// Stop makes Run return after the current round. Any goroutine.
func (r *Reactor) Stop() {
	r.stop.Store(true)
	r.p.Wake()
}

// Call runs fn on the loop thread soon. Any goroutine. Functions queued
// while the loop is stopped run when Run is called again (or by Close).
func (r *Reactor) Call(fn func()) {
	r.calls.Add(fn)
	r.p.Wake()
}

func (r *Reactor) runCalls() {
	r.flushDeferred()
	if r.calls.Pending() {
		r.calls.Run(r.flushDeferred)
	}
}

// Close closes every transport (ConnectionLost(ErrClosed)) and listener,
// then the poller. Call it when Run is not running, from the goroutine
// that ran it.
func (r *Reactor) Close() error {
	if r.closed {
		return ErrClosed
	}
	if r.running {
		return ErrRunning
	}
	r.runCalls()
	for l := range r.listeners {
		l.Close()
	}
	for t := range r.transp {
		t.closeWith(ErrClosed)
	}
	r.flushDeferred()
	r.closed = true
	closeSpare(r.spare)
	return r.p.Close()
}
