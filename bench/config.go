// Package bench holds the load generator and the run orchestration: a run
// starts a server (a child process running one backend, or any echo
// server given by address), pushes ping-pong connections through it from
// event loops pinned to their own CPUs, checks every echoed byte, and
// measures latency, CPU per round trip on both sides, short writes and
// poller behaviour over a window that excludes warm-up.
//
// The generator is the same for every backend, so that only the server
// changes between runs.
package bench

import (
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// External is the backend recorded for a server muxbench did not start.
const External = result.External

// ErrUsage marks errors caused by the user's input (a bad value, an
// unreachable target, too few descriptors): the command exits 2 on them.
var ErrUsage = cli.ErrUsage

// Config is one run. Zero values take the defaults documented per field.
type Config struct {
	// Server is the server to start, unless Target is set. Its Backend
	// defaults to the platform's (poller.Default); its CPUs and
	// GOMAXPROCS default as said below.
	Server server.Config
	// Target, when set, is a running echo server (host:port) to drive
	// instead of starting one; the result's backend is External.
	Target string
	// Peer, when set, is the server to start instead of Server: an echo
	// server over another project's event loop, bound to Server.Listen
	// and pinned, whole, to Server.CPUs. Its CPU and memory are read from
	// /proc, and its connections counted there.
	Peer *peer.Peer
	// Control and Token reach Target's control channel, if it is a
	// muxbench server; ServerPID, if set, is Target's process on this
	// host, whose CPU is read from /proc.
	Control   string
	Token     string
	ServerPID int

	// Conns keep one message in flight each (default 100); Idle connect
	// and stay silent for the whole run.
	Conns int
	Idle  int
	// MsgSize is the bytes of one message, protocol.MinMsgSize..MaxMsgSize
	// (default 64).
	MsgSize int
	// ServerEnv is added to the server's environment.
	ServerEnv []string

	// Duration is the measured window (default 5s; MinDuration to
	// MaxDuration), after Warmup (default 1s; negative means none).
	Duration time.Duration
	Warmup   time.Duration
	// Rate, if positive, makes the run open-loop at that many round
	// trips per second in total.
	Rate float64
	// GenSpin makes the generator busy-poll instead of blocking in its
	// poller, as sockperf can: a few microseconds less latency for a
	// whole CPU.
	GenSpin bool
	// GenPollOnly keeps every generator loop waiting in its poller. By
	// default a closed loop that owns one connection waits in a blocking
	// read on it instead, as c-ping does: one system call per echo, not
	// two.
	GenPollOnly bool

	// Server.CPUs and GenCPUs pin the server and the generator loops (one
	// loop per generator CPU). Defaults: CPU 0 and CPU 1 on a machine
	// with two or more that can pin, no pinning and one loop otherwise.
	GenCPUs []int
	// Server.GOMAXPROCS defaults to one per server CPU, plus one for a
	// reactor (one per loop, if more, plus one; stdlib's loops are its
	// GOMAXPROCS). A reactor's loop blocks in its poller
	// on a locked thread while holding a P; with no idle P left, the
	// runtime's sysmon takes that P away after 20 us of every wait and
	// wakes a spinning thread, which the loop then pays for in CPU on
	// every round. stdlib blocks in the runtime's own netpoller instead
	// and gets one P per CPU. The generator sets its own GOMAXPROCS to
	// loops+1 for the same reason.
	// NoPin turns the pinning defaults off. Where threads cannot be
	// pinned (sysstat.CanPin) the defaults are off anyway, and the result
	// says so.
	NoPin bool
	// unpinned is set when the defaults would have pinned but could not.
	unpinned bool

	// NoiseThreshold is the CPU, in CPUs, that other processes and the
	// hypervisor may take during the window before the run is marked
	// noisy (default DefaultNoiseThreshold).
	NoiseThreshold float64

	// Percentiles are extra points (0-100) to report.
	Percentiles []float64
	// ConnectTimeout bounds each connection's set-up (default 10s).
	ConnectTimeout time.Duration
	// Progress, if set, is called about once a second from another
	// goroutine.
	Progress func(Progress)
	// Executable runs `serve` (default: this program).
	Executable string
	// Hurry, once closed, has Run kill its server child instead of
	// waiting for it to stop (a second Ctrl-C): what was measured is
	// returned either way.
	Hurry <-chan struct{}
	// Extra is copied into the result's parameters.
	Extra map[string]string
}

// Progress is an interim figure during a run.
type Progress struct {
	Backend    string
	Phase      string // "connect", "warmup", "measure", "drain"
	Elapsed    time.Duration
	RoundTrips uint64
	// Rate is round trips per second since the previous report.
	Rate float64
}

// MinRate and MaxRate bound an open-loop rate, in round trips per second
// in total: below one a second a window holds too few messages to time,
// and beyond 1e8 no loopback pair keeps up while the schedule's
// nanosecond steps lose their meaning.
const (
	MinRate = 1
	MaxRate = 1e8
)

// MaxConns bounds --conns and --idle each: Linux's default ceiling on a
// process's descriptors (fs.nr_open), and small enough that no sum of
// them overflows.
const MaxConns = 1 << 20

// MaxDuration bounds the window, the warm-up and the connect timeout
// each: a day is beyond any benchmark, and their sums cannot overflow.
const MaxDuration = 24 * time.Hour

// MinDuration is the shortest window: below it the edges' own costs (a
// stats request to the server, a snapshot from each loop) are a sizeable
// part of what is measured.
const MinDuration = 100 * time.Millisecond

// descriptorSlack covers what each process opens besides connections:
// poller, listener, control channel, pipes, the runtime.
const descriptorSlack = 64

// Check refuses a configuration Run would refuse, before anything
// starts; its errors wrap ErrUsage and name the flag. Every bound on a
// run's parameters is here, for every caller.
func (cfg Config) Check() error {
	_, err := cfg.withDefaults()
	return err
}

// withDefaults checks cfg and fills its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Target != "" && cfg.Peer != nil {
		return cfg, cli.Usagef("a run starts a peer or drives a target, not both")
	}
	if cfg.Target == "" && cfg.Peer == nil {
		if cfg.Server.Backend == "" {
			cfg.Server.Backend = poller.Default()
		}
		cfg.Server = cfg.Server.Defaults()
	}
	if err := cfg.loadDefaults(); err != nil {
		return cfg, err
	}
	if err := cfg.pinDefaults(); err != nil {
		return cfg, err
	}
	if cfg.Target == "" && cfg.Peer == nil {
		if cfg.Server.GOMAXPROCS == 0 {
			cfg.Server.GOMAXPROCS = cfg.serverProcs()
		}
		// Checked here rather than by the child: a bad size is refused
		// before anything starts.
		if err := cfg.Server.Check(); err != nil {
			return cfg, cli.Usagef("%v", err)
		}
	}
	return cfg, nil
}

// loadDefaults fills in and checks the load (connections, message size,
// rate), its window and timeouts, and the percentiles reported of it.
func (cfg *Config) loadDefaults() error {
	if cfg.Conns == 0 {
		cfg.Conns = 100
	}
	if cfg.Conns < 0 || cfg.Conns > MaxConns {
		return cli.Usagef("--conns %d: want 1 to %d", cfg.Conns, MaxConns)
	}
	if cfg.Idle < 0 || cfg.Idle > MaxConns {
		return cli.Usagef("--idle %d: want 0 to %d", cfg.Idle, MaxConns)
	}
	if cfg.MsgSize == 0 {
		cfg.MsgSize = 64
	}
	if cfg.MsgSize < protocol.MinMsgSize || cfg.MsgSize > protocol.MaxMsgSize {
		return cli.Usagef("--msg-size %d: want %d to 16MiB", cfg.MsgSize, protocol.MinMsgSize)
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Duration < MinDuration || cfg.Duration > MaxDuration {
		return cli.Usagef("--duration %v: want %v up to %v, e.g. 5s", cfg.Duration, MinDuration, MaxDuration)
	}
	if cfg.Warmup > MaxDuration {
		return cli.Usagef("--warmup %v: want 0 or a positive duration up to %v, e.g. 1s", cfg.Warmup, MaxDuration)
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = time.Second
	}
	if cfg.Warmup < 0 {
		cfg.Warmup = 0
	}
	if cfg.NoiseThreshold == 0 {
		cfg.NoiseThreshold = DefaultNoiseThreshold
	}
	if !(cfg.NoiseThreshold > 0) || math.IsInf(cfg.NoiseThreshold, 0) {
		return cli.Usagef("--noise-threshold %g: want a positive number of CPUs, e.g. 0.05", cfg.NoiseThreshold)
	}
	if cfg.Rate != 0 && !(cfg.Rate >= MinRate && cfg.Rate <= MaxRate) { // NaN too
		return cli.Usagef("--rate %g: want %s to %s (%g) round trips per second in total, or 0 for a closed loop",
			cfg.Rate, units.FormatRate(MinRate), units.FormatRate(MaxRate), float64(MaxRate))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.ConnectTimeout < 0 || cfg.ConnectTimeout > MaxDuration {
		return cli.Usagef("--connect-timeout %v: want a positive duration up to %v", cfg.ConnectTimeout, MaxDuration)
	}
	var pcts []float64 // each once, in the order asked
	for _, p := range cfg.Percentiles {
		if !(p > 0 && p <= 100) {
			return cli.Usagef("--percentiles %g: want numbers within (0, 100], e.g. 75,99.999", p)
		}
		if !slices.Contains(pcts, p) {
			pcts = append(pcts, p)
		}
	}
	cfg.Percentiles = pcts
	return nil
}

// pinDefaults pins the server to CPU 0 and the generator to CPU 1 where
// nothing was asked, NoPin is unset and the machine has two CPUs that can
// be pinned, and checks that every CPU asked for exists.
func (cfg *Config) pinDefaults() error {
	ncpu := runtime.NumCPU()
	explicit := len(cfg.Server.CPUs) > 0 || len(cfg.GenCPUs) > 0
	if explicit && !sysstat.CanPin() {
		return cli.Usagef("--server-cpus, --gen-cpus: threads cannot be pinned to CPUs on %s; leave them unset to run unpinned", runtime.GOOS)
	}
	if !cfg.NoPin && !explicit && ncpu >= 2 {
		if sysstat.CanPin() {
			if cfg.Target == "" {
				cfg.Server.CPUs = []int{0}
			}
			cfg.GenCPUs = []int{1}
		} else {
			cfg.unpinned = true
		}
	}
	for _, set := range []struct {
		name string
		cpus []int
	}{{"--server-cpus", cfg.Server.CPUs}, {"--gen-cpus", cfg.GenCPUs}} {
		for _, c := range set.cpus {
			if c < 0 || c >= ncpu {
				return cli.Usagef("%s: CPU %d does not exist (this machine has CPUs 0-%d)", set.name, c, ncpu-1)
			}
		}
	}
	return nil
}

// serverProcs is the GOMAXPROCS of a server started with none asked for:
// see Config.
func (cfg *Config) serverProcs() int {
	procs := max(len(cfg.Server.CPUs), 1)
	switch {
	case cfg.Server.Backend == poller.Stdlib && cfg.Server.Loops > 1:
		procs = cfg.Server.Loops
	case cfg.Server.Backend != poller.Stdlib:
		// A P for each loop, and one more.
		procs = max(procs, cfg.Server.Loops) + 1
	}
	return procs
}

// Name is the run's server as lists and tables name it: the backend,
// "epoll-et" when edge-triggered, the peer's name, External for a Target.
func (cfg *Config) Name() string {
	if cfg.Target != "" {
		return External
	}
	if cfg.Peer != nil {
		return cfg.Peer.Name
	}
	if cfg.Server.Poller.EdgeTriggered {
		return cfg.Server.Backend + poller.EdgeSuffix
	}
	return cfg.Server.Backend
}

// loops is the number of generator event loops.
func (cfg *Config) loops() int {
	return max(len(cfg.GenCPUs), 1)
}
