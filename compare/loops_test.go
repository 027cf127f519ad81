package compare

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// loopsPoints lists the loops sweep's points of a plan as backend/loops.
func loopsPoints(pl Plan) []string {
	var out []string
	for _, p := range pl.Points {
		if p.Sweep == sweep.Loops {
			out = append(out, p.Backend+"/"+p.Param())
		}
	}
	return out
}

// The loops sweep plans what the CPUs allow (a CPU per server loop and
// per generator loop), epoll's loops both with a listener each and
// sharing one, its one-loop point is the active sweep's, the C floor has
// none, and every count left out is said once for all backends, with
// why, and what that means for scaling figures.
func TestPlanLoopsSweep(t *testing.T) {
	backends := []string{"epoll", "stdlib", CFloor}
	epollOnly := func(b string) bool { return b == "epoll" }
	need := func(loops, cpus int) string {
		return "loops c1000-l" + strconv.Itoa(loops) + " (every backend; epoll also with --accept exclusive): needs " + strconv.Itoa(2*loops) + " CPUs (" + strconv.Itoa(loops) +
			" server loops + " + strconv.Itoa(loops) + " generator loops, one CPU each), this machine has " + strconv.Itoa(cpus)
	}
	for _, tc := range []struct {
		cpus    int
		points  []string
		skipped []string
	}{
		{2, nil, []string{need(2, 2), need(4, 2), need(8, 2), need(16, 2), need(32, 2)}},
		{8, []string{"epoll/c1000-l2", "epoll/c1000-l2-exclusive", "stdlib/c1000-l2", "epoll/c1000-l4", "epoll/c1000-l4-exclusive", "stdlib/c1000-l4"},
			[]string{need(8, 8), need(16, 8), need(32, 8)}},
		{64, []string{"epoll/c1000-l2", "epoll/c1000-l2-exclusive", "stdlib/c1000-l2", "epoll/c1000-l4", "epoll/c1000-l4-exclusive", "stdlib/c1000-l4",
			"epoll/c1000-l8", "epoll/c1000-l8-exclusive", "stdlib/c1000-l8", "epoll/c1000-l16", "epoll/c1000-l16-exclusive", "stdlib/c1000-l16",
			"epoll/c1000-l32", "epoll/c1000-l32-exclusive", "stdlib/c1000-l32"}, nil},
	} {
		pl := NewPlan(sweep.Full, backends, 1, FullBudget, Limits{CPUs: tc.cpus, Exclusive: epollOnly, Peer: catalogue.Peer})
		if d := cmp.Diff(tc.points, loopsPoints(pl)); d != "" {
			t.Errorf("%d CPUs: loops points (-want +got):\n%s", tc.cpus, d)
		}
		if d := cmp.Diff(tc.skipped, pl.Skipped); d != "" {
			t.Errorf("%d CPUs: skipped (-want +got):\n%s", tc.cpus, d)
		}
		if want := tc.skipped != nil; (pl.Note == ScalingNote) != want {
			t.Errorf("%d CPUs: note %q", tc.cpus, pl.Note)
		}
		for _, b := range backends[:2] {
			if !slices.ContainsFunc(pl.Points, func(p sweep.Point) bool {
				return p.Sweep == sweep.Active && p.Backend == b && p.Conns == sweep.Full.LoopsConns && p.Loops <= 1
			}) {
				t.Errorf("%d CPUs: no one-loop point for %s at %d conns", tc.cpus, b, sweep.Full.LoopsConns)
			}
		}
	}
	// Unknown CPUs allow no point beyond one loop, and one backend is
	// named rather than called every backend.
	pl := NewPlan(sweep.Quick, []string{"poll"}, 1, QuickBudget, Limits{})
	if len(loopsPoints(pl)) != 0 || len(pl.Skipped) != 2 ||
		pl.Skipped[0] != "loops c1000-l2 (poll): needs 4 CPUs (2 server loops + 2 generator loops, one CPU each), the number of CPUs here is unknown" {
		t.Errorf("unknown CPUs: points %v, skipped %q", loopsPoints(pl), pl.Skipped)
	}
}

// A loops point runs its server loops on CPUs of their own, the
// generator's loops on the next ones; other points keep the defaults.
func TestLoopsRunConfig(t *testing.T) {
	p := func(string) {}
	cfg := benchConfig(RunSpec{Point: sweep.Point{Sweep: sweep.Loops, Backend: "epoll", Conns: 1000, MsgSize: 64, Loops: 3, Accept: "exclusive"}}, p, true)
	if cfg.Server.Loops != 3 || cfg.Server.Accept != "exclusive" || !slices.Equal(cfg.Server.CPUs, []int{0, 1, 2}) || !slices.Equal(cfg.GenCPUs, []int{3, 4, 5}) {
		t.Errorf("loops 3: server loops %d (accept %q) on %v, generator on %v", cfg.Server.Loops, cfg.Server.Accept, cfg.Server.CPUs, cfg.GenCPUs)
	}
	cfg = benchConfig(RunSpec{Point: sweep.Point{Sweep: sweep.Loops, Backend: "epoll", Conns: 1000, MsgSize: 64, Loops: 3}}, p, false)
	if cfg.Server.Loops != 3 || cfg.Server.CPUs != nil || cfg.GenCPUs != nil {
		t.Errorf("loops 3 without pinning: server loops %d on %v, generator on %v", cfg.Server.Loops, cfg.Server.CPUs, cfg.GenCPUs)
	}
	cfg = benchConfig(RunSpec{Point: sweep.Point{Sweep: sweep.Active, Backend: "epoll", Conns: 1000, MsgSize: 64}}, p, true)
	if cfg.Server.Loops != 0 || cfg.Server.CPUs != nil || cfg.GenCPUs != nil {
		t.Errorf("active point: server loops %d on %v, generator on %v", cfg.Server.Loops, cfg.Server.CPUs, cfg.GenCPUs)
	}
}

// The comparison says which points it skipped and why, on stderr and in
// summary.md; the loops points it ran have a table of their own, their
// repeats pooled, and stay out of the one-loop sweeps.
func TestRunRecordsLoopsSweep(t *testing.T) {
	sw := tiny
	sw.Loops, sw.LoopsConns = []int{1, 2, 4}, 100
	var calls atomic.Int32
	inner := fakeRunner(&calls, 0, nil)
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := inner(ctx, s, progress)
		if err == nil && s.Loops > 1 {
			r.Server.Options.Loops = s.Loops
			r.Server.Options.Accept = "reuseport"
			if s.Accept != "" {
				r.Server.Options.Accept = s.Accept
			}
			// Repeats spread differently: a measurement, not a setting.
			r.Server.Options.LoopAccepts = make([]uint64, s.Loops)
			r.Server.Options.LoopAccepts[0] = uint64(s.Repeat)
		}
		return r, err
	}
	for _, tc := range []struct {
		cpus    int
		ran     []string
		skipped []string
	}{
		{2, nil, []string{"loops c100-l2 (every backend; epoll also with --accept exclusive)", "loops c100-l4 (every backend; epoll also with --accept exclusive)"}},
		{4, []string{"2 loops, 100 conns"}, []string{"loops c100-l4 (every backend; epoll also with --accept exclusive)"}},
	} {
		out := t.TempDir()
		o := Options{Backends: []string{"epoll", "select"}, Sweeps: sw, Repeat: 2, Out: out, Runner: runner, noDraw: true,
			Limits: Limits{CPUs: tc.cpus, Exclusive: func(b string) bool { return b == "epoll" }}}
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		md, err := os.ReadFile(filepath.Join(out, "summary.md"))
		if err != nil {
			t.Fatal(err)
		}
		summary := string(md)
		for _, s := range tc.skipped {
			if !strings.Contains(stderr.String(), "compare: skipping "+s+": needs") {
				t.Errorf("%d CPUs: stderr does not say it skipped %s:\n%s", tc.cpus, s, stderr.String())
			}
			if !strings.Contains(summary, "- "+s+": needs") {
				t.Errorf("%d CPUs: summary.md does not list %s:\n%s", tc.cpus, s, summary)
			}
		}
		if !strings.Contains(summary, "### Skipped points") || !strings.Contains(summary, "Scaling over server loops needs a machine") ||
			!strings.Contains(stderr.String(), "compare: note: scaling over server loops") {
			t.Errorf("%d CPUs: no skipped section or scaling note:\n%s\n%s", tc.cpus, summary, stderr.String())
		}
		hasSection := strings.Contains(summary, "### Server event loops")
		if hasSection != (tc.ran != nil) {
			t.Errorf("%d CPUs: loops section %v, want %v:\n%s", tc.cpus, hasSection, tc.ran != nil, summary)
		}
		for _, label := range tc.ran {
			if n := strings.Count(summary, "| "+label+" |"); n != 2 {
				t.Errorf("%d CPUs: %d rows for %q, want one per backend:\n%s", tc.cpus, n, label, summary)
			}
		}
		if n := strings.Count(summary, "| 2 loops, one listener (exclusive), 100 conns | epoll |"); tc.ran != nil && n != 1 {
			t.Errorf("%d CPUs: %d rows for epoll's exclusive loops, want 1:\n%s", tc.cpus, n, summary)
		}
		// The active table has one row per backend at 100 conns: the
		// multi-loop runs are not among them.
		if n := strings.Count(summary, "| 100 conns |"); n != 2 {
			t.Errorf("%d CPUs: %d active rows at 100 conns, want 2:\n%s", tc.cpus, n, summary)
		}
	}
}
