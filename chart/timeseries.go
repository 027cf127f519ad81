package chart

import (
	"fmt"
	"math"
	"strings"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TimeSeries is the base name of the window-over-time charts.
const TimeSeries = "time-series"

// hasSeries reports whether any file kept its window interval by interval.
func hasSeries(files []File) bool {
	for _, f := range files {
		if len(f.Series) > 0 {
			return true
		}
	}
	return false
}

// timeSeriesFigure draws one point's window interval by interval: round trips
// per second, p50 and p99, and the CPU other processes took where it was
// measured, so that a stall or a noisy neighbour shows as the moment it
// happened instead of vanishing into the totals. Every run is its own
// line in its backend's colour; repeats are drawn over each other.
func timeSeriesFigure(name string, g []File) (*figure, error) {
	if !hasSeries(g) {
		return nil, nil
	}
	top := 0.0
	for _, f := range g {
		for _, s := range f.Series {
			top = max(top, float64(s.P99), float64(s.P50))
		}
	}
	unit, div := report.LatencyAxis(top)
	sp := newSeriesPanels(unit)
	for _, f := range g {
		if err := sp.add(f, div); err != nil {
			return nil, err
		}
	}
	panels := sp.layout()
	sortBackends(sp.names)
	h := 6 * vg.Inch
	if len(panels) == 1 {
		h = 4.5 * vg.Inch
	}
	return &figure{
		name:     name,
		title:    fmt.Sprintf("The window over time, %s", groupTitle(g)),
		panels:   panels,
		backends: sp.names,
		notes:    seriesNotes(sp.late, sp.spin),
		caption:  []string{machineLine(g), paramLine(g)},
		w:        11 * vg.Inch, h: h,
	}, nil
}

// seriesPanels are the panels of a window-over-time figure, and what the
// runs drawn into them so far span and say.
type seriesPanels struct {
	rate, p50, p99, cpu *plot.Plot
	latLo, latHi, end   float64
	// names are the backends drawn, foreign those with others' CPU
	// measured, late and spin the runs whose generator sent late or
	// spun.
	names, foreign, late, spin []string
	seen                       map[string]bool
}

// newSeriesPanels are the empty panels, latencies in unit.
func newSeriesPanels(unit string) *seriesPanels {
	return &seriesPanels{
		rate:  newPanel("Round trips per second", "time in window (s)", "round trips/s"),
		p50:   newPanel("Median latency", "time in window (s)", "p50 ("+unit+")"),
		p99:   newPanel("Tail latency", "time in window (s)", "p99 ("+unit+")"),
		cpu:   newPanel("CPU used by other processes", "time in window (s)", "CPUs"),
		latLo: math.Inf(1),
		seen:  map[string]bool{},
	}
}

// add draws f's intervals as a line in each panel, its latencies
// divided by div.
func (sp *seriesPanels) add(f File, div float64) error {
	if len(f.Series) == 0 {
		return nil
	}
	b := f.Params.Backend
	if !sp.seen[b] {
		sp.seen[b] = true
		sp.names = append(sp.names, b)
	}
	if f.Generator.SendLate {
		sp.late = append(sp.late, b)
	}
	if f.Generator.Spin {
		sp.spin = append(sp.spin, b)
	}
	rate, p50, p99, cpu := seriesXYs(f.Series, div)
	sp.end = max(sp.end, f.Series[len(f.Series)-1].End)
	for _, xy := range p50 {
		sp.latLo = min(sp.latLo, xy.Y)
	}
	for _, xy := range p99 {
		sp.latHi = max(sp.latHi, xy.Y)
	}
	if len(cpu) > 0 && !sp.seen["cpu:"+b] {
		sp.seen["cpu:"+b] = true
		sp.foreign = append(sp.foreign, b)
	}
	for _, l := range []struct {
		p   *plot.Plot
		xys plotter.XYs
	}{{sp.rate, rate}, {sp.p50, p50}, {sp.p99, p99}, {sp.cpu, cpu}} {
		if len(l.xys) == 0 {
			continue
		}
		if err := addSeriesLine(l.p, b, l.xys); err != nil {
			return err
		}
	}
	return nil
}

// layout scales the panels to what was drawn and arranges them: the
// panel of others' CPU only where some run measured it.
func (sp *seriesPanels) layout() [][]*plot.Plot {
	latHi := max(sp.latHi, sp.latLo)
	for _, p := range []*plot.Plot{sp.rate, sp.p50, sp.p99, sp.cpu} {
		p.X.Min, p.X.Max = 0, sp.end
	}
	sp.rate.Y.Min = 0
	sp.cpu.Y.Min = 0
	if latHi > 0 && !math.IsInf(sp.latLo, 0) {
		setLog(&sp.p50.Y, sp.latLo, latHi, report.Human)
		setLog(&sp.p99.Y, sp.latLo, latHi, report.Human)
	}
	if len(sp.foreign) == 0 {
		return [][]*plot.Plot{{sp.rate, sp.p50, sp.p99}}
	}
	return [][]*plot.Plot{{sp.rate, sp.p50}, {sp.p99, sp.cpu}}
}

// seriesNotes name the backends whose generator sent late or spun.
func seriesNotes(late, spin []string) []string {
	var notes []string
	if len(late) > 0 {
		notes = append(notes, "Generator sent late (lateness p99 > 10% of p50), its latency describes the generator: "+strings.Join(late, ", "))
	}
	if len(spin) > 0 {
		notes = append(notes, "Spinning generator: "+strings.Join(spin, ", "))
	}
	return append(notes, "Intervals with too few round trips for a percentile have no point for it (p99 needs 100).")
}

// seriesXYs are a run's intervals as points at their middles: round
// trips per second, p50 and p99 (divided by div) where the interval had
// the samples for them, and others' CPU where it was measured.
func seriesXYs(ss []result.Second, div float64) (rate, p50, p99, cpu plotter.XYs) {
	for _, s := range ss {
		mid := (s.Start + s.End) / 2
		rate = append(rate, plotter.XY{X: mid, Y: s.Throughput})
		if s.P50 > 0 {
			p50 = append(p50, plotter.XY{X: mid, Y: float64(s.P50) / div})
		}
		if s.P99 > 0 {
			p99 = append(p99, plotter.XY{X: mid, Y: float64(s.P99) / div})
		}
		if s.ForeignCPU != nil {
			cpu = append(cpu, plotter.XY{X: mid, Y: *s.ForeignCPU})
		}
	}
	return rate, p50, p99, cpu
}

func addSeriesLine(p *plot.Plot, backend string, xys plotter.XYs) error {
	st := styleOf(backend)
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color = st.Color
	l.Width = vg.Points(1.2)
	pts.Color = st.Color
	pts.Shape = st.Glyph
	pts.Radius = vg.Points(2.5)
	p.Add(l, pts)
	return nil
}
