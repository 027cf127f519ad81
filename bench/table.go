package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
)

// Label names a result's server as the catalogue does: the backend, with
// poller.EdgeSuffix when it ran edge-triggered.
func Label(p result.Params) string {
	if p.Extra["edge"] == "true" {
		return p.Backend + poller.EdgeSuffix
	}
	return p.Backend
}

// Table prints one row per result, in 100 columns: throughput, latency,
// CPU per round trip on both sides, short writes and poller behaviour,
// memory and integrity, with footnotes for what the figures hide.
func Table(w io.Writer, results []*result.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
	var partial, saturated, noServer, overflow, late, gated, noisy bool
	// Names read best left-aligned; tabwriter aligns every column alike,
	// so pad them here.
	width := len("backend")
	for _, r := range results {
		n := len(Label(r.Params))
		if r.Partial {
			n++
		}
		width = max(width, n)
	}
	// --percentiles adds its points after p99.9, in the order asked.
	var extra []float64
	for _, r := range results {
		for _, p := range r.Latency.Percentiles {
			if !slices.Contains(extra, p.Percent) {
				extra = append(extra, p.Percent)
			}
		}
	}
	var extraHead, extraPad string
	for _, p := range extra {
		extraHead += "\tp" + strconv.FormatFloat(p, 'f', -1, 64)
		extraPad += "\t"
	}
	fmt.Fprint(tw, spaced("%-*s\trt/s\tp50\tp99\tp99.9%s\tmax\tserver\tgen\tshort\teagain\twaits\tsys\trss\tinteg\t\n", width, "backend", extraHead))
	fmt.Fprint(tw, spaced("%-*s\t\t\t\t%s\t\tµs/rt\tµs/rt\t/write\t/write\t/rt\t/rt\t/conn\terrs\t\n", width, "", extraPad))
	for _, r := range results {
		name := Label(r.Params)
		if r.Partial {
			name += "*"
			partial = true
		}

		name = fmt.Sprintf("%-*s", width, name)
		gen := fmt.Sprintf("%.1f", r.Generator.CPU.PerRTus)
		if r.Lacks(result.UnavailableGenThreadCPU) {
			gen = "n/a"
		}
		switch {
		case r.Generator.Saturated:
			gen += "!"
			saturated = true
		case r.Generator.SendLate:
			// Within the column's width: a saturated generator sends
			// late anyway, and its row's open-loop note says by how much.
			gen += "?"
			late = true
		}
		srv, short, eagain, waits, sys, rss := "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"
		if s := r.Server; s != nil {
			srv = fmt.Sprintf("%.1f", s.Process.PerRTus)
			if s.LoopThread != nil {
				srv += fmt.Sprintf("/%.1f", s.LoopThread.PerRTus)
			}
			if s.IO.Writes > 0 {
				short = fmt.Sprintf("%.3f", s.Rates.ShortWritesPerWrite)
				eagain = fmt.Sprintf("%.3f", s.Rates.WriteEAGAINPerWrite)
			}
			if s.IO.Waits > 0 {
				waits = fmt.Sprintf("%.2f", s.Rates.WaitsPerRT)
				if s.Rates.WaitsPerRT < 0.1 {
					waits = fmt.Sprintf("%.3f", s.Rates.WaitsPerRT)
				}
			}
			if s.IO.Syscalls > 0 {
				sys = fmt.Sprintf("%.2f", s.Rates.SyscallsPerRT)
			}
			// Zero is a finding (the connections added less than the
			// runtime gave back meanwhile); n/a is no base to subtract.
			if s.RSSBase > 0 && s.RSS > 0 {
				rss = fmtBytes(s.RSSPerConn)
			}
		} else {
			noServer = true
		}
		rate := fmtCount(r.Throughput)
		if r.Noise != nil && r.Noise.Noisy {
			// A figure the neighbours moved gets no decimal, and a mark.
			rate = fmtRough(r.Throughput) + "~"
			noisy = true
		}
		p50 := fmtNs(r.Latency.P50)
		if r.Latency.Count > 0 && r.Latency.Count < result.MinSamples(99.9) {
			gated = true
		}
		maxv := fmtNs(r.Latency.Max)
		if r.Latency.Overflow > 0 {
			maxv = ">" + maxv
			overflow = true
		}
		var extraCols string
		for _, p := range extra {
			v := "-"
			for _, q := range r.Latency.Percentiles {
				if q.Percent == p {
					v = fmtNs(q.Value)
				}
			}
			extraCols += "\t" + v
		}
		fmt.Fprint(tw, spaced("%s\t%s\t%s\t%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			name, rate, p50, fmtNs(r.Latency.P99), fmtNs(r.Latency.P999), extraCols,
			maxv, srv, gen, short, eagain, waits, sys, rss, r.Integrity.Errors()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	notes = append(notes, "server µs/rt: process/loop thread CPU per round trip; short, eagain, waits: server side;\nsys: system calls per round trip, counted by the server's loop (waits, reads, writes, ring enters);\nrss: server memory the connections added, per connection, idle ones included")
	if partial {
		notes = append(notes, "*: stopped early (Ctrl-C or a fault), figures cover a shortened window")
	}
	if noisy {
		n := "~: noisy machine, other processes' (and the hypervisor's) CPU during the window:"
		for _, r := range results {
			if r.Noise != nil && r.Noise.Noisy {
				n += fmt.Sprintf("\n  %s %.2f CPUs (steal %.2f, load average %.2f at the start)", Label(r.Params), r.Noise.ForeignCPU, r.Noise.StealCPU, r.Noise.LoadAvg)
			}
		}
		notes = append(notes, n)
	}
	if saturated {
		notes = append(notes, "!: generator saturated (its loop CPU near 100%): it may have limited the run")
	}
	if late {
		notes = append(notes, "?: generator sent open-loop messages late (lateness p99 above 10% of p50):\n  the latency describes the generator's timing, not the server")
	}
	notes = append(notes, samplesNote(results, gated))
	if overflow {
		notes = append(notes, ">: latencies above the histogram's 60 s range")
	}
	if noServer {
		notes = append(notes, "n/a: no server figures (no control channel, or it failed)")
	}
	if n := unavailableNote(results); n != "" {
		notes = append(notes, n)
	}
	for _, r := range results {
		if n := spreadNote(r); n != "" {
			notes = append(notes, n)
		}
		if m := r.Integrity.MissingConns; m > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d of %d connections missing (closed, or never accepted, by the server)",
				Label(r.Params), m, r.Params.Conns+r.Params.Idle))
		}
		if s := r.Server; s != nil && s.Accepts != nil && (s.Accepts.Refused() > 0 || s.Accepts.Pauses > 0) {
			a := s.Accepts
			notes = append(notes, fmt.Sprintf("%s: server accepts: %d taken, %d EMFILE, %d ENFILE, %d pauses, %d dropped, %d other errors",
				Label(r.Params), a.Accepted, a.EMFILE, a.ENFILE, a.Pauses, a.Dropped, a.Errors))
		}
		if s := r.Server; s != nil && s.BudgetPauses > 0 {
			notes = append(notes, fmt.Sprintf("%s: server stopped reading %d times, its write buffers together at the output budget",
				Label(r.Params), s.BudgetPauses))
		}
		if r.TargetRate > 0 {
			n := fmt.Sprintf("%s: open loop, %s of the %s rt/s target achieved;\n  latency from intended send times",
				Label(r.Params), fmtCount(r.Throughput), fmtCount(r.TargetRate))
			if u := r.LatencyUncorrected; u != nil {
				n += fmt.Sprintf(" (from actual sends: p50 %s, p99 %s)", fmtNs(u.P50), fmtNs(u.P99))
			}
			if l := r.SendLateness; l != nil {
				n += fmt.Sprintf(";\n  sends late by p50 %s, p99 %s", fmtNs(l.P50), fmtNs(l.P99))
				if f := r.SendLatenessFloor; f != nil {
					n += fmt.Sprintf(" (the CPU's own gaps: p99 %s)", fmtNs(f.P99))
				}
				if r.Generator.SendLate {
					n += ": too late to trust the latency"
				}
			}
			notes = append(notes, n)
		}
		if r.Generator.Spin {
			notes = append(notes, Label(r.Params)+": generator busy-polled (--gen-spin): its CPU is a whole core")
		}
		if e := r.Params.Extra[result.ExtraEmulation]; e != "" {
			notes = append(notes, fmt.Sprintf("%s: ran on %s, over another mechanism: not a %s figure", Label(r.Params), e, r.Params.Backend))
		}
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// spreadNote says how a multi-loop server's connections spread over its
// loops, in loop order, and how the loops shared the port.
func spreadNote(r *result.Result) string {
	if r.Server == nil || len(r.Server.Options.LoopAccepts) < 2 {
		return ""
	}
	o := r.Server.Options
	counts := make([]string, len(o.LoopAccepts))
	for i, n := range o.LoopAccepts {
		counts[i] = strconv.FormatUint(n, 10)
	}
	mode := ""
	if o.Accept != "" {
		mode = " (" + o.Accept + ")"
	}
	sep := "/"
	if len(counts) > 8 {
		sep = " " // so that wrap can break the list
	}
	return wrap(fmt.Sprintf("%s: loops %d%s, connections per loop %s", Label(r.Params), len(o.LoopAccepts), mode, strings.Join(counts, sep)), 100)
}

// samplesNote lists each row's latency samples, wrapped to the table's
// width; gated says some row had too few for its tail percentiles.
func samplesNote(results []*result.Result, gated bool) string {
	var b strings.Builder
	line := "latency samples:"
	for i, r := range results {
		item := fmt.Sprintf(" %s %s", Label(r.Params), fmtCount(float64(r.Latency.Count)))
		if i < len(results)-1 {
			item += ","
		}
		if len(line)+len(item) > 98 {
			b.WriteString(line + "\n")
			line = " "
		}
		line += item
	}
	b.WriteString(line)
	if gated {
		b.WriteString("\n  -: too few samples for that percentile (p99 needs 100, p99.9 1,000)")
	}
	return b.String()
}

// spaced formats one line of tab-separated cells and puts a space before
// every cell but the first: the columns apart, the table flush left.
func spaced(format string, a ...any) string {
	line := strings.TrimSuffix(fmt.Sprintf(format, a...), "\t\n")
	return strings.ReplaceAll(line, "\t", "\t ") + "\t\n"
}

// unavailableWords say what each missing figure means for the table.
var unavailableWords = []struct{ name, words string }{
	{result.UnavailablePinning, "CPU pinning (server and generator ran unpinned)"},
	{result.UnavailableServerCPU, "the server's CPU"},
	{result.UnavailableServerThreadCPU, "the server's loop-thread CPU"},
	{result.UnavailableServerRSS, "the server's RSS (rss n/a)"},
	{result.UnavailableGenThreadCPU, "generator CPU per loop (gen n/a, saturation unchecked)"},
}

// unavailableNote names, once, what the platform could not give any of
// the runs.
func unavailableNote(results []*result.Result) string {
	var missing []string
	osName := ""
	for _, u := range unavailableWords {
		for _, r := range results {
			if r.Lacks(u.name) {
				missing = append(missing, u.words)
				osName = r.Env.OS
				break
			}
		}
	}
	if len(missing) == 0 {
		return ""
	}
	if osName == "" {
		osName = "this platform"
	}
	return wrap("not available on "+osName+": "+strings.Join(missing, ", "), 100)
}

// wrap breaks s at spaces into lines of at most width, the later ones
// indented by two.
func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case line+1+len(w) > width:
			b.WriteString("\n  ")
			line = 2
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// fmtNs prints a latency in at most five columns, with summary.md's
// units.
func fmtNs(ns int64) string {
	v := float64(ns)
	switch {
	case ns <= 0:
		return "-"
	case ns < 1_000:
		return fmt.Sprintf("%dns", ns)
	case ns < 9_950:
		return fmt.Sprintf("%.1fµs", v/1e3)
	case ns < 999_500:
		return fmt.Sprintf("%.0fµs", v/1e3)
	case ns < 9_950_000:
		return fmt.Sprintf("%.1fms", v/1e6)
	case ns < 999_500_000:
		return fmt.Sprintf("%.0fms", v/1e6)
	case ns < 9_950_000_000:
		return fmt.Sprintf("%.1fs", v/1e9)
	default:
		return fmt.Sprintf("%.0fs", v/1e9)
	}
}

// fmtRough is fmtCount without the decimal of thousands.
func fmtRough(v float64) string {
	if v >= 1e4 && v < 1e6 {
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmtCount(v)
}

func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// fmtBytes prints a size in binary units, as summary.md does, in at most
// seven characters.
func fmtBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i > 0 && b < 10 {
		return fmt.Sprintf("%.1f%s", b, units[i])
	}
	return fmt.Sprintf("%.0f%s", b, units[i])
}
