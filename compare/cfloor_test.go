package compare

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/muxbench/muxbench/cfloor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// The C floor is a reference line of the connection sweeps only: it has
// points in the active and idle sweeps and none elsewhere.
func TestPlanFloorInConnectionSweeps(t *testing.T) {
	pl := NewPlan(tiny, []string{"epoll", CFloor}, 1, 0, Limits{})
	per := map[string]int{}
	for _, p := range pl.Points {
		if p.Backend == CFloor {
			per[p.Sweep]++
		}
	}
	if per[sweep.Active] != len(tiny.Active) || per[sweep.Idle] != len(tiny.Idle)-1 || per[sweep.MsgSize] != 0 || per[sweep.Latency] != 0 {
		t.Errorf("c-floor points per sweep: %v", per)
	}
}

// A c-floor point is measured against the C echo server built from the
// embedded source, its CPU read by pid, and saved under its own name.
func TestFloorRun(t *testing.T) {
	if err := FloorAvailable(); errors.Is(err, cfloor.ErrUnavailable) {
		t.Skip(err)
	}
	defer removeFloor()
	spec := RunSpec{Point: sweep.Point{Sweep: sweep.Idle, Backend: CFloor, Conns: 4, Idle: 16, MsgSize: 64, Repeat: 1},
		Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond}
	res, err := DefaultRunner(context.Background(), spec, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if res.Params.Backend != CFloor || res.Params.Idle != 16 || res.RoundTrips == 0 || res.Integrity.Errors() != 0 {
		t.Errorf("backend %q, idle %d, %d round trips, integrity %+v", res.Params.Backend, res.Params.Idle, res.RoundTrips, res.Integrity)
	}
	// Read by pid from /proc (CPU in 10 ms ticks: too coarse to require
	// a non-zero figure from a short, light run).
	if res.Server == nil || res.Server.MaxRSS <= 0 || res.Lacks(result.UnavailableServerCPU) {
		t.Errorf("no server figures read by pid: %+v, unavailable %q", res.Server, res.Unavailable)
	}
}
