package compare

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// A new sweep is one descriptor: added to sweep.All, it is planned, run
// and recorded, and summary.md, the page and the charts give it a table
// and its figure, with no other code.
func TestNewSweepIsOneDescriptor(t *testing.T) {
	all := sweep.All
	defer func() { sweep.All = all }()
	conns := func(r *result.Result) float64 { return float64(r.Params.Conns) }
	sweep.All = append(slices.Clone(all), sweep.Sweep{
		Name: "peers",
		Points: func(_ sweep.Settings, backends []string, _ func(string) bool) (ps []sweep.Point) {
			for _, c := range []int{2, 20} {
				for _, b := range backends {
					ps = append(ps, sweep.Point{Sweep: "peers", Backend: b, Conns: c, MsgSize: 128})
				}
			}
			return ps
		},
		Param: func(p sweep.Point) string { return fmt.Sprintf("c%d", p.Conns) },
		Title: func([]*result.Result) string { return "Event loops of other projects" },
		Label: func(r *result.Result) string { return fmt.Sprintf("%d peer conns", r.Params.Conns) },
		Order: func(r *result.Result) []float64 { return []float64{conns(r)} },
		Figures: []sweep.Figure{{Name: "peers", Lines: &sweep.Lines{
			Title:  func([]*result.Result) string { return "Peers" },
			XLabel: func([]*result.Result) string { return "connections" },
			X:      conns, LogX: true,
		}}},
	})
	out := t.TempDir()
	var calls atomic.Int32
	o := Options{Backends: []string{"epoll", "twisted-epoll"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: fakeRunner(&calls, 0, nil)}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if _, err := result.ReadFile(filepath.Join(out, "json", "peers-twisted-epoll-c20-r1.json")); err != nil {
		t.Error(err)
	}
	summary, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	for _, want := range []string{"### Event loops of other projects", "| 2 peer conns | twisted-epoll |", "| 20 peer conns | epoll |"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, summary)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "peers.svg")); err != nil {
		t.Errorf("no figure: %v\n%s", err, stderr.String())
	}
	if page, _ := os.ReadFile(filepath.Join(out, "index.html")); !strings.Contains(string(page), "20 peer conns") {
		t.Error("the page has no point of the new sweep")
	}
}
