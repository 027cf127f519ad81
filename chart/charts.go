// Package chart draws muxbench results (saved JSON) as PNG and SVG charts
// that can be read without the README: every figure names its units, its
// machine and its parameters, and every backend keeps one colour and one
// marker across all figures.
package chart

import (
	"fmt"
	"os"
	"slices"

	"github.com/muxbench/muxbench/result"
)

// Chart names, also the base names of the files written.
const (
	Active   = "active-conns"
	Idle     = "idle-conns"
	MsgSize  = "short-writes"
	Spectrum = "latency-spectrum"
	CPUBars  = "cpu-cost"
	// Loops is drawn only where there are runs with several server loops.
	Loops = "server-loops"
)

func closedLoop(r *result.Result) bool { return r.OfferedRate() == 0 }

// ServerLoops is the number of event loops the result's server ran.
func ServerLoops(r *result.Result) int {
	if r.Server != nil && r.Server.Options.Loops > 1 {
		return r.Server.Options.Loops
	}
	return 1
}

// oneLoop is a closed-loop run of a one-loop server: the sweeps compare
// backends on one loop, and the loops sweep is apart.
func oneLoop(r *result.Result) bool { return closedLoop(r) && ServerLoops(r) == 1 }

// sweeps finds, from parameters alone, which results make up each sweep,
// so charts work for compare's output and for hand-made runs alike. A
// point shared by two sweeps (100 active, no idle) serves both.
type sweeps struct {
	baseMsg   int
	idleConns int
	hasIdle   bool
	msgConns  int
	hasMsg    bool
}

func findSweeps(files []File) sweeps {
	var s sweeps
	s.baseMsg, _ = mostCommon(files, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle == 0 && r.Params.SndBuf == 0
	}, func(r *result.Result) int { return r.Params.MsgSize })
	s.idleConns, s.hasIdle = mostCommon(files, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle > 0 && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg
	}, func(r *result.Result) int { return r.Params.Conns })
	s.msgConns, s.hasMsg = mostCommon(files, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle == 0 && (r.Params.MsgSize != s.baseMsg || r.Params.SndBuf != 0)
	}, func(r *result.Result) int { return r.Params.Conns })
	return s
}

func (s sweeps) active(r *result.Result) bool {
	return oneLoop(r) && r.Params.Idle == 0 && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg
}

func (s sweeps) idle(r *result.Result) bool {
	return s.hasIdle && oneLoop(r) && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg && r.Params.Conns == s.idleConns
}

func (s sweeps) msg(r *result.Result) bool {
	return s.hasMsg && oneLoop(r) && r.Params.Idle == 0 && r.Params.Conns == s.msgConns
}

func filter(files []File, keep func(*result.Result) bool) []File {
	var out []File
	for _, f := range files {
		if keep(f.Result) {
			out = append(out, f)
		}
	}
	return out
}

// DrawAll writes every chart the results have data for into dir (PNG and
// SVG) and returns the paths written and one line per chart skipped.
//
// Failed results (see Failure) are left out.
func DrawAll(dir string, files []File) (written, skipped []string, err error) {
	files, _ = Split(files)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	s := findSweeps(files)
	type maker struct {
		name string
		why  string
		fn   func() (*figure, error)
	}
	makers := []maker{
		{Active, "no active-connection sweep (two or more connection counts, no idle)", func() (*figure, error) { return activeFigure(files, s) }},
		{Idle, "no idle-connection sweep (runs with idle connections)", func() (*figure, error) { return idleFigure(files, s) }},
		{MsgSize, "no message-size sweep (two or more sizes at one connection count)", func() (*figure, error) { return msgFigure(files, s) }},
	}
	if slices.ContainsFunc(files, func(f File) bool { return ServerLoops(f.Result) > 1 }) {
		// Only where there are multi-loop runs: a machine with the CPUs
		// for them.
		makers = append(makers, maker{Loops, "no run with several server loops and one with one at the same connections",
			func() (*figure, error) { return loopsFigure(files, s) }})
	}
	groups := latencyGroups(files, s)
	for i, g := range groups {
		name := Spectrum
		if i > 0 {
			name = fmt.Sprintf("%s-%d", Spectrum, i+1)
		}
		makers = append(makers, maker{name, "no latency histograms", func() (*figure, error) { return spectrumFigure(name, g) }})
	}
	if len(groups) == 0 {
		makers = append(makers, maker{Spectrum, "no latency histograms", func() (*figure, error) { return nil, nil }})
	}
	cpuGroup := costGroup(groups)
	makers = append(makers, maker{CPUBars, "no server CPU figures", func() (*figure, error) {
		if cpuGroup == nil {
			return nil, nil
		}
		return cpuFigure(cpuGroup, filter(files, s.active))
	}})
	for i, g := range groups {
		if name := TimeSeries; hasSeries(g) {
			if i > 0 {
				name = fmt.Sprintf("%s-%d", TimeSeries, i+1)
			}
			makers = append(makers, maker{name, "", func() (*figure, error) { return timeSeriesFigure(name, g) }})
		}
	}
	for _, m := range makers {
		f, err := m.fn()
		if err != nil {
			return written, skipped, err
		}
		if f == nil {
			skipped = append(skipped, m.name+": "+m.why)
			continue
		}
		paths, err := f.save(dir)
		written = append(written, paths...)
		if err != nil {
			return written, skipped, err
		}
	}
	return written, skipped, nil
}
