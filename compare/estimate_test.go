package compare

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// The planned time counts the look at the machine before each run where
// compare waits for a quiet machine, and says what a busy one adds.
func TestPlanCountsTheCheck(t *testing.T) {
	o := Options{Sweeps: sweep.Quick, Backends: five, Repeat: 1, Budget: QuickBudget}
	bare := o.plan()
	o.Busy = func(context.Context) (float64, error) { return 0, nil }
	o.QuietWait, o.Reruns = 20*time.Second, 2
	checked := o.plan()
	if want := bare.Estimate() + time.Duration(len(checked.Points))*busySample; checked.Estimate() != want {
		t.Errorf("planned %s with the check before each of %d runs, want %s", checked.Estimate(), len(checked.Points), want)
	}
	var sum time.Duration
	for _, p := range checked.Points {
		sum += checked.RunTime(p)
	}
	if sum != checked.Estimate() {
		t.Errorf("the runs' planned times add up to %s, the plan's to %s", sum, checked.Estimate())
	}
	line := o.planned(checked)
	for _, want := range []string{"planned time " + checked.Estimate().Round(time.Second).String() + " on a quiet machine",
		"waits of up to 20s", "up to 2 more runs"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q does not say %q", line, want)
		}
	}
	if line := (Options{}).planned(bare); line != "planned time "+bare.Estimate().Round(time.Second).String() {
		t.Errorf("without waits or reruns: %q", line)
	}
}

// The cost model plans the reference run in results/ (made on a quiet
// machine) within 5% of the time it took, from the first run's start to
// the last one's end. A noisy attempt that was run again is a run the
// plan did not hold, so each counts as one more run of its point.
func TestPlanMatchesReferenceRun(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "results", "json", "*.json"))
	if err != nil || len(paths) < 100 {
		t.Skipf("no reference run: %d files, %v", len(paths), err)
	}
	var planned time.Duration
	var starts []time.Time
	var last *result.Result
	for _, path := range paths {
		r, err := result.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Each run as the plan of a comparison that waits for a quiet
		// machine times it.
		pl := Plan{Sweeps: sweep.Settings{Warmup: secs(r.Params.WarmupSec), Duration: secs(r.Params.DurationSec)}, Check: busySample}
		attempts := 1 + rerunsOf(r)
		planned += time.Duration(attempts) * pl.RunTime(sweep.Point{Conns: r.Params.Conns, Idle: r.Params.Idle, Peer: r.Peer != nil})
		starts = append(starts, r.Env.Start)
		if last == nil || r.Env.Start.After(last.Env.Start) {
			last = r
		}
	}
	first := slices.MinFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	took := last.WindowStart.Add(secs(last.WindowSec)).Sub(first)
	if d := planned - took; d < -took/20 || d > took/20 {
		t.Errorf("planned %s for the %d runs of the reference, which took %s", planned.Round(time.Second), len(paths), took.Round(time.Second))
	}
	t.Logf("planned %s for the %d runs of the reference, which took %s", planned.Round(time.Second), len(paths), took.Round(time.Second))
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
