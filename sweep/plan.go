package sweep

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/muxbench/muxbench/result"
)

// Settings are the values the sweeps take, before they are multiplied out
// over the backends.
type Settings struct {
	Active       []int // connection counts
	IdleActive   int   // active connections in the idle sweep
	Idle         []int // idle counts; 0 is the active sweep's point
	MsgConns     int
	MsgSizes     []int
	SmallSndBuf  int
	BaseMsg      int
	LatencyConns int
	RateFraction float64
	// CostFraction > 0 adds the cost sweep: open loop at this fraction
	// of CostBase's closed-loop capacity at LatencyConns.
	CostFraction float64
	// Loops are the server loop counts of the loops sweep, at LoopsConns
	// connections; one loop is the active sweep's point there. Counts
	// the machine has too few CPUs for are skipped (Point.CPUs).
	Loops      []int
	LoopsConns int
	Duration   time.Duration
	Warmup     time.Duration
	// MinRepeat is the fewest runs per point when the count is chosen
	// for the budget: one run cannot tell a difference from noise.
	MinRepeat int
}

// Full is the default comparison: the sweeps of the literature (Banga et
// al. 1999, Gammo et al. 2004) at the scale a 2-core machine with 20,000
// descriptors allows.
var Full = Settings{
	Active:       []int{1, 10, 100, 1000, 10000},
	IdleActive:   100,
	Idle:         []int{0, 1000, 5000, 10000},
	MsgConns:     10,
	MsgSizes:     []int{64, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20},
	SmallSndBuf:  4 << 10,
	BaseMsg:      64,
	LatencyConns: 100,
	RateFraction: 0.5,
	CostFraction: 0.2,
	Loops:        []int{1, 2, 4, 8, 16, 32},
	LoopsConns:   1000,
	Duration:     2 * time.Second,
	Warmup:       500 * time.Millisecond,
	MinRepeat:    3,
}

// Quick keeps one point per regime, each run short.
var Quick = Settings{
	Active:       []int{1, 10, 100, 1000},
	IdleActive:   100,
	Idle:         []int{0, 5000},
	MsgConns:     10,
	MsgSizes:     []int{64, 16 << 10, 1 << 20},
	SmallSndBuf:  4 << 10,
	BaseMsg:      64,
	LatencyConns: 100,
	RateFraction: 0.5,
	CostFraction: 0.2,
	Loops:        []int{1, 2, 4},
	LoopsConns:   1000,
	Duration:     time.Second,
	Warmup:       250 * time.Millisecond,
}

// Cost model of one run besides its window and warm-up: starting the
// server and stopping it, and opening each connection (active or idle),
// as the reference run in results/ took them on a quiet machine (35 ms
// before the warm-up and 10 ms after the window; 60 µs a connection up
// to 5,000, 90 µs at 10,000). A peer takes PeerOverhead more to start
// and stop (an interpreter and its imports; 72 ms at the median of the
// reference run's peers). Used for the planned time only; the progress
// line corrects it with the time runs really take.
var (
	RunOverhead  = 50 * time.Millisecond
	PeerOverhead = 70 * time.Millisecond
	ConnOverhead = 60 * time.Microsecond
)

// RunTime is the planned wall time of one run.
func (s Settings) RunTime(p Point) time.Duration {
	d := s.Warmup + s.Duration + RunOverhead + time.Duration(p.Conns+p.Idle)*ConnOverhead
	if p.Peer {
		d += PeerOverhead
	}
	return d
}

// Point is one run of a plan.
type Point struct {
	Sweep   string
	Backend string
	Peer    bool // Backend is another project's server (poller.Peer)
	Conns   int
	Idle    int
	MsgSize int
	SndBuf  int // 0: the kernel's default
	// RateFraction > 0 makes an open-loop run at this fraction of the
	// capacity measured at LatencyConns in the active sweep.
	RateFraction float64
	// Loops is the server's event loops in the loops sweep (0 or 1: one);
	// Accept how they share the port (result.AcceptExclusive, or "" for
	// SO_REUSEPORT listeners).
	Loops  int
	Accept string
	Repeat int // 1-based
}

// CPUs is what the point needs to run as planned: a CPU for each server
// loop and as many for the generator's loops (zero: no claim, the
// default pinning of one of each).
func (p Point) CPUs() int {
	if p.Loops > 1 {
		return 2 * p.Loops
	}
	return 0
}

// Param is the point's swept value as it appears in file names.
func (p Point) Param() string {
	if s, ok := Lookup(p.Sweep); ok {
		return s.Param(p)
	}
	return fmt.Sprintf("c%d-i%d-m%d-s%d", p.Conns, p.Idle, p.MsgSize, p.SndBuf)
}

// Key is the PointKey of the point's runs: a point two sweeps need (100
// active connections is also the idle sweep's 0 idle) is one point, run
// once.
func (p Point) Key() result.PointKey {
	k := result.PointKey{Server: p.Backend, Conns: p.Conns, Idle: p.Idle, MsgSize: p.MsgSize, SndBuf: p.SndBuf}
	k.SetLoad(p.Sweep, p.RateFraction)
	if p.Loops > 1 {
		k.Loops, k.Exclusive = p.Loops, p.Accept == result.AcceptExclusive
	}
	return k
}

// File is where the point's result is saved, relative to the output
// directory: json/<sweep>-<backend>-<param>-r<k>.json.
func (p Point) File() string {
	return filepath.Join("json", fmt.Sprintf("%s-%s-%s-r%d.json", p.Sweep, p.Backend, p.Param(), p.Repeat))
}

func (p Point) String() string {
	return fmt.Sprintf("%s %s %s r%d", p.Sweep, p.Backend, p.Param(), p.Repeat)
}
