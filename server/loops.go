package server

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/reactor"
)

// MaxLoops bounds Config.Loops: far beyond any machine's cores, it only
// catches a typo before it opens thousands of pollers.
const MaxLoops = 1024

// loopsEngine runs one engine per event loop, each on its own locked
// thread pinned to its CPU, all on one port: bound through SO_REUSEPORT,
// the kernel hashing each new connection to one of the listeners, or
// (AcceptExclusive) all serving one listening socket, which wakes one
// waiting loop per connection. A connection stays on the loop that
// accepted it.
type loopsEngine struct {
	cfg   Config
	mk    func(Config) (engine, error)
	loops []engine
}

func newLoopsEngine(cfg Config, mk func(Config) (engine, error)) *loopsEngine {
	return &loopsEngine{cfg: cfg, mk: mk}
}

// loopConfig is loop i's: pinned to the i-th of the CPUs, round-robin.
// Each loop gets its share of the output budget, which bounds the
// server's buffered output whatever its number of loops.
func (e *loopsEngine) loopConfig(i int) Config {
	c := e.cfg
	if len(c.CPUs) > 0 {
		c.CPUs = []int{c.CPUs[i%len(c.CPUs)]}
	}
	if !c.engine() || c.Backend == Uring {
		budget := c.OutputBudget
		if budget == 0 {
			budget = reactor.DefaultOutputBudget // the proactor's too
		}
		c.OutputBudget = max(budget/c.Loops, 1)
	}
	return c
}

// fdListener is an engine that can serve a listening socket opened for
// it (the reactor's).
type fdListener interface {
	listenFD(fd int) (string, error)
}

// listen binds the first loop to addr, and every other loop to the
// address it got, so that port 0 means one free port for all of them;
// or, with AcceptExclusive, binds one socket and gives each loop a
// duplicate of it.
func (e *loopsEngine) listen(addr string) (string, error) {
	bound := addr
	shared := -1
	if e.cfg.exclusive() {
		fd, err := reactor.ListenSocket("tcp", addr, reactor.Config{SndBuf: e.cfg.SndBuf, RcvBuf: e.cfg.RcvBuf})
		if err != nil {
			return "", err
		}
		defer unix.Close(fd) // each loop has its own duplicate
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return "", err
		}
		shared, bound = fd, rawio.TCPAddr(sa).String()
	}
	for i := range e.cfg.Loops {
		l, err := e.mk(e.loopConfig(i))
		if err == nil {
			var a string
			a, err = e.listenOne(l, bound, shared)
			if i == 0 {
				bound = a
			}
			if err != nil {
				l.stop()
			}
		}
		if err != nil {
			e.stop()
			return "", err
		}
		e.loops = append(e.loops, l)
	}
	return bound, nil
}

// listenOne binds l to addr, or gives it a duplicate of shared.
func (e *loopsEngine) listenOne(l engine, addr string, shared int) (string, error) {
	if shared < 0 {
		return l.listen(addr)
	}
	fl, ok := l.(fdListener)
	if !ok {
		return "", fmt.Errorf("%s cannot serve a shared listener", e.cfg.Backend)
	}
	fd, err := unix.FcntlInt(uintptr(shared), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("duplicating the listener: %w", err)
	}
	a, err := fl.listenFD(fd)
	if err != nil {
		unix.Close(fd)
	}
	return a, err
}

// run ends when any loop ends: the others are stopped, and the first
// error is returned.
func (e *loopsEngine) run() error {
	errs := make(chan error, len(e.loops))
	for _, l := range e.loops {
		go func() { errs <- l.run() }()
	}
	var first error
	for i := range e.loops {
		err := <-errs
		if i == 0 {
			e.stop()
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (e *loopsEngine) stop() {
	for _, l := range e.loops {
		l.stop()
	}
}

// fill sums the loops' counters and records each loop's accepts.
func (e *loopsEngine) fill(st *control.Stats) error {
	if len(e.loops) == 0 {
		return errors.New("no event loop is running")
	}
	st.Options.LoopAccepts = make([]uint64, len(e.loops))
	for i, l := range e.loops {
		s := control.Stats{ThreadUserNs: -1, ThreadSysNs: -1}
		if err := l.fill(&s); err != nil {
			return err
		}
		st.Options.LoopAccepts[i] = s.Accept.Accepted
		st.Conns += s.Conns
		st.IO = st.IO.Add(s.IO)
		st.Accept = st.Accept.Add(s.Accept)
		if st.Options.SndBuf == 0 {
			st.Options.SndBuf, st.Options.RcvBuf = s.Options.SndBuf, s.Options.RcvBuf
		}
		// Thread CPU is the loops' together, or unknown if any is.
		switch {
		case s.ThreadUserNs < 0:
			st.ThreadUserNs, st.ThreadSysNs = -1, -1
		case i == 0:
			st.ThreadUserNs, st.ThreadSysNs = s.ThreadUserNs, s.ThreadSysNs
		case st.ThreadUserNs >= 0:
			st.ThreadUserNs += s.ThreadUserNs
			st.ThreadSysNs += s.ThreadSysNs
		}
		for k, v := range s.Injected {
			if st.Injected == nil {
				st.Injected = make(map[string]uint64)
			}
			st.Injected[k] += v
		}
	}
	return nil
}
