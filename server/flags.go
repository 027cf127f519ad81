package server

import (
	"flag"
	"io"
	"net"
	"strings"
	"time"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

// Scope picks which of a Config's flags a command declares.
type Scope int

const (
	// ServeScope is every flag: serve's command line, which Args writes.
	ServeScope Scope = iota
	// RunScope leaves out what a run decides itself: the backend (a run
	// takes a list), the control channel and token. The CPUs and
	// GOMAXPROCS are --server-cpus and --server-gomaxprocs, with a run's
	// defaults (bench.Config's), which its help describes.
	RunScope
)

// Flags binds a Config to a flag set; Config reads it back after Parse.
type Flags struct {
	scope                                      Scope
	backend, listen, control, cpus, accept     string
	gomaxprocs, loops                          int
	edge                                       bool
	spin                                       time.Duration
	readBuf, sndBuf, rcvBuf, high, low, budget units.Size
	short, eagain, readAgain                   float64
	seed                                       int64
	noPin                                      bool
}

// AddFlags declares the Config's flags in fs: every command that starts a
// server takes them from here, so that they are named, described and
// checked alike.
func AddFlags(fs *flag.FlagSet, scope Scope) *Flags {
	f := &Flags{scope: scope}
	switch scope {
	case ServeScope:
		fs.StringVar(&f.backend, "backend", defaultBackend(), "`name` of a backend: "+strings.Join(poller.All(true), ", "))
		fs.StringVar(&f.control, "control", "127.0.0.1:0", "control channel `address`; a bare :port binds to loopback")
		fs.StringVar(&f.cpus, "cpus", "", "pin to these `CPUs` (0 or 0,1 or 0-3); the event loop takes the first")
		fs.IntVar(&f.gomaxprocs, "gomaxprocs", 0, "set GOMAXPROCS to `procs` (0: leave it)")
	case RunScope:
		fs.StringVar(&f.cpus, "server-cpus", "", "pin the server, its event loop on the first `CPU` (default 0 on 2+ CPUs; none: no pinning)")
		fs.IntVar(&f.gomaxprocs, "server-gomaxprocs", 0, "set the server's GOMAXPROCS to `procs` (0: one per server CPU, plus one for a reactor's loop)")
	}
	before := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	loopsFlag := "loops"
	if scope != ServeScope {
		loopsFlag = "server-loops"
	}
	fs.IntVar(&f.loops, loopsFlag, 1, "run `N` event loops in the server, each on its own thread pinned round-robin to the server's CPUs, sharing the port through SO_REUSEPORT (stdlib: GOMAXPROCS=N)")
	fs.StringVar(&f.accept, "accept", AcceptReusePort, "`mode` in which the server's loops share the port: "+AcceptReusePort+" (a listener per loop, the kernel hashes connections over them) or "+AcceptExclusive+" (one listener in every loop's epoll set with EPOLLEXCLUSIVE: a waiting loop takes the connection)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "the server's echo listen `address`; a bare :port binds to loopback")
	fs.BoolVar(&f.edge, "edge", false, "edge-triggered notification in the server, where the backend has it")
	fs.DurationVar(&f.spin, "spin-sleep", 0, "busy-waiting backend: sleep this `duration` after an empty round")
	fs.Var(&f.readBuf, "read-buf", "the `size` of the server's read buffers, the most one read takes, the same for every backend (0: 64 KiB): one per loop for a poller backend, one per connection for stdlib, 512 per loop for uring")
	fs.Var(&f.sndBuf, "sndbuf", "the server's SO_SNDBUF `size` per connection (0: the kernel's)")
	fs.Var(&f.rcvBuf, "rcvbuf", "the server's SO_RCVBUF `size` per connection (0: the kernel's)")
	fs.Var(&f.high, "high-water", "the server pauses reading while a connection's write buffer is above this `size` (0: default)")
	fs.Var(&f.low, "low-water", "and resumes below this `size` (0: default)")
	fs.Var(&f.budget, "output-budget", "the server pauses reading, on every connection with output waiting, while all write buffers together hold more than this `size` (0: 64MiB)")
	fs.Float64Var(&f.short, "inject-short-writes", 0, "the server cuts this `fraction` of writes short (0 to 1, 1 excluded)")
	fs.Float64Var(&f.eagain, "inject-eagain", 0, "the server fails this `fraction` of writes with EAGAIN (0 to 1, 1 excluded)")
	fs.Float64Var(&f.readAgain, "inject-read-eagain", 0, "the server fails this `fraction` of reads with EAGAIN (0 to 1, 1 excluded)")
	fs.Int64Var(&f.seed, "seed", DefaultSeed, "random `seed` for fault injection")
	if scope == RunScope {
		// serve's help describes them: a run's names them.
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if !before[f.Name] {
				names = append(names, f.Name)
			}
		})
		cli.Aside(fs, "Server flags (muxbench serve --help describes each, as --X for --server-X):", names...)
	}
	return f
}

// defaultBackend is serve's: the platform's poller, or the Go runtime's
// when none is built in.
func defaultBackend() string {
	if b := poller.Default(); b != "" {
		return b
	}
	return poller.Stdlib
}

// Config is what the parsed flags say, not yet checked (see
// Config.Check): a run fills in its backend first. A backend given as an
// edge-triggered name ("epoll-et") sets Poller.EdgeTriggered.
func (f *Flags) Config() (Config, error) {
	c := Config{
		Poller:       poller.Options{EdgeTriggered: f.edge, SpinSleep: f.spin},
		GOMAXPROCS:   f.gomaxprocs,
		ReadBufSize:  f.readBuf.Int(),
		SndBuf:       f.sndBuf.Int(),
		RcvBuf:       f.rcvBuf.Int(),
		HighWater:    f.high.Int(),
		LowWater:     f.low.Int(),
		OutputBudget: f.budget.Int(),
		Faults:       Faults{ShortWriteFrac: f.short, WriteEAGAINFrac: f.eagain, ReadEAGAINFrac: f.readAgain, Seed: f.seed},
	}
	if f.loops < 1 || f.loops > MaxLoops {
		name := "--loops"
		if f.scope != ServeScope {
			name = "--server-loops"
		}
		return c, cli.Usagef("%s %d: want 1 to %d", name, f.loops, MaxLoops)
	}
	if f.loops > 1 {
		c.Loops = f.loops // one is the zero Config's, so that Args round-trips
	}
	if f.accept != AcceptReusePort {
		c.Accept = f.accept // Check refuses what is neither
	}
	var err error
	if c.Listen, err = loopbackDefault("listen", f.listen); err != nil {
		return c, err
	}
	if f.scope != ServeScope {
		if c.CPUs, f.noPin, err = ParseCPUs("server-cpus", f.cpus); err != nil {
			return c, err
		}
		if f.gomaxprocs < 0 {
			return c, cli.Usagef("--server-gomaxprocs %d: want 0 or more", f.gomaxprocs)
		}
		return c, nil
	}
	if c.Control, err = loopbackDefault("control", f.control); err != nil {
		return c, err
	}
	ch, err := poller.Resolve(f.backend)
	if err != nil {
		return c, cli.Usagef("--backend %q: %v", f.backend, err)
	}
	c.Backend = ch.Backend
	c.Poller.EdgeTriggered = c.Poller.EdgeTriggered || ch.Edge
	if f.cpus != "" {
		if c.CPUs, err = sysstat.ParseCPUList(f.cpus); err != nil {
			return c, cli.Usagef("--cpus %q: want CPU numbers like 0 or 0,1 or 0-3", f.cpus)
		}
	}
	return c, nil
}

// NoPin reports, once Config has read the flags, a run's --server-cpus
// none: the run pins neither its server nor its generator by default.
func (f *Flags) NoPin() bool { return f.noPin }

// ParseCPUs reads a run's CPU list flag (--server-cpus, --gen-cpus): CPUs
// this machine has, or none, which turns the run's default pinning off.
func ParseCPUs(flagName, v string) (cpus []int, none bool, err error) {
	switch v {
	case "":
		return nil, false, nil
	case "none":
		return nil, true, nil
	}
	list, err := sysstat.ParseCPUList(v)
	if err != nil {
		return nil, false, cli.Usagef("--%s %q: want CPU numbers like 1 or 0,1 or 0-3, or none", flagName, v)
	}
	if err := sysstat.CheckCPUs(list); err != nil {
		return nil, false, cli.Usagef("--%s %s: %v", flagName, v, strings.TrimPrefix(err.Error(), "sysstat: "))
	}
	return list, false, nil
}

// ParseArgs reads serve's flags, as Args writes them, into a checked
// Config.
func ParseArgs(args []string) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, ServeScope)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return Config{}, err
	}
	c, err := f.Config()
	if err != nil {
		return c, err
	}
	if err := c.Check(); err != nil {
		return c, cli.Usagef("%v", err)
	}
	return c, nil
}

// loopbackDefault fills in 127.0.0.1 for an address without a host, so
// that nothing listens beyond this machine unless asked by name.
func loopbackDefault(flagName, addr string) (string, error) {
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", cli.Usagef("--%s %q: want host:port or :port, e.g. 127.0.0.1:0", flagName, addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", cli.Usagef("--%s %q: bad port %q", flagName, addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
