package chart

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// costFigure draws the cost chart at the lightest load of a table's
// latency groups.
func costFigure(sec Section, tables map[string]Section) ([]*figure, error) {
	g := costGroup(tableGroups(sec, tables))
	if g == nil {
		return nil, nil
	}
	return one(cpuFigure(g, tables[sweep.Active].Files))
}

// costGroup is the point the cost chart compares backends at: the
// open-loop point with the lightest load, where no backend should be near
// saturation (at a heavy load the latency panel would compare queueing,
// not wake-up costs); the first group when none is open loop.
func costGroup(groups [][]File) []File {
	var best []File
	for _, g := range groups {
		if closedLoop(g[0].Result) {
			continue
		}
		if best == nil || g[0].OfferedRate() < best[0].OfferedRate() {
			best = g
		}
	}
	if best == nil && len(groups) > 0 {
		best = groups[0]
	}
	return best
}

// spins tells the backends that poll without sleeping: their CPU is a
// core whatever the load, by design.
func spins(backend string) bool { return strings.HasPrefix(backend, "busywait") }

// loadOf says which load g was measured at, as a share of sweep.CostBase's
// closed-loop capacity at the same point where active holds it, and
// names the backends that were near saturation all the same.
func loadOf(g []File, active []File) (title string, notes []string) {
	if closedLoop(g[0].Result) {
		return groupTitle(g), []string{"Closed loop: every backend runs flat out, so this compares costs at saturation. A light open-loop point (muxbench compare) draws this chart at a load no backend is near saturating."}
	}
	p := g[0].Params
	rate := g[0].OfferedRate()
	title = fmt.Sprintf("at %s rt/s offered", report.Human(rate))
	note := fmt.Sprintf("Load: open loop at %s rt/s over %d connections, %s messages", report.Human(rate), p.Conns, report.Bytes(float64(p.MsgSize)))
	// The same point in closed loop, on the backend the load is scaled
	// from.
	base := g[0].PointKey()
	base.Server, base.Sweep, base.Rate = sweep.CostBase, "", 0
	var caps []float64
	for _, f := range active {
		if f.PointKey() == base {
			caps = append(caps, f.Throughput)
		}
	}
	if c := report.Summarize(caps); c.N > 0 && c.Med > 0 {
		title += fmt.Sprintf(", %.0f%% of %s's capacity", 100*rate/c.Med, sweep.CostBase)
		note += fmt.Sprintf(": %.0f%% of what %s managed there in closed loop (%s rt/s, median of %d).", 100*rate/c.Med, sweep.CostBase, report.Human(c.Med), c.N)
	} else {
		note += "; no closed-loop " + sweep.CostBase + " run at this point to put it in proportion."
	}
	notes = append(notes, note)
	var near []string
	for _, b := range backendsOf(collect(g, all, none, report.Throughput.Get)) {
		var share, util []float64
		for _, f := range g {
			if f.Params.Backend != b {
				continue
			}
			share = append(share, f.Throughput/f.OfferedRate())
			if f.Server != nil {
				util = append(util, f.Server.Process.Utilization)
			}
		}
		sh, u := report.Summarize(share), report.Summarize(util)
		switch {
		case sh.N > 0 && sh.Med < 0.95:
			near = append(near, fmt.Sprintf("%s reached %.0f%% of the offered load", b, 100*sh.Med))
		case u.N > 0 && u.Med >= 0.8 && !spins(b):
			near = append(near, fmt.Sprintf("%s kept %.2f CPUs busy", b, u.Med))
		}
	}
	if len(near) > 0 {
		notes = append(notes, "Near saturation at this load: "+strings.Join(near, "; ")+". Its latency is queueing, not wake-up cost.")
	}
	return title, notes
}

// cpuFigure puts busy-waiting's CPU next to the others at one point, at
// a load none of them is near saturating: the server's CPU utilisation,
// CPU per round trip, and the latency it buys. active holds the
// closed-loop runs the load is put in proportion to.
func cpuFigure(g []File, active []File) (*figure, error) {
	util := collect(g, all, none, serverUtil)
	if len(util) == 0 {
		return nil, nil
	}
	perRT := collect(g, all, none, report.ServerCPU.Get)
	names := backendsOf(util)
	// Backends with runs on a busy machine say so under their bars.
	labels := append([]string(nil), names...)
	for i, b := range names {
		for _, f := range g {
			if f.Params.Backend == b && report.Noisy(f.Result) {
				labels[i] = b + " (NOISY)"
				break
			}
		}
	}
	bars := func(p *plot.Plot, data map[string][]dot, width vg.Length, offset vg.Length, alpha uint8) error {
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
				eb, err := plotter.NewYErrorBars(errXY{{X: float64(i), Stat: report.Stat{Med: st[0].Med, Lo: st[0].Lo, Hi: st[0].Hi}}})
				if err != nil {
					return err
				}
				p.Add(offsetPlotter{eb, offset})
			}
		}
		p.NominalX(labels...)
		p.Y.Min = 0
		p.Y.Max *= 1.12 // room above the tallest bar and its error bar
		p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
		return nil
	}
	p1 := newPanel("Server CPU utilisation", "", "CPUs busy (1 = one core)")
	p2 := newPanel("Server CPU per round trip", "", "CPU microseconds per round trip")
	p3 := newPanel("Latency it buys", "", "")
	if err := bars(p1, util, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := bars(p2, perRT, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := latencyRanges(p3, g, names, labels); err != nil {
		return nil, err
	}
	if len(names) > 4 { // long names side by side would overlap
		for _, p := range []*plot.Plot{p1, p2, p3} {
			p.X.Tick.Label.Rotation = math.Pi / 6
			p.X.Tick.Label.XAlign = draw.XRight
			p.X.Tick.Label.YAlign = draw.YCenter
		}
	}
	load, loadNotes := loadOf(g, active)
	return &figure{
		name:     CPUBars,
		title:    "What busy-waiting costs and buys, " + load,
		panels:   [][]*plot.Plot{{p1, p2, p3}},
		backends: names,
		bars:     true,
		notes: append([]string{"Latency panel: the marker is the median (p50), the line reaches up to p99.",
			"A spinning backend keeps a core busy whatever the load."}, loadNotes...),
		caption: []string{machineLine(g), paramLine(g)},
		w:       12 * vg.Inch, h: 5 * vg.Inch,
	}, nil
}

// latencyRanges draws, per backend of g, its p50 as its marker and a line
// up to its p99, on a log axis when the backends differ by more than 30x
// (a spinning backend's tail can be 100x the others').
func latencyRanges(p *plot.Plot, g []File, names, labels []string) error {
	top := 0.0
	for _, f := range g {
		top = max(top, float64(f.Latency.P99))
	}
	unit, div := report.LatencyAxis(top)
	p.Y.Label.Text = "round-trip latency (" + unit + ")"
	scaled := func(m *report.Metric) func(*result.Result) (float64, bool) {
		return func(r *result.Result) (float64, bool) { v, ok := m.Get(r); return v / div, ok }
	}
	p50, p99 := collect(g, all, none, scaled(report.P50)), collect(g, all, none, scaled(report.P99))
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
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	if lo > 0 && hi/lo > 30 {
		setLog(&p.Y, lo, hi, report.Human)
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
