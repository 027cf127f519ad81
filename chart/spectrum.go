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
	type hist struct {
		vals func(q float64) float64
		n    int64
	}
	byBackend := map[string][]hist{}
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
		byBackend[f.Params.Backend] = append(byBackend[f.Params.Backend],
			hist{func(q float64) float64 { return float64(h.ValueAtQuantile(q)) }, h.TotalCount()})
	}
	if len(byBackend) == 0 {
		return nil, nil
	}
	// Percentile grid: 20 points per decade of 1/(1-p), up to what the
	// smallest histogram can resolve.
	type curve struct{ x, med, lo, hi []float64 }
	curves := map[string]*curve{}
	ymin, ymax, xmax := math.Inf(1), 0.0, 1.0
	for b, hs := range byBackend {
		n := hs[0].n
		for _, h := range hs {
			n = min(n, h.n)
		}
		c := &curve{}
		for k := 0; ; k++ {
			x := math.Pow(10, float64(k)/20)
			if x > float64(n) || x > 1e7 {
				break
			}
			q := 100 * (1 - 1/x)
			var vs []float64
			for _, h := range hs {
				vs = append(vs, h.vals(q))
			}
			s := report.Summarize(vs)
			c.x = append(c.x, x)
			c.med, c.lo, c.hi = append(c.med, s.Med), append(c.lo, s.Min), append(c.hi, s.Max)
			ymin, ymax, xmax = math.Min(ymin, s.Min), math.Max(ymax, s.Max), math.Max(xmax, x)
		}
		curves[b] = c
	}
	unit, div := report.LatencyAxis(ymax)
	p := newPanel("Latency by percentile, "+groupTitle(g), "percentile", "round-trip latency ("+unit+")")
	var names []string
	for b := range curves {
		names = append(names, b)
	}
	sortBackends(names)
	for bi, b := range names {
		c, sty := curves[b], styleOf(b)
		med := make(plotter.XYs, len(c.x))
		for i := range c.x {
			med[i] = plotter.XY{X: c.x[i], Y: c.med[i] / div}
		}
		l, err := plotter.NewLine(med)
		if err != nil {
			return nil, err
		}
		l.LineStyle = sty.line()
		p.Add(l)
		// Markers at the labelled percentiles, nudged sideways per backend
		// so that their range bars do not hide each other.
		hs := byBackend[b]
		n := hs[0].n
		for _, h := range hs {
			n = min(n, h.n)
		}
		nudge := 1 + 0.06*(float64(bi)-float64(len(names)-1)/2)
		var marks errXY
		for _, x := range []float64{2, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7} {
			if x > float64(n) {
				break
			}
			var vs []float64
			for _, h := range hs {
				vs = append(vs, h.vals(100*(1-1/x))/div)
			}
			marks = append(marks, dot{X: x * nudge, Stat: report.Summarize(vs)})
		}
		if len(marks) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = sty.glyph()
		p.Add(sc)
		if len(hs) > 1 {
			eb, err := plotter.NewYErrorBars(marks)
			if err != nil {
				return nil, err
			}
			eb.LineStyle = sty.line()
			eb.LineStyle.Width = vg.Points(1)
			p.Add(eb)
		}
	}
	if xmax < 10 {
		xmax = 10
	}
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
	if ymin > 0 && ymax/ymin > 8 {
		setLog(&p.Y, ymin/div, ymax/div, report.Human)
	} else {
		p.Y.Min = 0
	}
	notes := []string{"Each line is the latency below which that share of round trips completed; the tail is to the right."}
	if !closedLoop(g[0].Result) {
		notes = append(notes, "Open loop: timed from the intended send time, so stalls are not hidden (coordinated omission corrected).")
	}
	reps := false
	for _, hs := range byBackend {
		reps = reps || len(hs) > 1
	}
	if reps {
		notes = append(notes, "Markers at 50%, 90%, 99%...: the median over the repeats, bars its 95% confidence interval (6 or more runs) or min to max.")
	}
	return &figure{
		name:     name,
		title:    "Latency percentile spectrum",
		panels:   [][]*plot.Plot{{p}},
		backends: names,
		notes:    notes,
		caption:  []string{machineLine(g), paramLine(g)},
		w:        10 * vg.Inch, h: 6 * vg.Inch,
	}, nil
}
