package compare

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"golang.org/x/perf/benchmath"
)

// Worse is a figure that got significantly worse at a point: by Pct
// percent in the direction its metric counts as worse.
type Worse struct {
	Metric *report.Metric
	Point  string
	Pct, P float64
}

// Diff writes, per metric and point found in both sets, the medians of
// old and new and the change, benchstat's way: a Mann-Whitney U test of
// the runs (golang.org/x/perf/benchmath), "~" when the difference is not
// significant at alpha 0.05, with the p-value and the run counts. It
// returns the figures that got significantly worse.
func Diff(w io.Writer, old, neu []chart.File) ([]Worse, error) {
	old, oldFailed := chart.Split(old)
	neu, newFailed := chart.Split(neu)
	// Points match by PointKey: an open-loop point of compare's is a
	// share of each set's own capacity, so its sweep matches, not its
	// rate.
	group := func(files []chart.File) map[string][]*result.Result {
		m := map[string][]*result.Result{}
		for _, f := range files {
			k := chart.PointName(f.PointKey())
			m[k] = append(m[k], f.Result)
		}
		return m
	}
	og, ng := group(old), group(neu)
	var keys, onlyOld, onlyNew []string
	for k := range og {
		if _, ok := ng[k]; ok {
			keys = append(keys, k)
		} else {
			onlyOld = append(onlyOld, k)
		}
	}
	for k := range ng {
		if _, ok := og[k]; !ok {
			onlyNew = append(onlyNew, k)
		}
	}
	if len(keys) == 0 {
		return nil, chart.BadInput(errors.New("no point is in both sets: nothing to compare"))
	}
	sort.Strings(keys)
	sort.Strings(onlyOld)
	sort.Strings(onlyNew)
	fmt.Fprintf(w, "old: %s\nnew: %s\n", chart.MachineLine(old), chart.MachineLine(neu))
	worse, few, err := diffTable(w, og, ng, keys)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nMedians; ± is the 95%% confidence interval of the median (∞ with fewer than 6 runs). "+
		"A change is shown where a Mann-Whitney U test finds it significant (p < %g), \"~\" otherwise.\n", benchmath.DefaultThresholds.CompareAlpha)
	if few {
		fmt.Fprintln(w, "Too few runs to tell a difference in some rows: a difference needs at least 4 runs a side at p < 0.05 (muxbench compare --repeat 5).")
	}
	if len(oldFailed)+len(newFailed) > 0 {
		fmt.Fprintf(w, "Failed runs left out: %d in old, %d in new.\n", len(oldFailed), len(newFailed))
	}
	if len(onlyOld) > 0 {
		fmt.Fprintf(w, "Only in old: %s.\n", strings.Join(onlyOld, "; "))
	}
	if len(onlyNew) > 0 {
		fmt.Fprintf(w, "Only in new: %s.\n", strings.Join(onlyNew, "; "))
	}
	return worse, nil
}

// diffTable writes a section per metric, a row per point of keys, and
// returns the figures that got significantly worse, and whether some row
// had too few runs to tell.
func diffTable(w io.Writer, og, ng map[string][]*result.Result, keys []string) (worse []Worse, few bool, err error) {
	thr := benchmath.DefaultThresholds
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range tableMetrics() {
		head := true
		for _, k := range keys {
			ov, nv := values(og[k], m.Get), values(ng[k], m.Get)
			if len(ov) == 0 || len(nv) == 0 {
				continue
			}
			if head {
				fmt.Fprintf(tw, "\n%s\told\t\tnew\t\tvs old\n", m.Name)
				head = false
			}
			so, sn := benchmath.NewSample(ov, &thr), benchmath.NewSample(nv, &thr)
			osum := benchmath.AssumeNothing.Summary(so, report.Confidence)
			nsum := benchmath.AssumeNothing.Summary(sn, report.Confidence)
			cmp := benchmath.AssumeNothing.Compare(so, sn)
			few = few || len(cmp.Warnings) > 0
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s (%s)\n", k,
				m.Format.Full(osum.Center), spread(osum), m.Format.Full(nsum.Center), spread(nsum),
				cmp.FormatDelta(osum.Center, nsum.Center), cmp)
			if cmp.P < cmp.Alpha && m.Worse(osum.Center, nsum.Center) {
				worse = append(worse, Worse{Metric: m, Point: k, Pct: change(osum.Center, nsum.Center), P: cmp.P})
			}
		}
	}
	return worse, few, tw.Flush()
}

// change is how far new is from old, in percent of old.
func change(old, neu float64) float64 {
	if old == 0 {
		return math.Inf(1)
	}
	return math.Abs(neu-old) / math.Abs(old) * 100
}

func values(rs []*result.Result, get func(*result.Result) (float64, bool)) []float64 {
	var vs []float64
	for _, r := range rs {
		if v, ok := get(r); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	return vs
}

// spread is benchstat's "± 3%" (or "± ∞" when the runs give no interval).
func spread(s benchmath.Summary) string {
	return "± " + s.PctRangeString()
}

const diffUsage = `usage: muxbench diff [--allow-mixed] [--fail-over PCT] OLD NEW

Compares two sets of results point by point, as benchstat does: for every
metric, the median of each and the change, with "~" where a Mann-Whitney
U test finds no significant difference. OLD and NEW are result JSON files
or directories holding them (a comparison's json/ directory). With
--fail-over, the exit status is 1 when a figure got significantly worse
by more than PCT percent (higher for CPU, latency, system calls; lower
for throughput), for a CI gate.`

// DiffCommand is `muxbench diff OLD NEW`. Exit status 1 means a figure
// got worse beyond --fail-over, 2 bad usage or input.
func DiffCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("diff", diffUsage, stdout)
	allowMixed := fs.Bool("allow-mixed", false, "pool, within OLD or NEW, results of several machines or muxbench versions, or one point measured with different settings")
	failOver := fs.Float64("fail-over", 0, "exit 1 when a figure got significantly worse by more than `PCT` percent, in the direction its metric counts as worse")
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	gate := false
	fs.Visit(func(f *flag.Flag) { gate = gate || f.Name == "fail-over" })
	if gate && !(*failOver >= 0 && !math.IsInf(*failOver, 0)) {
		return cli.Exit(fs.Name(), cli.Usagef("--fail-over %g: want a percentage of 0 or more", *failOver), stderr)
	}
	if fs.NArg() != 2 {
		return cli.Exit(fs.Name(), cli.Usagef("want two result sets, OLD and NEW, got %d (usage: muxbench diff OLD NEW)", fs.NArg()), stderr)
	}
	var sets [2][]chart.File
	for i, arg := range fs.Args() {
		files, err := chart.Load(arg)
		files, again := chart.Once(files)
		for _, a := range again {
			fmt.Fprintln(stderr, "muxbench diff:", a)
		}
		if err == nil && !*allowMixed {
			err = chart.CheckMixed(files)
		}
		if err != nil {
			fmt.Fprintln(stderr, "muxbench diff:", err)
			return 2
		}
		sets[i] = files
	}
	worse, err := Diff(stdout, sets[0], sets[1])
	if err != nil {
		fmt.Fprintln(stderr, "muxbench diff:", err)
		if errors.Is(err, chart.ErrInput) {
			return 2
		}
		return 1
	}
	if gate && failed(stdout, worse, *failOver) {
		fmt.Fprintf(stderr, "muxbench diff: figures worse by more than %g%%, listed at the end\n", *failOver)
		return 1
	}
	return 0
}

// failed lists the figures worse by more than pct, and says whether any
// was.
func failed(w io.Writer, worse []Worse, pct float64) bool {
	n := 0
	for _, x := range worse {
		if x.Pct > pct {
			if n == 0 {
				fmt.Fprintf(w, "\nWorse by more than %g%%:\n", pct)
			}
			n++
			fmt.Fprintf(w, "  %s: %s, %.1f%% worse (p=%.3f)\n", x.Point, x.Metric.Name, x.Pct, x.P)
		}
	}
	return n > 0
}
