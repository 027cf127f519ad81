// Package compare runs every backend over the sweeps that tell them apart,
// saves each run as it completes, and turns the saved results into charts
// and a Markdown table; it also merges results from several load hosts.
package compare

import (
	"fmt"
	"strings"
	"time"

	"github.com/muxbench/muxbench/cfloor"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sweep"
)

// Budgets the default repeat count is chosen for.
const (
	FullBudget  = 25 * time.Minute
	QuickBudget = 2 * time.Minute
	maxRepeat   = 5
)

// CFloor is the minimal C epoll echo server (package cfloor), the peer
// that compare's all runs beside muxbench's backends as the floor they
// are compared with.
const CFloor = cfloor.Name

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
	// Peer finds the peers among the backends (another project's echo
	// server, the C floor, or a user's own): only the sweeps that take
	// peers (sweep.Sweep.Peers) run them, each within the connections it
	// can hold (peer.Peer.MaxConns). Nil: none is a peer.
	Peer func(backend string) *peer.Peer
}

// peer is backend's peer, or nil for one of muxbench's own.
func (l Limits) peer(backend string) *peer.Peer {
	if l.Peer == nil {
		return nil
	}
	return l.Peer(backend)
}

// fdSpare covers listeners, control channels, the poller's own
// descriptors, the Go runtime and the files a run writes.
const fdSpare = 64

// fits reports whether p fits the limits, and why not.
func (l Limits) fits(p sweep.Point) (bool, string) {
	conns := p.Conns + p.Idle
	need := conns + fdSpare
	if l.SameProcess {
		need = 2*conns + fdSpare
	}
	if l.FDs > 0 && need > l.FDs {
		return false, fmt.Sprintf("needs about %d descriptors, the limit is %d", need, l.FDs)
	}
	if pr := l.peer(p.Backend); pr != nil && pr.MaxConns > 0 && conns > pr.MaxConns {
		return false, fmt.Sprintf("needs %d connections, %s holds %d at most: %s", conns, p.Backend, pr.MaxConns, pr.Limit)
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
func (l Limits) fitsCPUs(p sweep.Point) (bool, string) {
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
	Sweeps sweep.Settings
	// Check is the look at the machine before each run, a wait for a
	// quiet one where it is quiet already (Options.Busy): its planned
	// time counts it.
	Check   time.Duration
	Repeat  int
	Points  []sweep.Point
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
func NewPlan(s sweep.Settings, backends []string, repeat int, budget time.Duration, lim Limits) Plan {
	return newPlan(s, backends, repeat, budget, lim, 0)
}

// plan is o's plan, the check before each run in its time where o
// waits for a quiet machine.
func (o Options) plan() Plan {
	var check time.Duration
	if o.Busy != nil {
		check = busySample
	}
	return newPlan(o.Sweeps, o.Backends, o.Repeat, o.Budget, o.Limits, check)
}

// planned says how long pl takes: its planned time, and what a busy
// machine adds to it, as o waits and runs again.
func (o Options) planned(pl Plan) string {
	s := "planned time " + pl.Estimate().Round(time.Second).String()
	var more []string
	if o.Busy != nil {
		more = append(more, fmt.Sprintf("waits of up to %s for a quiet machine", o.QuietWait))
	}
	if o.Reruns > 0 {
		more = append(more, fmt.Sprintf("up to %d more runs of a noisy point", o.Reruns))
	}
	if len(more) > 0 {
		s += " on a quiet machine (a busy one adds " + strings.Join(more, " and ") + ")"
	}
	return s
}

func newPlan(s sweep.Settings, backends []string, repeat int, budget time.Duration, lim Limits, check time.Duration) Plan {
	pl := Plan{Sweeps: s, Check: check}
	var fit []sweep.Point
	var cpu cpuSkips
	for _, p := range distinctPoints(s, backends, lim) {
		if ok, why := lim.fitsCPUs(p); !ok {
			cpu.add(p, why)
			continue
		}
		if ok, why := lim.fits(p); !ok {
			pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s %s %s: %s", p.Sweep, p.Backend, p.Param(), why))
			continue
		}
		fit = append(fit, p)
	}
	pl.Skipped = append(pl.Skipped, cpu.lines(ownBackends(backends, lim))...)
	if len(cpu.points) > 0 {
		pl.Note = ScalingNote
	}
	if repeat <= 0 {
		per := pl.estimate(fit)
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

// distinctPoints are the points of every sweep, each once, under the
// first sweep that needs it; a peer only in the sweeps that take peers.
func distinctPoints(s sweep.Settings, backends []string, lim Limits) []sweep.Point {
	var one []sweep.Point
	seen := map[result.PointKey]bool{}
	for _, sw := range sweep.All {
		for _, p := range sw.Points(s, backends, lim.Exclusive) {
			if p.Peer = lim.peer(p.Backend) != nil; p.Peer && !sw.Peers {
				continue
			}
			if k := p.Key(); !seen[k] {
				seen[k] = true
				one = append(one, p)
			}
		}
	}
	return one
}

// ownBackends counts muxbench's own backends among backends: those that
// every sweep runs.
func ownBackends(backends []string, lim Limits) int {
	own := 0
	for _, b := range backends {
		if lim.peer(b) == nil {
			own++
		}
	}
	return own
}

// cpuSkip is a loops point the machine has too few CPUs for, with the
// backends skipped there, in each accept mode.
type cpuSkip struct {
	point, why string
	backends   []string
	exclusive  []string
}

// cpuSkips gathers the loops points skipped for want of CPUs: as that is
// so for every backend and accept mode, one line says so for all of them.
type cpuSkips struct {
	points  []*cpuSkip
	byPoint map[string]*cpuSkip
}

// add records that p is skipped, for why.
func (cs *cpuSkips) add(p sweep.Point, why string) {
	q := p
	q.Accept = ""
	k := q.Sweep + " " + q.Param()
	c := cs.byPoint[k]
	if c == nil {
		c = &cpuSkip{point: k, why: why}
		if cs.byPoint == nil {
			cs.byPoint = map[string]*cpuSkip{}
		}
		cs.byPoint[k] = c
		cs.points = append(cs.points, c)
	}
	if p.Accept != "" {
		c.exclusive = append(c.exclusive, p.Backend)
	} else {
		c.backends = append(c.backends, p.Backend)
	}
}

// lines are the skipped points' lines, in the order they came; own is
// the number of muxbench's backends, which all skipped are "every
// backend".
func (cs *cpuSkips) lines(own int) []string {
	var out []string
	for _, c := range cs.points {
		who := strings.Join(c.backends, ", ")
		if n := len(c.backends); n > 1 && n == own {
			who = "every backend"
		}
		if len(c.exclusive) > 0 {
			who += "; " + strings.Join(c.exclusive, ", ") + " also with --accept " + server.AcceptExclusive
		}
		out = append(out, fmt.Sprintf("%s (%s): %s", c.point, who, c.why))
	}
	return out
}

// RunTime is the planned wall time of p's run, with the check before
// it.
func (pl Plan) RunTime(p sweep.Point) time.Duration { return pl.Sweeps.RunTime(p) + pl.Check }

func (pl Plan) estimate(ps []sweep.Point) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += pl.RunTime(p)
	}
	return d
}

// Estimate is the planned wall time of the whole plan: what it takes on
// a quiet machine. On a busy one, the waits for a quiet machine and the
// noisy runs run again come on top (Options.QuietWait, Options.Reruns).
func (pl Plan) Estimate() time.Duration { return pl.estimate(pl.Points) }
