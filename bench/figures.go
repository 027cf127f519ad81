package bench

import (
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// The figures a result derives from counters taken at the window's edges.

// collect merges the loops' histograms and counters into res; starts and
// ends are their snapshots at the window's edges.
func collect(res *result.Result, loops []*genLoop, starts, ends []snapshot, percents []float64) {
	hist := newLatencyHist()
	var histU *latencyHist
	if res.TargetRate > 0 {
		histU = newLatencyHist()
	}
	gen := &res.Generator
	threadOK := true
	for i, l := range loops {
		if l.err != nil {
			res.Partial = true
			res.Warnings = append(res.Warnings, l.err.Error())
		}
		hist.merge(l.hist)
		if histU != nil {
			histU.merge(l.histU)
		}
		s, e := starts[i], ends[i]
		res.RoundTrips += e.rts - s.rts
		gen.IO = gen.IO.Add(e.io.Sub(s.io))
		// Integrity counts the whole run, warm-up and drain included.
		res.Integrity.Mismatches += l.integ.Mismatches
		res.Integrity.Resets += l.integ.Resets
		res.Integrity.ConnFailures += l.integ.ConnFailures
		res.Integrity.Timeouts += l.integ.Timeouts
		for _, e := range l.errs {
			res.Warnings = append(res.Warnings, "integrity: "+e)
		}
		if !e.cpu.ok || !s.cpu.ok {
			threadOK = false
			continue
		}
		ns := e.cpu.userNs + e.cpu.sysNs - s.cpu.userNs - s.cpu.sysNs
		gen.CPU.UserSec += float64(e.cpu.userNs-s.cpu.userNs) / 1e9
		gen.CPU.SysSec += float64(e.cpu.sysNs-s.cpu.sysNs) / 1e9
		gen.CPU.VolCtxSw += e.cpu.volCS - s.cpu.volCS
		gen.CPU.InvolCtxSw += e.cpu.involCS - s.cpu.involCS
		// Loop time is spent on one CPU: near 1.0 the generator, not the
		// server, sets the pace.
		if sec := float64(e.at-s.at) / 1e9; sec > 0 && float64(ns)/1e9/sec >= saturation {
			gen.Saturated = true
		}
	}
	if !threadOK {
		res.Warnings = append(res.Warnings, "generator CPU per loop thread unavailable on this platform")
	}
	fillCPU(&gen.CPU, res.RoundTrips, res.WindowSec)
	gen.Rates = gen.IO.Rates(res.RoundTrips)
	if res.WindowSec > 0 {
		res.Throughput = float64(res.RoundTrips) / res.WindowSec
	}
	res.Latency = hist.summarize(percents)
	if histU != nil {
		u := histU.summarize(percents)
		res.LatencyUncorrected = &u
	}
}

// fillCPU derives service demand and utilisation from user and sys.
func fillCPU(c *result.CPU, rts uint64, window float64) {
	total := c.UserSec + c.SysSec
	if rts > 0 {
		c.PerRTus = total * 1e6 / float64(rts)
	}
	if window > 0 {
		c.Utilization = total / window
	}
}

func cpuDiff(a, b cpuTimes) result.CPU {
	return result.CPU{
		UserSec:    float64(b.userNs-a.userNs) / 1e9,
		SysSec:     float64(b.sysNs-a.sysNs) / 1e9,
		VolCtxSw:   b.volCS - a.volCS,
		InvolCtxSw: b.involCS - a.involCS,
	}
}

func serverFigures(a, b serverSample, res *result.Result, allConns int) *result.Server {
	s := &result.Server{
		Backend: b.backend, Options: b.options,
		Process: cpuDiff(a.proc, b.proc),
		MaxRSS:  b.maxRSS, RSS: b.rss, Conns: b.conns,
	}
	fillCPU(&s.Process, res.RoundTrips, res.WindowSec)
	if a.thread.ok && b.thread.ok {
		t := cpuDiff(a.thread, b.thread)
		fillCPU(&t, res.RoundTrips, res.WindowSec)
		s.LoopThread = &t
	}
	if b.hasIO {
		s.IO = b.io.Sub(a.io)
		s.Rates = s.IO.Rates(res.RoundTrips)
	}
	if allConns > 0 {
		s.RSSPerConn = float64(b.rss) / float64(allConns)
	}
	return s
}

// environment describes this machine and build.
func environment() result.Env {
	var e result.Env
	sysstat.FillEnv(&e)
	e.Version = version()
	return e
}
