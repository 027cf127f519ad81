package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
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

// The paced probe: deadlines interval apart for its length, bounded in
// time, its figures ordered.
func TestMeasurePacedFloor(t *testing.T) {
	const interval = 500_000
	start := time.Now()
	f, err := measurePacedFloor(GenBackend(), -1, interval, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a 50ms probe took %v", d)
	}
	if f.Sends < 90 || f.Sends > 101 || f.IntervalNs != interval || f.ProbeSec < 0.045 ||
		f.P50 > f.P99 || f.P99 > f.P999 || f.P50 < 0 || f.CPU != -1 {
		t.Errorf("paced floor %+v, want about 100 sends 500us apart", f)
	}
	if p := pacedProbe(interval); p != 500*time.Millisecond {
		t.Errorf("probe at 2k deadlines a second %v, want 1000 of them", p)
	}
	if p, q := pacedProbe(1_000), pacedProbe(int64(time.Second)); p != floorProbe || q != pacedProbeMax {
		t.Errorf("probes %v and %v, want %v and %v", p, q, floorProbe, pacedProbeMax)
	}
}

// An open-loop run records both floors, the paced one at its rate, and
// the matching one is the paced floor unless the generator spun; a closed
// loop does not probe.
func TestRunRecordsFloor(t *testing.T) {
	addr := testserver.Listen(t, testserver.Echo)
	cfg := quick(addr)
	cfg.Conns, cfg.Rate, cfg.Duration = 2, 2000, 300*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.SendLatenessFloor; f == nil || f.ProbeSec < floorProbe.Seconds()*0.9 || f.Sends != 0 {
		t.Errorf("open loop: floor %+v", f)
	}
	p := res.SendLatenessFloorPaced
	if p == nil || p.IntervalNs != 500_000 || p.Sends < 500 || res.Floor() != p {
		t.Fatalf("open loop: paced floor %+v, want about 1000 sends 500us apart, the matching floor", p)
	}
	cfg.GenSpin = true
	if res, err := Run(context.Background(), cfg); err != nil || res.Floor() != res.SendLatenessFloor || res.Floor() == nil {
		t.Errorf("spinning generator: matching floor %+v, want the spinning one, err %v", res.Floor(), err)
	}
	cfg.Rate, cfg.GenSpin = 0, false
	if res, err := Run(context.Background(), cfg); err != nil || res.SendLatenessFloor != nil || res.SendLatenessFloorPaced != nil {
		t.Errorf("closed loop: floors %+v, %+v, err %v", res.SendLatenessFloor, res.SendLatenessFloorPaced, err)
	}
}

// When the floor that matches the generator's sending explains the
// lateness, the warning says so, and the table shows that floor beside
// the lateness: the paced one where there is one.
func TestLateWarningNamesFloor(t *testing.T) {
	for _, c := range []struct {
		spin, paced int64 // p99s; 0: no such floor
		named       bool
		warn, note  string
	}{
		{10_000, 0, false, "", "own gaps: p99 " + report.Latency.Compact(10_000)},
		{40_000, 0, true, "only read the clock", "own gaps: p99 " + report.Latency.Compact(40_000)},
		{40_000, 10_000, false, "", "only paced itself so: p99 " + report.Latency.Compact(10_000)},
		{10_000, 40_000, true, "only paced itself at this rate", "only paced itself so: p99 " + report.Latency.Compact(40_000)},
	} {
		l := lateLoop(t, 60_000)
		res := &result.Result{Params: result.Params{Backend: "epoll", Conns: 1}, TargetRate: 1000, WindowSec: 1,
			SendLatenessFloor: &result.TimingFloor{P99: c.spin, Lost: 0.05}}
		if c.paced > 0 {
			res.SendLatenessFloorPaced = &result.TimingFloor{P99: c.paced, Sends: 1000, IntervalNs: 1_000_000}
		}
		snaps := []snapshot{{cpu: cpuTimes{ok: true}}}
		collectLoops(res, []*genLoop{l}, snaps, snaps, nil)
		l.closeAll()
		w := strings.Join(res.Warnings, "\n")
		named := strings.Contains(w, "machine's own gaps")
		if !res.Generator.SendLate || named != c.named || c.named && !strings.Contains(w, c.warn) {
			t.Errorf("floors p99 %d spinning, %d paced against lateness p99 60us: flagged %v, warnings %q", c.spin, c.paced, res.Generator.SendLate, res.Warnings)
		}
		var b strings.Builder
		if err := report.Table(&b, []*result.Result{res}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.note) {
			t.Errorf("floors p99 %d spinning, %d paced: the table's note does not say %q:\n%s", c.spin, c.paced, c.note, b.String())
		}
	}
}
