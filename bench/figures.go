package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// The figures a result derives from counters taken at the window's edges.

// collectLoops merges the loops' histograms and counters into res; starts and
// ends are their snapshots at the window's edges.
func collectLoops(res *result.Result, loops []*genLoop, starts, ends []snapshot, percents []float64) {
	hist := newLatencyHist()
	var histU, late *latencyHist
	if res.TargetRate > 0 {
		histU, late = newLatencyHist(), newLatencyHist()
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
			late.merge(l.late)
		}
		if l.spin {
			gen.Spin = true
		}
		if l.direct != nil {
			gen.BlockingRead = true
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
		if !addLoopCPU(gen, s, e) {
			threadOK = false
		}
	}
	if !threadOK {
		res.SetUnavailable(result.UnavailableGenThreadCPU)
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
		sl := late.summarize(percents)
		res.SendLateness = &sl
		if sendLate(sl, res.Latency) {
			gen.SendLate = true
			res.Warnings = append(res.Warnings, sendLateWarning(res, sl))
		}
	}
	res.Series = series(loops, starts, ends)
}

// addLoopCPU adds a loop's thread CPU over the window, from its snapshots
// at the edges, to gen, and marks gen saturated when the loop was busy
// for nearly all of it. It is false when the thread's CPU was not read.
func addLoopCPU(gen *result.Generator, s, e snapshot) bool {
	if !e.cpu.ok || !s.cpu.ok {
		return false
	}
	ns := e.cpu.userNs + e.cpu.sysNs - s.cpu.userNs - s.cpu.sysNs
	gen.CPU.UserSec += float64(e.cpu.userNs-s.cpu.userNs) / 1e9
	gen.CPU.SysSec += float64(e.cpu.sysNs-s.cpu.sysNs) / 1e9
	gen.CPU.VolCtxSw += e.cpu.volCS - s.cpu.volCS
	gen.CPU.InvolCtxSw += e.cpu.involCS - s.cpu.involCS
	// Loop time is spent on one CPU: near 1.0 the generator, not the
	// server, sets the pace. A loop that polls (--gen-spin, or the
	// open loop's last microseconds before a send) is busy only for
	// the time not spent in polls that found nothing.
	ns -= e.idle - s.idle
	if sec := float64(e.at-s.at) / 1e9; sec > 0 && float64(ns)/1e9/sec >= saturation {
		gen.Saturated = true
	}
	return true
}

// sendLateWarning says that an open loop's sends left late (lateness
// sl), and whether the machine's own gaps, measured before the run,
// are of that size.
func sendLateWarning(res *result.Result, sl result.Latency) string {
	w := fmt.Sprintf("generator sent late: send lateness p99 %v is over %.0f%% of latency p50 %v, so the latency describes the generator's timing, not the server",
		time.Duration(sl.P99), lateShare*100, time.Duration(res.Latency.P50))
	if f := res.Floor(); f != nil && 2*f.P99 >= sl.P99 {
		if f.Sends > 0 {
			w += fmt.Sprintf("; the machine's own gaps are of that size: on the generator's CPU, a loop that only paced itself at this rate before the run, as the generator's does, was late by p99 %v",
				time.Duration(f.P99))
		} else {
			w += fmt.Sprintf("; the machine's own gaps are of that size: on the generator's CPU, a thread that only read the clock before the run would have been late by p99 %v (%.1f%% of its time lost in gaps of 10us or more)",
				time.Duration(f.P99), f.Lost*100)
		}
	}
	return w
}

// lateShare is the send lateness p99, as a share of latency p50, above
// which open-loop latency is flagged.
const lateShare = 0.1

func sendLate(late, lat result.Latency) bool {
	return late.P99 > 0 && lat.P50 > 0 && float64(late.P99) > lateShare*float64(lat.P50)
}

// series merges the loops' intervals into the window's time series.
func series(loops []*genLoop, starts, ends []snapshot) []result.Second {
	var slot int64
	n := 0
	var window int64
	for i, l := range loops {
		slot = max(slot, l.slot)
		n = max(n, len(l.series))
		window = max(window, ends[i].at-starts[i].at)
	}
	if slot == 0 || window <= 0 {
		return nil
	}
	n = max(n, int((window+slot-1)/slot))
	out := make([]result.Second, 0, n)
	for i := 0; i < n; i++ {
		h := newSeriesHist()
		for _, l := range loops {
			if i < len(l.series) && l.series[i] != nil {
				h.merge(l.series[i])
			}
		}
		start, end := int64(i)*slot, min(int64(i+1)*slot, window)
		if end <= start {
			break
		}
		if i == n-2 && window-end < slot/2 {
			// A short last piece (the loops stop a little after the
			// window) goes with this interval rather than stand alone
			// with a rate from a few milliseconds.
			for _, l := range loops {
				if n-1 < len(l.series) && l.series[n-1] != nil {
					h.merge(l.series[n-1])
				}
			}
			end, n = window, n-1
		}
		count := h.h.TotalCount()
		sec := result.Second{
			Start: float64(start) / 1e9, End: float64(end) / 1e9,
			RoundTrips: uint64(count),
			Throughput: float64(count) / (float64(end-start) / 1e9),
			Max:        h.max,
		}
		if count >= result.MinSamples(50) {
			sec.P50 = h.h.ValueAtPercentile(50)
		}
		if count >= result.MinSamples(99) {
			sec.P99 = h.h.ValueAtPercentile(99)
		}
		out = append(out, sec)
	}
	return out
}

// seriesSlot is the time series' interval for a window: 100 ms, so that
// even a comparison's one- or two-second window draws a line over time,
// longer for windows beyond 30 s so that a run keeps at most 300.
func seriesSlot(window time.Duration) int64 {
	return max(int64(100*time.Millisecond), int64(window)/300)
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

// serverFigures are the server's figures over the window from samples a
// and b at its edges; base is its RSS before the first connection (0 if
// unknown), allConns every connection, idle ones included. What the
// server could not report is named in res.
func serverFigures(a, b serverSample, base int64, res *result.Result, allConns int) *result.Server {
	s := &result.Server{
		Backend: b.backend, Options: b.options,
		Process: cpuDiff(a.proc, b.proc),
		MaxRSS:  b.maxRSS, RSS: b.rss, RSSBase: base, Conns: b.conns,
	}
	fillCPU(&s.Process, res.RoundTrips, res.WindowSec)
	if a.thread.ok && b.thread.ok {
		t := cpuDiff(a.thread, b.thread)
		fillCPU(&t, res.RoundTrips, res.WindowSec)
		s.LoopThread = &t
	} else if b.backend != poller.Stdlib && b.backend != External && res.Peer == nil {
		// A reactor has a loop thread; stdlib and foreign servers do not,
		// nor a user's own peer, which need not run one.
		res.SetUnavailable(result.UnavailableServerThreadCPU)
	}
	if b.hasIO {
		s.IO = b.io.Sub(a.io)
		s.Rates = s.IO.Rates(res.RoundTrips)
		acc := b.accept
		s.Accepts = &acc
		s.BudgetPauses = b.paused
	}
	// What the connections added, not the process's size: a runtime and
	// its heap are there before the first one.
	switch {
	case b.rss <= 0:
		res.SetUnavailable(result.UnavailableServerRSS)
	case allConns > 0 && base > 0 && b.rss > base:
		s.RSSPerConn = float64(b.rss-base) / float64(allConns)
	}
	return s
}

// environment describes this machine and build.
func environment() result.Env {
	m := sysstat.ReadMachine()
	return result.Env{
		Hostname: m.Hostname, Kernel: m.Kernel, CPUModel: m.CPUModel, Cores: m.Cores,
		OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Version: cli.Version(),
	}
}
