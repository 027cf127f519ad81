package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/result"
)

// Results that kept their window second by second get a time-series
// chart among the others; the points are per interval, and an interval
// too short for a percentile draws none for it.
func TestDrawAllTimeSeries(t *testing.T) {
	files, err := Load(suite(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	withSeries := 0
	for _, f := range files {
		if closedLoop(f.Result) {
			continue
		}
		cpu := 0.02
		f.Series = []result.Second{
			{Start: 0, End: 1, RoundTrips: 1000, Throughput: 1000, P50: 30_000, P99: 90_000, ForeignCPU: &cpu},
			{Start: 1, End: 2, RoundTrips: 1000, Throughput: 1000, P50: 250_000, P99: 400_000_000},
			{Start: 2, End: 2.5, RoundTrips: 40, Throughput: 80, P50: 31_000},
		}
		f.Generator.SendLate = withSeries == 0
		withSeries++
	}
	if withSeries == 0 {
		t.Fatal("the suite has no open-loop point")
	}
	out := t.TempDir()
	if d := os.Getenv("MUXBENCH_CHART_DIR"); d != "" {
		out = d // keep the charts to look at them
	}
	if _, _, err := DrawAll(out, files); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(out, TimeSeries+".png"))
	checkSVG(t, filepath.Join(out, TimeSeries+".svg"))

	g := filter(files, func(r *result.Result) bool { return len(r.Series) > 0 })
	fig, err := timeSeriesFigure(TimeSeries, g)
	if err != nil || fig == nil {
		t.Fatalf("figure %v, err %v", fig, err)
	}
	if len(fig.panels) != 2 || len(fig.panels[1]) != 2 {
		t.Errorf("panels %d: want rate, p50, p99 and the foreign CPU measured", len(fig.panels))
	}
	if rateMax := fig.panels[0][0].Y.Max; rateMax < 1000 {
		t.Errorf("rate axis tops at %g, below the 1000 rt/s drawn", rateMax)
	}
	// Beyond 10,000 µs the axis reads in ms.
	if y := fig.panels[1][0].Y; y.Min > 0.030 || y.Max < 400 || !strings.Contains(y.Label.Text, "(ms)") {
		t.Errorf("p99 axis %g..%g %s does not span 30 µs to the 400 ms stall in ms", y.Min, y.Max, y.Label.Text)
	}
	if len(fig.notes) < 2 {
		t.Errorf("notes %q: want the late generator named", fig.notes)
	}

	// Without series, no such chart and no complaint.
	out2 := t.TempDir()
	plain, _ := Load(suite(t, 1))
	_, skipped, err := DrawAll(out2, plain)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("skipped %v, err %v", skipped, err)
	}
	if _, err := os.Stat(filepath.Join(out2, TimeSeries+".png")); err == nil {
		t.Error("a time-series chart drawn from results without series")
	}
}
