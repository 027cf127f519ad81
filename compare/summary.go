package compare

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Table is one sweep of the comparison as summary.md prints it. It is the
// one place the summary's figures are computed, for every page that shows
// them.
type Table struct {
	Title   string
	Columns []Column
	Rows    []Row
}

// Column heads a table column.
type Column struct {
	Name    string
	Numeric bool // sorted by Cell.Sort rather than by text
}

// Row is one point and backend: the median over its runs.
type Row struct {
	Point   string
	Backend string
	Cells   []Cell
	// Noisy counts the runs measured on a busy machine.
	Noisy int
	// Files are the result files of the runs.
	Files []string
}

// Cell is a value as printed and, for numeric columns, as sorted (the
// median; NaN when there is none).
type Cell struct {
	Text string
	Sort float64
	// Lo and Hi are the range the text gives in brackets (Sort when none),
	// N the runs behind the median.
	Lo, Hi float64
	N      int
}

// FailedRun is a result kept out of the charts and tables.
type FailedRun struct {
	File   string
	Point  string
	Reason string
}

// columns of every table, in order: the point, its runs, each metric
// of data points (report.Metrics), notes.
func columns() []Column {
	cols := []Column{{"point", false}, {"backend", false}, {"runs", true}}
	for _, m := range tableMetrics() {
		cols = append(cols, Column{m.Name, true})
	}
	return append(cols, Column{"notes", false})
}

// tableMetrics are the metrics a table of data points shows: not those
// whose figure fails a run, since failed runs are left out.
func tableMetrics() []*report.Metric {
	var ms []*report.Metric
	for _, m := range report.Metrics {
		if !m.Fails {
			ms = append(ms, m)
		}
	}
	return ms
}

// Tables groups results by sweep, one row per point and backend, points
// in sweep order and backends in legend order. Failed results are left
// out (see Failed).
func Tables(files []chart.File) []Table {
	files, _ = chart.Split(files)
	pal := chart.PaletteOf(files)
	var out []Table
	for _, sec := range chart.Sections(files) {
		type group struct {
			label, backend string
			order          int
			rs             []*result.Result
			files          []string
		}
		groups := map[string]*group{}
		var keys []string
		for i, f := range sec.Files {
			k := sec.Label(f.Result) + "\x00" + f.Params.Backend
			if groups[k] == nil {
				groups[k] = &group{label: sec.Label(f.Result), backend: f.Params.Backend, order: i}
				keys = append(keys, k)
			}
			groups[k].rs = append(groups[k].rs, f.Result)
			groups[k].files = append(groups[k].files, f.Path)
		}
		first := map[string]int{}
		for _, k := range keys {
			g := groups[k]
			if o, ok := first[g.label]; !ok || g.order < o {
				first[g.label] = g.order
			}
		}
		var names []string
		for _, k := range keys {
			names = append(names, groups[k].backend)
		}
		pal.Order(names)
		rank := map[string]int{}
		for i, n := range names {
			if _, ok := rank[n]; !ok {
				rank[n] = i
			}
		}
		sort.SliceStable(keys, func(i, j int) bool {
			a, c := groups[keys[i]], groups[keys[j]]
			if first[a.label] != first[c.label] {
				return first[a.label] < first[c.label]
			}
			return rank[a.backend] < rank[c.backend]
		})
		t := Table{Title: sec.Title, Columns: columns()}
		for _, k := range keys {
			g := groups[k]
			r := row(g.label, g.backend, g.rs)
			r.Files = g.files
			t.Rows = append(t.Rows, r)
		}
		out = append(out, t)
	}
	return out
}

// Failed lists the failed results among files, with their reasons.
func Failed(files []chart.File) []FailedRun {
	_, failed := chart.Split(files)
	var out []FailedRun
	for _, f := range failed {
		p := f.Params
		out = append(out, FailedRun{
			File:   f.Path,
			Point:  fmt.Sprintf("%s, %d conns + %d idle, %s messages", p.Backend, p.Conns, p.Idle, report.Bytes(float64(p.MsgSize))),
			Reason: chart.Failure(f.Result),
		})
	}
	return out
}

func row(label, backend string, rs []*result.Result) Row {
	notes, noisy := rowNotes(rs)
	cells := []Cell{{Text: label}, {Text: backend}, {Text: fmt.Sprint(len(rs)), Sort: float64(len(rs))}}
	for _, m := range tableMetrics() {
		cells = append(cells, metricCell(m, rs))
	}
	cells = append(cells, Cell{Text: strings.Join(notes, "; ")})
	return Row{Point: label, Backend: backend, Cells: cells, Noisy: noisy}
}

// metricCell is m's figure of a point from its runs: the median (or as
// m.Repeats says), with the spread in brackets where m has one and
// there are repeats: the median's 95% CI with 6 or more, else min-max.
func metricCell(m *report.Metric, rs []*result.Result) Cell {
	s := m.Repeats.Of(values(rs, m.Get))
	if s.N == 0 {
		return Cell{Text: "–", Sort: nan}
	}
	c := Cell{Text: m.Format.Full(s.Med), Sort: s.Med, Lo: s.Med, Hi: s.Med, N: s.N}
	if m.Spread && s.N > 1 {
		c.Lo, c.Hi = s.Lo, s.Hi
		lo, hi := m.Format.Full(s.Lo), m.Format.Full(s.Hi)
		// One unit for both ends: "(19.9–20.3 µs)".
		if i := strings.LastIndexByte(lo, ' '); i > 0 && strings.HasSuffix(hi, lo[i:]) {
			lo = lo[:i]
		}
		c.Text += " (" + lo + "–" + hi + ")"
	}
	return c
}

func rowNotes(rs []*result.Result) (notes []string, noisy int) {
	partial, saturated, overflow, reruns := 0, 0, int64(0), 0
	foreign := 0.0
	for _, r := range rs {
		if r.Partial {
			partial++
		}
		if r.Generator.Saturated {
			saturated++
		}
		overflow += r.Latency.Overflow
		if r.Noise != nil && r.Noise.Noisy {
			noisy++
			foreign = max(foreign, r.Noise.ForeignCPU+r.Noise.StealCPU)
		}
		reruns += rerunsOf(r)
	}
	if noisy > 0 {
		notes = append(notes, fmt.Sprintf("NOISY: %d of %d runs on a busy machine (up to %.2f CPUs used by others)", noisy, len(rs), foreign))
	}
	if reruns > 0 {
		notes = append(notes, fmt.Sprintf("%d noisy attempts rerun", reruns))
	}
	if partial > 0 {
		notes = append(notes, fmt.Sprintf("%d partial", partial))
	}
	if saturated > 0 {
		notes = append(notes, fmt.Sprintf("generator saturated in %d", saturated))
	}
	// What the platform could not give (pinning, RSS, thread CPU) is said,
	// not shown as a zero.
	var lacking []string
	for _, r := range rs {
		for _, u := range r.Unavailable {
			if !slices.Contains(lacking, u) {
				lacking = append(lacking, u)
			}
		}
	}
	if len(lacking) > 0 {
		notes = append(notes, "unavailable here: "+strings.Join(lacking, ", "))
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
	if sh := report.Summarize(shares); sh.N > 0 && sh.Min < 0.95 {
		// Open loop that fell behind its schedule: the server (or the
		// machine) could not keep up with the offered load.
		notes = append(notes, fmt.Sprintf("achieved %.0f%% of the target rate (lowest run)", 100*sh.Min))
	}
	if overflow > 0 {
		notes = append(notes, fmt.Sprintf("%d samples above histogram range", overflow))
	}
	// Open loop: how punctual the sends were, beside how punctual the
	// machine lets any sender be (medians over the runs).
	l := chart.SendLateness(rs)
	if l.P99.N > 0 {
		n := "sends late by p99 " + report.Duration(l.P99.Med)
		if l.Floor.N > 0 {
			n += ", a loop that only kept its timing p99 " + report.Duration(l.Floor.Med)
		}
		notes = append(notes, n)
	}
	if l.Late > 0 {
		notes = append(notes, fmt.Sprintf("generator sent late in %d (lateness p99 over a tenth of p50)", l.Late))
	}
	return notes, noisy
}

// relTo names path relative to dir where it lies below it.
func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// rerunsOf is how many noisy attempts at r's point compare ran again
// before it kept r.
func rerunsOf(r *result.Result) int {
	n, err := strconv.Atoi(r.Params.Extra[ExtraReruns])
	if err != nil || n < 0 {
		return 0
	}
	return n
}
