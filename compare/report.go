package compare

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/result"
)

// Report writes the comparison table as Markdown: one table per sweep, one
// row per point and backend, medians over the repeats (throughput also
// with its min-max spread).
func Report(w io.Writer, files []chart.File) error {
	var b strings.Builder
	for _, sec := range chart.Sections(files) {
		fmt.Fprintf(&b, "### %s\n\n", sec.Title)
		b.WriteString("| point | backend | runs | round trips/s (min-max) | p50 | p99 | p99.9 | server CPU µs/rt | generator CPU µs/rt | short writes/write | EAGAIN/write | RSS/conn | integrity errors | notes |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		type row struct {
			label, backend string
			order          int
			rs             []*result.Result
		}
		rows := map[string]*row{}
		var keys []string
		for i, f := range sec.Files {
			k := sec.Label(f.Result) + "\x00" + f.Params.Backend
			if rows[k] == nil {
				rows[k] = &row{label: sec.Label(f.Result), backend: f.Params.Backend, order: i}
				keys = append(keys, k)
			}
			rows[k].rs = append(rows[k].rs, f.Result)
		}
		// Points in sweep order, backends in legend order within a point.
		first := map[string]int{}
		for _, k := range keys {
			r := rows[k]
			if o, ok := first[r.label]; !ok || r.order < o {
				first[r.label] = r.order
			}
		}
		var names []string
		for _, k := range keys {
			names = append(names, rows[k].backend)
		}
		chart.BackendOrder(names)
		rank := map[string]int{}
		for i, n := range names {
			if _, ok := rank[n]; !ok {
				rank[n] = i
			}
		}
		sort.SliceStable(keys, func(i, j int) bool {
			a, c := rows[keys[i]], rows[keys[j]]
			if first[a.label] != first[c.label] {
				return first[a.label] < first[c.label]
			}
			return rank[a.backend] < rank[c.backend]
		})
		for _, k := range keys {
			r := rows[k]
			b.WriteString(tableRow(r.label, r.backend, r.rs))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func tableRow(label, backend string, rs []*result.Result) string {
	med := func(get func(*result.Result) (float64, bool)) (chart.Stat, bool) {
		var vs []float64
		for _, r := range rs {
			if v, ok := get(r); ok {
				vs = append(vs, v)
			}
		}
		return chart.Summarize(vs), len(vs) > 0
	}
	server := func(get func(*result.Server) float64) func(*result.Result) (float64, bool) {
		return func(r *result.Result) (float64, bool) {
			if r.Server == nil {
				return 0, false
			}
			return get(r.Server), true
		}
	}
	lat := func(get func(result.Latency) int64) string {
		s, ok := med(func(r *result.Result) (float64, bool) { return float64(get(r.Latency)), get(r.Latency) > 0 })
		if !ok {
			return "–"
		}
		return Duration(s.Med)
	}
	num := func(get func(*result.Result) (float64, bool), f func(float64) string) string {
		s, ok := med(get)
		if !ok {
			return "–"
		}
		return f(s.Med)
	}
	tp, _ := med(func(r *result.Result) (float64, bool) { return r.Throughput, true })
	tps := chart.Human(tp.Med)
	if tp.N > 1 {
		tps += fmt.Sprintf(" (%s-%s)", chart.Human(tp.Min), chart.Human(tp.Max))
	}
	var errs uint64
	var notes []string
	partial, saturated, overflow := 0, 0, int64(0)
	for _, r := range rs {
		errs += r.Integrity.Errors()
		if r.Partial {
			partial++
		}
		if r.Generator.Saturated {
			saturated++
		}
		overflow += r.Latency.Overflow
	}
	if partial > 0 {
		notes = append(notes, fmt.Sprintf("%d partial", partial))
	}
	if saturated > 0 {
		notes = append(notes, fmt.Sprintf("generator saturated in %d", saturated))
	}
	var shares []float64
	for _, r := range rs {
		target := r.TargetRate
		if target == 0 {
			target = r.Params.Rate
		}
		if target > 0 {
			shares = append(shares, r.Throughput/target)
		}
	}
	if sh := chart.Summarize(shares); sh.N > 0 && sh.Min < 0.95 {
		// Open loop that fell behind its schedule: the server (or the
		// machine) could not keep up with the offered load.
		notes = append(notes, fmt.Sprintf("achieved %.0f%% of the target rate (lowest run)", 100*sh.Min))
	}
	if overflow > 0 {
		notes = append(notes, fmt.Sprintf("%d samples above histogram range", overflow))
	}
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	cells := []string{
		label, backend, fmt.Sprint(len(rs)), tps,
		lat(func(l result.Latency) int64 { return l.P50 }),
		lat(func(l result.Latency) int64 { return l.P99 }),
		lat(func(l result.Latency) int64 { return l.P999 }),
		num(server(func(s *result.Server) float64 { return s.Process.PerRTus }), f2),
		num(func(r *result.Result) (float64, bool) { return r.Generator.CPU.PerRTus, true }, f2),
		num(server(func(s *result.Server) float64 { return s.Rates.ShortWritesPerWrite }), f3),
		num(server(func(s *result.Server) float64 { return s.Rates.WriteEAGAINPerWrite }), f3),
		num(server(func(s *result.Server) float64 { return s.RSSPerConn }), chart.Bytes),
		fmt.Sprint(errs),
		strings.Join(notes, "; "),
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// Duration prints nanoseconds with three significant digits and the unit
// that keeps the number short (84.2 µs, 7.36 ms, 5.91 s).
func Duration(ns float64) string {
	v, unit := ns/1e3, "µs"
	switch {
	case ns >= 1e9:
		v, unit = ns/1e9, "s"
	case ns >= 1e6:
		v, unit = ns/1e6, "ms"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

const reportUsage = `usage: muxbench report RESULTS...

Prints the comparison table of saved results as Markdown. RESULTS are
result JSON files or directories holding them.`

// ReportCommand is `muxbench report RESULTS...`: the comparison table as
// Markdown on stdout. Exit status 2 means bad usage or input.
func ReportCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("report", reportUsage, stdout)
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	if fs.NArg() == 0 {
		return cli.Exit(fs.Name(), cli.Usagef("no result files given (usage: muxbench report RESULTS...)"), stderr)
	}
	files, err := chart.Load(fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "muxbench report:", err)
		if errors.Is(err, chart.ErrInput) {
			return 2
		}
		return 1
	}
	if err := Report(stdout, files); err != nil {
		fmt.Fprintln(stderr, "muxbench report:", err)
		return 1
	}
	return 0
}
