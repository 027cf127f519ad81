package compare

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Every metric of a merge is what its descriptor says the hosts' figures
// make (report.Hosts): summed, the one server's over every host's round
// trips or connections, pooled, the highest; a percentile of the added
// histograms lies within the hosts'. merge prints each, host by host.
func TestMergeFollowsEachMetric(t *testing.T) {
	a := charttest.Result(charttest.Point{Backend: "epoll", Conns: 50, Idle: 10, MsgSize: 64, Target: "127.0.0.1:9000"})
	b := charttest.Result(charttest.Point{Backend: "epoll", Conns: 70, MsgSize: 64, Target: "127.0.0.1:9000", Repeat: 1})
	a.Env.Hostname, b.Env.Hostname = "gen1", "gen2"
	for i, r := range []*result.Result{a, b} {
		f := float64(i + 1)
		r.Generator.CPU = result.CPU{UserSec: f, SysSec: 1, PerRTus: (f + 1) * 1e6 / float64(r.RoundTrips)}
		r.Noise = &result.Noise{ForeignCPU: 0.1 * f, StealCPU: 0.01}
	}
	// Both hosts loaded one server: each saw its counters, per its own
	// round trips and connections.
	s := a.Server
	s.IO.Waits, s.IO.Syscalls, s.IO.Writes = 4000, 9000, 6000
	s.LoopThread = &result.CPU{UserSec: 0.5, SysSec: 0.5}
	s.RSSBase, s.BudgetPauses, s.Accepts = 2<<20, 3, &result.Accepts{Accepted: 130}
	s.Process.VolCtxSw, s.Process.InvolCtxSw = 500, 70
	for _, r := range []*result.Result{a, b} {
		c := *s
		lt := *s.LoopThread
		lt.PerRTus = 1e6 / float64(r.RoundTrips)
		c.LoopThread = &lt
		c.Process.PerRTus = (c.Process.UserSec + c.Process.SysSec) * 1e6 / float64(r.RoundTrips)
		c.Rates = c.IO.Rates(r.RoundTrips)
		c.RSSPerConn = float64(c.RSS-c.RSSBase) / float64(r.Params.Conns+r.Params.Idle)
		r.Server = &c
	}
	files := []chart.File{{Path: "a.json", Result: a}, {Path: "b.json", Result: b}}
	m, err := Merge(files)
	if err != nil {
		t.Fatal(err)
	}
	rts := []float64{float64(a.RoundTrips), float64(b.RoundTrips)}
	conns := []float64{60, 70}
	checked := 0
	for _, mt := range report.Metrics {
		va, oka := mt.Get(a)
		vb, okb := mt.Get(b)
		got, ok := mt.Get(m)
		if !oka || !okb || !ok {
			t.Errorf("%s: hosts have it %v %v, the merge %v", mt.Name, oka, okb, ok)
			continue
		}
		checked++
		want, exact := mt.Hosts.Merge([]float64{va, vb}, rts, conns)
		if !exact {
			if lo, hi := min(va, vb), max(va, vb); got < lo*0.99 || got > hi*1.01 {
				t.Errorf("%s: merged %g, outside the hosts' %g and %g", mt.Name, got, va, vb)
			}
			continue
		}
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s (%s): merged %g, want %g from the hosts' %g and %g", mt.Name, mt.Hosts, got, want, va, vb)
		}
	}
	if checked < 10 {
		t.Errorf("%d metrics checked", checked)
	}
	var w bytes.Buffer
	if err := mergeReport(&w, files, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gen1", "gen2", "merged", report.ServerCPU.Name, "per round trip of all", report.Noise.Name} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("merge report lacks %q:\n%s", want, w.String())
		}
	}
}
