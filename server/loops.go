package server

import (
	"errors"

	"github.com/muxbench/muxbench/control"
)

// MaxLoops bounds Config.Loops: far beyond any machine's cores, it only
// catches a typo before it opens thousands of pollers.
const MaxLoops = 1024

// loopsEngine runs one engine per event loop, each on its own locked
// thread pinned to its CPU, all bound to one port through SO_REUSEPORT:
// the kernel hashes each new connection to one of the listeners, and a
// connection stays on the loop that accepted it.
type loopsEngine struct {
	cfg   Config
	mk    func(Config) (engine, error)
	loops []engine
}

func newLoopsEngine(cfg Config, mk func(Config) (engine, error)) *loopsEngine {
	return &loopsEngine{cfg: cfg, mk: mk}
}

// loopConfig is loop i's: pinned to the i-th of the CPUs, round-robin.
func (e *loopsEngine) loopConfig(i int) Config {
	c := e.cfg
	if len(c.CPUs) > 0 {
		c.CPUs = []int{c.CPUs[i%len(c.CPUs)]}
	}
	return c
}

// listen binds the first loop to addr, and every other loop to the
// address it got, so that port 0 means one free port for all of them.
func (e *loopsEngine) listen(addr string) (string, error) {
	bound := addr
	for i := range e.cfg.Loops {
		l, err := e.mk(e.loopConfig(i))
		if err == nil {
			var a string
			a, err = l.listen(bound)
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
