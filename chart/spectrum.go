package chart

import (
	"fmt"
	"math"
	"sort"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// latencyGroups are the points whose latency is worth a spectrum: every
// open-loop point, or failing those the closed-loop point with most data.
func latencyGroups(files, active []File) [][]File {
	groups := map[result.PointKey][]File{}
	var keys []result.PointKey
	for _, f := range files {
		if closedLoop(f.Result) {
			continue
		}
		k := f.PointKey()
		k.Server = "" // every backend at the point
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	if len(keys) == 0 {
		runs := results(active)
		c, ok := sweep.MostCommon(runs, func(r *result.Result) bool { return r.Params.Conns == 100 }, conns)
		if !ok {
			c, ok = sweep.MostCommon(runs, all, conns)
		}
		if !ok {
			return nil
		}
		return [][]File{filter(active, func(r *result.Result) bool { return r.Params.Conns == c })}
	}
	var out [][]File
	for _, k := range keys {
		out = append(out, groups[k])
	}
	// By the point's parameters, the lightest load first.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i][0].Params, out[j][0].Params
		switch {
		case a.Conns != b.Conns:
			return a.Conns < b.Conns
		case a.Idle != b.Idle:
			return a.Idle < b.Idle
		case a.MsgSize != b.MsgSize:
			return a.MsgSize < b.MsgSize
		case a.SndBuf != b.SndBuf:
			return a.SndBuf < b.SndBuf
		}
		return out[i][0].OfferedRate() < out[j][0].OfferedRate()
	})
	return out
}

// tableGroups are the latency groups of an open-loop table, or failing
// its runs, of the active table's.
func tableGroups(sec Section, tables map[string]Section) [][]File {
	return latencyGroups(sec.Files, tables[sweep.Active].Files)
}

// perGroup draws a figure for each latency group of a table, named
// name, then name-2, name-3... by load.
func perGroup(name string, draw func(name string, g []File) (*figure, error)) func(Section, map[string]Section) ([]*figure, error) {
	return func(sec Section, tables map[string]Section) ([]*figure, error) {
		var out []*figure
		for i, g := range tableGroups(sec, tables) {
			n := name
			if i > 0 {
				n = fmt.Sprintf("%s-%d", name, i+1)
			}
			f, err := draw(n, g)
			if err != nil {
				return out, err
			}
			if f != nil {
				out = append(out, f)
			}
		}
		return out, nil
	}
}

func groupTitle(g []File) string {
	p := g[0].Params
	load := "closed loop"
	if !closedLoop(g[0].Result) {
		load = "open loop"
	}
	if !closedLoop(g[0].Result) {
		load = "open loop at " + report.Human(g[0].OfferedRate()) + " rt/s"
	}
	s := fmt.Sprintf("%s, %d connections", load, p.Conns)
	if p.Idle > 0 {
		s += fmt.Sprintf(" + %d idle", p.Idle)
	}
	return s + ", " + report.Bytes(float64(p.MsgSize)) + " messages"
}

// spectrumFigure draws latency against percentile on HdrHistogram's
// 1/(1-p) axis, so that the tail (99.9%, 99.99%) gets as much room as the
// median; repeats give the median line and range bars at the labelled
// percentiles.
func spectrumFigure(name string, g []File) (*figure, error) {
	s, err := newSpectrum(g)
	if s == nil || err != nil {
		return nil, err
	}
	unit, div := report.LatencyAxis(s.ymax)
	p := newPanel("Latency by percentile, "+groupTitle(g), "percentile", "round-trip latency ("+unit+")")
	var names []string
	for b := range s.curves {
		names = append(names, b)
	}
	sortBackends(names)
	for bi, b := range names {
		// Nudged sideways per backend so that the markers' range bars do
		// not hide each other.
		nudge := 1 + 0.06*(float64(bi)-float64(len(names)-1)/2)
		if err := s.addBackend(p, b, nudge, div); err != nil {
			return nil, err
		}
	}
	s.setAxes(p, div)
	return &figure{
		name:     name,
		title:    "Latency percentile spectrum",
		panels:   [][]*plot.Plot{{p}},
		backends: names,
		notes:    s.notes(g),
		caption:  []string{machineLine(g), paramLine(g)},
		w:        10 * vg.Inch, h: 6 * vg.Inch,
	}, nil
}

// spectrumRun is one run's latency histogram: the latency at percentile
// q, and how many round trips it counted.
type spectrumRun struct {
	vals func(q float64) float64
	n    int64
}

// spectrumRuns are one backend's runs at a point, a run per repeat.
type spectrumRuns []spectrumRun

// least is the fewest round trips a run counted, which bounds the
// percentiles every run resolves.
func (rs spectrumRuns) least() int64 {
	n := rs[0].n
	for _, r := range rs {
		n = min(n, r.n)
	}
	return n
}

// at is each run's latency at x on the 1/(1-p) axis, divided by div.
func (rs spectrumRuns) at(x, div float64) []float64 {
	q := 100 * (1 - 1/x)
	var vs []float64
	for _, r := range rs {
		vs = append(vs, r.vals(q)/div)
	}
	return vs
}

// spectrumCurve is a backend's latency on a percentile grid: the median
// over its runs, and their range.
type spectrumCurve struct{ x, med, lo, hi []float64 }

// curve is rs's latency at 20 points per decade of 1/(1-p), up to what
// the smallest histogram can resolve.
func (rs spectrumRuns) curve() *spectrumCurve {
	n := rs.least()
	c := &spectrumCurve{}
	for k := 0; ; k++ {
		x := math.Pow(10, float64(k)/20)
		if x > float64(n) || x > 1e7 {
			break
		}
		s := report.Summarize(rs.at(x, 1))
		c.x = append(c.x, x)
		c.med, c.lo, c.hi = append(c.med, s.Med), append(c.lo, s.Min), append(c.hi, s.Max)
	}
	return c
}

// spectrum is the latency spectrum of a latency group: each backend's
// runs and curve, and the latencies and percentiles the curves span.
type spectrum struct {
	runs             map[string]spectrumRuns
	curves           map[string]*spectrumCurve
	ymin, ymax, xmax float64
}

// newSpectrum reads the latency histograms of g; nil where none counted
// a round trip.
func newSpectrum(g []File) (*spectrum, error) {
	s := &spectrum{runs: map[string]spectrumRuns{}, curves: map[string]*spectrumCurve{}, ymin: math.Inf(1), xmax: 1}
	for _, f := range g {
		if f.Latency.Histogram == "" {
			continue
		}
		h, err := decodeHist(f.Latency.Histogram)
		if err != nil {
			return nil, BadInput(fmt.Errorf("%s: latency.histogram: %v", f.Path, err))
		}
		if h.TotalCount() == 0 {
			continue
		}
		s.runs[f.Params.Backend] = append(s.runs[f.Params.Backend],
			spectrumRun{func(q float64) float64 { return float64(h.ValueAtQuantile(q)) }, h.TotalCount()})
	}
	if len(s.runs) == 0 {
		return nil, nil
	}
	for b, rs := range s.runs {
		c := rs.curve()
		s.curves[b] = c
		for i := range c.x {
			s.ymin, s.ymax, s.xmax = math.Min(s.ymin, c.lo[i]), math.Max(s.ymax, c.hi[i]), math.Max(s.xmax, c.x[i])
		}
	}
	return s, nil
}

// addBackend draws b's median line on p, its latencies divided by div,
// and its markers at the labelled percentiles, moved nudge times along
// the axis.
func (s *spectrum) addBackend(p *plot.Plot, b string, nudge, div float64) error {
	c, sty := s.curves[b], styleOf(b)
	med := make(plotter.XYs, len(c.x))
	for i := range c.x {
		med[i] = plotter.XY{X: c.x[i], Y: c.med[i] / div}
	}
	l, err := plotter.NewLine(med)
	if err != nil {
		return err
	}
	l.LineStyle = sty.line()
	p.Add(l)
	rs := s.runs[b]
	n := rs.least()
	var marks errXY
	for _, x := range []float64{2, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7} {
		if x > float64(n) {
			break
		}
		marks = append(marks, dot{X: x * nudge, Stat: report.Summarize(rs.at(x, div))})
	}
	if len(marks) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(marks)
	if err != nil {
		return err
	}
	sc.GlyphStyle = sty.glyph()
	p.Add(sc)
	if len(rs) > 1 {
		eb, err := plotter.NewYErrorBars(marks)
		if err != nil {
			return err
		}
		eb.LineStyle = sty.line()
		eb.LineStyle.Width = vg.Points(1)
		p.Add(eb)
	}
	return nil
}

// setAxes labels p's x axis in percentiles, over at least 0 to 90%, and
// makes its y axis (latencies divided by div) logarithmic where they
// span more than 8 to 1.
func (s *spectrum) setAxes(p *plot.Plot, div float64) {
	xmax := max(s.xmax, 10)
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = 1, xmax
	var ticks plot.ConstantTicks
	for _, t := range []struct {
		x float64
		l string
	}{{1, "0%"}, {2, "50%"}, {10, "90%"}, {100, "99%"}, {1e3, "99.9%"}, {1e4, "99.99%"}, {1e5, "99.999%"}, {1e6, "99.9999%"}, {1e7, "99.99999%"}} {
		if t.x <= xmax*1.0001 {
			ticks = append(ticks, plot.Tick{Value: t.x, Label: t.l})
		}
	}
	p.X.Tick.Marker = ticks
	if s.ymin > 0 && s.ymax/s.ymin > 8 {
		setLog(&p.Y, s.ymin/div, s.ymax/div, report.Human)
	} else {
		p.Y.Min = 0
	}
}

// notes say how to read the spectrum of g.
func (s *spectrum) notes(g []File) []string {
	notes := []string{"Each line is the latency below which that share of round trips completed; the tail is to the right."}
	if !closedLoop(g[0].Result) {
		notes = append(notes, "Open loop: timed from the intended send time, so stalls are not hidden (coordinated omission corrected).")
	}
	reps := false
	for _, rs := range s.runs {
		reps = reps || len(rs) > 1
	}
	if reps {
		notes = append(notes, "Markers at 50%, 90%, 99%...: the median over the repeats, bars its 95% confidence interval (6 or more runs) or min to max.")
	}
	return notes
}
