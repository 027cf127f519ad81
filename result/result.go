// Package result is the schema of a muxbench result file: one measured run
// of one server (a poller backend behind the reactor, the stdlib baseline,
// or a foreign echo server) under one load. Charts, reports and merges read
// only this, so they can be redrawn without re-running anything.
//
// Units are in the field names: _ns, _us, _bytes, _sec, _per_sec. Rates
// "per_rt" are per round trip in the measured window.
//
// schema.json is the same layout as a JSON Schema, generated from these
// types (go generate ./result; a test fails when it is stale).
package result

//go:generate go test -run ^TestSchemaFile$ -update .

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/internal/outfile"
)

// Schema names this layout. A file with another schema string is refused by
// name, never half-read.
const Schema = "muxbench/result/v1"

// External is the backend recorded for a server muxbench did not start
// (load --target). Only then does Params.Target name the server: a
// server muxbench starts listens on a new port every run.
const External = "external"

// Result is one run.
type Result struct {
	Schema string `json:"schema"`
	// Partial is set when the run was interrupted (Ctrl-C, a fault) before
	// its window ended: the figures cover only what was measured.
	Partial  bool     `json:"partial,omitempty"`
	Warnings []string `json:"warnings,omitempty"`

	Params Params `json:"params"`
	Env    Env    `json:"env"`

	WindowStart time.Time `json:"window_start"`
	WindowSec   float64   `json:"window_sec"`
	RoundTrips  uint64    `json:"round_trips"`
	// Throughput is round trips per second over the window.
	Throughput float64 `json:"round_trips_per_sec"`
	// TargetRate is the open-loop schedule in round trips per second, zero
	// for a closed loop.
	TargetRate float64 `json:"target_rate_per_sec,omitempty"`

	// Latency is measured from the intended send time in open loop
	// (coordinated omission corrected), from the actual send otherwise.
	Latency Latency `json:"latency"`
	// LatencyUncorrected is from the actual send time; open loop only.
	LatencyUncorrected *Latency `json:"latency_uncorrected,omitempty"`
	// SendLateness is how late each message left against its intended
	// send time (actual minus intended); open loop only. When its p99 is
	// large against Latency's p50, Generator.SendLate is set: the
	// corrected latency then describes the generator, not the server.
	SendLateness *Latency `json:"send_lateness,omitempty"`
	// SendLatenessFloor is the lateness a perfect sender would have had
	// on the generator's CPU, spinning, measured just before the
	// connections opened; open loop only. SendLateness near it is the
	// machine's, not the generator's.
	SendLatenessFloor *TimingFloor `json:"send_lateness_floor,omitempty"`
	// SendLatenessFloorPaced is the same for a sender that paces itself
	// through deadlines at the run's rate as the generator's loop paces
	// its sends, sleeping until shortly before each where they are far
	// enough apart: it pays for waking its CPU, which a spinning one does
	// not. Floor says which of the two the run's sends match.
	SendLatenessFloorPaced *TimingFloor `json:"send_lateness_floor_paced,omitempty"`
	// Series is the window interval by interval (Second), so that stalls
	// and noise show over time rather than vanish into the totals.
	Series []Second `json:"series,omitempty"`

	// Server is nil when the target exposes no control channel.
	Server    *Server   `json:"server,omitempty"`
	Generator Generator `json:"generator"`
	Integrity Integrity `json:"integrity"`
	// Noise is what else ran on the machine during the window; nil where
	// the platform cannot tell.
	Noise *Noise `json:"noise,omitempty"`
	// Faults is what fault drivers did beside the load (muxbench soak);
	// nil for a plain run.
	Faults *Faults `json:"faults,omitempty"`
	// Peer is the echo server of another project that was measured, as
	// muxbench started it (run --backend twisted-epoll); nil for
	// muxbench's own servers.
	Peer *Peer `json:"peer,omitempty"`
	// Unavailable names what this platform could not give the run (the
	// Unavailable* constants): their fields are zero or absent because
	// nothing was measured, not because the figure was zero.
	Unavailable []string `json:"unavailable,omitempty"`
}

// What a platform may lack, as Result.Unavailable names it.
const (
	// UnavailablePinning: server and generator ran unpinned.
	UnavailablePinning = "pinning"
	// UnavailableServerCPU: no CPU figures for a foreign server.
	UnavailableServerCPU = "server_cpu"
	// UnavailableServerThreadCPU: no loop-thread CPU for the server.
	UnavailableServerThreadCPU = "server_loop_thread_cpu"
	// UnavailableServerRSS: no resident set, so no RSS per connection.
	UnavailableServerRSS = "server_rss"
	// UnavailableGenThreadCPU: no CPU per generator loop, so no generator
	// CPU per round trip and no saturation check.
	UnavailableGenThreadCPU = "generator_thread_cpu"
)

// ExtraEmulation is the Params.Extra key naming the user-space library
// the server's backend ran on (libkqueue, kqueue over epoll): such a run
// measures that library over another mechanism, so it is no figure of
// the backend it is named for, and no chart or comparison takes it.
const ExtraEmulation = "poller_emulation"

// Lacks reports whether the run names what as unavailable.
func (r *Result) Lacks(what string) bool {
	for _, u := range r.Unavailable {
		if u == what {
			return true
		}
	}
	return false
}

// SetUnavailable adds what to Unavailable once.
func (r *Result) SetUnavailable(what string) {
	if !r.Lacks(what) {
		r.Unavailable = append(r.Unavailable, what)
	}
}

// OfferedRate is the open-loop schedule the run was asked for, in round
// trips per second; zero for a closed loop.
func (r *Result) OfferedRate() float64 {
	if r.Params.Rate > 0 {
		return r.Params.Rate
	}
	return r.TargetRate
}

// PointKey is what makes runs repeats of one point: the server, the
// swept values and the load. Runs with equal keys are pooled in tables,
// charts and diffs, and must agree on everything else they were asked.
type PointKey struct {
	// Server is the backend; a server muxbench did not start (External)
	// is named by its address too, while one it started listens on a new
	// port every run.
	Server                       string
	Conns, Idle, MsgSize, SndBuf int
	// An open-loop run of a sweep is keyed by its Sweep, since each
	// comparison offers its own share of its own capacity; any other
	// open-loop run by its Rate. Both are empty for a closed loop.
	Sweep string
	Rate  float64
	// Loops is the server's event loops where it ran more than one, and
	// Exclusive says they shared one listener (AcceptExclusive).
	Loops     int
	Exclusive bool
}

// PointKey is the point r is a run of.
func (r *Result) PointKey() PointKey {
	p := r.Params
	k := PointKey{Server: p.Backend, Conns: p.Conns, Idle: p.Idle, MsgSize: p.MsgSize, SndBuf: p.SndBuf}
	if p.Backend == External {
		k.Server += " " + p.Target
	}
	k.SetLoad(p.Sweep, r.OfferedRate())
	if n := r.ServerLoops(); n > 1 {
		k.Loops, k.Exclusive = n, r.Server.Options.Accept == AcceptExclusive
	}
	return k
}

// ServerLoops is the number of event loops the run's server ran.
func (r *Result) ServerLoops() int {
	if r.Server != nil && r.Server.Options.Loops > 1 {
		return r.Server.Options.Loops
	}
	return 1
}

// SetLoad keys an open-loop point of sweep at rate (a rate of 0 is a
// closed loop, which needs no key): by the sweep where there is one,
// else by the rate.
func (k *PointKey) SetLoad(sweep string, rate float64) {
	switch {
	case rate <= 0:
	case sweep != "":
		k.Sweep = sweep
	default:
		k.Rate = rate
	}
}

// Params are what the user asked for, after defaults.
type Params struct {
	// Backend is a poller name, "stdlib", or "external" for load --target.
	Backend     string  `json:"backend"`
	Target      string  `json:"target,omitempty"`
	Conns       int     `json:"conns"`
	Idle        int     `json:"idle"`
	MsgSize     int     `json:"msg_size_bytes"`
	SndBuf      int     `json:"sndbuf_bytes,omitempty"`
	RcvBuf      int     `json:"rcvbuf_bytes,omitempty"`
	ReadBufSize int     `json:"read_buf_bytes,omitempty"`
	DurationSec float64 `json:"duration_sec"`
	WarmupSec   float64 `json:"warmup_sec"`
	Rate        float64 `json:"rate_per_sec,omitempty"`
	// GenLoops is the number of generator event loops (one per CPU given).
	GenLoops  int   `json:"gen_loops"`
	ServerCPU []int `json:"server_cpus,omitempty"`
	GenCPU    []int `json:"gen_cpus,omitempty"`
	// Sweep is the comparison sweep the run is a point of (muxbench
	// compare's: active, idle, msgsize, latency, cost, loops), and Repeat
	// which run of that point it is, from 1; both absent for a run
	// outside a comparison.
	Sweep  string `json:"sweep,omitempty"`
	Repeat int    `json:"repeat,omitempty"`
	// Extra holds options of one experiment (fault injection, churn...)
	// without growing the schema for each.
	Extra map[string]string `json:"extra,omitempty"`
}

// UnmarshalJSON also reads files written before the sweep and the repeat
// were typed, when they were strings in Extra.
func (p *Params) UnmarshalJSON(data []byte) error {
	type plain Params
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v plain
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if s, ok := v.Extra["sweep"]; ok && v.Sweep == "" {
		v.Sweep = s
		delete(v.Extra, "sweep")
	}
	if s, ok := v.Extra["repeat"]; ok && v.Repeat == 0 {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("params: extra.repeat %q: want a run number from 1", s)
		}
		v.Repeat = n
		delete(v.Extra, "repeat")
	}
	if len(v.Extra) == 0 {
		v.Extra = nil
	}
	*p = Params(v)
	return nil
}

// Env is where and when the run happened.
type Env struct {
	Start      time.Time `json:"start"`
	Hostname   string    `json:"hostname"`
	Kernel     string    `json:"kernel"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	CPUModel   string    `json:"cpu_model"`
	Cores      int       `json:"cores"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Version    string    `json:"muxbench_version"`
}

// Latency summarises one histogram. Every value is in nanoseconds. A
// percentile the sample count cannot support (see MinSamples) is zero and
// left out of the JSON: p99.9 of 29 samples would be the maximum under
// another name.
type Latency struct {
	Count  int64   `json:"count"`
	Min    int64   `json:"min_ns"`
	Mean   float64 `json:"mean_ns"`
	StdDev float64 `json:"stddev_ns"`
	P50    int64   `json:"p50_ns,omitempty"`
	P90    int64   `json:"p90_ns,omitempty"`
	P99    int64   `json:"p99_ns,omitempty"`
	P999   int64   `json:"p99_9_ns,omitempty"`
	P9999  int64   `json:"p99_99_ns,omitempty"`
	Max    int64   `json:"max_ns"`
	// Percentiles holds the user's --percentiles list, if any; a point
	// without enough samples has no value.
	Percentiles []Percentile `json:"percentiles,omitempty"`
	// Histogram is the whole distribution, HdrHistogram's compressed V2
	// encoding (hdrhistogram-go Encode), so that spectra can be drawn and
	// histograms from several load hosts merged.
	Histogram string `json:"histogram"`
	// Overflow counts samples above the histogram's range; they are in Max
	// but not in the percentiles.
	Overflow int64 `json:"overflow,omitempty"`
}

// TimingFloor is how late a sender that did nothing else was on one
// CPU, the percentiles being of that lateness. Spinning, it is a thread
// that only reads the clock and sees the gaps in which it did not run
// (interrupts; on a virtual machine, the host's work, which steal time
// may not show): a send falling due at a random instant is late by the
// rest of the gap it falls in. Paced, it is a loop that reached Sends
// deadlines IntervalNs apart the way the generator's loop reaches its
// sends.
type TimingFloor struct {
	P50  int64 `json:"p50_ns"`
	P99  int64 `json:"p99_ns"`
	P999 int64 `json:"p99_9_ns"`
	// Lost is the share of the probe spent in gaps of 10 us or more, and
	// GapsPerSec how many there were; spinning only.
	Lost       float64 `json:"lost_share"`
	GapsPerSec float64 `json:"gaps_per_sec"`
	ProbeSec   float64 `json:"probe_sec"`
	CPU        int     `json:"cpu"` // -1: not pinned
	IntervalNs int64   `json:"interval_ns,omitempty"`
	Sends      int64   `json:"sends,omitempty"`
}

// Floor is the timing floor that matches how the generator sent: the
// paced one, unless it spun (Generator.Spin), or none was measured.
func (r *Result) Floor() *TimingFloor {
	if r.SendLatenessFloorPaced != nil && !r.Generator.Spin {
		return r.SendLatenessFloorPaced
	}
	return r.SendLatenessFloor
}

// Percentile is one point of a user-chosen list.
type Percentile struct {
	Percent float64 `json:"percent"`
	Value   int64   `json:"value_ns,omitempty"`
}

// MinSamples is the fewest samples that give percentile p (0-100) a
// meaning of its own: one sample beyond it, 1/(1-p) in all (p99 needs 100,
// p99.9 1,000). Below that the "percentile" is the maximum.
func MinSamples(p float64) int64 {
	if p >= 100 {
		return 1
	}
	// The epsilon keeps 100/(100-99.9) = 1000.0000000000009 at 1,000.
	return int64(math.Ceil(100/(100-p) - 1e-6))
}

// Gate zeroes the percentiles that l's sample count cannot support, for
// summaries computed from a histogram without that check.
func (l *Latency) Gate() {
	for _, v := range []struct {
		p float64
		v *int64
	}{{50, &l.P50}, {90, &l.P90}, {99, &l.P99}, {99.9, &l.P999}, {99.99, &l.P9999}} {
		if l.Count < MinSamples(v.p) {
			*v.v = 0
		}
	}
	for i := range l.Percentiles {
		if l.Count < MinSamples(l.Percentiles[i].Percent) {
			l.Percentiles[i].Value = 0
		}
	}
}

// Second is one interval of the window's time series: 100 ms (a second
// in files of versions before), or longer for long windows so that a run
// keeps at most a few hundred.
type Second struct {
	// Start is the interval's start from the window's, End its end.
	Start      float64 `json:"start_sec"`
	End        float64 `json:"end_sec"`
	RoundTrips uint64  `json:"round_trips"`
	Throughput float64 `json:"round_trips_per_sec"`
	// P50 and P99 follow Latency's rules (zero without enough samples).
	P50 int64 `json:"p50_ns,omitempty"`
	P99 int64 `json:"p99_ns,omitempty"`
	Max int64 `json:"max_ns,omitempty"`
	// ForeignCPU is the CPU, in CPUs, that processes other than the
	// server and the generator used in the interval, where measured.
	ForeignCPU *float64 `json:"foreign_cpu,omitempty"`
}

// CPU is CPU time spent in the window by one process or thread.
type CPU struct {
	UserSec float64 `json:"user_sec"`
	SysSec  float64 `json:"sys_sec"`
	// PerRTus is (user+sys) microseconds per round trip: the service demand.
	PerRTus float64 `json:"per_rt_us"`
	// Utilization is (user+sys) / window: 1.0 is one CPU fully busy.
	Utilization float64 `json:"utilization"`
	VolCtxSw    int64   `json:"voluntary_ctxsw,omitempty"`
	InvolCtxSw  int64   `json:"involuntary_ctxsw,omitempty"`
}

// IO counts what a reactor or generator did in the window.
type IO struct {
	BytesIn     uint64 `json:"bytes_in"`
	BytesOut    uint64 `json:"bytes_out"`
	Reads       uint64 `json:"reads"`
	Writes      uint64 `json:"writes"`
	ShortWrites uint64 `json:"short_writes"`
	WriteEAGAIN uint64 `json:"write_eagain"`
	ReadEAGAIN  uint64 `json:"read_eagain"`
	Waits       uint64 `json:"waits"`
	Events      uint64 `json:"events"`
	Dispatches  uint64 `json:"dispatches"`
	Accepts     uint64 `json:"accepts,omitempty"`
	AcceptErrs  uint64 `json:"accept_errors,omitempty"`
	// Syscalls counts every system call the event loop made (waits,
	// reads, writes, poller changes, ring enters, accepts, closes), as
	// the loop itself counted them; zero where nobody counts (stdlib).
	Syscalls uint64 `json:"syscalls,omitempty"`
	// ENOBUFS and Retries are the io_uring engine's: receives that found
	// the provided-buffer ring empty, and completions submitted again.
	ENOBUFS uint64 `json:"enobufs,omitempty"`
	Retries uint64 `json:"retries,omitempty"`
}

// Add sums two counts: loops of one process, hosts of one point. Sums
// saturate at the largest count rather than wrap, so that a forged or
// corrupt file cannot make a large count small.
func (io IO) Add(b IO) IO {
	io.BytesIn = SatAdd(io.BytesIn, b.BytesIn)
	io.BytesOut = SatAdd(io.BytesOut, b.BytesOut)
	io.Reads = SatAdd(io.Reads, b.Reads)
	io.Writes = SatAdd(io.Writes, b.Writes)
	io.ShortWrites = SatAdd(io.ShortWrites, b.ShortWrites)
	io.WriteEAGAIN = SatAdd(io.WriteEAGAIN, b.WriteEAGAIN)
	io.ReadEAGAIN = SatAdd(io.ReadEAGAIN, b.ReadEAGAIN)
	io.Waits = SatAdd(io.Waits, b.Waits)
	io.Events = SatAdd(io.Events, b.Events)
	io.Dispatches = SatAdd(io.Dispatches, b.Dispatches)
	io.Accepts = SatAdd(io.Accepts, b.Accepts)
	io.AcceptErrs = SatAdd(io.AcceptErrs, b.AcceptErrs)
	io.Syscalls = SatAdd(io.Syscalls, b.Syscalls)
	io.ENOBUFS = SatAdd(io.ENOBUFS, b.ENOBUFS)
	io.Retries = SatAdd(io.Retries, b.Retries)
	return io
}

// SatAdd is a + b, or the largest uint64 where the sum would wrap.
func SatAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// Sub is what was counted since an earlier snapshot b of the same
// counters.
func (io IO) Sub(b IO) IO {
	io.BytesIn -= b.BytesIn
	io.BytesOut -= b.BytesOut
	io.Reads -= b.Reads
	io.Writes -= b.Writes
	io.ShortWrites -= b.ShortWrites
	io.WriteEAGAIN -= b.WriteEAGAIN
	io.ReadEAGAIN -= b.ReadEAGAIN
	io.Waits -= b.Waits
	io.Events -= b.Events
	io.Dispatches -= b.Dispatches
	io.Accepts -= b.Accepts
	io.AcceptErrs -= b.AcceptErrs
	io.Syscalls -= b.Syscalls
	io.ENOBUFS -= b.ENOBUFS
	io.Retries -= b.Retries
	return io
}

// Rates are IO divided out, kept in the file so reports need no arithmetic.
type Rates struct {
	ShortWritesPerWrite float64 `json:"short_writes_per_write"`
	ShortWritesPerRT    float64 `json:"short_writes_per_rt"`
	WriteEAGAINPerWrite float64 `json:"write_eagain_per_write"`
	WriteEAGAINPerRT    float64 `json:"write_eagain_per_rt"`
	WaitsPerRT          float64 `json:"waits_per_rt"`
	EventsPerWait       float64 `json:"events_per_wait"`
	SyscallsPerRT       float64 `json:"syscalls_per_rt,omitempty"`
}

// Rates divides io out over its own counts and roundTrips; a zero
// divisor gives 0.
func (io IO) Rates(roundTrips uint64) Rates {
	div := func(a, b uint64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return Rates{
		ShortWritesPerWrite: div(io.ShortWrites, io.Writes),
		ShortWritesPerRT:    div(io.ShortWrites, roundTrips),
		WriteEAGAINPerWrite: div(io.WriteEAGAIN, io.Writes),
		WriteEAGAINPerRT:    div(io.WriteEAGAIN, roundTrips),
		WaitsPerRT:          div(io.Waits, roundTrips),
		EventsPerWait:       div(io.Events, io.Waits),
		SyscallsPerRT:       div(io.Syscalls, roundTrips),
	}
}

// Server is what the server reported over its control channel.
type Server struct {
	Backend    string        `json:"backend"`
	Options    ServerOptions `json:"options"`
	Process    CPU           `json:"process_cpu"`
	LoopThread *CPU          `json:"loop_thread_cpu,omitempty"`
	IO         IO            `json:"io"`
	Rates      Rates         `json:"rates"`
	// Accepts counts over the whole run, connection set-up included,
	// where IO counts the window only.
	Accepts *Accepts `json:"accepts,omitempty"`
	// BudgetPauses counts, over the whole run, the times the server's
	// write buffers together reached its output budget and it stopped
	// reading: peers that do not read their echoes, or a budget too small
	// for the load.
	BudgetPauses uint64 `json:"budget_pauses,omitempty"`
	MaxRSS       int64  `json:"max_rss_bytes"`
	// RSS is at the window's end, every connection open; RSSBase before
	// the first connection.
	RSS     int64 `json:"rss_bytes"`
	RSSBase int64 `json:"rss_base_bytes,omitempty"`
	// RSSPerConn is (RSS - RSSBase) over all connections, idle ones
	// included: what a connection costs, not the process's size.
	RSSPerConn float64 `json:"rss_per_conn_bytes"`
	// Conns is the connections the server held at the window's end.
	Conns int `json:"conns"`
}

// Peer is an echo server over another project's event loop, which a run
// started and measured as its server (Params.Backend is its name).
type Peer struct {
	Name string `json:"name"`
	// Multiplexer is what the peer forces its library onto, named as
	// muxbench's backends are; empty when unknown (a user's own server).
	Multiplexer string `json:"multiplexer,omitempty"`
	// Family is the library the peer runs, unversioned and the same
	// whatever multiplexer it is forced onto ("Twisted", "libevent"), and
	// Language what the server is written in ("Python", "C"); empty for a
	// user's own server.
	Family   string `json:"family,omitempty"`
	Language string `json:"language,omitempty"`
	// Reference: the peer is muxbench's own C floor (c-floor), drawn
	// beside muxbench's backends as well as beside the peers.
	Reference bool `json:"reference,omitempty"`
	// Library and Loop are what the server said when it started: its
	// library and version ("Twisted 22.4.0 (Python 3.11.2)"), and the
	// loop that ran ("EPollReactor").
	Library string `json:"library,omitempty"`
	Loop    string `json:"loop,omitempty"`
	// Command is how it was started.
	Command string `json:"command"`
}

// ServerOptions is how the server was set up. SndBuf and RcvBuf are the
// values the kernel applied, read back with getsockopt from an accepted
// connection (Linux doubles the size asked and caps it at
// net.core.wmem_max/rmem_max); the sizes asked are in Params.
type ServerOptions struct {
	SndBuf        int    `json:"sndbuf_bytes,omitempty"`
	RcvBuf        int    `json:"rcvbuf_bytes,omitempty"`
	ReadBuf       int    `json:"read_buf_bytes,omitempty"`
	HighWater     int    `json:"high_water_bytes,omitempty"`
	LowWater      int    `json:"low_water_bytes,omitempty"`
	GOMAXPROCS    int    `json:"gomaxprocs,omitempty"`
	CPUs          string `json:"cpus,omitempty"`
	EdgeTriggered bool   `json:"edge_triggered,omitempty"`
	SpinSleepNs   int64  `json:"spin_sleep_ns,omitempty"`
	// Loops is the number of event loops, one per pinned thread, sharing
	// the port through SO_REUSEPORT listeners (for stdlib, GOMAXPROCS);
	// absent for one. LoopAccepts counts the connections each loop
	// accepted, in loop order: how the kernel spread them.
	Loops       int      `json:"loops,omitempty"`
	LoopAccepts []uint64 `json:"loop_accepts,omitempty"`
	// Accept is how the loops share the port: AcceptReusePort (a
	// listener each) or AcceptExclusive (one listener in every loop's
	// epoll set, with EPOLLEXCLUSIVE); absent for one loop, and for stdlib.
	Accept string `json:"accept,omitempty"`
	// Injected faults: fractions of calls, and the seed.
	InjectShortWrites float64 `json:"inject_short_writes,omitempty"`
	InjectWriteEAGAIN float64 `json:"inject_write_eagain,omitempty"`
	InjectReadEAGAIN  float64 `json:"inject_read_eagain,omitempty"`
	FaultSeed         int64   `json:"fault_seed,omitempty"`
}

// The values of ServerOptions.Accept.
const (
	AcceptReusePort = "reuseport"
	AcceptExclusive = "exclusive"
)

// UnmarshalJSON also reads the options of files written before they were
// typed, when every value was a string.
func (o *ServerOptions) UnmarshalJSON(data []byte) error {
	type plain ServerOptions
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plain
	err := dec.Decode(&p)
	if err == nil {
		*o = ServerOptions(p)
		return nil
	}
	var legacy map[string]string
	if json.Unmarshal(data, &legacy) != nil {
		return err
	}
	var v ServerOptions
	for k, s := range legacy {
		var perr error
		num := func(dst *int) { *dst, perr = strconv.Atoi(s) }
		frac := func(dst *float64) { *dst, perr = strconv.ParseFloat(s, 64) }
		switch k {
		case "sndbuf":
			num(&v.SndBuf)
		case "rcvbuf":
			num(&v.RcvBuf)
		case "read_buf":
			num(&v.ReadBuf)
		case "high_water":
			num(&v.HighWater)
		case "low_water":
			num(&v.LowWater)
		case "gomaxprocs":
			num(&v.GOMAXPROCS)
		case "cpus":
			v.CPUs = s
		case "edge_triggered":
			v.EdgeTriggered, perr = strconv.ParseBool(s)
		case "spin_sleep":
			var d time.Duration
			d, perr = time.ParseDuration(s)
			v.SpinSleepNs = int64(d)
		case "inject_short_writes":
			frac(&v.InjectShortWrites)
		case "inject_write_eagain":
			frac(&v.InjectWriteEAGAIN)
		case "inject_read_eagain":
			frac(&v.InjectReadEAGAIN)
		case "seed":
			v.FaultSeed, perr = strconv.ParseInt(s, 10, 64)
		default:
			return fmt.Errorf("server options: unknown option %q", k)
		}
		if perr != nil {
			return fmt.Errorf("server options: %s: %w", k, perr)
		}
	}
	*o = v
	return nil
}

// Accepts are a server's accept(2) outcomes since it started.
type Accepts struct {
	Accepted uint64 `json:"accepted"`
	// EMFILE and ENFILE count accepts refused for want of a descriptor
	// (the process's limit, the system's).
	EMFILE uint64 `json:"emfile"`
	ENFILE uint64 `json:"enfile"`
	// Pauses counts times the listener stopped accepting until a
	// descriptor was freed; Dropped counts connections accepted and closed
	// at once because none could be.
	Pauses  uint64 `json:"pauses"`
	Dropped uint64 `json:"dropped"`
	// Errors counts other failed accepts.
	Errors uint64 `json:"errors"`
}

// Add sums two counts, as IO.Add does.
func (a Accepts) Add(b Accepts) Accepts {
	a.Accepted = SatAdd(a.Accepted, b.Accepted)
	a.EMFILE = SatAdd(a.EMFILE, b.EMFILE)
	a.ENFILE = SatAdd(a.ENFILE, b.ENFILE)
	a.Pauses = SatAdd(a.Pauses, b.Pauses)
	a.Dropped = SatAdd(a.Dropped, b.Dropped)
	a.Errors = SatAdd(a.Errors, b.Errors)
	return a
}

// Refused is every accept that did not give the server a connection.
func (a Accepts) Refused() uint64 { return a.EMFILE + a.ENFILE + a.Dropped + a.Errors }

// Noise is what else ran on the machine over the window, in CPUs (1.0 is
// one CPU busy for the whole window).
type Noise struct {
	// ForeignCPU is the CPU that processes other than the run's server
	// and generator used (/proc/stat minus their own CPU time).
	ForeignCPU float64 `json:"foreign_cpu"`
	// StealCPU is the CPU a hypervisor gave to other guests.
	StealCPU float64 `json:"steal_cpu"`
	// LoadAvg is the one-minute load average at the window's start.
	LoadAvg float64 `json:"load_avg"`
	// Noisy is set when ForeignCPU plus StealCPU passed the threshold:
	// the figures may say more about the neighbours than the server.
	Noisy bool `json:"noisy"`
}

// Generator is the load side's own cost; Saturated warns that the
// generator, not the server, limited the run.
type Generator struct {
	// CPU is the generator's event loop threads: the service demand of
	// the load itself, comparable with a server's loop thread.
	CPU CPU `json:"cpu"`
	// Process is the whole generator process (runtime threads, the
	// coordinator), comparable with a server's process CPU.
	Process   *CPU  `json:"process_cpu,omitempty"`
	IO        IO    `json:"io"`
	Rates     Rates `json:"rates"`
	Saturated bool  `json:"saturated"`
	// SendLate is set when open-loop messages left so late (lateness p99
	// above a tenth of latency p50) that the latency figures describe the
	// generator's timing, not the server.
	SendLate bool `json:"send_late,omitempty"`
	// Spin says the generator busy-polled instead of blocking in its
	// poller: lower latency at the cost of a whole CPU.
	Spin bool `json:"spin,omitempty"`
	// BlockingRead says loops that own one connection waited for its
	// echoes in a blocking read, as a blocking client does, not in their
	// poller: one system call per echo fewer. Each such read counts as a
	// wait.
	BlockingRead bool `json:"blocking_read,omitempty"`
}

// Integrity counts every way a round trip can fail. Any non-zero field
// makes the run fail.
type Integrity struct {
	Mismatches   uint64 `json:"mismatches"`
	Resets       uint64 `json:"resets"`
	ConnFailures uint64 `json:"conn_failures"`
	Timeouts     uint64 `json:"timeouts,omitempty"`
	// MissingConns counts connections the run claims but did not hold:
	// closed by the server (the generator's own check at the window's
	// edges) or never taken by it (the server's own count).
	MissingConns uint64 `json:"missing_conns,omitempty"`
}

// Errors is the sum of the integrity counters (saturating), non-zero
// when any is.
func (i Integrity) Errors() uint64 {
	return SatAdd(SatAdd(SatAdd(i.Mismatches, i.Resets), SatAdd(i.ConnFailures, i.Timeouts)), i.MissingConns)
}

// Add sums the counters of two runs, saturating.
func (i Integrity) Add(b Integrity) Integrity {
	return Integrity{
		Mismatches:   SatAdd(i.Mismatches, b.Mismatches),
		Resets:       SatAdd(i.Resets, b.Resets),
		ConnFailures: SatAdd(i.ConnFailures, b.ConnFailures),
		Timeouts:     SatAdd(i.Timeouts, b.Timeouts),
		MissingConns: SatAdd(i.MissingConns, b.MissingConns),
	}
}

// Faults counts what the fault drivers did to a server beside the
// measured load: connections churned (closed and re-opened, half of them
// with a reset, so that descriptor numbers are reused at once) and hostile
// peers by kind. IntegrityErrors and ConnFailures must be zero.
type Faults struct {
	DurationSec float64 `json:"duration_sec"`
	// ChurnConns connections were kept open, ChurnRate of them replaced
	// per second (as asked).
	ChurnConns int     `json:"churn_conns,omitempty"`
	ChurnRate  float64 `json:"churn_rate_per_sec,omitempty"`
	// Churned counts connections closed and replaced, ChurnResets those
	// closed with a reset (SO_LINGER 0).
	Churned     uint64 `json:"churned"`
	ChurnResets uint64 `json:"churn_resets"`
	// ChurnRoundTrips are verified messages on churned connections.
	ChurnRoundTrips uint64 `json:"churn_round_trips"`
	// IntegrityErrors counts echoes of churned connections that were
	// wrong (a byte of another connection included), cut short or late.
	IntegrityErrors uint64 `json:"integrity_errors"`
	// ConnFailures counts connections that could not be made.
	ConnFailures uint64 `json:"conn_failures"`
	// Hostile has one entry per kind of hostile peer, in a fixed order.
	Hostile []HostileKind `json:"hostile,omitempty"`
	// NeverReadMaxBytes is the most a peer that never reads could push
	// before the server stopped taking more: what backpressure let
	// through, socket buffers of both ends included.
	NeverReadMaxBytes uint64 `json:"never_read_max_bytes,omitempty"`
	// Errors are the first few failures, in words.
	Errors []string `json:"errors,omitempty"`
}

// HostileKind counts the peers of one hostile kind: Expected ones saw
// the server do what a correct server does (a half-closed peer got its
// whole echo and then EOF, a peer that never reads was stopped by
// backpressure...), Unexpected ones did not.
type HostileKind struct {
	Kind       string `json:"kind"`
	Attempted  uint64 `json:"attempted"`
	Expected   uint64 `json:"expected"`
	Unexpected uint64 `json:"unexpected"`
}

// ErrSchema marks a file that is not a muxbench result of this schema.
var ErrSchema = errors.New("not a " + Schema + " file")

// Decode reads one result and checks that it is one.
func Decode(r io.Reader) (*Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file")
	}
	var probe struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not valid JSON (truncated?): %w", err)
	}
	switch {
	case probe.Schema == nil:
		return nil, fmt.Errorf("%w: no \"schema\" field", ErrSchema)
	case *probe.Schema != Schema:
		if strings.HasPrefix(*probe.Schema, "muxbench/result/") {
			return nil, fmt.Errorf("%w: schema %q is another muxbench version's", ErrSchema, *probe.Schema)
		}
		return nil, fmt.Errorf("%w: schema %q", ErrSchema, *probe.Schema)
	}
	var res Result
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("bad %s content: %w", Schema, err)
	}
	if res.Params.Backend == "" {
		return nil, fmt.Errorf("bad %s content: no params.backend", Schema)
	}
	if err := check(&res); err != nil {
		return nil, fmt.Errorf("cannot be true: %w", err)
	}
	return &res, nil
}

// check refuses a result that passes the schema but cannot be true, so
// that nothing built from it (a table, a chart, a merge) is: a negative
// count, size or time, a window of no length, a rate that its count and
// window do not give, memory per connection beyond the process's. The
// error names the field.
func check(r *Result) error {
	if err := nonNegative(reflect.ValueOf(r).Elem(), ""); err != nil {
		return err
	}
	if !(r.WindowSec > 0) {
		return fmt.Errorf("window_sec: %g: a run is measured over a window longer than 0", r.WindowSec)
	}
	if err := checkRate("round_trips_per_sec", r.Throughput, r.RoundTrips, r.WindowSec); err != nil {
		return err
	}
	for i, s := range r.Series {
		if !(s.End > s.Start) {
			return fmt.Errorf("series[%d].end_sec: %g: not after its start_sec, %g", i, s.End, s.Start)
		}
		if err := checkRate(fmt.Sprintf("series[%d].round_trips_per_sec", i), s.Throughput, s.RoundTrips, s.End-s.Start); err != nil {
			return err
		}
	}
	if s := r.Server; s != nil && s.RSSPerConn > float64(max(s.RSS, 0)) {
		return fmt.Errorf("server.rss_per_conn_bytes: %g: more than the whole process's server.rss_bytes, %d", s.RSSPerConn, s.RSS)
	}
	return nil
}

// checkRate refuses a rate that count over sec does not give. A merge
// sums its hosts' rates over windows of one length that overlap, which
// the factor of two allows for.
func checkRate(field string, perSec float64, count uint64, sec float64) error {
	if want := float64(count) / sec; perSec > 2*want+1 || perSec < want/2-1 {
		return fmt.Errorf("%s: %g: not %d round trips over %g s", field, perSec, count, sec)
	}
	return nil
}

// nonNegative refuses a negative number anywhere in v, a struct of the
// schema; path is v's place in the file. The only numbers that may be
// negative are a CPU of -1 (none) and a fault seed.
func nonNegative(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return nonNegative(v.Elem(), path)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return nil
		}
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			if path != "" {
				name = path + "." + name
			}
			if err := nonNegative(v.Field(i), name); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := nonNegative(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int64:
		low := int64(0)
		switch {
		case strings.HasSuffix(path, "fault_seed"):
			return nil
		case path == "send_lateness_floor.cpu", path == "send_lateness_floor_paced.cpu":
			low = -1
		}
		if v.Int() < low {
			return fmt.Errorf("%s: %d: cannot be negative", path, v.Int())
		}
	case reflect.Float64:
		if f := v.Float(); !(f >= 0) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: %g: cannot be negative", path, f)
		}
	}
	return nil
}

// MaxFileSize bounds what ReadFile reads: a result is a few hundred KiB
// at most, and /dev/zero or a huge file must not exhaust memory.
const MaxFileSize = 64 << 20

// ReadFile reads a result file; errors name the file. Only regular files
// are read: a FIFO or a device would block or never end.
func ReadFile(path string) (*Result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, outfile.Kind(st.Mode()))
	}
	// O_NONBLOCK: a file swapped for a FIFO after the Stat must not
	// block the open; the Stat of the open file then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, outfile.Kind(st.Mode()))
	} else if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a result file", path, MaxFileSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a result file", path, MaxFileSize>>20)
	}
	res, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// WriteFile writes res to path as outfile does: a regular file whole or
// not at all (a temporary file, then a rename), so an interrupted run
// never leaves a truncated result behind; a device or FIFO in place.
func WriteFile(path string, res *Result) error {
	data, err := marshal(res)
	if err != nil {
		return err
	}
	return outfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write writes res to w as one line of JSON: several in a row are
// newline-delimited JSON (NDJSON), a result per line, which jq and line
// by line readers take alike.
func Write(w io.Writer, res *Result) error {
	res.Schema = Schema
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func marshal(res *Result) ([]byte, error) {
	res.Schema = Schema
	data, err := json.MarshalIndent(res, "", "  ")
	return append(data, '\n'), err
}
