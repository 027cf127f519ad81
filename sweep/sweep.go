// Package sweep is the one place a sweep of a comparison is known: the
// points muxbench compare runs for it, the table that summary.md and the
// results page give its runs, and the figures that draw them. compare
// plans from All, chart and the reports read results back through it,
// and every run records the sweep it was made for (result.Params.Sweep).
package sweep

import (
	"fmt"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Sweep names, also the first word of every result file name.
const (
	Active  = "active"
	Idle    = "idle"
	MsgSize = "msgsize"
	Latency = "latency"
	// Cost is one open-loop point at a light load (a fraction of
	// CostBase's capacity), where what busy-waiting costs and buys is not
	// hidden by queueing near saturation.
	Cost = "cost"
	// Loops runs the server with 1, 2, 4... event loops, each pinned to a
	// CPU of its own, against as many generator loops on CPUs of their
	// own: the points the machine has the cores for.
	Loops = "loops"
)

// CostBase is the backend whose closed-loop capacity the cost point's
// load is a share of: compare scales the rate from it, and the cost chart
// puts the load in proportion to it.
const CostBase = "epoll"

// Sweep describes one sweep. Adding a sweep is adding one to All (and,
// unless Lines draw it, its figure to package chart).
type Sweep struct {
	// Name is recorded in each run's params and begins its file name.
	Name string
	// Points are the sweep's runs under s, in the order they run, Repeat
	// unset; exclusive tells the backends whose loops can also share one
	// listener.
	Points func(s Settings, backends []string, exclusive func(string) bool) []Point
	// Param is a point's swept value as its file name gives it.
	Param func(p Point) string
	// Peers: the peers (other projects' echo servers, and the C floor)
	// are lines of this sweep. They take none of muxbench's server
	// settings (socket buffers, loops), so only the sweeps of
	// connections run them.
	Peers bool
	// Optional sweeps run only where the machine allows (enough CPUs):
	// their figures are not missed when they have no runs.
	Optional bool

	// Table names the sweep whose table and figures this one's runs join;
	// "" for a table of its own, which the fields below describe.
	Table string
	// Title heads the table, given its runs.
	Title func(runs []*result.Result) string
	// Label names a run's point in the table: its swept value. Order
	// sorts the points.
	Label func(*result.Result) string
	Order func(*result.Result) []float64
	// Varies clears in k the values the sweep varies. A run of another
	// sweep whose key, so cleared, is that of one of this sweep's runs is
	// one of its points too (100 active connections is the idle sweep's
	// point at 0 idle). Nil: no run of another sweep is.
	Varies func(k *result.PointKey)
	// OwnRows keeps the table to the sweep's own runs: the points it
	// takes from other sweeps are drawn, not tabled.
	OwnRows bool
	// Figures are the charts drawn from the table's runs.
	Figures []Figure
}

// Figure is one chart of a table, Name its file's base name. A figure
// with Lines is throughput and server CPU against the swept value; any
// other is drawn by package chart's code of that name.
type Figure struct {
	Name  string
	Lines *Lines
	// Optional figures are not missed where they have nothing to draw:
	// the peers', where none ran.
	Optional bool
}

// Lines draws metrics against a swept value, a line per server.
type Lines struct {
	Title  func(runs []*result.Result) string
	XLabel func(runs []*result.Result) string
	X      func(*result.Result) float64
	LogX   bool
	Note   string
	// Line names the line a run is drawn on; nil: its backend. A run
	// taken from another sweep (see Varies) starts every line of its
	// backend, or, for a backend with no run of the sweep's own, its
	// own line.
	Line func(*result.Result) string
	// Servers picks the servers drawn.
	Servers Servers
	// Metrics are drawn a panel each (nil: throughput and server CPU per
	// round trip), on one axis scale across Panels.
	Metrics []*report.Metric
	// Panel, if set, puts each run in the panel of that name, Panels in
	// their order, a run of none of them in no panel.
	Panel  func(*result.Result) string
	Panels []string
}

// Servers says which servers a figure draws. The C floor, a reference,
// is drawn by every figure; one with nothing but the C floor is not
// drawn.
type Servers int

const (
	// Every server.
	Every Servers = iota
	// Own are muxbench's backends.
	Own
	// Peers are other projects' echo servers (result.Peer).
	Peers
)

// Keep reports whether s draws r's server.
func (s Servers) Keep(r *result.Result) bool {
	switch s {
	case Own:
		return r.Peer == nil || r.Peer.Reference
	case Peers:
		return r.Peer != nil
	}
	return true
}

// Reference reports whether r's server is the C floor, a reference line
// beside the others.
func Reference(r *result.Result) bool { return r.Peer != nil && r.Peer.Reference }

// Multiplexer is what r's server waited in: a peer's as it recorded it,
// or muxbench's backend's name.
func Multiplexer(r *result.Result) string {
	if r.Peer != nil {
		return r.Peer.Multiplexer
	}
	return r.Params.Backend
}

// Implementation names r's server as the runtime-by-runtime figure draws
// it, the same for every multiplexer: "Twisted (Python)", "libev (C)",
// "muxbench (Go)"; a user's own server by its name.
func Implementation(r *result.Result) string {
	switch {
	case r.Peer == nil:
		return "muxbench (Go)"
	case r.Peer.Family == "":
		return r.Params.Backend
	case r.Peer.Language == "":
		return r.Peer.Family
	}
	return r.Peer.Family + " (" + r.Peer.Language + ")"
}

// All are the sweeps in the order compare runs and reports them.
var All = []Sweep{
	{
		Name: Active, Peers: true,
		Points: perBackend(func(s Settings, b string) (ps []Point) {
			for _, c := range s.Active {
				ps = append(ps, Point{Sweep: Active, Backend: b, Conns: c, MsgSize: s.BaseMsg})
			}
			return ps
		}),
		Param: func(p Point) string { return fmt.Sprintf("c%d", p.Conns) },
		Title: func(runs []*result.Result) string {
			return "Active connections (closed loop, " + report.Bytes(float64(common(runs, msgSize))) + " messages)"
		},
		Label: conns, Order: func(r *result.Result) []float64 { return []float64{float64(r.Params.Conns)} },
		Figures: []Figure{
			{Name: "active-conns", Lines: activeLines(Own, "Throughput and server CPU vs active connections")},
			{Name: "active-conns-peers", Lines: activeLines(Peers, "Other projects' event loops: throughput and server CPU vs active connections"), Optional: true},
		},
	},
	{
		Name: Idle, Peers: true,
		Points: perBackend(func(s Settings, b string) (ps []Point) {
			for _, i := range s.Idle {
				ps = append(ps, Point{Sweep: Idle, Backend: b, Conns: s.IdleActive, Idle: i, MsgSize: s.BaseMsg})
			}
			return ps
		}),
		Param: func(p Point) string { return fmt.Sprintf("c%d-i%d", p.Conns, p.Idle) },
		Title: func(runs []*result.Result) string {
			return fmt.Sprintf("Idle connections at %d active", common(runs, connCount))
		},
		Label: func(r *result.Result) string { return fmt.Sprintf("%d idle", r.Params.Idle) },
		Order: func(r *result.Result) []float64 { return []float64{float64(r.Params.Idle)} },
		// Every server's run at 0 idle is the sweep's point, its own idle
		// points or not: a select peer that cannot hold more has that one.
		Varies: func(k *result.PointKey) { k.Idle, k.Server = 0, "" },
		Figures: []Figure{
			{Name: "idle-conns", Lines: idleLines(Own, "Throughput and server CPU vs idle connections")},
			{Name: "idle-conns-peers", Lines: idleLines(Peers, "Other projects' event loops: throughput and server CPU vs idle connections"), Optional: true},
			{Name: "idle-runtimes", Lines: &Lines{
				Title: func(runs []*result.Result) string {
					return fmt.Sprintf("One multiplexer, every implementation: server CPU per round trip vs idle connections (%d active)", common(runs, connCount))
				},
				XLabel:  idleXLabel,
				X:       idleX,
				Metrics: []*report.Metric{report.ServerCPU},
				Panel:   Multiplexer, Panels: []string{"select", "poll", "epoll"},
				Line: Implementation,
				Note: "Each multiplexer in C, Go, Python and JavaScript: whether its cost per idle descriptor (select's and poll's slope, epoll's flat line) survives each runtime, and what the runtime adds at 0 idle. A line that stops early stopped at FD_SETSIZE (1024).",
			}},
		},
	},
	{
		Name: MsgSize,
		Points: func(s Settings, backends []string, _ func(string) bool) (ps []Point) {
			for _, buf := range []int{s.SmallSndBuf, 0} {
				for _, m := range s.MsgSizes {
					for _, b := range backends {
						ps = append(ps, Point{Sweep: MsgSize, Backend: b, Conns: s.MsgConns, MsgSize: m, SndBuf: buf})
					}
				}
			}
			return ps
		},
		Param: func(p Point) string {
			buf := "default"
			if p.SndBuf > 0 {
				buf = fmt.Sprint(p.SndBuf)
			}
			return fmt.Sprintf("c%d-m%d-sndbuf%s", p.Conns, p.MsgSize, buf)
		},
		Title: func(runs []*result.Result) string {
			return fmt.Sprintf("Message size at %d connections", common(runs, connCount))
		},
		Label: func(r *result.Result) string {
			buf := "default buf"
			if r.Params.SndBuf > 0 {
				buf = report.Bytes(float64(r.Params.SndBuf)) + " buf"
			}
			return report.Bytes(float64(r.Params.MsgSize)) + ", " + buf
		},
		Order: func(r *result.Result) []float64 {
			return []float64{-float64(r.Params.SndBuf), float64(r.Params.MsgSize)}
		},
		Varies:  func(k *result.PointKey) { k.MsgSize, k.SndBuf = 0, 0 },
		Figures: []Figure{{Name: "short-writes"}},
	},
	{
		Name:   Latency,
		Points: openLoop(Latency, func(s Settings) float64 { return s.RateFraction }),
		Param:  rateParam,
		Title:  fixed("Open loop (latency at a fixed rate)"),
		Label: func(r *result.Result) string {
			return fmt.Sprintf("%d conns @ %s rt/s", r.Params.Conns, report.Human(r.OfferedRate()))
		},
		Order: func(r *result.Result) []float64 {
			p := r.Params
			return []float64{float64(p.Conns), float64(p.Idle), float64(p.MsgSize), float64(int(p.Rate))}
		},
		Figures: []Figure{{Name: "latency-spectrum"}, {Name: "time-series"}},
	},
	{
		Name: Cost, Table: Latency,
		Points:  openLoop(Cost, func(s Settings) float64 { return s.CostFraction }),
		Param:   rateParam,
		Figures: []Figure{{Name: "cpu-cost"}},
	},
	{
		Name: Loops, Optional: true,
		Points: func(s Settings, backends []string, exclusive func(string) bool) (ps []Point) {
			for _, n := range s.Loops {
				for _, b := range backends {
					p := Point{Sweep: Loops, Backend: b, Conns: s.LoopsConns, MsgSize: s.BaseMsg, Loops: n}
					ps = append(ps, p)
					if n > 1 && exclusive != nil && exclusive(b) {
						p.Accept = result.AcceptExclusive
						ps = append(ps, p)
					}
				}
			}
			return ps
		},
		Param: func(p Point) string {
			if p.Accept != "" {
				return fmt.Sprintf("c%d-l%d-%s", p.Conns, max(p.Loops, 1), p.Accept)
			}
			return fmt.Sprintf("c%d-l%d", p.Conns, max(p.Loops, 1))
		},
		Title: fixed("Server event loops (closed loop, a CPU per server and per generator loop)"),
		Label: func(r *result.Result) string {
			if exclusive(r) {
				return fmt.Sprintf("%d loops, one listener (exclusive), %d conns", r.ServerLoops(), r.Params.Conns)
			}
			return fmt.Sprintf("%d loops, %d conns", r.ServerLoops(), r.Params.Conns)
		},
		Order:  func(r *result.Result) []float64 { return []float64{float64(r.Params.Conns), float64(r.ServerLoops())} },
		Varies: func(k *result.PointKey) { k.Loops, k.Exclusive = 0, false }, OwnRows: true,
		Figures: []Figure{{Name: "server-loops", Lines: &Lines{
			Title: func(runs []*result.Result) string {
				return fmt.Sprintf("Throughput and server CPU vs server event loops (%d connections)", common(runs, connCount))
			},
			XLabel: fixed("server event loops (a CPU each, and as many generator loops)"),
			X:      func(r *result.Result) float64 { return float64(r.ServerLoops()) }, LogX: true,
			// Loops sharing one listener are a line of their own.
			Line: func(r *result.Result) string {
				if exclusive(r) {
					return r.Params.Backend + " (" + result.AcceptExclusive + ")"
				}
				return r.Params.Backend
			},
		}}},
	},
}

// activeLines draws the servers s picks against active connections.
func activeLines(s Servers, title string) *Lines {
	return &Lines{
		Title:  fixed(title),
		XLabel: fixed("active connections (log scale)"),
		X:      func(r *result.Result) float64 { return float64(r.Params.Conns) }, LogX: true,
		Servers: s,
	}
}

// idleLines draws the servers s picks against idle connections.
func idleLines(s Servers, title string) *Lines {
	return &Lines{
		Title: func(runs []*result.Result) string {
			return fmt.Sprintf("%s (%d active)", title, common(runs, connCount))
		},
		XLabel:  idleXLabel,
		X:       idleX,
		Servers: s,
		Note:    "A flat line: the server's cost does not depend on idle descriptors. select and poll pass every descriptor to the kernel on each wait; epoll and kqueue only report ready ones (Banga, Mogul, Druschel 1999; Gammo, Brecht et al. 2004).",
	}
}

func idleXLabel(runs []*result.Result) string {
	return fmt.Sprintf("idle connections (besides %d active)", common(runs, connCount))
}

func idleX(r *result.Result) float64 { return float64(r.Params.Idle) }

// Other holds the runs of no sweep's table: hand-made runs that fit none.
var Other = Sweep{
	Name:  "other",
	Title: fixed("Other runs"),
	Label: func(r *result.Result) string {
		return fmt.Sprintf("%d conns + %d idle, %s", r.Params.Conns, r.Params.Idle, report.Bytes(float64(r.Params.MsgSize)))
	},
	Order: func(r *result.Result) []float64 {
		p := r.Params
		return []float64{float64(p.Conns), float64(p.Idle), float64(p.MsgSize), float64(p.SndBuf)}
	},
}

// Lookup finds a sweep of All by name.
func Lookup(name string) (Sweep, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return Sweep{}, false
}

// perBackend makes a sweep's points backend by backend.
func perBackend(one func(s Settings, backend string) []Point) func(Settings, []string, func(string) bool) []Point {
	return func(s Settings, backends []string, _ func(string) bool) (ps []Point) {
		for _, b := range backends {
			ps = append(ps, one(s, b)...)
		}
		return ps
	}
}

// openLoop is an open-loop sweep of one point per backend at the share
// of a capacity that fraction gives, none where it is zero.
func openLoop(name string, fraction func(Settings) float64) func(Settings, []string, func(string) bool) []Point {
	return perBackend(func(s Settings, b string) []Point {
		if fraction(s) <= 0 {
			return nil
		}
		return []Point{{Sweep: name, Backend: b, Conns: s.LatencyConns, MsgSize: s.BaseMsg, RateFraction: fraction(s)}}
	})
}

func rateParam(p Point) string { return fmt.Sprintf("c%d-rate%g", p.Conns, p.RateFraction) }

func fixed(s string) func([]*result.Result) string { return func([]*result.Result) string { return s } }

func conns(r *result.Result) string { return fmt.Sprintf("%d conns", r.Params.Conns) }

func connCount(r *result.Result) int { return r.Params.Conns }

func msgSize(r *result.Result) int { return r.Params.MsgSize }

func exclusive(r *result.Result) bool {
	return r.ServerLoops() > 1 && r.Server.Options.Accept == result.AcceptExclusive
}

// common is the value of key most runs have (the smallest on a tie).
func common(runs []*result.Result, key func(*result.Result) int) int {
	v, _ := MostCommon(runs, func(*result.Result) bool { return true }, key)
	return v
}

// mostCommon is the value of key seen most often among the kept runs
// (the smallest on a tie), and whether any run was kept.
func MostCommon(runs []*result.Result, keep func(*result.Result) bool, key func(*result.Result) int) (int, bool) {
	count := map[int]int{}
	for _, r := range runs {
		if keep(r) {
			count[key(r)]++
		}
	}
	best, bestN := 0, 0
	for k, n := range count {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best, bestN > 0
}
