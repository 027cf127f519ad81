package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

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

// Width is the terminal table's: columns beyond it continue in a block
// of their own below, each row named again.
const Width = 100

// Table prints one row per result, a column per metric with a Head, in
// Width columns, with notes for what the figures hide.
func Table(w io.Writer, results []*result.Result) error {
	cols := tableColumns(results)
	names := make([]string, len(results))
	nameWidth := len("backend")
	for i, r := range results {
		names[i] = Label(r.Params)
		if r.Partial {
			names[i] += "*"
		}
		nameWidth = max(nameWidth, utf8.RuneCountInString(names[i]))
	}
	cells := make([][]string, len(results))
	widths := make([]int, len(cols))
	for j, m := range cols {
		widths[j] = max(utf8.RuneCountInString(m.Head[0]), utf8.RuneCountInString(m.Head[1]))
	}
	for i, r := range results {
		for j, m := range cols {
			c := compactCell(m, r)
			cells[i] = append(cells[i], c)
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	for b, block := range blocks(nameWidth, widths) {
		if b > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
		var head [2]string
		for _, j := range block {
			head[0] += "\t" + cols[j].Head[0]
			head[1] += "\t" + cols[j].Head[1]
		}
		fmt.Fprint(tw, spaced("%-*s%s\t\n", nameWidth, "backend", head[0]))
		if strings.Trim(head[1], "\t") != "" {
			fmt.Fprint(tw, spaced("%-*s%s\t\n", nameWidth, "", head[1]))
		}
		for i := range results {
			line := ""
			for _, j := range block {
				line += "\t" + cells[i][j]
			}
			fmt.Fprint(tw, spaced("%-*s%s\t\n", nameWidth, names[i], line))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range tableNotes(results, cols) {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// tableColumns are the metrics with a column, --percentiles' points
// after p99.9 in the order asked.
func tableColumns(results []*result.Result) []*Metric {
	var extra []float64
	for _, r := range results {
		for _, p := range r.Latency.Percentiles {
			if !slices.Contains(extra, p.Percent) {
				extra = append(extra, p.Percent)
			}
		}
	}
	var cols []*Metric
	for _, m := range Metrics {
		if m.Head[0] != "" {
			cols = append(cols, m)
		}
		if m == P999 {
			for _, p := range extra {
				cols = append(cols, Percentile(p))
			}
		}
	}
	return cols
}

// compactCell is m's figure of r as the terminal table prints it.
func compactCell(m *Metric, r *result.Result) string {
	v, ok := m.Get(r)
	cell := m.Format.None
	if ok {
		cell = m.Format.Compact(v)
	}
	if m.Mark != nil {
		cell = m.Mark(r, v, cell)
	}
	return cell
}

// blocks splits the columns, in order, into blocks that fit Width beside
// the name column, each column a space apart.
func blocks(nameWidth int, widths []int) [][]int {
	var out [][]int
	var cur []int
	used := nameWidth
	for j, w := range widths {
		if len(cur) > 0 && used+1+w > Width {
			out = append(out, cur)
			cur, used = nil, nameWidth
		}
		cur = append(cur, j)
		used += 1 + w
	}
	return append(out, cur)
}

// tableNotes say what the columns are and what the figures hide.
func tableNotes(results []*result.Result, cols []*Metric) []string {
	var partial, saturated, noServer, overflow, late, gated, noisy bool
	for _, r := range results {
		partial = partial || r.Partial
		saturated = saturated || r.Generator.Saturated
		late = late || (r.Generator.SendLate && !r.Generator.Saturated)
		noServer = noServer || r.Server == nil
		overflow = overflow || r.Latency.Overflow > 0
		gated = gated || (r.Latency.Count > 0 && r.Latency.Count < result.MinSamples(99.9))
		noisy = noisy || Noisy(r)
	}
	notes := []string{columnsNote(cols)}
	if partial {
		notes = append(notes, "*: stopped early (Ctrl-C or a fault), figures cover a shortened window")
	}
	if noisy {
		n := "~: noisy machine, other processes' (and the hypervisor's) CPU during the window:"
		for _, r := range results {
			if Noisy(r) {
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
		notes = append(notes, rowNotes(r)...)
	}
	return notes
}

// columnsNote says what the columns that need it are, those with one
// meaning together.
func columnsNote(cols []*Metric) string {
	var parts []string
	for j := 0; j < len(cols); j++ {
		if cols[j].Doc == "" {
			continue
		}
		heads := []string{cols[j].Head[0]}
		for j+1 < len(cols) && cols[j+1].Doc == cols[j].Doc {
			j++
			heads = append(heads, cols[j].Head[0])
		}
		parts = append(parts, strings.Join(heads, ", ")+": "+cols[j].Doc)
	}
	// A part to a line where the next does not fit.
	var b strings.Builder
	line := 0
	for i, p := range parts {
		if i < len(parts)-1 {
			p += ";"
		}
		switch n := utf8.RuneCountInString(p); {
		case i == 0:
		case line+1+n > Width:
			b.WriteByte('\n')
			line = 0
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(p)
		line += utf8.RuneCountInString(p)
	}
	return b.String()
}

// rowNotes are one row's notes: how its loops shared the connections,
// what its server lacked or refused, the metrics without a column that
// are not zero, and its open loop.
func rowNotes(r *result.Result) []string {
	var notes []string
	name := Label(r.Params)
	if n := spreadNote(r); n != "" {
		notes = append(notes, n)
	}
	if m := r.Integrity.MissingConns; m > 0 {
		notes = append(notes, fmt.Sprintf("%s: %d of %d connections missing (closed, or never accepted, by the server)",
			name, m, r.Params.Conns+r.Params.Idle))
	}
	if s := r.Server; s != nil && s.Accepts != nil && (s.Accepts.Refused() > 0 || s.Accepts.Pauses > 0) {
		a := s.Accepts
		notes = append(notes, fmt.Sprintf("%s: server accepts: %d taken, %d EMFILE, %d ENFILE, %d pauses, %d dropped, %d other errors",
			name, a.Accepted, a.EMFILE, a.ENFILE, a.Pauses, a.Dropped, a.Errors))
	}
	for _, m := range Metrics {
		if v, ok := m.Get(r); ok && v != 0 && m.Head[0] == "" && m.Note != nil {
			notes = append(notes, wrap(name+": "+m.Note(r, v), Width))
		}
	}
	if r.TargetRate > 0 {
		notes = append(notes, openLoopNote(r))
	}
	if r.Generator.Spin {
		notes = append(notes, name+": generator busy-polled (--gen-spin): its CPU is a whole core")
	}
	if e := r.Params.Extra[result.ExtraEmulation]; e != "" {
		notes = append(notes, fmt.Sprintf("%s: ran on %s, over another mechanism: not a %s figure", name, e, r.Params.Backend))
	}
	return notes
}

// openLoopNote says how close an open-loop run came to its schedule, and
// how punctually it sent.
func openLoopNote(r *result.Result) string {
	n := fmt.Sprintf("%s: open loop, %s of the %s rt/s target achieved;\n  latency from intended send times",
		Label(r.Params), compactCount(r.Throughput), compactCount(r.TargetRate))
	if u := r.LatencyUncorrected; u != nil {
		n += fmt.Sprintf(" (from actual sends: p50 %s, p99 %s)", compactNs(float64(u.P50)), compactNs(float64(u.P99)))
	}
	if l := r.SendLateness; l != nil {
		n += fmt.Sprintf(";\n  sends late by p50 %s, p99 %s", compactNs(float64(l.P50)), compactNs(float64(l.P99)))
		if f := r.Floor(); f != nil && f.Sends > 0 {
			n += fmt.Sprintf(" (a loop that only paced itself so: p99 %s)", compactNs(float64(f.P99)))
		} else if f != nil {
			n += fmt.Sprintf(" (the CPU's own gaps: p99 %s)", compactNs(float64(f.P99)))
		}
		if r.Generator.SendLate {
			n += ": too late to trust the latency"
		}
	}
	return n
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
		item := fmt.Sprintf(" %s %s", Label(r.Params), compactCount(float64(r.Latency.Count)))
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
