// Package compare runs every backend over the sweeps that tell them apart,
// saves each run as it completes, and turns the saved results into charts
// and a Markdown table; it also merges results from several load hosts.
package compare

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// Sweep names, also the first word of every result file name.
const (
	SweepActive  = "active"
	SweepIdle    = "idle"
	SweepMsgSize = "msgsize"
	SweepLatency = "latency"
	// SweepCost is one open-loop point at a light load (a fraction of
	// epoll's capacity), where what busy-waiting costs and buys is not
	// hidden by queueing near saturation.
	SweepCost = "cost"
	// SweepLoops runs the server with 1, 2, 4... event loops, each
	// pinned to a CPU of its own, against as many generator loops on
	// CPUs of their own: the points the machine has the cores for.
	SweepLoops = "loops"
)

// Point is one run of the plan.
type Point struct {
	Sweep   string
	Backend string
	Conns   int
	Idle    int
	MsgSize int
	SndBuf  int // 0: the kernel's default
	// RateFraction > 0 makes an open-loop run at this fraction of the
	// capacity measured at LatencyConns in the active sweep.
	RateFraction float64
	// Loops is the server's event loops in the loops sweep (0 or 1: one);
	// Accept how they share the port (server.AcceptExclusive, or ""
	// for SO_REUSEPORT listeners).
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
	switch p.Sweep {
	case SweepActive:
		return fmt.Sprintf("c%d", p.Conns)
	case SweepIdle:
		return fmt.Sprintf("c%d-i%d", p.Conns, p.Idle)
	case SweepMsgSize:
		buf := "default"
		if p.SndBuf > 0 {
			buf = fmt.Sprint(p.SndBuf)
		}
		return fmt.Sprintf("c%d-m%d-sndbuf%s", p.Conns, p.MsgSize, buf)
	case SweepLatency, SweepCost:
		return fmt.Sprintf("c%d-rate%g", p.Conns, p.RateFraction)
	case SweepLoops:
		if p.Accept != "" {
			return fmt.Sprintf("c%d-l%d-%s", p.Conns, max(p.Loops, 1), p.Accept)
		}
		return fmt.Sprintf("c%d-l%d", p.Conns, max(p.Loops, 1))
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

// Sweeps are the parameters of a plan before it is multiplied out.
type Sweeps struct {
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
	// of chart.CostBase's closed-loop capacity at LatencyConns.
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
var Full = Sweeps{
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
var Quick = Sweeps{
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

// Budgets the default repeat count is chosen for.
const (
	FullBudget  = 25 * time.Minute
	QuickBudget = 2 * time.Minute
	maxRepeat   = 5
)

// Cost model of one run besides its window and warm-up: starting the
// server and stopping it, and opening each connection (active or idle).
// Used for the planned time only; the progress line corrects it with the
// time runs really take.
var (
	RunOverhead  = 400 * time.Millisecond
	ConnOverhead = 60 * time.Microsecond
)

// Limits say which points can run on this machine.
type Limits struct {
	// FDs is the descriptor limit of one process (RLIMIT_NOFILE).
	FDs int
	// SameProcess is true when server and generator share one process and
	// so one descriptor table.
	SameProcess bool
	// MaxFD gives a backend's own descriptor ceiling (0: none).
	MaxFD func(backend string) int
	// CPUs is the number of CPUs this process may run on (0: unknown,
	// which allows no point that needs more than the default two).
	CPUs int
	// Exclusive tells the backends whose loops can also share one
	// listener (server.AcceptExclusive): the loops sweep runs them
	// both ways. Nil: none.
	Exclusive func(backend string) bool
}

// fdSpare covers listeners, control channels, the poller's own
// descriptors, the Go runtime and the files a run writes.
const fdSpare = 64

// fits reports whether p fits the limits, and why not.
func (l Limits) fits(p Point) (bool, string) {
	conns := p.Conns + p.Idle
	need := conns + fdSpare
	if l.SameProcess {
		need = 2*conns + fdSpare
	}
	if l.FDs > 0 && need > l.FDs {
		return false, fmt.Sprintf("needs about %d descriptors, the limit is %d", need, l.FDs)
	}
	if l.MaxFD != nil {
		if m := l.MaxFD(p.Backend); m > 0 && conns+fdSpare > m {
			return false, fmt.Sprintf("%s watches descriptors below %d only", p.Backend, m)
		}
	}
	if ok, why := l.fitsCPUs(p); !ok {
		return false, why
	}
	return true, ""
}

// fitsCPUs reports whether the machine has the CPUs p needs, and why not.
func (l Limits) fitsCPUs(p Point) (bool, string) {
	need := p.CPUs()
	if need == 0 || need <= l.CPUs {
		return true, ""
	}
	has := fmt.Sprintf("this machine has %d", l.CPUs)
	if l.CPUs <= 0 {
		has = "the number of CPUs here is unknown"
	}
	return false, fmt.Sprintf("needs %d CPUs (%d server loops + %d generator loops, one CPU each), %s", need, p.Loops, p.Loops, has)
}

// ScalingNote follows the skipped points when loops points were skipped
// for want of CPUs.
const ScalingNote = "scaling over server loops needs a machine with a CPU for every server and generator loop, or serve and load on separate hosts (README: Several machines); with fewer CPUs the loops are tested for correctness only (go test ./server -run Loops)"

// Plan is the ordered list of runs.
type Plan struct {
	Sweeps  Sweeps
	Repeat  int
	Points  []Point
	Skipped []string // points that cannot run here, with the reason
	// Note, if set, says what the skipped points mean for the results.
	Note string
}

// NewPlan multiplies the sweeps out over the backends and repeats. Each
// distinct point is run once per repeat, under the first sweep that needs
// it (100 active is in the active and the idle sweep). Repeats are the
// outer loop, so an interrupted compare has every point at fewer repeats
// rather than some points at all repeats and others at none. repeat <= 0
// picks the largest count (from s.MinRepeat up to 5) whose planned time
// fits budget.
func NewPlan(s Sweeps, backends []string, repeat int, budget time.Duration, lim Limits) Plan {
	var one []Point
	seen := map[result.PointKey]bool{}
	add := func(p Point) {
		if p.Backend == CFloor && !floorSweep(p.Sweep) {
			return
		}
		if k := p.Key(); !seen[k] {
			seen[k] = true
			one = append(one, p)
		}
	}
	for _, b := range backends {
		for _, c := range s.Active {
			add(Point{Sweep: SweepActive, Backend: b, Conns: c, MsgSize: s.BaseMsg})
		}
	}
	for _, b := range backends {
		for _, i := range s.Idle {
			add(Point{Sweep: SweepIdle, Backend: b, Conns: s.IdleActive, Idle: i, MsgSize: s.BaseMsg})
		}
	}
	for _, buf := range []int{s.SmallSndBuf, 0} {
		for _, m := range s.MsgSizes {
			for _, b := range backends {
				add(Point{Sweep: SweepMsgSize, Backend: b, Conns: s.MsgConns, MsgSize: m, SndBuf: buf})
			}
		}
	}
	if s.RateFraction > 0 {
		for _, b := range backends {
			add(Point{Sweep: SweepLatency, Backend: b, Conns: s.LatencyConns, MsgSize: s.BaseMsg, RateFraction: s.RateFraction})
		}
	}
	if s.CostFraction > 0 {
		for _, b := range backends {
			add(Point{Sweep: SweepCost, Backend: b, Conns: s.LatencyConns, MsgSize: s.BaseMsg, RateFraction: s.CostFraction})
		}
	}
	for _, n := range s.Loops {
		for _, b := range backends {
			p := Point{Sweep: SweepLoops, Backend: b, Conns: s.LoopsConns, MsgSize: s.BaseMsg, Loops: n}
			add(p)
			if n > 1 && lim.Exclusive != nil && lim.Exclusive(b) {
				p.Accept = server.AcceptExclusive
				add(p)
			}
		}
	}
	pl := Plan{Sweeps: s}
	var fit []Point
	// A loops point the machine has too few CPUs for is so for every
	// backend and accept mode: one line says so for all of them.
	type cpuSkip struct {
		point, why string
		backends   []string
		exclusive  []string
	}
	var cpuSkips []*cpuSkip
	byPoint := map[string]*cpuSkip{}
	for _, p := range one {
		if ok, why := lim.fitsCPUs(p); !ok {
			q := p
			q.Accept = ""
			k := q.Sweep + " " + q.Param()
			c := byPoint[k]
			if c == nil {
				c = &cpuSkip{point: k, why: why}
				byPoint[k] = c
				cpuSkips = append(cpuSkips, c)
			}
			if p.Accept != "" {
				c.exclusive = append(c.exclusive, p.Backend)
			} else {
				c.backends = append(c.backends, p.Backend)
			}
			continue
		}
		if ok, why := lim.fits(p); !ok {
			pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s %s %s: %s", p.Sweep, p.Backend, p.Param(), why))
			continue
		}
		fit = append(fit, p)
	}
	for _, c := range cpuSkips {
		who := strings.Join(c.backends, ", ")
		if n := len(c.backends); n > 1 && (n == len(backends) || n == len(backends)-1 && slices.Contains(backends, CFloor)) {
			who = "every backend"
		}
		if len(c.exclusive) > 0 {
			who += "; " + strings.Join(c.exclusive, ", ") + " also with --accept " + server.AcceptExclusive
		}
		pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s (%s): %s", c.point, who, c.why))
	}
	if len(cpuSkips) > 0 {
		pl.Note = ScalingNote
	}
	if repeat <= 0 {
		per := estimate(s, fit)
		repeat = max(s.MinRepeat, 1)
		for repeat < maxRepeat && per*time.Duration(repeat+1) <= budget {
			repeat++
		}
	}
	pl.Repeat = repeat
	for k := 1; k <= repeat; k++ {
		for _, p := range fit {
			p.Repeat = k
			pl.Points = append(pl.Points, p)
		}
	}
	return pl
}

// RunTime is the planned wall time of one run.
func (s Sweeps) RunTime(p Point) time.Duration {
	return s.Warmup + s.Duration + RunOverhead + time.Duration(p.Conns+p.Idle)*ConnOverhead
}

func estimate(s Sweeps, ps []Point) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += s.RunTime(p)
	}
	return d
}

// Estimate is the planned wall time of the whole plan.
func (pl Plan) Estimate() time.Duration { return estimate(pl.Sweeps, pl.Points) }
