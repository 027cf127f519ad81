package server

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// Config describes one server. It travels whole from the command line to
// the child process: Args writes it as serve's flags, which ParseArgs and
// Flags read back.
type Config struct {
	// Backend is a registered poller backend or an engine (poller.Stdlib).
	Backend string
	Poller  poller.Options
	// Listen and Control are host:port addresses; empty means
	// 127.0.0.1:0, a free loopback port.
	Listen, Control string
	// Token guards the control channel: control.MinToken bytes or more,
	// and required when either address is not loopback. Args leaves it out: it travels in
	// TokenEnv, not the process list.
	Token string
	// CPUs pins the process to these CPUs and the event loop thread to
	// the first of them; empty leaves scheduling alone.
	CPUs []int
	// GOMAXPROCS is set when positive.
	GOMAXPROCS int
	// Loops is the number of event loops (zero means one). Above one,
	// each loop runs on its own locked thread pinned to the next of the
	// CPUs, round-robin, with its own poller or ring and its own
	// SO_REUSEPORT listener on the one port; the stdlib server gets
	// GOMAXPROCS=Loops instead, for the same comparison.
	Loops int
	// Accept is how the loops share the port: AcceptReusePort (the
	// default, also written "") or AcceptExclusive.
	Accept string
	// ReadBufSize is the size of each read, the same for every backend
	// (reactor.DefaultReadBufSize when zero).
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
	// reactor.Config), and the uring engine's unsent and held bytes
	// (proactor.Config); zero takes the default. It bounds the server:
	// several loops share it out.
	OutputBudget int
	// Faults injects short writes and EAGAIN into a reactor backend,
	// short sends into the uring engine.
	Faults Faults
}

// The accept modes: how a server's event loops share its port.
const (
	// AcceptReusePort gives each loop a listener of its own on the one
	// port (SO_REUSEPORT): the kernel hashes each connection to one of
	// them, whether that loop is busy or not.
	AcceptReusePort = result.AcceptReusePort
	// AcceptExclusive has every loop watch one listening socket with
	// EPOLLEXCLUSIVE: a connection wakes one loop that is waiting, so an
	// idle loop takes it before a busy one.
	AcceptExclusive = result.AcceptExclusive
)

// DefaultSeed seeds fault injection unless told otherwise.
const DefaultSeed = 1

// Defaults fills what zero leaves to a default, so that a result can
// record the values used: both addresses and the read buffer size.
func (c Config) Defaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Control == "" {
		c.Control = "127.0.0.1:0"
	}
	if c.ReadBufSize == 0 {
		c.ReadBufSize = reactor.DefaultReadBufSize
	}
	return c
}

// engine reports whether the backend is an engine rather than a poller.
func (c *Config) engine() bool {
	_, isPoller := poller.Lookup(c.Backend)
	return !isPoller
}

// Upper bounds of a Config's numbers, past which a server would run out
// of memory at start (a read buffer is allocated whole, GOMAXPROCS
// allocates per P) or a sum or product of them could overflow.
const (
	MaxReadBuf      = 64 << 20 // four of the largest message
	MaxWater        = 1 << 30
	MaxOutputBudget = 1 << 40
	MaxGOMAXPROCS   = 4096
	MaxSpinSleep    = time.Second
)

// Check refuses a Config that cannot work. Its errors name serve's flags,
// the Config's written form.
func (c *Config) Check() error {
	if c.Backend == "" {
		return errors.New("--backend: no backend given")
	}
	if err := poller.Check(c.Backend, c.Poller); err != nil {
		if errors.Is(err, poller.ErrUnsupported) {
			flag := "--spin-sleep"
			if c.Poller.EdgeTriggered && poller.Check(c.Backend, poller.Options{EdgeTriggered: true}) != nil {
				flag = "--edge"
			}
			return fmt.Errorf("%s: %v", flag, err)
		}
		return fmt.Errorf("--backend %q: %v", c.Backend, err)
	}
	if c.Poller.SpinSleep < 0 || c.Poller.SpinSleep > MaxSpinSleep {
		return fmt.Errorf("--spin-sleep %v: want 0 to %v, e.g. 100us", c.Poller.SpinSleep, MaxSpinSleep)
	}
	for _, f := range []struct {
		flag     string
		v, limit int
		size     bool
	}{{"read-buf", c.ReadBufSize, MaxReadBuf, true},
		// setsockopt takes a C int: larger sizes would wrap.
		{"sndbuf", c.SndBuf, math.MaxInt32, true}, {"rcvbuf", c.RcvBuf, math.MaxInt32, true},
		{"high-water", c.HighWater, MaxWater, true}, {"low-water", c.LowWater, MaxWater, true},
		{"output-budget", c.OutputBudget, MaxOutputBudget, true},
		{"gomaxprocs", c.GOMAXPROCS, MaxGOMAXPROCS, false}, {"loops", c.Loops, MaxLoops, false}} {
		if f.v >= 0 && f.v <= f.limit {
			continue
		}
		if f.size {
			return fmt.Errorf("--%s %s: want 0 (the default) to %s", f.flag, units.FormatSize(int64(f.v)), units.FormatSize(int64(f.limit)))
		}
		return fmt.Errorf("--%s %d: want 0 (the default) to %d", f.flag, f.v, f.limit)
	}
	if c.Backend == poller.Stdlib && c.Loops > 1 && c.GOMAXPROCS > 0 && c.GOMAXPROCS != c.Loops {
		return fmt.Errorf("--gomaxprocs %d contradicts --loops %d: the stdlib server's loops are GOMAXPROCS", c.GOMAXPROCS, c.Loops)
	}
	if err := c.checkAccept(); err != nil {
		return err
	}
	if c.HighWater > 0 && c.LowWater > c.HighWater {
		return fmt.Errorf("--low-water %d above --high-water %d", c.LowWater, c.HighWater)
	}
	if err := control.CheckToken(c.Token); err != nil {
		return fmt.Errorf("--token: %v", err)
	}
	if len(c.CPUs) > 0 {
		if err := sysstat.CheckCPUs(c.CPUs); err != nil {
			return fmt.Errorf("--cpus %s: %v", sysstat.FormatCPUList(c.CPUs), strings.TrimPrefix(err.Error(), "sysstat: "))
		}
		if !sysstat.CanPin() {
			return fmt.Errorf("--cpus %s: threads cannot be pinned to CPUs on %s; leave it unset", sysstat.FormatCPUList(c.CPUs), runtime.GOOS)
		}
	}
	if c.OutputBudget > 0 && c.engine() && c.Backend != Uring {
		return fmt.Errorf("--output-budget: applies to the reactor and uring, not %s, whose buffers are per connection", c.Backend)
	}
	for i, f := range c.faultFlags() {
		if err := reactor.CheckFaultFraction(f.v); err != nil {
			return fmt.Errorf("--%s %v: %v", f.flag, f.v, err)
		}
		if f.v == 0 {
			continue
		}
		switch {
		case c.Backend == Uring && i > 0:
			return fmt.Errorf("--%s: the uring engine injects short sends only: it makes no read or write calls to fail with EAGAIN", f.flag)
		case c.Backend != Uring && c.engine():
			return fmt.Errorf("--%s: fault injection needs a poller backend; %s writes through the Go runtime", f.flag, c.Backend)
		}
	}
	return nil
}

func (c *Config) checkAccept() error {
	switch c.Accept {
	case "", AcceptReusePort:
		return nil
	case AcceptExclusive:
	default:
		return fmt.Errorf("--accept %q: want %s or %s", c.Accept, AcceptReusePort, AcceptExclusive)
	}
	if info, ok := poller.Lookup(c.Backend); ok && info.Caps.Exclusive {
		return nil
	}
	var can []string
	for _, info := range poller.Backends() {
		if info.Caps.Exclusive {
			can = append(can, info.Name)
		}
	}
	which := "only epoll can (EPOLLEXCLUSIVE), on Linux"
	if len(can) > 0 {
		which = strings.Join(can, ", ") + " can"
	}
	return fmt.Errorf("--accept %s: %s cannot wake one loop of several sharing a listener; %s", AcceptExclusive, c.Backend, which)
}

// exclusive reports whether the loops share one listener.
func (c *Config) exclusive() bool { return c.Accept == AcceptExclusive }

type faultFlag struct {
	flag string
	v    float64
}

// faultFlags lists the injected faults, short writes first.
func (c *Config) faultFlags() []faultFlag {
	return []faultFlag{
		{"inject-short-writes", c.Faults.ShortWriteFrac},
		{"inject-eagain", c.Faults.WriteEAGAINFrac},
		{"inject-read-eagain", c.Faults.ReadEAGAINFrac},
	}
}

// Args is the Config as serve's flags; ParseArgs reads them back. Fields
// at their zero value are left out, and so is the token.
func (c Config) Args() []string {
	var a []string
	str := func(flag, v string) {
		if v != "" {
			a = append(a, "--"+flag+"="+v)
		}
	}
	num := func(flag string, v int) {
		if v != 0 {
			a = append(a, "--"+flag+"="+strconv.Itoa(v))
		}
	}
	str("backend", c.Backend)
	str("listen", c.Listen)
	str("control", c.Control)
	if len(c.CPUs) > 0 {
		str("cpus", sysstat.FormatCPUList(c.CPUs))
	}
	num("gomaxprocs", c.GOMAXPROCS)
	if c.Loops > 1 {
		num("loops", c.Loops)
	}
	if c.exclusive() {
		str("accept", c.Accept)
	}
	num("read-buf", c.ReadBufSize)
	num("sndbuf", c.SndBuf)
	num("rcvbuf", c.RcvBuf)
	num("high-water", c.HighWater)
	num("low-water", c.LowWater)
	num("output-budget", c.OutputBudget)
	if c.Poller.EdgeTriggered {
		a = append(a, "--edge")
	}
	if c.Poller.SpinSleep != 0 {
		str("spin-sleep", c.Poller.SpinSleep.String())
	}
	for _, f := range c.faultFlags() {
		if f.v != 0 {
			str(f.flag, strconv.FormatFloat(f.v, 'g', -1, 64))
		}
	}
	if c.Faults.Seed != DefaultSeed {
		str("seed", strconv.FormatInt(c.Faults.Seed, 10))
	}
	return a
}

// options describes the setup as the result records it; the engine adds
// the socket buffer sizes the kernel applied.
func (c *Config) options() result.ServerOptions {
	o := result.ServerOptions{
		ReadBuf:    c.ReadBufSize,
		HighWater:  c.HighWater,
		LowWater:   c.LowWater,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	if len(c.CPUs) > 0 {
		o.CPUs = sysstat.FormatCPUList(c.CPUs)
	}
	if c.Loops > 1 {
		o.Loops = c.Loops
	}
	if (c.Loops > 1 || c.exclusive()) && c.Backend != poller.Stdlib {
		o.Accept = AcceptReusePort
		if c.exclusive() {
			o.Accept = AcceptExclusive
		}
	}
	if !c.engine() {
		o.EdgeTriggered = c.Poller.EdgeTriggered
		o.SpinSleepNs = int64(c.Poller.SpinSleep)
	}
	if faultsActive(c.Faults) {
		o.InjectShortWrites = c.Faults.ShortWriteFrac
		o.InjectWriteEAGAIN = c.Faults.WriteEAGAINFrac
		o.InjectReadEAGAIN = c.Faults.ReadEAGAINFrac
		o.FaultSeed = c.Faults.Seed
	}
	return o
}
