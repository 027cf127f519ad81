package chart

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// machineLine names where, when and with what the results were measured:
// every machine and muxbench version present, since figures pooled from
// several are then not one machine's.
func machineLine(files []File) string {
	machines, versions := hostsAndVersions(files)
	var gos []string
	var first, last string
	for _, f := range files {
		if g := orUnknown(f.Env.GoVersion); !slices.Contains(gos, g) {
			gos = append(gos, g)
		}
		if !f.Env.Start.IsZero() {
			d := f.Env.Start.UTC().Format("2006-01-02")
			if first == "" || d < first {
				first = d
			}
			if d > last {
				last = d
			}
		}
	}
	s := "Machine: "
	if len(machines) > 1 {
		s = fmt.Sprintf("%d machines: ", len(machines))
	}
	s += strings.Join(machines, "; ") + "; " + strings.Join(gos, ", ")
	switch {
	case first == "":
	case first == last:
		s += "; run " + first
	default:
		s += "; run " + first + " to " + last
	}
	if len(versions) > 1 {
		s += "; muxbench versions " + strings.Join(versions, ", ")
	} else {
		s += "; muxbench " + versions[0]
	}
	return Printable(s)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// paramLine lists the parameters every result of the chart shares (the
// swept one differs, so it drops out by itself) and how repeats are drawn.
func paramLine(files []File) string {
	type kv struct{ k, v string }
	vals := func(r *result.Result) []kv {
		p := r.Params
		buf := "default"
		if p.SndBuf > 0 {
			buf = report.Bytes(float64(p.SndBuf))
		}
		mode := "closed loop"
		if p.Rate > 0 || r.TargetRate > 0 {
			rate := p.Rate
			if rate == 0 {
				rate = r.TargetRate
			}
			mode = "open loop at " + report.Human(rate) + " rt/s"
		}
		out := []kv{
			{"load", mode},
			{"active conns", fmt.Sprint(p.Conns)},
			{"idle conns", fmt.Sprint(p.Idle)},
			{"message", report.Bytes(float64(p.MsgSize))},
			{"SO_SNDBUF", buf},
			{"window", fmt.Sprintf("%gs", p.DurationSec)},
			{"warm-up", fmt.Sprintf("%gs", p.WarmupSec)},
			{"generator loops", fmt.Sprint(p.GenLoops)},
		}
		if p.ReadBufSize > 0 {
			out = append(out, kv{"read buffer", report.Bytes(float64(p.ReadBufSize))})
		}
		if len(p.ServerCPU) > 0 {
			out = append(out, kv{"server CPUs", fmt.Sprint(p.ServerCPU)})
		}
		if len(p.GenCPU) > 0 {
			out = append(out, kv{"generator CPUs", fmt.Sprint(p.GenCPU)})
		}
		return out
	}
	common := vals(files[0].Result)
	for _, f := range files[1:] {
		other := map[string]string{}
		for _, e := range vals(f.Result) {
			other[e.k] = e.v
		}
		kept := common[:0]
		for _, e := range common {
			if other[e.k] == e.v {
				kept = append(kept, e)
			}
		}
		common = kept
	}
	var parts []string
	for _, e := range common {
		parts = append(parts, e.k+" "+e.v)
	}
	reps := map[int]bool{}
	counts := map[result.PointKey]int{}
	for _, f := range files {
		counts[f.PointKey()]++
	}
	for _, n := range counts {
		reps[n] = true
	}
	var rs []int
	for n := range reps {
		rs = append(rs, n)
	}
	sort.Ints(rs)
	s := "Parameters: " + strings.Join(parts, ", ")
	if n := noisyRuns(files); n != "" {
		s = n + " " + s
	}
	if n := lateRuns(files); n != "" {
		s = n + " " + s
	}
	if len(rs) > 0 && rs[len(rs)-1] > 1 {
		s += fmt.Sprintf(". Runs per point (n): %s; the median is drawn, bars span its 95%% confidence interval where n >= 6, else min to max", joinInts(rs))
	}
	return s + "."
}

func joinInts(v []int) string {
	var s []string
	for _, n := range v {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, "-")
}

// MachineLine names the machines, dates and version behind the results,
// as chart captions do.
func MachineLine(files []File) string {
	if len(files) == 0 {
		return "Machine: unknown"
	}
	return machineLine(files)
}

// lateRuns says how many open-loop runs sent late, and how late the
// machine itself let a sender be, "" if none sent late.
func lateRuns(files []File) string {
	var all, late []*result.Result
	for _, f := range files {
		all = append(all, f.Result)
		if f.Generator.SendLate {
			late = append(late, f.Result)
		}
	}
	l := SendLateness(all)
	if l.Late == 0 {
		return ""
	}
	// The figures are those of the runs that sent late.
	fl := SendLateness(late)
	s := fmt.Sprintf("SENT LATE: in %d of %d open-loop runs the generator's send lateness p99 (median %s) was over a tenth of latency p50, so their latency is partly the generator's timing",
		l.Late, l.Open, micros(fl.P99.Med))
	if fl.Floor.N > 0 {
		s += fmt.Sprintf("; on its CPU a loop that only kept the generator's timing (its sleeps, or its spinning) would have been late by p99 %s (median)", micros(fl.Floor.Med))
	}
	return s + "."
}

func micros(ns float64) string { return strconv.FormatFloat(ns/1e3, 'f', 1, 64) + " µs" }

// noisyRuns says which runs were measured on a busy machine, "" if none.
func noisyRuns(files []File) string {
	var names []string
	n := 0
	for _, f := range files {
		if report.Noisy(f.Result) {
			n++
			name := fmt.Sprintf("%s %d conns", f.Params.Backend, f.Params.Conns)
			if f.Params.Idle > 0 {
				name += fmt.Sprintf(" + %d idle", f.Params.Idle)
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if n == 0 {
		return ""
	}
	if len(names) > 6 {
		names = append(names[:6], "...")
	}
	return fmt.Sprintf("NOISY: %d of %d runs were measured on a busy machine (%s); ringed in red on line charts, marked NOISY under bars.", n, len(files), Printable(strings.Join(names, ", ")))
}
