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
	"github.com/muxbench/muxbench/internal/outfile"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sweep"
)

// hangGrace is added to three times a run's planned time before it is
// stopped as hung.
var hangGrace = time.Minute

// ErrInterrupted is returned by a comparison stopped before its end.
var ErrInterrupted = errors.New("interrupted")

// RunSpec is one run as the load generator needs it.
type RunSpec struct {
	sweep.Point
	// Peer is the point's server where it is a peer, not one of
	// muxbench's backends.
	Peer *peer.Peer
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
	Sweeps   sweep.Settings
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
	// AllowMixed pools results of other machines or versions found in
	// Out/json into the charts and summary.
	AllowMixed bool

	// Busy measures the CPUs other processes keep busy (over a second or
	// so); nil skips the wait for a quiet machine.
	Busy func(ctx context.Context) (float64, error)
	// QuietBelow is the busy CPUs a quiet machine stays under; QuietWait
	// bounds each wait for one.
	QuietBelow float64
	QuietWait  time.Duration
	// Reruns is how often a point measured as noisy is run again (0:
	// never); the least noisy attempt is kept.
	Reruns int

	noCharts bool // tests that check charts elsewhere
	noDraw   bool // tests that check summary.md only
}

// Run carries out the plan: each run's result is saved as soon as it
// completes, so an interrupted comparison keeps what it measured, and
// Resume skips runs whose file is already there. Charts and summary.md
// are drawn at the end from everything in Out/json. Progress goes to
// stderr, the final table to stdout.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	pl := o.plan()
	fmt.Fprintf(stderr, "compare: %s; %d points x %d repeats = %d runs of %s (+%s warm-up); %s\n",
		strings.Join(o.Backends, ", "), len(pl.Points)/max(pl.Repeat, 1), pl.Repeat, len(pl.Points),
		o.Sweeps.Duration, o.Sweeps.Warmup, o.planned(pl))
	for _, s := range pl.Skipped {
		fmt.Fprintln(stderr, "compare: skipping", s)
	}
	if pl.Note != "" {
		fmt.Fprintln(stderr, "compare: note:", pl.Note)
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "json"), 0o755); err != nil {
		return err
	}
	if n := foreignFiles(o.Out, pl); n > 0 {
		fmt.Fprintf(stderr, "compare: note: %d result files in %s are not in this plan; the charts and table will include them\n", n, filepath.Join(o.Out, "json"))
	}
	c := &comparison{o: o, pl: pl, stderr: stderr, start: time.Now(), remaining: pl.Estimate()}
	for i, p := range pl.Points {
		if ctx.Err() != nil {
			break
		}
		if err := c.run(ctx, i, p); err != nil {
			return err
		}
	}
	interrupted := ctx.Err() != nil
	fmt.Fprintf(stderr, "compare: %d runs done, %d kept from before, %d failed, in %s\n", c.ran, c.kept, len(c.failures), fmtDur(time.Since(c.start)))
	if !o.noCharts {
		if err := finish(o.Out, o.Command, pl, o.AllowMixed, !o.noDraw, stdout, stderr); err != nil {
			return err
		}
	}
	if len(c.failures) > 0 {
		fmt.Fprintf(stderr, "compare: %d runs FAILED, left out of the charts and summary.md (in %s; --resume runs them again):\n",
			len(c.failures), filepath.Join(o.Out, "json", "failed"))
		for _, f := range c.failures {
			fmt.Fprintln(stderr, "  "+f)
		}
	}
	switch {
	case interrupted:
		return fmt.Errorf("%w: what was measured is in %s; run again with --resume to finish", ErrInterrupted, filepath.Join(o.Out, "json"))
	case len(c.failures) > 0:
		return fmt.Errorf("%d of %d runs failed", len(c.failures), len(pl.Points))
	}
	return nil
}

// comparison is a Run under way: its plan, and the tallies its progress
// lines and verdict are drawn from.
type comparison struct {
	o      Options
	pl     Plan
	stderr io.Writer
	start  time.Time
	// remaining is the planned time of the runs after the current one;
	// planDone that of the runs done, against which the time they took
	// scales the time left.
	remaining, planDone time.Duration
	quiet               quietState
	failures            []string
	ran, kept           int
}

// run measures the plan's point i, p, and saves its result, or keeps
// apart what a failed run measured and says why it failed. Only a file
// that cannot be written is an error.
func (c *comparison) run(ctx context.Context, i int, p sweep.Point) error {
	path := filepath.Join(c.o.Out, p.File())
	planned := c.pl.RunTime(p)
	c.remaining -= planned
	if c.o.Resume {
		if _, err := result.ReadFile(path); err == nil {
			c.kept++
			return nil
		}
	}
	elapsed := time.Since(c.start)
	left := c.remaining + planned
	if c.planDone > 0 {
		left = time.Duration(float64(left) * float64(elapsed) / float64(c.planDone))
	}
	n := len(c.pl.Points)
	fmt.Fprintf(c.stderr, "[%d/%d] %-40s elapsed %s, about %s left\n", i+1, n, p, fmtDur(elapsed), fmtDur(left))
	spec := RunSpec{Point: p, Peer: c.o.Limits.peer(p.Backend), Duration: c.o.Sweeps.Duration, Warmup: c.o.Sweeps.Warmup}
	if p.RateFraction > 0 {
		capacity, err := Capacity(c.o.Out, c.pl, p)
		if err != nil {
			fmt.Fprintf(c.stderr, "[%d/%d] %s FAILED: %v\n", i+1, n, p, err)
			c.failures = append(c.failures, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		spec.Rate = capacity * p.RateFraction
	}
	t0 := time.Now()
	res, err := c.measure(ctx, spec, planned)
	c.planDone += planned
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err == nil {
		if why := Failure(res); why != "" {
			err = errors.New(why)
		}
	}
	if err != nil {
		return c.keepFailed(i, p, res, err)
	}
	if err := result.WriteFile(path, res); err != nil {
		return err
	}
	os.Remove(c.failedPath(p))
	c.ran++
	mark := ""
	if noisy(res) {
		mark = fmt.Sprintf(", NOISY: %.2f CPUs used by others", foreignOf(res))
	}
	fmt.Fprintf(c.stderr, "[%d/%d] %-40s %s rt/s, p99 %s, server %s CPU µs/rt (%s%s)\n", i+1, n, p,
		report.Human(res.Throughput), report.Duration(float64(res.Latency.P99)), serverCPU(res), time.Since(t0).Round(100*time.Millisecond), mark)
	return nil
}

// measure runs spec, and runs it again while it comes out noisy, up to
// o.Reruns times: the least noisy attempt is kept, the others' noise
// recorded with it.
func (c *comparison) measure(ctx context.Context, spec RunSpec, planned time.Duration) (*result.Result, error) {
	progress := func(string) {}
	if c.o.Verbose {
		progress = func(s string) { fmt.Fprintln(c.stderr, "        "+s) }
	}
	p := spec.Point
	res, err := c.o.attempt(ctx, spec, planned, progress, &c.quiet, c.stderr)
	var discarded []string
	last := res
	for k := 0; k < c.o.Reruns && err == nil && noisy(res) && Failure(res) == "" && ctx.Err() == nil; k++ {
		if c.quiet.gaveUp {
			// Busy before this run and not quiet since: another
			// run now would be as noisy.
			fmt.Fprintf(c.stderr, "compare: %s was noisy (%.2f CPUs used by others); the machine stays busy, so it is kept, marked\n", p, foreignOf(last))
			break
		}
		fmt.Fprintf(c.stderr, "compare: %s was noisy (%.2f CPUs used by others); running it again\n", p, foreignOf(last))
		again, aerr := c.o.attempt(ctx, spec, planned, progress, &c.quiet, c.stderr)
		last = again
		if aerr != nil || Failure(again) != "" {
			res, err = again, aerr
			break
		}
		worse := res
		if foreignOf(again) < foreignOf(res) {
			worse, res = res, again
		}
		discarded = append(discarded, fmt.Sprintf("%.3f", foreignOf(worse)))
	}
	if res != nil {
		res.Params.Sweep, res.Params.Repeat = p.Sweep, p.Repeat
		if len(discarded) > 0 {
			if res.Params.Extra == nil {
				res.Params.Extra = map[string]string{}
			}
			res.Params.Extra[ExtraReruns] = fmt.Sprint(len(discarded))
			res.Params.Extra[ExtraDiscarded] = strings.Join(discarded, ",")
		}
	}
	return res, err
}

// failedPath is where a failed run of p is kept, apart from the data
// points.
func (c *comparison) failedPath(p sweep.Point) string {
	return filepath.Join(c.o.Out, "json", "failed", filepath.Base(p.File()))
}

// keepFailed records that the run of the plan's point i, p, is no data
// point, for err: whatever it measured, res, is kept apart for a look,
// and an older result of p must not stand in for it.
func (c *comparison) keepFailed(i int, p sweep.Point, res *result.Result, err error) error {
	failedPath := c.failedPath(p)
	var crash *server.CrashError
	if errors.As(err, &crash) {
		// Its stderr goes where its result would have.
		os.MkdirAll(filepath.Dir(failedPath), 0o755)
		crash.Report(c.stderr, fmt.Sprintf("[%d/%d] %s FAILED: ", i+1, len(c.pl.Points), p), failedPath)
	} else {
		fmt.Fprintf(c.stderr, "[%d/%d] %s FAILED: %v\n", i+1, len(c.pl.Points), p, err)
	}
	c.failures = append(c.failures, fmt.Sprintf("%s: %v", p, err))
	os.Remove(filepath.Join(c.o.Out, p.File()))
	if res == nil {
		return nil
	}
	if res.Params.Extra == nil {
		res.Params.Extra = map[string]string{}
	}
	res.Params.Extra[chart.ExtraFailed] = err.Error()
	if err := os.MkdirAll(filepath.Dir(failedPath), 0o755); err != nil {
		return err
	}
	return result.WriteFile(failedPath, res)
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

// Capacity is the throughput an open-loop point's rate is a fraction of:
// the median closed-loop throughput at its connection count, of the
// backend that managed least for the latency sweep (so every backend gets
// the same offered load and all can keep up), among the backends the
// sweep runs, of sweep.CostBase for the cost
// sweep (or, without it, of the backend that managed most). Once an
// open-loop run of the sweep is saved its rate is reused, so that every
// repeat (and a resumed comparison) offers the same load.
func Capacity(out string, pl Plan, at sweep.Point) (float64, error) {
	for _, p := range pl.Points {
		if p.Sweep != at.Sweep || p.Conns != at.Conns || p.RateFraction != at.RateFraction || p.RateFraction <= 0 {
			continue
		}
		if r, err := result.ReadFile(filepath.Join(out, p.File())); err == nil && r.Params.Rate > 0 {
			return r.Params.Rate / p.RateFraction, nil
		}
	}
	// Of the servers this sweep runs: a peer's capacity is none of its
	// business.
	inSweep := map[string]bool{}
	for _, p := range pl.Points {
		inSweep[p.Backend] = inSweep[p.Backend] || p.Sweep == at.Sweep
	}
	per := map[string][]float64{}
	for _, p := range pl.Points {
		if p.Sweep != sweep.Active || p.Conns != at.Conns || !inSweep[p.Backend] {
			continue
		}
		r, err := result.ReadFile(filepath.Join(out, p.File()))
		if err != nil {
			continue
		}
		per[p.Backend] = append(per[p.Backend], r.Throughput)
	}
	if at.Sweep == sweep.Cost {
		if m := report.Summarize(per[sweep.CostBase]).Med; m > 0 {
			return m, nil
		}
	}
	pick := 0.0
	for _, vs := range per {
		m := report.Summarize(vs).Med
		if m <= 0 {
			continue
		}
		if pick == 0 || (at.Sweep == sweep.Cost && m > pick) || (at.Sweep != sweep.Cost && m < pick) {
			pick = m
		}
	}
	if pick == 0 {
		return 0, fmt.Errorf("no closed-loop result at %d connections to scale the rate from", at.Conns)
	}
	return pick, nil
}

// Finish draws the charts into out and writes out/summary.md from the
// results in out/json, and prints the table on stdout, what it wrote on
// stderr. The failed runs in
// out/json/failed are listed at the end, never charted. Results of other
// machines or versions are refused unless allowMixed.
func Finish(out, command string, allowMixed bool, stdout, stderr io.Writer) error {
	return finish(out, command, Plan{}, allowMixed, true, stdout, stderr)
}

// finish is Finish for the comparison that ran pl: summary.md also lists
// the points pl skipped, and why.
func finish(out, command string, pl Plan, allowMixed, draw bool, stdout, stderr io.Writer) error {
	files, failed, err := loadResults(out)
	if err != nil {
		return err
	}
	if !allowMixed {
		if err := chart.CheckMixed(files); err != nil {
			return fmt.Errorf("%w (or use a new --out directory)", err)
		}
	}
	if len(files) > 0 && draw {
		if err := writeCharts(out, files, stderr); err != nil {
			return err
		}
	}
	// The page before summary.md: it links the failed runs by their
	// paths as read, which the summary then shortens.
	page := filepath.Join(out, "index.html")
	if err := WriteHTML(page, append(append([]chart.File(nil), files...), failed...), command); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "wrote", page)
	summary, err := summaryMD(out, command, pl, files, failed)
	if err != nil {
		return err
	}
	path := filepath.Join(out, "summary.md")
	if err := outfile.Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, summary)
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "wrote", path)
	fmt.Fprint(stdout, "\n"+summary)
	return nil
}

// loadResults reads the results in out/json: the data points, and the
// failed runs, those saved apart in out/json/failed included.
func loadResults(out string) (files, failed []chart.File, err error) {
	good, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	bad, _ := filepath.Glob(filepath.Join(out, "json", "failed", "*.json"))
	if len(good) > 0 {
		if files, err = chart.Load(good...); err != nil {
			return nil, nil, err
		}
	}
	if len(bad) > 0 {
		if failed, err = chart.Load(bad...); err != nil {
			return nil, nil, err
		}
	}
	files, alsoFailed := chart.Split(files)
	failed = append(alsoFailed, failed...)
	for i := range failed {
		if chart.Failure(failed[i].Result) == "" {
			// Saved apart by hand or by an older version: still no
			// data point here.
			failed[i].Params.Extra = map[string]string{chart.ExtraFailed: "saved among the failed runs"}
		}
	}
	return files, failed, nil
}

// writeCharts draws the charts of files into out, saying on stderr what
// it wrote and what it had no chart for.
func writeCharts(out string, files []chart.File, stderr io.Writer) error {
	written, skipped, err := chart.DrawAll(out, files)
	for _, w := range written {
		fmt.Fprintln(stderr, "wrote", w)
	}
	for _, s := range skipped {
		fmt.Fprintln(stderr, "no chart", s)
	}
	return err
}

// summaryMD is summary.md: the machine, the command, the tables of files
// and the failed runs, their paths made relative to out, and the points
// pl skipped.
func summaryMD(out, command string, pl Plan, files, failed []chart.File) (string, error) {
	var b strings.Builder
	b.WriteString("# muxbench comparison\n\n")
	if all := append(append([]chart.File(nil), files...), failed...); len(all) > 0 {
		b.WriteString(chart.MachineLine(all) + ".\n\n")
	}
	if command != "" {
		fmt.Fprintf(&b, "Made with `%s`.\n\n", mdCell(command))
	}
	for i := range failed {
		failed[i].Path = relTo(out, failed[i].Path)
	}
	if err := Report(&b, append(files, failed...)); err != nil {
		return "", err
	}
	if len(pl.Skipped) > 0 {
		fmt.Fprintf(&b, "\n### Skipped points (%d, not run on this machine)\n\n", len(pl.Skipped))
		for _, s := range pl.Skipped {
			fmt.Fprintf(&b, "- %s\n", mdCell(s))
		}
		if pl.Note != "" {
			fmt.Fprintf(&b, "\n%s.\n", mdCell(strings.ToUpper(pl.Note[:1])+pl.Note[1:]))
		}
	}
	return b.String(), nil
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
