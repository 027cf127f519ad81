package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Keys in params.extra of a point that was run again because it was
// noisy: how many attempts were discarded, and the foreign CPU of each.
const (
	ExtraReruns    = "noise.reruns"
	ExtraDiscarded = "noise.discarded_foreign_cpu"
)

// Defaults of the wait for a quiet machine.
const (
	DefaultQuietBelow = 0.05
	DefaultQuietWait  = 20 * time.Second
	DefaultReruns     = 2
)

// Failure says why a result is no data point, "" when it is one.
func Failure(r *result.Result) string { return chart.Failure(r) }

func noisy(r *result.Result) bool { return r != nil && report.Noisy(r) }

// foreignOf is the CPU others took during r's window.
func foreignOf(r *result.Result) float64 {
	if r == nil || r.Noise == nil {
		return 0
	}
	return r.Noise.ForeignCPU + r.Noise.StealCPU
}

// NoisyRun is a run measured on a busy machine: kept in the tables and
// charts, and marked.
type NoisyRun struct {
	File, Point string
	// CPU is what other processes and the hypervisor took during it.
	CPU float64
}

// NoisyRuns lists the data points among files that were measured on a
// busy machine.
func NoisyRuns(files []chart.File) []NoisyRun {
	files, _ = chart.Split(files)
	var out []NoisyRun
	for _, f := range files {
		if noisy(f.Result) {
			point := chart.PointName(f.PointKey())
			if n := f.Params.Repeat; n > 0 {
				point += fmt.Sprintf(", run %d", n)
			}
			out = append(out, NoisyRun{File: f.Path, Point: point, CPU: foreignOf(f.Result)})
		}
	}
	return out
}

// noiseLine says how many of the runs were measured on a busy machine,
// and names the first few, for the head of summary.md and the page.
func noiseLine(files []chart.File) string {
	ok, _ := chart.Split(files)
	ns := NoisyRuns(files)
	if len(ns) == 0 {
		return fmt.Sprintf("Noise: none of the %d runs was measured on a busy machine.", len(ok))
	}
	var names []string
	most := 0.0
	for _, n := range ns {
		most = max(most, n.CPU)
		if len(names) < 4 {
			names = append(names, n.Point)
		}
	}
	if len(ns) > len(names) {
		names = append(names, "...")
	}
	return chart.Printable(fmt.Sprintf("NOISY: %d of %d runs were measured on a busy machine, other processes taking more CPU than the noise threshold (up to %.2f CPUs): %s. Their figures may say more about the neighbours than the server; they are marked in the tables and charts and listed under Noisy runs.",
		len(ns), len(ok), most, strings.Join(names, "; ")))
}

// quietState remembers that the machine did not get quiet within a wait,
// so that a machine busy for good costs one bounded wait, not one per
// run.
type quietState struct{ gaveUp bool }

// waitQuiet waits, within o.QuietWait, until other processes keep fewer
// than o.QuietBelow CPUs busy. After a wait that ran out it only checks,
// until the machine is quiet again.
func (o Options) waitQuiet(ctx context.Context, q *quietState, stderr io.Writer) {
	if o.Busy == nil {
		return
	}
	deadline := time.Now().Add(o.QuietWait)
	said := false
	for {
		busy, err := o.Busy(ctx)
		if err != nil || ctx.Err() != nil {
			return
		}
		if busy < o.QuietBelow {
			if said || q.gaveUp {
				fmt.Fprintf(stderr, "compare: the machine is quiet (%.2f CPUs used by others)\n", busy)
			}
			q.gaveUp = false
			return
		}
		if q.gaveUp {
			return
		}
		// Said first, so that a check slower than the whole wait still
		// tells what it waited for.
		if !said {
			fmt.Fprintf(stderr, "compare: waiting up to %s for a quiet machine (%.2f CPUs used by others, want below %.2f)\n",
				fmtDur(o.QuietWait), busy, o.QuietBelow)
			said = true
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "compare: the machine is still busy after %s (%.2f CPUs used by others); running anyway, noisy runs are marked\n",
				fmtDur(o.QuietWait), busy)
			q.gaveUp = true
			return
		}
	}
}

// attempt is one run of spec after waiting for a quiet machine, stopped
// if it hangs.
func (o Options) attempt(ctx context.Context, spec RunSpec, planned time.Duration, progress func(string), q *quietState, stderr io.Writer) (*result.Result, error) {
	o.waitQuiet(ctx, q, stderr)
	// A run that hangs must not stall the comparison: stop it long
	// after it should have ended and go on with the next.
	limit := 3*planned + hangGrace
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res, err := o.Runner(rctx, spec, progress)
	if rctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("stopped after %s (planned %s)", fmtDur(limit), fmtDur(planned))
	}
	if err == nil && res != nil && res.Partial {
		err = errors.New("interrupted before its window ended")
	}
	if err == nil && res == nil {
		err = errors.New("no result")
	}
	return res, err
}
