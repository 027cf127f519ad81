package compare

import (
	"bytes"
	"context"
	"html"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Every metric descriptor reaches every view: the terminal table (a
// column, or a note where it is not zero), summary.md and the page's
// tables, diff, merge's report and CSV. A table of data points leaves
// out what only a failed run has.
func TestEveryMetricReachesEveryView(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	fake := fakeRunner(&calls, 0, nil)
	// Runs that have every figure.
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := fake(ctx, s, progress)
		if err == nil {
			sv := r.Server
			sv.IO.Waits, sv.IO.Syscalls = r.RoundTrips/4, 2*r.RoundTrips
			sv.Rates = sv.IO.Rates(r.RoundTrips)
			sv.Process.VolCtxSw, sv.RSSBase, sv.Accepts = 300, 1<<20, &result.Accepts{}
			r.Noise = &result.Noise{ForeignCPU: 0.01}
		}
		return r, err
	}
	o := Options{Backends: []string{"epoll", "poll"}, Sweeps: tiny, Repeat: 2, Out: out, Runner: runner, noDraw: true}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	files, err := chart.Load(filepath.Join(out, "json"))
	if err != nil {
		t.Fatal(err)
	}
	summary, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	var table, diff, csv, merged bytes.Buffer
	rs := make([]*result.Result, len(files))
	for i, f := range files {
		rs[i] = f.Result
	}
	if err := report.Table(&table, rs); err != nil {
		t.Fatal(err)
	}
	if _, err := Diff(&diff, files, files); err != nil {
		t.Fatal(err)
	}
	if err := reporters["csv"](&csv, files); err != nil {
		t.Fatal(err)
	}
	a, b := *files[0].Result, *files[0].Result
	b.Env.Hostname = "another"
	if err := mergeReport(&merged, []chart.File{{Path: "a", Result: &a}, {Path: "b", Result: &b}}, &a); err != nil {
		t.Fatal(err)
	}
	csvHead, _, _ := strings.Cut(csv.String(), "\n")
	for _, m := range report.Metrics {
		views := map[string]bool{
			"CSV":   strings.Contains(","+csvHead+",", ","+m.Column()+","),
			"merge": strings.Contains(merged.String(), m.Name),
			"table": m.Head[0] != "" && strings.Contains(table.String(), m.Head[0]) || m.Head[0] == "" && m.Note != nil ||
				m == report.Noise, // the rt/s column's ~ and its note
		}
		if !m.Fails {
			views["summary.md"] = strings.Contains(string(summary), "| "+m.Name+" |")
			views["page"] = strings.Contains(string(page), ">"+html.EscapeString(m.Name)+"</th>")
			views["diff"] = strings.Contains(diff.String(), "\n"+m.Name+" ")
		}
		for view, ok := range views {
			if !ok {
				t.Errorf("%s does not reach %s", m.Name, view)
			}
		}
	}
}
