// Package server runs one echo server for a benchmark run: a poller
// backend behind the reactor, or the Go standard library's net package as
// the baseline, plus the control channel the load side reads its figures
// from.
//
// The benchmark runs it in a process of its own (`muxbench serve`, see
// Command), so that its CPU time, memory and garbage collection are not
// mixed with the load generator's; Start serves in-process for tests and
// `go test -bench`.
package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// Uring names the io_uring completion engine (package proactor).
const Uring = "uring"

// UringBuffers is how many receive buffers, of the read buffer's size,
// the uring engine provides the kernel to fill as data arrives.
const UringBuffers = 512

func init() {
	poller.RegisterEngine(poller.Engine{
		Name: poller.Stdlib,
		Doc:  "Go's net package: goroutine per connection on the runtime netpoller (baseline)",
	})
	poller.RegisterEngine(poller.Engine{
		Name:      Uring,
		Doc:       "io_uring completions: multishot accept, recv into provided buffers, send (package proactor)",
		Available: uringAvailable,
	})
}

// Ready is the one line a server prints on stdout once it listens, so
// that the parent learns its ports (both default to port 0).
type Ready struct {
	Listen  string `json:"listen"`
	Control string `json:"control"`
	PID     int    `json:"pid"`
	Backend string `json:"backend"`
}

// ListenError is one of the two addresses that cannot be used: it would
// not bind, or it is open to the network without a token. Flag is
// "listen" or "control".
type ListenError struct {
	Flag, Addr string
	Err        error
}

func (e *ListenError) Error() string { return fmt.Sprintf("%s %s: %v", e.Flag, e.Addr, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// ErrConfig is wrapped by Start's errors for a Config that cannot work
// (as opposed to a failure of the system), for errors.Is.
var ErrConfig = errors.New("server: bad configuration")

type badConfig struct{ error }

func (b badConfig) Unwrap() []error { return []error{b.error, ErrConfig} }

// engine is what differs between the stdlib server and the reactor.
type engine interface {
	// listen binds addr and returns the address bound.
	listen(addr string) (string, error)
	// run serves until stop and returns why it ended (nil after stop).
	run() error
	stop()
	// fill adds the engine's counters to st: Conns, IO, thread CPU,
	// injected faults.
	fill(st *control.Stats) error
}

// Server is one running echo server with its control channel.
type Server struct {
	cfg     Config
	eng     engine
	ctlLn   net.Listener
	ctl     *control.Server
	ready   Ready
	options result.ServerOptions

	stopOnce sync.Once
	stopped  chan struct{}
	done     chan struct{}
	err      error
}

// Start validates cfg, binds both addresses, and serves in the background
// until Stop, a control "stop", or a fatal error (see Wait).
func Start(cfg Config) (*Server, error) {
	cfg = cfg.Defaults()
	if err := cfg.Check(); err != nil {
		return nil, badConfig{err}
	}
	for _, a := range []struct{ flag, addr string }{{"listen", cfg.Listen}, {"control", cfg.Control}} {
		if err := control.RequireToken(cfg.Token, a.addr); err != nil {
			return nil, badConfig{&ListenError{a.flag, a.addr, control.ErrNoToken}}
		}
	}
	if cfg.Loops == 0 {
		cfg.Loops = 1
	}
	if cfg.Backend == poller.Stdlib && cfg.Loops > 1 && cfg.GOMAXPROCS == 0 {
		cfg.GOMAXPROCS = cfg.Loops
	}
	if err := takeCPUs(cfg); err != nil {
		return nil, err
	}
	eng, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	addr, err := eng.listen(cfg.Listen)
	if err != nil {
		eng.stop()
		return nil, &ListenError{"listen", cfg.Listen, err}
	}
	ctlLn, err := net.Listen("tcp", cfg.Control)
	if err != nil {
		eng.stop()
		return nil, &ListenError{"control", cfg.Control, err}
	}
	s := &Server{
		cfg:     cfg,
		eng:     eng,
		ctlLn:   ctlLn,
		options: cfg.options(),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
		ready: Ready{
			Listen:  addr,
			Control: ctlLn.Addr().String(),
			PID:     os.Getpid(),
			Backend: cfg.Backend,
		},
	}
	s.ctl = &control.Server{Token: cfg.Token, Handler: s}
	ctlDone := make(chan struct{})
	go func() {
		s.ctl.Serve(ctlLn)
		close(ctlDone)
	}()
	go func() {
		err := eng.run()
		s.Stop()
		ctlLn.Close()
		<-ctlDone
		s.err = err
		close(s.done)
	}()
	return s, nil
}

// takeCPUs sets the process's GOMAXPROCS and pins it to cfg's CPUs.
func takeCPUs(cfg Config) error {
	if cfg.GOMAXPROCS > 0 {
		runtime.GOMAXPROCS(cfg.GOMAXPROCS)
	} else if cfg.Backend != poller.Stdlib {
		// Each event loop waits holding its P, unseen by the runtime
		// (raw waits): the control channel needs one more. Set
		// explicitly, it also stays put when pinning below shrinks the
		// CPUs the runtime would otherwise size it by.
		runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), cfg.Loops+1))
	}
	if len(cfg.CPUs) > 0 {
		return sysstat.PinProcess(cfg.CPUs)
	}
	return nil
}

// newEngine makes cfg's engine, not yet listening: the Go runtime's, a
// reactor or uring's proactor, or several of them sharing the port.
func newEngine(cfg Config) (engine, error) {
	mk := func(cfg Config) (engine, error) { return newReactorEngine(cfg) }
	if cfg.Backend == Uring {
		mk = newUringEngine
	}
	switch {
	case cfg.Backend == poller.Stdlib:
		return newStdEngine(cfg), nil
	case cfg.Loops > 1:
		return newLoopsEngine(cfg, mk), nil
	}
	return mk(cfg)
}

// Ready is what Command prints once the server listens.
func (s *Server) Ready() Ready { return s.ready }

// Addr is the data listener's address.
func (s *Server) Addr() string { return s.ready.Listen }

// ControlAddr is the control channel's address.
func (s *Server) ControlAddr() string { return s.ready.Control }

// Stats implements control.Handler: the process's usage and the engine's
// counters, cumulative since Start.
func (s *Server) Stats() (control.Stats, error) {
	select {
	case <-s.stopped:
		return control.Stats{}, errors.New("server is stopping")
	default:
	}
	st := control.Stats{
		Time:         time.Now(),
		Backend:      s.cfg.Backend,
		Options:      s.options,
		ThreadUserNs: -1,
		ThreadSysNs:  -1,
	}
	if err := s.eng.fill(&st); err != nil {
		return control.Stats{}, err
	}
	p, err := sysstat.Process()
	if err != nil {
		return control.Stats{}, err
	}
	st.ProcUserNs, st.ProcSysNs = p.UserNs, p.SysNs
	st.VolCtxSw, st.InvolCtxSw = p.VolCtxSw, p.InvolCtxSw
	st.MaxRSS = p.MaxRSS
	if rss, err := sysstat.RSS(); err == nil {
		st.RSS = rss
	}
	st.OpenFDs = sysstat.OpenFDs()
	st.PID = os.Getpid()
	if s.ctl != nil {
		st.ControlRefused = s.ctl.Refused()
	}
	return st, nil
}

// Stop implements control.Handler. It returns at once; Wait for the
// server to finish.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopped)
		s.eng.stop()
	})
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Wait blocks until the server has stopped and returns the error that
// stopped it, nil after Stop.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}
