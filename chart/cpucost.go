package chart

import (
	"image/color"
	"math"

	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// cpuFigure puts busy-waiting's CPU next to the others at one point: the
// server's CPU utilisation, CPU per round trip, and the latency it buys.
func cpuFigure(g []File) (*figure, error) {
	util := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 }, serverUtil)
	if len(util) == 0 {
		return nil, nil
	}
	perRT := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 }, serverPerRT)
	p50 := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 },
		func(r *result.Result) (float64, bool) { return float64(r.Latency.P50) / 1e3, r.Latency.P50 > 0 })
	p99 := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 },
		func(r *result.Result) (float64, bool) { return float64(r.Latency.P99) / 1e3, r.Latency.P99 > 0 })
	names := backendsOf(util)
	bars := func(p *plot.Plot, data map[string][]Stat, width vg.Length, offset vg.Length, alpha uint8) error {
		for i, b := range names {
			st, ok := data[b]
			if !ok || len(st) == 0 {
				continue
			}
			bc, err := plotter.NewBarChart(plotter.Values{st[0].Med}, width)
			if err != nil {
				return err
			}
			r, gg, bb, _ := styleOf(b).Color.RGBA()
			bc.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(gg >> 8), B: uint8(bb >> 8), A: alpha}
			bc.LineStyle.Width = 0
			bc.XMin = float64(i)
			bc.Offset = offset
			p.Add(bc)
			if st[0].N > 1 {
				eb, err := plotter.NewYErrorBars(errXY{{X: float64(i), Med: st[0].Med, Lo: st[0].Lo, Hi: st[0].Hi}})
				if err != nil {
					return err
				}
				p.Add(offsetPlotter{eb, offset})
			}
		}
		p.NominalX(names...)
		p.Y.Min = 0
		p.Y.Max *= 1.12 // room above the tallest bar and its error bar
		p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
		return nil
	}
	p1 := newPanel("Server CPU utilisation", "", "CPUs busy (1 = one core)")
	p2 := newPanel("Server CPU per round trip", "", "CPU microseconds per round trip")
	p3 := newPanel("Latency it buys", "", "round-trip latency (µs)")
	if err := bars(p1, util, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := bars(p2, perRT, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := latencyRanges(p3, names, p50, p99); err != nil {
		return nil, err
	}
	if len(names) > 4 { // long names side by side would overlap
		for _, p := range []*plot.Plot{p1, p2, p3} {
			p.X.Tick.Label.Rotation = math.Pi / 6
			p.X.Tick.Label.XAlign = draw.XRight
			p.X.Tick.Label.YAlign = draw.YCenter
		}
	}
	return &figure{
		name:     CPUBars,
		title:    "What busy-waiting costs: server CPU at the same load, " + groupTitle(g),
		panels:   [][]*plot.Plot{{p1, p2, p3}},
		backends: names,
		bars:     true,
		notes:    []string{"Latency panel: the marker is the median (p50), the line reaches up to p99.", "A spinning backend keeps a core busy whatever the load."},
		caption:  []string{machineLine(g), paramLine(g)},
		w:        12 * vg.Inch, h: 5 * vg.Inch,
	}, nil
}

// latencyRanges draws, per backend, its p50 as its marker and a line up to
// its p99, on a log axis when the backends differ by more than 30x (a
// spinning backend's tail can be 100x the others').
func latencyRanges(p *plot.Plot, names []string, p50, p99 map[string][]Stat) error {
	lo, hi := math.Inf(1), 0.0
	for i, b := range names {
		m, ok := p50[b]
		if !ok || len(m) == 0 {
			continue
		}
		sty := styleOf(b)
		top := m[0].Med
		if t, ok := p99[b]; ok && len(t) > 0 {
			top = t[0].Med
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: m[0].Med}, {X: float64(i), Y: top}})
		if err != nil {
			return err
		}
		l.LineStyle = sty.line()
		l.LineStyle.Width = vg.Points(3)
		sc, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: m[0].Med}})
		if err != nil {
			return err
		}
		sc.GlyphStyle = sty.glyph()
		sc.GlyphStyle.Radius = vg.Points(5)
		cap, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: top}})
		if err != nil {
			return err
		}
		cap.GlyphStyle = draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(6), Shape: capGlyph{}}
		p.Add(l, sc, cap)
		lo, hi = math.Min(lo, m[0].Med), math.Max(hi, top)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	if lo > 0 && hi/lo > 30 {
		setLog(&p.Y, lo, hi, humanTick)
	} else {
		p.Y.Min = 0
		p.Y.Max = hi * 1.12
	}
	return nil
}

// capGlyph is a short horizontal bar: the p99 end of a latency range.
type capGlyph struct{}

func (capGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)}, pt.X-sty.Radius, pt.Y, pt.X+sty.Radius, pt.Y)
}
