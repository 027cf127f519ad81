package bench

import (
	"runtime/debug"

	"github.com/muxbench/muxbench/bench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// The figures a result derives from counters taken at the window's edges.

func subIO(a, b result.IO) result.IO {
	return result.IO{
		BytesIn: a.BytesIn - b.BytesIn, BytesOut: a.BytesOut - b.BytesOut,
		Reads: a.Reads - b.Reads, Writes: a.Writes - b.Writes,
		ShortWrites: a.ShortWrites - b.ShortWrites, WriteEAGAIN: a.WriteEAGAIN - b.WriteEAGAIN,
		ReadEAGAIN: a.ReadEAGAIN - b.ReadEAGAIN, Waits: a.Waits - b.Waits,
		Events: a.Events - b.Events, Dispatches: a.Dispatches - b.Dispatches,
		Accepts: a.Accepts - b.Accepts, AcceptErrs: a.AcceptErrs - b.AcceptErrs,
	}
}

func addIO(a *result.IO, b result.IO) {
	a.BytesIn += b.BytesIn
	a.BytesOut += b.BytesOut
	a.Reads += b.Reads
	a.Writes += b.Writes
	a.ShortWrites += b.ShortWrites
	a.WriteEAGAIN += b.WriteEAGAIN
	a.ReadEAGAIN += b.ReadEAGAIN
	a.Waits += b.Waits
	a.Events += b.Events
	a.Dispatches += b.Dispatches
	a.Accepts += b.Accepts
	a.AcceptErrs += b.AcceptErrs
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func rates(io result.IO, rts uint64) result.Rates {
	return result.Rates{
		ShortWritesPerWrite: ratio(io.ShortWrites, io.Writes),
		ShortWritesPerRT:    ratio(io.ShortWrites, rts),
		WriteEAGAINPerWrite: ratio(io.WriteEAGAIN, io.Writes),
		WriteEAGAINPerRT:    ratio(io.WriteEAGAIN, rts),
		WaitsPerRT:          ratio(io.Waits, rts),
		EventsPerWait:       ratio(io.Events, io.Waits),
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
		s.IO = subIO(b.io, a.io)
		s.Rates = rates(s.IO, res.RoundTrips)
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
	e.Version = "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				e.Version = s.Value
			}
		}
		if e.Version == "devel" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			e.Version = bi.Main.Version
		}
	}
	return e
}
