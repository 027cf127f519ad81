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
	"math"
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

// Stdlib names the baseline backend: Go's net package, one goroutine per
// connection over the runtime's own netpoller.
const Stdlib = "stdlib"

// Uring names the io_uring completion engine (package proactor).
const Uring = "uring"

// DefaultReadBuf is the read buffer size when Config.ReadBufSize is zero.
// Every backend must read with the same size for a fair comparison.
const DefaultReadBuf = 64 << 10

// Config describes one server.
type Config struct {
	// Backend is a registered poller name or Stdlib.
	Backend string
	Poller  poller.Options
	// Listen and Control are host:port addresses; empty means
	// 127.0.0.1:0, a free loopback port.
	Listen, Control string
	// Token guards the control channel; it is required when either
	// address is not loopback.
	Token string
	// CPUs pins the process to these CPUs and the event loop thread to
	// the first of them; empty leaves scheduling alone.
	CPUs []int
	// GOMAXPROCS is set when positive.
	GOMAXPROCS int
	// ReadBufSize is the size of each read (DefaultReadBuf when zero).
	ReadBufSize int
	// SndBuf and RcvBuf set SO_SNDBUF and SO_RCVBUF when positive, on
	// the listening socket for every engine, so that accepted connections
	// have them before their handshake (the kernel doubles them, and caps
	// them at net.core.wmem_max and rmem_max).
	SndBuf, RcvBuf int
	// HighWater and LowWater bound a reactor transport's write buffer:
	// reading from a peer pauses above HighWater and resumes below
	// LowWater. Zero takes the reactor's defaults.
	HighWater, LowWater int
	// OutputBudget bounds a reactor's write buffers together (see
	// reactor.Config); zero takes the reactor's default.
	OutputBudget int
	// Faults injects short writes and EAGAIN into a reactor backend.
	Faults Faults
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
	if err := cfg.check(); err != nil {
		return nil, badConfig{err}
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Control == "" {
		cfg.Control = "127.0.0.1:0"
	}
	for _, a := range []struct{ flag, addr string }{{"listen", cfg.Listen}, {"control", cfg.Control}} {
		if err := control.RequireToken(cfg.Token, a.addr); err != nil {
			return nil, badConfig{&ListenError{a.flag, a.addr, control.ErrNoToken}}
		}
	}
	if cfg.ReadBufSize == 0 {
		cfg.ReadBufSize = DefaultReadBuf
	}
	if cfg.GOMAXPROCS > 0 {
		runtime.GOMAXPROCS(cfg.GOMAXPROCS)
	}
	if len(cfg.CPUs) > 0 {
		if err := sysstat.PinProcess(cfg.CPUs); err != nil {
			return nil, err
		}
	}
	var eng engine
	switch cfg.Backend {
	case Stdlib:
		eng = newStdEngine(cfg)
	case Uring:
		e, err := newUringEngine(cfg)
		if err != nil {
			return nil, err
		}
		eng = e
	default:
		e, err := newReactorEngine(cfg)
		if err != nil {
			return nil, err
		}
		eng = e
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

func (cfg *Config) check() error {
	if cfg.Backend == "" {
		return errors.New("server: no backend given")
	}
	if cfg.Backend != Stdlib && cfg.Backend != Uring {
		if _, ok := poller.Lookup(cfg.Backend); !ok {
			return fmt.Errorf("server: unknown backend %q (available: %s)", cfg.Backend, Available())
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"read buffer", cfg.ReadBufSize}, {"SO_SNDBUF", cfg.SndBuf}, {"SO_RCVBUF", cfg.RcvBuf},
		{"high water mark", cfg.HighWater}, {"low water mark", cfg.LowWater}, {"output budget", cfg.OutputBudget},
		{"GOMAXPROCS", cfg.GOMAXPROCS}} {
		if f.v < 0 {
			return fmt.Errorf("server: negative %s %d", f.name, f.v)
		}
	}
	// setsockopt takes a C int: larger sizes would wrap.
	for _, f := range []struct {
		name string
		v    int
	}{{"SO_SNDBUF", cfg.SndBuf}, {"SO_RCVBUF", cfg.RcvBuf}} {
		if f.v > math.MaxInt32 {
			return fmt.Errorf("server: %s %d above the largest the kernel takes (%d)", f.name, f.v, math.MaxInt32)
		}
	}
	if cfg.HighWater > 0 && cfg.LowWater > cfg.HighWater {
		return fmt.Errorf("server: low water mark %d above high water mark %d", cfg.LowWater, cfg.HighWater)
	}
	if len(cfg.CPUs) > 0 {
		if err := sysstat.CheckCPUs(cfg.CPUs); err != nil {
			return err
		}
	}
	if err := checkFaults(cfg.Faults); err != nil {
		return err
	}
	if cfg.Backend == Stdlib && faultsActive(cfg.Faults) {
		return errors.New("server: fault injection needs a poller backend: the stdlib server writes through the Go runtime")
	}
	if cfg.Backend == Uring && (cfg.Faults.WriteEAGAINFrac > 0 || cfg.Faults.ReadEAGAINFrac > 0) {
		return errors.New("server: the uring engine injects short sends only: it makes no read or write calls to fail with EAGAIN")
	}
	if cfg.Backend == Uring && (cfg.Poller != poller.Options{}) {
		return errors.New("server: poller options (edge-triggered, spin sleep) do not apply to the uring engine")
	}
	if cfg.Backend == Stdlib && (cfg.Poller != poller.Options{}) {
		return errors.New("server: poller options (edge-triggered, spin sleep) do not apply to the stdlib server")
	}
	if cfg.Backend == Stdlib && cfg.OutputBudget > 0 {
		return errors.New("server: the output budget applies to the reactor, not the stdlib server, whose buffers are per connection")
	}
	return nil
}

// Available lists the backends a server can run, for error messages.
func Available() string {
	s := Stdlib
	for _, n := range poller.Names() {
		s += ", " + n
	}
	return s
}

// options describes the setup as the result records it; the engine adds
// the socket buffer sizes the kernel applied.
func (cfg *Config) options() result.ServerOptions {
	o := result.ServerOptions{
		ReadBuf:    cfg.ReadBufSize,
		HighWater:  cfg.HighWater,
		LowWater:   cfg.LowWater,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	if len(cfg.CPUs) > 0 {
		o.CPUs = sysstat.FormatCPUList(cfg.CPUs)
	}
	if cfg.Backend != Stdlib {
		o.EdgeTriggered = cfg.Poller.EdgeTriggered
		o.SpinSleepNs = int64(cfg.Poller.SpinSleep)
	}
	describeFaults(cfg.Faults, &o)
	return o
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
