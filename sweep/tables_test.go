package sweep_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// suite is a small comparison's runs, as compare plans them, each
// recording its sweep when record is set.
func suite(record bool) []*result.Result {
	s := sweep.Quick
	s.Loops = nil
	var runs []*result.Result
	seen := map[result.PointKey]bool{}
	for _, sw := range sweep.All {
		for _, p := range sw.Points(s, []string{"epoll", "poll"}, nil) {
			if seen[p.Key()] {
				continue
			}
			seen[p.Key()] = true
			rate := 0.0
			if p.RateFraction > 0 {
				rate = 1e5 * p.RateFraction
			}
			r := charttest.Result(charttest.Point{Backend: p.Backend, Conns: p.Conns, Idle: p.Idle, MsgSize: p.MsgSize, SndBuf: p.SndBuf, Rate: rate, Repeat: 1})
			if record {
				r.Params.Sweep = p.Sweep
			}
			runs = append(runs, r)
		}
	}
	return runs
}

func layout(runs []*result.Result) []string {
	var out []string
	for _, t := range sweep.Tables(runs) {
		out = append(out, fmt.Sprintf("%s %v taken %v", t.Sweep.Name, t.Runs, t.Taken))
	}
	return out
}

// Runs that recorded their sweep and hand-made runs of the same points
// make the same tables: the recorded sweep is read, the others' inferred.
func TestTablesRecordedOrInferred(t *testing.T) {
	rec, inf := layout(suite(true)), layout(suite(false))
	if !slices.Equal(rec, inf) {
		t.Errorf("recorded sweeps:\n%v\ninferred:\n%v", rec, inf)
	}
	var names []string
	for _, t := range sweep.Tables(suite(true)) {
		names = append(names, t.Sweep.Name)
	}
	if want := []string{sweep.Active, sweep.Idle, sweep.MsgSize, sweep.Latency}; !slices.Equal(names, want) {
		t.Errorf("tables %v, want %v (cost joins latency's)", names, want)
	}
}

// A table takes the points of other sweeps that differ from its own only
// in what it varies (the idle sweep's 0 idle is the active sweep's 100
// connections), and lists them unless it keeps to its own rows. The idle
// table takes every server's run at 0 idle, even one with no idle run of
// its own (a select peer that cannot hold more); the loops table never
// takes the run of a backend it has no runs of.
func TestTablesTakeSharedPoints(t *testing.T) {
	run := func(sw, backend string, conns, idle, loops int) *result.Result {
		r := charttest.Result(charttest.Point{Backend: backend, Conns: conns, Idle: idle, MsgSize: 64, Repeat: 1})
		r.Params.Sweep = sw
		r.Server.Options.Loops = loops
		return r
	}
	runs := []*result.Result{
		run(sweep.Active, "epoll", 100, 0, 0),               // 0
		run(sweep.Active, "c-floor", 100, 0, 0),             // 1: no idle runs of its own
		run(sweep.Idle, "epoll", 100, 1000, 0),              // 2
		run(sweep.Active, "epoll", 1000, 0, 0),              // 3
		run(sweep.Loops, "epoll", 1000, 0, 2),               // 4
		run("a sweep of a later version", "epoll", 7, 0, 0), // 5
		run(sweep.Active, "c-floor", 1000, 0, 0),            // 6: no loops runs of its own
	}
	got := map[string]sweep.Table{}
	for _, t := range sweep.Tables(runs) {
		got[t.Sweep.Name] = t
	}
	if idle := got[sweep.Idle]; !slices.Equal(idle.Runs, []int{0, 1, 2}) || !slices.Equal(idle.Taken, []int{0, 1}) {
		t.Errorf("idle table %v, taken %v: want epoll's and c-floor's 0 idle, taken, then epoll's 1000", idle.Runs, idle.Taken)
	}
	if loops := got[sweep.Loops]; !slices.Equal(loops.Runs, []int{4}) || !slices.Equal(loops.Taken, []int{3}) {
		t.Errorf("loops table %v, taken %v: want the two-loop run listed, the one-loop run drawn only", loops.Runs, loops.Taken)
	}
	if other := got[sweep.Other.Name]; !slices.Equal(other.Runs, []int{5}) {
		t.Errorf("other runs %v: want the run of an unknown sweep", other.Runs)
	}
}
