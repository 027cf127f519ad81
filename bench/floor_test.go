package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// A gap of 100 us every millisecond: a send due at a random instant is
// late by more than x for (100-x)/1000 of the time, so p99 is 90 us, p99.9
// 99 us and p50 nothing.
func TestFloorFromGaps(t *testing.T) {
	gaps := make([]int64, 1000)
	for i := range gaps {
		gaps[i] = 100_000
	}
	f := floorFromGaps(gaps, int64(time.Second))
	near := func(got, want int64) bool { return got >= want-10 && got <= want+10 }
	if !near(f.P99, 90_000) || !near(f.P999, 99_000) || f.P50 != 0 {
		t.Errorf("p50 %d p99 %d p99.9 %d, want 0, 90000, 99000", f.P50, f.P99, f.P999)
	}
	if f.Lost < 0.099 || f.Lost > 0.101 || f.GapsPerSec != 1000 || f.ProbeSec != 1 {
		t.Errorf("lost %.3f, %.0f gaps/s over %.1fs, want 0.100, 1000 over 1", f.Lost, f.GapsPerSec, f.ProbeSec)
	}
	if z := floorFromGaps(nil, int64(time.Second)); z.P99 != 0 || z.Lost != 0 {
		t.Errorf("no gaps: %+v", z)
	}
}

// The probe itself: bounded in time, and its figures ordered.
func TestMeasureFloor(t *testing.T) {
	start := time.Now()
	f := measureFloor(-1, 50*time.Millisecond)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a 50ms probe took %v", d)
	}
	if f.ProbeSec < 0.05 || f.P50 > f.P99 || f.P99 > f.P999 || f.Lost < 0 || f.Lost > 1 || f.CPU != -1 {
		t.Errorf("floor %+v", f)
	}
}

// An open-loop run records the floor; a closed loop does not probe.
func TestRunRecordsFloor(t *testing.T) {
	addr := echoServer(t, honest)
	cfg := quick(addr)
	cfg.Conns, cfg.Rate, cfg.Duration = 2, 2000, 300*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.SendLatenessFloor; f == nil || f.ProbeSec < floorProbe.Seconds()*0.9 {
		t.Errorf("open loop: floor %+v", f)
	}
	cfg.Rate = 0
	if res, err := Run(context.Background(), cfg); err != nil || res.SendLatenessFloor != nil {
		t.Errorf("closed loop: floor %+v, err %v", res.SendLatenessFloor, err)
	}
}

// When the floor explains the lateness, the warning says so, and the
// table shows the floor beside the lateness.
func TestLateWarningNamesFloor(t *testing.T) {
	for _, floor := range []int64{10_000, 40_000} {
		l := lateLoop(t, 60_000)
		res := &result.Result{Params: result.Params{Backend: "epoll", Conns: 1}, TargetRate: 1000, WindowSec: 1,
			SendLatenessFloor: &result.TimingFloor{P99: floor, Lost: 0.05}}
		snaps := []snapshot{{cpu: cpuTimes{ok: true}}}
		collectLoops(res, []*genLoop{l}, snaps, snaps, nil)
		l.closeAll()
		named := strings.Contains(strings.Join(res.Warnings, "\n"), "machine's own gaps")
		if !res.Generator.SendLate || named != (floor == 40_000) {
			t.Errorf("floor p99 %d against lateness p99 60us: flagged %v, warnings %q", floor, res.Generator.SendLate, res.Warnings)
		}
		var b strings.Builder
		if err := report.Table(&b, []*result.Result{res}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "own gaps: p99 "+report.Latency.Compact(float64(floor))) {
			t.Errorf("table does not show the floor:\n%s", b.String())
		}
	}
}
