package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// hangGrace is added to three times a run's planned time before it is
// stopped as hung.
var hangGrace = time.Minute

// ErrInterrupted is returned by a comparison stopped before its end.
var ErrInterrupted = errors.New("interrupted")

// RunSpec is one run as the load generator needs it.
type RunSpec struct {
	Point
	// Rate is the open-loop schedule in round trips per second, 0 for a
	// closed loop.
	Rate     float64
	Duration time.Duration
	Warmup   time.Duration
}

// Runner measures one point. Progress lines are for the terminal.
type Runner func(ctx context.Context, spec RunSpec, progress func(string)) (*result.Result, error)

// Options of one comparison.
type Options struct {
	Backends []string
	Sweeps   Sweeps
	Budget   time.Duration
	Repeat   int // 0: chosen for the budget
	Out      string
	Resume   bool
	Limits   Limits
	Runner   Runner
	// Command is the command line recorded in summary.md.
	Command string
	// Verbose passes the generator's own progress lines through.
	Verbose bool

	noCharts bool // tests that check charts elsewhere
}

// Run carries out the plan: each run's result is saved as soon as it
// completes, so an interrupted comparison keeps what it measured, and
// Resume skips runs whose file is already there. Charts and summary.md
// are drawn at the end from everything in Out/json. Progress goes to
// stderr, the final table to stdout.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	pl := NewPlan(o.Sweeps, o.Backends, o.Repeat, o.Budget, o.Limits)
	fmt.Fprintf(stderr, "compare: %s; %d points x %d repeats = %d runs of %s (+%s warm-up); planned time %s\n",
		strings.Join(o.Backends, ", "), len(pl.Points)/max(pl.Repeat, 1), pl.Repeat, len(pl.Points),
		o.Sweeps.Duration, o.Sweeps.Warmup, pl.Estimate().Round(time.Second))
	for _, s := range pl.Skipped {
		fmt.Fprintln(stderr, "compare: skipping", s)
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "json"), 0o755); err != nil {
		return err
	}
	if n := foreignFiles(o.Out, pl); n > 0 {
		fmt.Fprintf(stderr, "compare: note: %d result files in %s are not in this plan; the charts and table will include them\n", n, filepath.Join(o.Out, "json"))
	}
	start := time.Now()
	var planDone time.Duration // planned time of the runs done so far
	var failed, ran, kept int
	remaining := pl.Estimate()
	n := len(pl.Points)
	for i, p := range pl.Points {
		if ctx.Err() != nil {
			break
		}
		path := filepath.Join(o.Out, p.File())
		planned := o.Sweeps.RunTime(p)
		remaining -= planned
		if o.Resume {
			if _, err := result.ReadFile(path); err == nil {
				kept++
				continue
			}
		}
		elapsed := time.Since(start)
		left := remaining + planned
		if planDone > 0 {
			left = time.Duration(float64(left) * float64(elapsed) / float64(planDone))
		}
		fmt.Fprintf(stderr, "[%d/%d] %-40s elapsed %s, about %s left\n", i+1, n, p, fmtDur(elapsed), fmtDur(left))
		spec := RunSpec{Point: p, Duration: o.Sweeps.Duration, Warmup: o.Sweeps.Warmup}
		if p.RateFraction > 0 {
			capacity, err := Capacity(o.Out, pl, p.Conns)
			if err != nil {
				fmt.Fprintf(stderr, "[%d/%d] %s skipped: %v\n", i+1, n, p, err)
				failed++
				continue
			}
			spec.Rate = capacity * p.RateFraction
		}
		progress := func(string) {}
		if o.Verbose {
			progress = func(s string) { fmt.Fprintln(stderr, "        "+s) }
		}
		t0 := time.Now()
		// A run that hangs must not stall the comparison: stop it long
		// after it should have ended and go on with the next.
		limit := 3*planned + hangGrace
		rctx, cancel := context.WithTimeout(ctx, limit)
		res, err := o.Runner(rctx, spec, progress)
		timedOut := rctx.Err() != nil && ctx.Err() == nil
		cancel()
		planDone += planned
		if timedOut {
			err = fmt.Errorf("stopped after %s (planned %s)", fmtDur(limit), fmtDur(planned))
		}
		if err == nil && res != nil && res.Partial {
			err = errors.New("interrupted before its window ended; not saved")
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var crash *server.CrashError
			if errors.As(err, &crash) {
				// Its stderr goes where its result would have.
				crash.Report(stderr, fmt.Sprintf("[%d/%d] %s failed: ", i+1, n, p), path)
			} else {
				fmt.Fprintf(stderr, "[%d/%d] %s failed: %v\n", i+1, n, p, err)
			}
			failed++
			continue
		}
		if res.Params.Extra == nil {
			res.Params.Extra = map[string]string{}
		}
		res.Params.Extra["sweep"] = p.Sweep
		res.Params.Extra["repeat"] = fmt.Sprint(p.Repeat)
		if err := result.WriteFile(path, res); err != nil {
			return err
		}
		ran++
		fmt.Fprintf(stderr, "[%d/%d] %-40s %s rt/s, p99 %s, server %s CPU µs/rt (%s)\n", i+1, n, p,
			chart.Human(res.Throughput), Duration(float64(res.Latency.P99)), serverCPU(res), time.Since(t0).Round(100*time.Millisecond))
	}
	interrupted := ctx.Err() != nil
	fmt.Fprintf(stderr, "compare: %d runs done, %d kept from before, %d failed, in %s\n", ran, kept, failed, fmtDur(time.Since(start)))
	if !o.noCharts {
		if err := Finish(o.Out, o.Command, stdout, stderr); err != nil {
			return err
		}
	}
	switch {
	case interrupted:
		return fmt.Errorf("%w: what was measured is in %s; run again with --resume to finish", ErrInterrupted, filepath.Join(o.Out, "json"))
	case failed > 0:
		return fmt.Errorf("%d of %d runs failed", failed, n)
	}
	return nil
}

func serverCPU(r *result.Result) string {
	if r.Server == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", r.Server.Process.PerRTus)
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return d.String()
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// Capacity is the throughput the open-loop runs are scaled from: the
// median closed-loop throughput at conns active connections, of the
// backend that managed least, so every backend gets the same offered load.
// Once an open-loop run is saved its rate is reused, so that every repeat
// (and a resumed comparison) offers the same load.
func Capacity(out string, pl Plan, conns int) (float64, error) {
	for _, p := range pl.Points {
		if p.Sweep != SweepLatency || p.Conns != conns || p.RateFraction <= 0 {
			continue
		}
		if r, err := result.ReadFile(filepath.Join(out, p.File())); err == nil && r.Params.Rate > 0 {
			return r.Params.Rate / p.RateFraction, nil
		}
	}
	per := map[string][]float64{}
	for _, p := range pl.Points {
		if p.Sweep != SweepActive || p.Conns != conns {
			continue
		}
		r, err := result.ReadFile(filepath.Join(out, p.File()))
		if err != nil {
			continue
		}
		per[p.Backend] = append(per[p.Backend], r.Throughput)
	}
	best := 0.0
	for _, vs := range per {
		if m := chart.Summarize(vs).Med; m > 0 && (best == 0 || m < best) {
			best = m
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("no closed-loop result at %d connections to scale the rate from", conns)
	}
	return best, nil
}

// Finish draws the charts into out and writes out/summary.md from every
// result in out/json, and prints the table on stdout, what it wrote on
// stderr.
func Finish(out, command string, stdout, stderr io.Writer) error {
	files, err := chart.Load(filepath.Join(out, "json"))
	if err != nil {
		return err
	}
	written, skipped, err := chart.DrawAll(out, files)
	for _, w := range written {
		fmt.Fprintln(stderr, "wrote", w)
	}
	for _, s := range skipped {
		fmt.Fprintln(stderr, "no chart", s)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# muxbench comparison\n\n")
	b.WriteString(chart.MachineLine(files) + ".\n\n")
	if command != "" {
		fmt.Fprintf(&b, "Made with `%s`. Medians over the repeats; throughput also gives min-max.\n\n", command)
	}
	if err := Report(&b, files); err != nil {
		return err
	}
	path := filepath.Join(out, "summary.md")
	if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "wrote", path)
	fmt.Fprint(stdout, "\n"+b.String())
	return nil
}

// foreignFiles counts result files in out/json that the plan would not
// write, left by a comparison with other settings.
func foreignFiles(out string, pl Plan) int {
	planned := map[string]bool{}
	for _, p := range pl.Points {
		planned[filepath.Base(p.File())] = true
	}
	names, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	n := 0
	for _, name := range names {
		if !planned[filepath.Base(name)] {
			n++
		}
	}
	return n
}
