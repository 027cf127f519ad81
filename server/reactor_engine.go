package server

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// statsTimeout bounds the wait for the loop to answer a stats call; a
// loop stuck that long is itself the finding.
const statsTimeout = 5 * time.Second

// onLoop runs fn on an event loop through its call and returns what fn
// returned, unless the loop has ended or does not answer within
// statsTimeout.
func onLoop[T any](call func(func()), ended <-chan struct{}, fn func() T) (T, error) {
	ch := make(chan T, 1)
	call(func() { ch <- fn() })
	select {
	case v := <-ch:
		return v, nil
	case <-ended:
		var zero T
		return zero, errors.New("the event loop has stopped")
	case <-time.After(statsTimeout):
		var zero T
		return zero, fmt.Errorf("the event loop did not answer within %v", statsTimeout)
	}
}

// readLoop asks an event loop, on its own thread, for its counters and
// the figures every engine reports alike, and puts the latter in st.
func readLoop[C any](call func(func()), ended <-chan struct{}, counters func() C, conns func() int,
	ln interface{ AcceptedBufs() (int, int) }, st *control.Stats) (C, error) {
	type snap struct {
		c        C
		conns    int
		snd, rcv int
		thread   sysstat.Usage
		err      error
	}
	s, err := onLoop(call, ended, func() (s snap) {
		s.c, s.conns = counters(), conns()
		s.snd, s.rcv = ln.AcceptedBufs()
		// On the loop thread itself: RUSAGE_THREAD reads the caller.
		s.thread, s.err = sysstat.Thread()
		return s
	})
	if err != nil {
		return s.c, err
	}
	st.Conns = s.conns
	st.Options.SndBuf, st.Options.RcvBuf = s.snd, s.rcv
	if s.err == nil {
		st.ThreadUserNs, st.ThreadSysNs = s.thread.UserNs, s.thread.SysNs
	}
	return s.c, nil
}

// loopThread is where an engine's event loop lives: one goroutine locked
// to one thread, on which the loop is made, listens, runs and closes, as
// the reactor and the proactor both require.
type loopThread struct {
	ended  chan struct{} // closed when the loop's goroutine has returned
	runErr error
}

func newLoopThread() loopThread { return loopThread{ended: make(chan struct{})} }

// start runs body on the loop's own locked thread and returns, once body
// has called bound (which it does once, before it runs the loop), the
// address or the error it was given.
func (t *loopThread) start(body func(bound func(addr string, err error))) (string, error) {
	type bound struct {
		addr string
		err  error
	}
	ch := make(chan bound, 1)
	go func() {
		defer close(t.ended)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		body(func(addr string, err error) { ch <- bound{addr, err} })
	}()
	b := <-ch
	return b.addr, b.err
}

func (t *loopThread) run() error {
	<-t.ended
	return t.runErr
}

// reactorEngine runs protocol.Echo on a reactor. Every reactor call but
// Stop and Call happens on the loop's own goroutine, locked to one
// thread: the counters are plain fields of that thread and are read
// there, through Call.
type reactorEngine struct {
	cfg Config
	r   *reactor.Reactor
	ln  *reactor.Listener // loop thread only
	loopThread
}

func newReactorEngine(cfg Config) (*reactorEngine, error) {
	r, err := reactor.New(reactor.Config{
		Backend:         cfg.Backend,
		Poller:          cfg.Poller,
		ReadBufSize:     cfg.ReadBufSize,
		HighWater:       cfg.HighWater,
		OutputBudget:    cfg.OutputBudget,
		LowWater:        cfg.LowWater,
		SndBuf:          cfg.SndBuf,
		RcvBuf:          cfg.RcvBuf,
		Faults:          cfg.Faults,
		ReusePort:       cfg.Loops > 1 && !cfg.exclusive(),
		ExclusiveAccept: cfg.exclusive(),
	})
	if err != nil {
		return nil, badConfig{err}
	}
	return &reactorEngine{cfg: cfg, r: r, loopThread: newLoopThread()}, nil
}

func (e *reactorEngine) listen(addr string) (string, error) {
	return e.listenAndRun(func() (*reactor.Listener, error) { return e.r.Listen("tcp", addr, protocol.NewEcho) })
}

// listenFD serves a listening socket that other loops serve too, and
// closes it when the loop ends.
func (e *reactorEngine) listenFD(fd int) (string, error) {
	return e.listenAndRun(func() (*reactor.Listener, error) { return e.r.ListenFD(fd, protocol.NewEcho) })
}

// listenAndRun listens with listen on the loop's own locked thread, then
// runs the loop there.
func (e *reactorEngine) listenAndRun(listen func() (*reactor.Listener, error)) (string, error) {
	return e.start(func(bound func(string, error)) {
		defer e.r.Close()
		l, err := listen()
		if err != nil {
			bound("", err)
			return
		}
		e.ln = l
		bound(l.Addr().String(), nil)
		if len(e.cfg.CPUs) > 0 {
			cpu := e.cfg.CPUs[:1]
			e.r.Call(func() {
				if err := sysstat.PinThread(cpu); err != nil {
					e.runErr = fmt.Errorf("pinning the event loop: %w", err)
					e.r.Stop()
				}
			})
		}
		if err := e.r.Run(); err != nil && e.runErr == nil {
			e.runErr = err
		}
	})
}

func (e *reactorEngine) stop() { e.r.Stop() }

func (e *reactorEngine) fill(st *control.Stats) error {
	c, err := readLoop(e.r.Call, e.ended, e.r.Counters, e.r.Conns, e.ln, st)
	if err != nil {
		return err
	}
	st.IO = result.IO{
		BytesIn:     c.BytesIn,
		BytesOut:    c.BytesOut,
		Reads:       c.Reads,
		Writes:      c.Writes,
		ShortWrites: c.ShortWrites,
		WriteEAGAIN: c.WriteEAGAIN,
		ReadEAGAIN:  c.ReadEAGAIN,
		Waits:       c.Waits,
		Events:      c.Events,
		Dispatches:  c.Dispatches,
		Accepts:     c.Accepts,
		AcceptErrs:  c.AcceptErrors,
		Syscalls:    c.Syscalls,
	}
	st.Accept = result.Accepts{
		Accepted: c.Accepts,
		EMFILE:   c.AcceptEMFILE,
		ENFILE:   c.AcceptENFILE,
		Pauses:   c.AcceptPauses,
		Dropped:  c.AcceptDropped,
		Errors:   c.AcceptErrors,
	}
	st.BudgetPauses = c.BudgetPauses
	if faultsActive(e.cfg.Faults) {
		st.Injected = map[string]uint64{
			"short_writes": c.InjectedShortWrites,
			"write_eagain": c.InjectedWriteEAGAIN,
			"read_eagain":  c.InjectedReadEAGAIN,
		}
	}
	return nil
}
